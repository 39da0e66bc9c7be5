"""top_curves.png: the loss and accuracy curves of a sweep's best trials, and of its diverged ones.

The options of each trial go in one legend below the plots, so long labels never squash them; a trial that
diverged is drawn up to its last finished epoch and marked where it blew up: in a learning-rate grid it is
the curve the figure is about.
"""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from numpynn.app import figures as plots
from numpynn.app.runs.folder import read_metrics

STYLES = {"train": ("-", "training"), "val": ("--", "validation"), "test": ("--", "validation")}


def curve_rows(t, folder: Path) -> list[dict]:
    """The trial's metrics.csv rows (the epochs it finished), from the sweep folder or its recorded run folder."""
    run = Path(t.user_attrs.get("run", ""))
    for metrics in (folder / f"trial-{t.number:04d}" / "metrics.csv", run / "metrics.csv"):
        if metrics.is_file():  # trials of other machines keep their folders there
            return read_metrics(metrics)
    return []


def curves_figure(entries: list[tuple[str, list[dict], int | None]]) -> Figure:
    """entries: (label, metrics rows, epoch it diverged at or None) per trial, best first."""
    rows_of_legend = (len(entries) + 1) // 2 + 1
    fig = Figure(figsize=(12.0, 4.6 + 0.28 * rows_of_legend), dpi=plots.DPI, layout="constrained")
    axes = fig.subplots(1, 2)
    handles = []
    for i, (label, rows, diverged_at) in enumerate(entries):
        color = f"C{i % 10}"
        for ax, metric in zip(axes, ("loss", "acc")):
            _draw(ax, rows, metric, color)
            if diverged_at is not None:
                ax.plot([diverged_at], [0.97], marker="X", markersize=11, color=color, linestyle="none",
                        transform=ax.get_xaxis_transform(), clip_on=False)
        suffix = f"  (diverged at epoch {diverged_at})" if diverged_at is not None else ""
        marker = "o" if diverged_at is None else "X"
        handles.append(Line2D([], [], color=color, marker=marker, label=label + suffix))
    for ax, metric in zip(axes, ("loss", "acc")):
        ax.set_title(f"{'Loss' if metric == 'loss' else 'Accuracy'} per epoch")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        _log_scale_if_spread(ax, metric)
    handles += [Line2D([], [], color="0.3", linestyle="-", label="training"),
                Line2D([], [], color="0.3", linestyle="--", label="validation")]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize="small", frameon=False)
    return fig


def _draw(ax, rows: list[dict], metric: str, color: str) -> None:
    epochs = [r["epoch"] for r in rows]
    for split in ("train", "val", "test"):
        values = [r.get(f"{split}_{metric}") for r in rows]
        if rows and any(v is not None for v in values):
            ax.plot(epochs, [np.nan if v is None else v for v in values], STYLES[split][0], color=color, marker="o",
                    markersize=3)


def _log_scale_if_spread(ax, metric: str) -> None:
    """A diverging trial's loss dwarfs a healthy one's by orders of magnitude: a log axis shows both."""
    values = np.array([v for line in ax.get_lines() if line.get_transform() == ax.transData
                       for v in line.get_ydata()], dtype=np.float64)
    values = values[np.isfinite(values)]
    if metric == "loss" and len(values) and values.min() > 0 and values.max() / values.min() > 1000:
        ax.set_yscale("log")
