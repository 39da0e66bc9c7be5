"""The commands that read what `numpynn train` wrote: evaluate, predict, plot, info.

Each takes the parsed argparse namespace, prints its result and returns an exit code; errors are raised
as numpynn's exceptions and turned into one sentence and an exit code by cli.main.
"""

import json
from pathlib import Path

import numpy as np

from .errors import DataError
from .imageprep import FIELD, prepare_digit, save_png
from .metrics import classification_report, confusion_matrix
from .pipeline import load_data, load_test_data, open_model, read_metrics

# Settings that say where a run went, not how it trained: never worth a legend entry.
NOT_SETTINGS = {"out", "name", "quiet", "plots"}


def evaluate(args) -> int:
    """Accuracy, per-class precision/recall/F1 and the confusion matrix on a model's test rows."""
    trained = open_model(args.model)
    if args.dataset is not None:
        data = load_test_data(args.dataset)
    elif trained.config is not None:
        data = load_data(trained.config)  # the very rows training reported its test accuracy on
    else:
        raise DataError(f"{trained.path} does not record its training data; pass --dataset mnist or a path.")
    _check_width(trained, data.x_test.shape[1], "the evaluation data")
    y_pred = trained.model.predict(trained.preprocess(data.x_test))
    names = trained.class_names
    cm = confusion_matrix(data.y_test, y_pred, len(names))
    accuracy = float(np.trace(cm) / cm.sum())
    print(f"Model: {trained.path}")
    print(f"Data: {len(data.y_test):,} rows ({data.test_name})")
    print(f"Test accuracy: {accuracy:.4f} ({np.trace(cm):,} of {cm.sum():,} right)\n")
    print(classification_report(cm, names) + "\n")
    print(confusion_text(cm, names))
    if args.plots:
        from . import plots
        png = Path(args.png) if args.png else trained.path.parent / "evaluation_confusion_matrix.png"
        print(f"\nWrote {plots.save_figure(plots.confusion_figure(cm, names), png)}")
    return 0


def confusion_text(cm: np.ndarray, names: list[str]) -> str:
    """The confusion matrix as a text table: rows are true classes, columns predicted ones."""
    labels = [n[:6] for n in names]
    width = max(6, len(str(cm.max())) + 1, *(len(n) + 1 for n in labels))
    lines = ["Confusion matrix (rows: true, columns: predicted)",
             " " * 8 + "".join(f"{n:>{width}}" for n in labels)]
    for name, row in zip(labels, cm):
        lines.append(f"{name:>7} " + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


def predict(args) -> int:
    """The label and top-3 probabilities of each image, after MNIST-style preprocessing."""
    trained = open_model(args.model)
    _check_width(trained, FIELD * FIELD, f"{FIELD}x{FIELD} digit images")
    pixels = []
    for path in args.images:
        try:
            pixels.append(prepare_digit(path))
        except DataError as exc:
            message = str(exc)
            raise DataError(message if str(path) in message else f"{path}: {message}") from None
    pixels = np.stack(pixels)
    probs = trained.model.predict_proba(trained.preprocess(pixels.reshape(len(pixels), -1)))
    saved = _save_preprocessed(args.save_preprocessed, args.images, pixels) if args.save_preprocessed else {}
    names = trained.class_names
    results = []
    for path, p in zip(args.images, probs):
        top = np.argsort(-p, kind="stable")[:3]
        results.append({"image": str(path), "label": int(top[0]), "class_name": names[top[0]],
                        "top3": [{"label": int(k), "class_name": names[k], "probability": float(p[k])} for k in top],
                        **({"preprocessed": str(saved[path])} if path in saved else {})})
    if args.json:
        print(json.dumps({"model": str(trained.path), "predictions": results}, indent=2))
        return 0
    for r in results:
        top3 = ", ".join(f"{t['class_name']}: {t['probability']:.1%}" for t in r["top3"])
        print(f"{r['image']}: {r['class_name']}  ({top3})")
        if "preprocessed" in r:
            print(f"  the model saw {r['preprocessed']}")
    return 0


def _save_preprocessed(folder, images, pixels) -> dict:
    folder, saved, used = Path(folder), {}, set()
    for path, digit in zip(images, pixels):
        stem, k = Path(path).stem, 1
        name = f"{stem}-28x28.png"
        while name in used:  # two inputs with one file name (from different folders) keep both outputs
            k += 1
            name = f"{stem}-{k}-28x28.png"
        used.add(name)
        saved[path] = save_png(folder / name, digit)
    return saved


def plot(args) -> int:
    """Loss and accuracy curves of one or several runs on one figure."""
    from . import plots
    runs = {}
    for arg in args.runs:
        path = Path(arg)
        folder = path if path.is_dir() else path.parent
        metrics = path / "metrics.csv" if path.is_dir() else path
        runs[folder] = (read_metrics(metrics), _read_config(folder / "config.json"))
    labels = _legend_labels({folder: config for folder, (_, config) in runs.items()})
    figure = plots.compare_figure({labels[folder]: rows for folder, (rows, _) in runs.items()})
    output = Path(args.output) if args.output else next(iter(runs)).parent / "comparison.png"
    print(f"Wrote {plots.save_figure(figure, output)}")
    return 0


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


def info(args) -> int:
    """Architecture, parameter count, training config and final metrics of a model file."""
    trained = open_model(args.model)
    model, meta = trained.model, trained.metadata
    prep = meta["preprocessing"]
    summary = {
        "model": str(trained.path), "bytes": trained.path.stat().st_size,
        "numpynn_version": meta.get("numpynn_version"), "architecture": model.config(),
        "parameters": model.num_parameters(), "dtype": str(model.dtype), "input_features": trained.in_features,
        "input_shape": prep.get("input_shape"), "preprocessing": prep["method"], "classes": trained.class_names,
        "config": meta.get("config"), "metrics": meta.get("metrics"),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    shape = "x".join(map(str, summary["input_shape"] or [trained.in_features]))
    print(f"Model: {trained.path} ({summary['bytes']:,} bytes, numpynn {summary['numpynn_version']})")
    print(f"{model!r}")
    print(f"Parameters: {summary['parameters']:,} ({summary['dtype']})")
    print(f"Input: {trained.in_features} features ({shape}), preprocessing: {prep['method']}")
    print(f"Classes: {', '.join(trained.class_names)}")
    if isinstance(summary["config"], dict):
        print("Training config:")
        for key, value in summary["config"].items():
            print(f"  {key} = {'(default)' if value is None else value}")
    if isinstance(summary["metrics"], dict):
        print("Final metrics: " + ", ".join(f"{k} {_number(v)}" for k, v in summary["metrics"].items()))
    return 0


def _number(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _check_width(trained, width: int, what: str) -> None:
    if trained.in_features != width:
        raise DataError(f"{trained.path} takes {trained.in_features} input features but {what} have {width}; "
                        "use a model trained on data of that shape.")
