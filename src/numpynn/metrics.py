"""Classification metrics: accuracy, confusion matrix, per-class precision / recall / F1."""

import numpy as np


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of equal labels; one-hot or probability rows (N, C) are reduced by argmax first."""
    y_true, y_pred = _labels(y_true), _labels(y_pred)
    if y_true.shape != y_pred.shape or len(y_true) == 0:
        raise ValueError(f"accuracy needs two non-empty label arrays of equal length, got {y_true.shape} "
                         f"and {y_pred.shape}.")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class (scikit-learn's convention)."""
    y_true, y_pred = _labels(y_true).astype(np.int64), _labels(y_pred).astype(np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix got {len(y_true)} true and {len(y_pred)} predicted labels.")
    if num_classes is None:
        num_classes = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    if len(y_true) and (min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= num_classes):
        raise ValueError(f"Labels must lie in [0, {num_classes}).")
    # One bincount over the flattened (true, pred) pair index: no Python loop over samples.
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def precision_recall_f1(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 from a confusion matrix (0 where undefined, as scikit-learn)."""
    tp = np.diag(cm).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(tp / cm.sum(axis=0))
        recall = np.nan_to_num(tp / cm.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return precision, recall, f1


def classification_report(cm: np.ndarray, class_names: list[str] | None = None) -> str:
    """A text table of precision, recall, F1 and support per class, plus accuracy and macro averages."""
    precision, recall, f1 = precision_recall_f1(cm)
    support = cm.sum(axis=1)
    names = class_names or [str(i) for i in range(len(cm))]
    width = max(12, max(len(n) for n in names))
    lines = [f"{'':>{width}} {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>9}"]
    for name, p, r, f, s in zip(names, precision, recall, f1, support):
        lines.append(f"{name:>{width}} {p:9.4f} {r:9.4f} {f:9.4f} {s:9d}")
    total = support.sum()
    lines.append("")
    lines.append(f"{'accuracy':>{width}} {'':>9} {'':>9} {np.trace(cm) / max(total, 1):9.4f} {total:9d}")
    lines.append(f"{'macro avg':>{width}} {precision.mean():9.4f} {recall.mean():9.4f} {f1.mean():9.4f} {total:9d}")
    return "\n".join(lines)


def _labels(y):
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 else y
