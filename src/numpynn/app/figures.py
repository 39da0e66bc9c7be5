"""Training figures as PNG files: loss and accuracy curves, confusion matrix, the most confident mistakes, and
a CNN's first-layer filters and feature maps.

Figures are built with matplotlib's object API (no pyplot, so no GUI and no global state) and saved
through a BytesIO and an atomic replace: a crash mid-save never leaves half a PNG behind.
"""

import io
import os
import sys
from pathlib import Path

import matplotlib

if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND") and sys.platform not in ("darwin", "win32"):
    matplotlib.use("Agg")  # headless: anyone who imports pyplot after us gets a backend that works

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from numpynn.io.atomic import atomic_write_bytes

DPI = 100
SIZES = {  # inches at DPI: a saved PNG is exactly (width * DPI) x (height * DPI) pixels
    "curve": (6.4, 4.8),
    "confusion": (6.4, 5.6),
    "mistakes": (8.0, 8.8),
    "compare": (12.0, 4.8),
}


def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Render `fig` to PNG in memory, then write it atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return atomic_write_bytes(path, buffer.getvalue())


def _titled(title: str, run: str | None) -> str:
    """Figures are shared out of their folder: the title names the run they belong to."""
    return f"{run}: {title}" if run else title


def curve_figure(rows: list[dict], metric: str, run: str | None = None) -> Figure:
    """One metric ('loss' or 'acc') per epoch: train and validation/test curves from metrics rows."""
    fig = Figure(figsize=SIZES["curve"], dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    _draw_curves(ax, rows, metric, label="", color="C0")
    ax.set_title(_titled(f"{_METRIC_NAMES[metric]} per epoch", run))
    if ax.get_lines():
        ax.legend()
    else:  # e.g. accuracy of an MSE run, which fit does not record
        ax.text(0.5, 0.5, "not recorded for this run", transform=ax.transAxes, ha="center")
    return fig


def compare_figure(runs: dict[str, list[dict]]) -> Figure:
    """Loss and accuracy of several runs side by side (e.g. lr 0.1 against lr 1.0)."""
    fig = Figure(figsize=SIZES["compare"], dpi=DPI, layout="constrained")
    axes = fig.subplots(1, 2)
    for i, (label, rows) in enumerate(runs.items()):
        for ax, metric in zip(axes, ("loss", "acc")):
            _draw_curves(ax, rows, metric, label=f"{label} ", color=f"C{i % 10}")
    for ax, metric in zip(axes, ("loss", "acc")):
        ax.set_title(f"{_METRIC_NAMES[metric]} per epoch")
        if ax.get_lines():
            ax.legend(fontsize="small")
    return fig


def confusion_figure(cm: np.ndarray, class_names: list[str] | None = None, run: str | None = None) -> Figure:
    """Counts per (true, predicted) pair, row-normalised colours, counts written in each cell."""
    cm = np.asarray(cm)
    n = len(cm)
    names = class_names or [str(i) for i in range(n)]
    fig = Figure(figsize=SIZES["confusion"], dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    # Colour by the fraction of each true class, so rare classes' errors are as visible as common ones'.
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="fraction of the true class")
    if n <= 20:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), names, rotation=90 if max(len(s) for s in names) > 2 else 0)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(_titled(f"Confusion matrix (accuracy {np.trace(cm) / max(cm.sum(), 1):.4f})", run))
    return fig


def mistakes_figure(images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, confidence: np.ndarray,
                    class_names: list[str] | None = None, count: int = 36, run: str | None = None) -> Figure:
    """A grid of the `count` most confident wrong predictions; images: (N, H, W), the others (N,)."""
    wrong = np.flatnonzero(y_true != y_pred)
    shown = most_confident_mistakes(y_true, y_pred, confidence, count)
    names = class_names or [str(i) for i in range(int(max(y_true.max(), y_pred.max())) + 1)]
    side = max(1, int(np.ceil(np.sqrt(count))))
    h, w = images.shape[1:3]
    cell_h, cell_w = h + h // 2, w + w // 4  # room above each digit for its caption
    # One mosaic in one Axes: 36 separate Axes cost seconds of layout and rendering.
    mosaic = np.zeros((side * cell_h, side * cell_w), dtype=np.float32)
    fig = Figure(figsize=SIZES["mistakes"], dpi=DPI)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.93))
    ax.axis("off")
    for k, i in enumerate(shown):
        top, left = (k // side) * cell_h + h // 2, (k % side) * cell_w + w // 8
        digit = images[i].astype(np.float32)
        mosaic[top:top + h, left:left + w] = (digit - digit.min()) / max(float(np.ptp(digit)), 1e-12)
        ax.text(left + w / 2, top - 1, f"true {names[y_true[i]]}, pred {names[y_pred[i]]}\n{confidence[i]:.0%}",
                ha="center", va="bottom", fontsize=7.5)
    ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    fig.suptitle(_titled(f"Most confident mistakes ({len(wrong)} in all)", run))
    return fig


def most_confident_mistakes(y_true: np.ndarray, y_pred: np.ndarray, confidence: np.ndarray, count: int) -> np.ndarray:
    """Indices of up to `count` wrong predictions, most confident first (ties keep dataset order)."""
    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))
    return wrong[np.argsort(-np.asarray(confidence)[wrong], kind="stable")][:count]


_METRIC_NAMES = {"loss": "Loss", "acc": "Accuracy"}
# metrics.csv's column prefixes: val_* are rows held out of the training data, test_* a test set.
SPLIT_LABELS = {"train": "train", "val": "validation", "test": "test"}


def _draw_curves(ax, rows, metric, label, color):
    epochs = [r["epoch"] for r in rows]
    for split, style in (("train", "-"), ("val", "--"), ("test", "--")):
        values = [r.get(f"{split}_{metric}") for r in rows]
        if any(v is not None for v in values):
            ax.plot(epochs, [np.nan if v is None else v for v in values], style, color=color, marker="o",
                    markersize=3, label=f"{label}{SPLIT_LABELS[split]}")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(_METRIC_NAMES[metric])
    ax.grid(True, alpha=0.3)
    # A diverging run's loss dwarfs a healthy one's by orders of magnitude: a log axis shows both.
    values = np.array([v for line in ax.get_lines() for v in line.get_ydata()], dtype=np.float64)
    values = values[np.isfinite(values)]
    if metric == "loss" and len(values) and values.min() > 0 and values.max() / values.min() > 1000:
        ax.set_yscale("log")


def gradients_figure(runs: dict[str, list[dict]] | list[dict], run: str | None = None) -> Figure:
    """Per-layer gradient norm (top) and update/weight ratio (bottom) per epoch, one column per run.

    Rows are metrics rows with GradientTracker's `grad_norm.<param>` / `update_ratio.<param>` columns.
    Log scales, shared per row across runs: a layer whose line sits orders of magnitude below the
    others is starving (vanishing gradients). A value of exactly 0 (weights that did not move at all) has
    no place on a log axis: it is drawn as a hollow triangle on the axis floor rather than left out.
    The legend sits beside the plots, never over a curve. run: the title of a single run's figure.
    """
    runs = {"": runs} if isinstance(runs, list) else runs
    fig = Figure(figsize=(5.2 * len(runs) + 1.6, 7.2), dpi=DPI, layout="constrained")
    axes = fig.subplots(2, len(runs), sharey="row", squeeze=False)
    metrics = (("grad_norm", "gradient norm"), ("update_ratio", "update / weight ratio"))
    floors = {metric: _log_floor(runs, metric) for metric, _ in metrics}
    handles = {}
    for col, (label, rows) in enumerate(runs.items()):
        names = sorted({k.split(".", 1)[1] for k in rows[0] if k.startswith("grad_norm.")},
                       key=lambda name: int(name.split(".")[0]))
        if not names:
            who = f"Run {label!r}" if label else "The run"
            raise ValueError(f"{who} has no gradient columns; train it with --track-gradients.")
        epochs = np.array([r["epoch"] for r in rows])
        colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(names)))
        for row, (metric, title) in enumerate(metrics):
            ax = axes[row, col]
            for name, color in zip(names, colors):
                values = np.array([np.nan if r.get(f"{metric}.{name}") is None else r[f"{metric}.{name}"]
                                   for r in rows], dtype=np.float64)
                shown = np.where(values > 0, values, np.nan)  # log axis: the positive values as a line
                (line,) = ax.plot(epochs, shown, marker="o", markersize=3, color=color, label=f"layer {name}")
                handles.setdefault(f"layer {name}", line)
                zero = values == 0
                if zero.any():
                    zeros = ax.plot(epochs[zero], np.full(zero.sum(), floors[metric]), "v", color=color,
                                    markerfacecolor="none", markersize=7, label="0 (did not move)")[0]
                    handles.setdefault("0 (did not move)", zeros)
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_title(f"{label}: {title}" if label else f"{title} per layer")
            ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].set_ylabel("||grad W|| (log)")
    axes[1, 0].set_ylabel("||dW|| / ||W|| per step (log)")
    fig.legend(list(handles.values()), list(handles), loc="outside right upper", fontsize="small")
    if run:
        fig.suptitle(run)
    return fig


def _log_floor(runs: dict[str, list[dict]], metric: str) -> float:
    """Where zeros go on a log axis: a decade below the smallest positive value of `metric` in any run."""
    values = [v for rows in runs.values() for r in rows for k, v in r.items()
              if k.startswith(metric + ".") and isinstance(v, (int, float)) and v > 0 and np.isfinite(v)]
    return min(values) / 10 if values else 1e-12


def filters_figure(model, max_filters: int = 64) -> Figure:
    """The first Conv2d's learned kernels as a grid, one tile per output channel (input channel 0), each on a
    symmetric blue-white-red scale around 0, so what a kernel detects (edge, stroke, blob) shows at a glance."""
    conv = next(layer for layer in model.layers if type(layer).__name__ == "Conv2d")
    weight = np.asarray(conv.params["weight"], np.float64)[:max_filters, 0]    # (O, kh, kw)
    cols = int(np.ceil(np.sqrt(len(weight))))
    rows = int(np.ceil(len(weight) / cols))
    fig = Figure(figsize=(max(4.0, 0.8 * cols + 0.4), max(2.4, 0.8 * rows + 0.6)), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < len(weight):
            bound = float(np.abs(weight[i]).max()) or 1.0
            ax.imshow(weight[i], cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest")
    kh, kw = weight.shape[1:]
    fig.suptitle(f"First conv layer: {len(weight)} learned {kh}x{kw} kernels\n(red positive, blue negative)",
                 fontsize=10)
    return fig


def feature_maps_figure(model, image: np.ndarray, blocks: int = 2, channels: int = 16) -> Figure:
    """One image (1, C, H, W) and the first `channels` feature maps after each of the first `blocks` conv blocks
    (after their activation, before pooling), computed in eval mode."""
    maps, x, in_block = [], image, False
    was_training = model.training
    model.eval()
    try:
        for layer in model.layers:
            kind = type(layer).__name__
            x = layer.forward(x)
            if kind == "Conv2d":
                in_block = True
            elif in_block and kind != "BatchNorm2d":  # the activation that ends the conv's block
                maps.append(np.asarray(x[0], np.float64))
                in_block = False
                if len(maps) == blocks:
                    break
    finally:
        model.train(was_training)
    cols = min(channels, max(len(m) for m in maps))
    fig = Figure(figsize=(0.9 * cols + 1.2, 1.0 * (len(maps) + 1) + 0.5), dpi=DPI, layout="constrained")
    axes = fig.subplots(len(maps) + 1, cols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    axes[0, 0].imshow(image[0, 0], cmap="gray_r", interpolation="nearest")
    axes[0, 0].set_title("input", fontsize=8)
    for r, fmap in enumerate(maps, start=1):
        for c in range(min(cols, len(fmap))):
            axes[r, c].imshow(fmap[c], cmap="viridis", interpolation="nearest")
        axes[r, 0].set_title(f"block {r}: {fmap.shape[1]}x{fmap.shape[2]}", fontsize=8, loc="left")
    fig.suptitle(f"Feature maps of one test image (up to {cols} channels per block)", fontsize=10)
    return fig
