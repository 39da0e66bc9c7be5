"""`numpynn plot`: the loss and accuracy curves of one or more runs on one figure."""

import argparse
import json
from pathlib import Path

from numpynn.app.runs.folder import read_metrics

# Settings that say where a run went, not how it trained: never worth a legend entry.
NOT_SETTINGS = {"out", "name", "quiet", "plots", "threads"}


EXAMPLES = """examples:
  numpynn plot runs/NAME
  numpynn train --preset article --name lr0.1
  numpynn train --preset article --lr 1.0 --name lr1.0
  numpynn plot runs/lr0.1 runs/lr1.0 -o lr.png
"""


def add_parser(sub) -> None:
    help = "draw the loss and accuracy curves of one or more runs on one figure"
    p = sub.add_parser("plot", help=help, description=help, epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", metavar="RUN", nargs="+", help="run folders (or their metrics.csv files)")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="PNG to write, replaced if it exists (default: comparison.png beside the runs, or "
                        "comparison-2.png, ... if that exists)")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Loss and accuracy curves of one or several runs on one figure."""
    from numpynn.app import figures as plots
    runs = {}
    for arg in args.runs:
        path = Path(arg)
        folder = path if path.is_dir() else path.parent
        metrics = path / "metrics.csv" if path.is_dir() else path
        runs[folder] = (read_metrics(metrics), _read_config(folder / "config.json"))
    labels = _legend_labels({folder: config for folder, (_, config) in runs.items()})
    figure = plots.compare_figure({labels[folder]: rows for folder, (rows, _) in runs.items()})
    output = Path(args.output) if args.output else free_name(next(iter(runs)).parent / "comparison.png")
    replaced = output.exists()
    print(f"{'Replaced' if replaced else 'Wrote'} {plots.save_figure(figure, output)}")
    return 0


def free_name(path: Path) -> Path:
    """path, or path-2, path-3, ... if it exists: a default name never overwrites an earlier comparison."""
    k = 1
    while path.with_stem(f"{path.stem}-{k}" if k > 1 else path.stem).exists():
        k += 1
    return path.with_stem(f"{path.stem}-{k}") if k > 1 else path


def _read_config(path: Path) -> dict:
    """A run's config.json for legend labels; a missing or unreadable one only costs the labels."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def _legend_labels(configs: dict[Path, dict]) -> dict[Path, str]:
    """Each run's folder name plus the settings in which the runs differ, e.g. `lr1.0 (lr=1.0)`."""
    keys = sorted({k for c in configs.values() for k in c} - NOT_SETTINGS)
    differing = [k for k in keys if len({json.dumps(c.get(k)) for c in configs.values()}) > 1]
    names = {folder: folder.name or str(folder) for folder in configs}
    if len(set(names.values())) < len(names):
        names = {folder: str(folder) for folder in configs}
    labels = {}
    for folder, config in configs.items():
        settings = ", ".join(f"{k}={'default' if config[k] is None else config[k]}" for k in differing if k in config)
        labels[folder] = f"{names[folder]} ({settings})" if settings and len(configs) > 1 else names[folder]
    return labels
