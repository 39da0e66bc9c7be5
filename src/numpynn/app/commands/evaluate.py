"""`numpynn evaluate`: accuracy, per-class precision/recall/F1 and the confusion matrix of a model."""

import argparse
from pathlib import Path

import numpy as np

from numpynn import threads
from numpynn.app.runs.data import load_data, load_test_data
from numpynn.app.runs.folder import MODEL_HELP, check_width, open_model
from numpynn.errors import DataError
from numpynn.metrics import classification_report, confusion_matrix

EXAMPLES = """examples:
  numpynn evaluate runs/NAME
  numpynn evaluate runs/NAME/model.safetensors --dataset data.npz --png cm.png
"""


def add_parser(sub) -> None:
    help = "test accuracy, per-class precision/recall/F1 and the confusion matrix of a model"
    p = sub.add_parser("evaluate", help=help, description=help, epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    threads.add_option(p)
    p.add_argument("--dataset", metavar="NAME|PATH", help="evaluate on this dataset instead of the training one")
    p.add_argument("--png", metavar="PATH", help="where to write the confusion matrix figure "
                   "(default: evaluation_confusion_matrix.png beside the model)")
    p.add_argument("--no-plots", dest="plots", action="store_false", help="skip the confusion matrix PNG")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Accuracy, per-class precision/recall/F1 and the confusion matrix on a model's test rows."""
    trained = open_model(args.model, door="evaluate")
    if args.dataset is not None:
        data = load_test_data(args.dataset)
    elif trained.config is not None:
        data = load_data(trained.config)  # the very rows training reported its test accuracy on
    else:
        raise DataError(f"{trained.path} does not record its training data; pass --dataset mnist or a path.")
    check_width(trained, data.x_test.shape[1], "the evaluation data")
    y_pred = trained.model.predict(trained.as_input(trained.preprocess(data.x_test)))
    names = trained.class_names
    if data.y_test.max(initial=0) >= len(names):
        raise DataError(f"{trained.path} knows {len(names)} classes ({', '.join(names)}) but the evaluation data has "
                        f"label {data.y_test.max()}; evaluate it on data with the classes it was trained on.")
    cm = confusion_matrix(data.y_test, y_pred, len(names))
    accuracy = float(np.trace(cm) / cm.sum())
    print(f"Model: {trained.path}")
    print(f"Data: {len(data.y_test):,} rows ({data.test_name})")
    print(f"{data.split_name} accuracy: {accuracy:.4f} ({np.trace(cm):,} of {cm.sum():,} right)\n")
    print(classification_report(cm, names) + "\n")
    print(confusion_text(cm, names))
    if args.plots:
        from numpynn.app import figures as plots
        png = Path(args.png) if args.png else trained.path.parent / "evaluation_confusion_matrix.png"
        print(f"\nWrote {plots.save_figure(plots.confusion_figure(cm, names, trained.path.parent.name), png)}")
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
