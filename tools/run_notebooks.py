"""Execute every notebook in notebooks/ (MyST Markdown text) top to bottom, offline, and keep the outputs.

    python tools/run_notebooks.py [--out docs/notebooks] [--stale-only] [NAME ...]

Each notebook runs in a fresh Python kernel with NUMPYNN_NOTEBOOK_SMALL=1 (small sizes; set it to 0 for the
series' full ones) and the checkout's src/ first on the path. The executed copies are written as .ipynb into
--out, where the documentation site renders them. A cell that raises (a failed exercise check included)
fails the run, naming the notebook. `make notebooks` runs this.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TIMEOUT = 600  # seconds per cell; each whole notebook is meant to take well under two minutes at small sizes


def sources(names: list[str]) -> list[Path]:
    """The notebooks to run: all of notebooks/*.md, or those named (with or without .md)."""
    every = sorted(p for p in NOTEBOOKS.glob("*.md") if p.name != "README.md")
    if not names:
        return every
    chosen = [NOTEBOOKS / (n if n.endswith(".md") else f"{n}.md") for n in names]
    missing = [p.name for p in chosen if not p.exists()]
    if missing:
        raise SystemExit(f"No such notebook: {', '.join(missing)}; choose from {', '.join(p.stem for p in every)}.")
    return chosen


def is_stale(source: Path, target: Path) -> bool:
    """True when the executed copy is missing or older than its text or than any file of the package."""
    if not target.exists():
        return True
    newest = max([source.stat().st_mtime] + [p.stat().st_mtime for p in (ROOT / "src").rglob("*.py")])
    return target.stat().st_mtime < newest


def execute(source: Path, target: Path) -> float:
    """Run one notebook in a fresh kernel; write the executed .ipynb to target; return the seconds it took."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    start = time.perf_counter()
    NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    seconds = time.perf_counter() - start
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".ipynb.tmp")
    nbformat.write(notebook, tmp)
    os.replace(tmp, target)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "notebooks"), help="folder for the executed .ipynb")
    parser.add_argument("--stale-only", action="store_true", help="skip notebooks whose executed copy is current")
    args = parser.parse_args(argv)
    os.environ.setdefault("NUMPYNN_NOTEBOOK_SMALL", "1")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # figures inline, whatever the caller set
    src = str(ROOT / "src")
    os.environ["PYTHONPATH"] = os.pathsep.join([src, os.environ["PYTHONPATH"]]) if os.environ.get(
        "PYTHONPATH") else src
    failed = []
    for source in sources(args.names):
        target = Path(args.out) / f"{source.stem}.ipynb"
        if args.stale_only and not is_stale(source, target):
            print(f"{source.name}: up to date")
            continue
        try:
            seconds = execute(source, target)
        except Exception as error:  # a cell's error: report it and go on with the next notebook
            failed.append(source.name)
            print(f"{source.name}: FAILED\n{error}", file=sys.stderr)
            continue
        print(f"{source.name}: ran in {seconds:.1f} s (NUMPYNN_NOTEBOOK_SMALL={os.environ['NUMPYNN_NOTEBOOK_SMALL']})")
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
