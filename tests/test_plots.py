"""Figures: valid PNGs of the documented pixel size, written atomically, headless by default."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from numpynn.app import figures as plots

ROWS = [{"epoch": e, "train_loss": 1 / e, "train_acc": 1 - 0.5 / e, "test_loss": 1.1 / e, "test_acc": 1 - 0.6 / e,
         "seconds": 0.5} for e in range(1, 6)]


def png_size(path):
    with Image.open(path) as im:
        im.verify()  # raises on a truncated or corrupt PNG
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


def expected(kind):
    w, h = plots.SIZES[kind]
    return round(w * plots.DPI), round(h * plots.DPI)


@pytest.mark.parametrize("metric", ["loss", "acc"])
def test_curves_are_pngs_of_the_documented_size(tmp_path, metric):
    path = plots.save_figure(plots.curve_figure(ROWS, metric), tmp_path / f"{metric}.png")
    assert png_size(path) == expected("curve")


def test_curve_values_are_the_rows(tmp_path):
    fig = plots.curve_figure(ROWS, "acc")
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert set(lines) == {"train", "test"}
    assert list(lines["test"].get_ydata()) == [r["test_acc"] for r in ROWS]
    assert list(lines["train"].get_xdata()) == [1, 2, 3, 4, 5]


def test_missing_values_leave_gaps_not_errors(tmp_path):
    rows = [{**r, "train_acc": None, "test_acc": None} for r in ROWS]  # an MSE run records no accuracy
    fig = plots.curve_figure(rows, "acc")
    assert fig.axes[0].get_lines() == []
    assert png_size(plots.save_figure(fig, tmp_path / "a.png")) == expected("curve")


def test_compare_figure_has_one_curve_pair_per_run(tmp_path):
    short = [{**r, "test_loss": r["test_loss"] * 2} for r in ROWS[:3]]
    fig = plots.compare_figure({"lr 0.1": ROWS, "lr 1.0": short})
    loss_axes = fig.axes[0]
    labels = sorted(line.get_label() for line in loss_axes.get_lines())
    assert labels == ["lr 0.1 test", "lr 0.1 train", "lr 1.0 test", "lr 1.0 train"]
    assert png_size(plots.save_figure(fig, tmp_path / "c.png")) == expected("compare")


def test_confusion_figure(tmp_path):
    cm = np.array([[50, 2, 0], [3, 40, 7], [0, 0, 60]])
    fig = plots.confusion_figure(cm, ["a", "b", "c"])
    assert "0.9259" in fig.axes[0].get_title()  # 150 of 162 right
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"50", "40", "60", "7"} <= texts
    assert png_size(plots.save_figure(fig, tmp_path / "cm.png")) == expected("confusion")


def test_most_confident_mistakes_are_chosen():
    y_true = np.array([0, 1, 2, 3, 4, 5])
    y_pred = np.array([0, 2, 2, 0, 1, 5])          # wrong at 1, 3, 4
    confidence = np.array([0.99, 0.6, 0.95, 0.9, 0.7, 0.5])
    assert list(plots.most_confident_mistakes(y_true, y_pred, confidence, 2)) == [3, 4]
    assert list(plots.most_confident_mistakes(y_true, y_pred, confidence, 10)) == [3, 4, 1]


def test_mistakes_figure(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (100, 28, 28), dtype=np.uint8)
    y_true, y_pred = rng.integers(0, 10, 100), rng.integers(0, 10, 100)
    fig = plots.mistakes_figure(images, y_true, y_pred, rng.random(100))
    captions = [t.get_text() for t in fig.axes[0].texts]
    assert len(captions) == min(36, int((y_true != y_pred).sum()))
    assert all(c.startswith("true ") and ", pred " in c for c in captions)
    assert png_size(plots.save_figure(fig, tmp_path / "m.png")) == expected("mistakes")


def test_failed_render_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "loss.png"
    plots.save_figure(plots.curve_figure(ROWS, "loss"), path)
    before = path.read_bytes()
    fig = plots.curve_figure(ROWS, "acc")

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")
    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError):
        plots.save_figure(fig, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png"]  # no temp file left behind


def test_headless_import_selects_agg():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    code = "import numpynn.app.figures, matplotlib; print(matplotlib.get_backend())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().lower() == "agg"


def test_a_diverging_run_puts_loss_on_a_log_axis():
    healthy = plots.compare_figure({"a": ROWS})
    assert healthy.axes[0].get_yscale() == "linear"
    diverged = [{**r, "train_loss": 10.0 ** (4 * r["epoch"]), "test_loss": 10.0 ** (5 * r["epoch"])} for r in ROWS[:2]]
    both = plots.compare_figure({"lr 0.1": ROWS, "lr 1.0": diverged})
    assert both.axes[0].get_yscale() == "log" and both.axes[1].get_yscale() == "linear"


# --- readable figures (issue 17.28) ---------------------------------------------------------------------------

def _gradient_rows(layers=("0.weight", "2.weight", "4.weight"), zero_at=None):
    rows = []
    for e in range(1, 6):
        row = {"epoch": e}
        for i, name in enumerate(layers):
            row[f"grad_norm.{name}"] = 10.0 ** (-i - e / 5)
            row[f"update_ratio.{name}"] = 0.0 if (name, e) == zero_at else 10.0 ** (-3 - i)
        rows.append(row)
    return rows


def _overlaps(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("runs", [_gradient_rows(), {"sigmoid": _gradient_rows(), "relu": _gradient_rows()}])
def test_the_gradient_legend_covers_no_plot(runs):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    fig = plots.gradients_figure(runs, run="deep")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    assert [t.get_text() for t in fig.legends[0].get_texts()][:3] == ["layer 0.weight", "layer 2.weight",
                                                                       "layer 4.weight"]
    assert not any(_overlaps(legend, ax.get_window_extent(renderer)) for ax in fig.axes)
    assert all(ax.get_legend() is None for ax in fig.axes)  # no legend drawn inside an axes any more


def test_a_zero_update_ratio_stays_visible_on_the_log_axis():
    rows = _gradient_rows(zero_at=("0.weight", 1))  # the first layer did not move in epoch 1
    fig = plots.gradients_figure(rows)
    ratio_ax = fig.axes[1]
    floor_points = [line for line in ratio_ax.get_lines() if line.get_label() == "0 (did not move)"]
    assert len(floor_points) == 1 and list(floor_points[0].get_xdata()) == [1]
    assert floor_points[0].get_ydata()[0] == pytest.approx(1e-5 / 10)  # a decade under the smallest ratio
    assert "0 (did not move)" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_titles_name_the_run():
    cm = np.array([[3, 1], [0, 4]])
    assert plots.curve_figure(ROWS, "loss", "lr0.1").axes[0].get_title() == "lr0.1: Loss per epoch"
    assert plots.confusion_figure(cm, run="lr0.1").axes[0].get_title().startswith("lr0.1: Confusion matrix")
    assert plots.gradients_figure(_gradient_rows(), run="lr0.1")._suptitle.get_text() == "lr0.1"
    images = np.zeros((2, 4, 4))
    fig = plots.mistakes_figure(images, np.array([0, 1]), np.array([1, 0]), np.array([0.9, 0.8]), run="lr0.1")
    assert fig._suptitle.get_text().startswith("lr0.1: ")
