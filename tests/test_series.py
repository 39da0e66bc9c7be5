"""Parts 4.1-4.5: every script in examples/series runs and shows the series' figures.

The series-style scripts run as readers run them, in a subprocess through `python -m numpynn.article` (MNIST
answered offline, each plt.show() saved as a PNG), with the global seed fixed and SERIES_SAMPLES /
SERIES_EPOCHS shrinking the runs; the numpynn versions run in-process through their main() at small sizes.
"""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neural_network as nw

pytest.importorskip("sklearn", reason="the series' scripts import scikit-learn (a test extra)")

SERIES = Path(__file__).resolve().parents[1] / "examples" / "series"


def run_series(script: str, tmp_path: Path, samples: int | None = None, epochs: int | None = None,
               figures: int = 1) -> str:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("SERIES_SAMPLES", None), env.pop("SERIES_EPOCHS", None)
    env.update({k: str(v) for k, v in (("SERIES_SAMPLES", samples), ("SERIES_EPOCHS", epochs)) if v is not None})
    proc = subprocess.run([sys.executable, "-m", "numpynn.article", "--seed", "0", "--save-figures", str(tmp_path),
                           str(SERIES / script)], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for i in range(1, figures + 1):
        figure = tmp_path / f"{Path(script).stem}.{i}.png"
        assert f"Saved figure {i} to {figure}" in proc.stdout and figure.stat().st_size > 10_000
        assert_nothing_cut_off(figure)
    assert f"Saved figure {figures + 1} " not in proc.stdout
    return proc.stdout


def assert_nothing_cut_off(png: Path) -> None:
    """The figure's outermost pixels are background: no title or label runs off its edge (issue 21.16)."""
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("L"))
    frame = np.concatenate([pixels[:2].ravel(), pixels[-2:].ravel(), pixels[:, :2].ravel(), pixels[:, -2:].ravel()])
    assert frame.min() > 240, f"{png.name}: something is drawn across the figure's edge (a clipped title?)"


def test_series_figures_name_the_held_out_curve_once(example):
    """Issue 21.16: each run's legend had its held-out curve twice, as 'validation' and as 'test'."""
    import numpynn as nn
    from numpynn.app import figures as plots

    series_data = example("series_data")
    history = nn.History()
    for epoch in (1, 2):
        history.records.append({"epoch": epoch, "train_loss": 1.0 / epoch, "train_acc": 0.5, "val_loss": 1.2 / epoch,
                                "val_acc": 0.4})
    rows = series_data["as_test_rows"](history)
    assert rows[0].keys() == {"epoch", "train_loss", "train_acc", "test_loss", "test_acc"}
    labels = [t.get_text() for ax in plots.compare_figure({"plain": rows}).axes for t in ax.get_legend().get_texts()]
    assert labels == ["plain train", "plain test"] * 2


def numbers(pattern: str, text: str) -> list[float]:
    return [float(v) for v in re.findall(pattern, text)]


@pytest.fixture
def example(monkeypatch):
    """A numpynn example's functions, without running its __main__ block (they import series_data)."""
    monkeypatch.syspath_prepend(str(SERIES))

    def load(name):
        return runpy.run_path(str(SERIES / f"{name}.py"), run_name="example")
    return load


# --- 4.1 Deeper MLPs and vanishing gradients

def test_part4_1_three_layer_mlp_on_5000_images_reaches_85_percent(tmp_path):
    out = run_series("part4_1_deeper_mlp.py", tmp_path, epochs=6)
    losses = numbers(r"Epoch \d+/6, Loss: ([\d.]+)", out)
    accuracies = numbers(r"Epoch \d+/6, Loss: [\d.]+, Test Accuracy: ([\d.]+)", out)
    assert len(losses) == len(accuracies) == 6 and losses[-1] < losses[0] / 4
    assert accuracies[-1] >= 0.85 and numbers(r"Final Test Accuracy: ([\d.]+)", out) == [accuracies[-1]]


def test_part4_1_exercises(tmp_path):
    out = run_series("part4_1_exercises.py", tmp_path, figures=0)
    for line in ["A1 shape: (2, 4)", "A2 shape: (2, 3)", "A3 shape: (2, 2)", "Gradient W1 shape: (2, 4)",
                 "Gradient b1 shape: (1, 4)", "Gradient W2 shape: (4, 3)", "Gradient b3 shape: (1, 2)"]:
        assert line in out
    (initial,), (final,) = numbers(r"Initial Loss: ([\d.e-]+)", out), numbers(r"after one update: ([\d.e-]+)", out)
    assert final < initial
    assert len(numbers(r"Epoch \d+/10, Loss: ([\d.]+)", out)) == 10
    assert numbers(r"Test Accuracy: ([\d.]+)", out)[0] >= 0.75
    w1, w2, w3 = numbers(r"Mean \|gradient\| of W\d: ([\d.e+-]+)", out)
    assert w1 < w3  # the first layer gets the smallest gradients


def test_part4_1_numpynn_mlp_and_fit(example, tmp_path):
    accuracy = example("part4_1_numpynn")["main"](out=str(tmp_path), samples=5000, epochs=6)
    assert accuracy >= 0.85 and (tmp_path / "part4_1.png").stat().st_size > 10_000


# --- 4.2 Convolutional layers

def test_part4_2_edge_kernel_on_a_digit(tmp_path):
    out = run_series("part4_2_convolution.py", tmp_path)
    assert "Input image shape: (28, 28)" in out and "Feature map shape: (26, 26)" in out


def test_part4_2_exercises_averaging_kernel_strides_1_and_2(tmp_path):
    out = run_series("part4_2_exercises.py", tmp_path)
    assert "Output shape: (3, 3)\n[[1.25 1.5  1.25]\n [1.5  2.   1.5 ]\n [1.25 1.5  1.25]]" in out
    assert "Output shape: (2, 2)\n[[1.25 1.25]\n [1.25 1.25]]" in out
    assert "conv2d equals the negated cross-correlation: True" in out
    assert "with the flipped kernel equals the cross-correlation: True" in out
    assert out.count("stride 1 -> (26, 26), stride 2 -> (13, 13)") == 3


def test_part4_2_numpynn_conv2d_layer_feature_maps(example, tmp_path):
    from numpynn import datasets
    maps = example("part4_2_numpynn")["main"](out=str(tmp_path))
    assert maps.shape == (3, 26, 26) and (tmp_path / "part4_2.png").stat().st_size > 10_000
    digit = datasets.load_mnist()[0][0][0].astype(np.float64)
    laplacian = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    np.testing.assert_allclose(maps[0], nw.conv2d(digit, laplacian), atol=1e-3)  # symmetric: the same map
    np.testing.assert_allclose(maps[1], -nw.conv2d(digit, sobel), atol=1e-3)    # asymmetric: negated


# --- 4.3 Pooling and CNN architecture

def test_part4_3_forward_pipeline_shapes(tmp_path):
    out = run_series("part4_3_cnn_forward.py", tmp_path)
    for line in ["After convolution: (4, 26, 26, 8)", "After max pooling: (4, 13, 13, 8)",
                 "After flattening: (4, 1352)", "Output probabilities: (4, 10)", "Each row sums to 1: True"]:
        assert line in out
    probabilities = numbers(r"([\d.]+)", out.split("Probabilities of the first image:")[1].split("]")[0])
    assert len(probabilities) == 10 and all(0.05 < p < 0.2 for p in probabilities)


def test_part4_3_exercises_max_pool_by_hand(tmp_path):
    out = run_series("part4_3_exercises.py", tmp_path)
    assert "Pooled shape: (2, 2)\n[[ 6.  8.]\n [14. 16.]]" in out
    assert "Pooled shape: (3, 3)\n[[ 6.  7.  8.]\n [10. 11. 12.]\n [14. 15. 16.]]" in out
    assert "(4, 4, 1) -> (2, 2)" in out and "(4, 4, 3) -> (2, 2, 3)" in out
    assert "Image: (28, 28) -> feature map: (26, 26) -> pooled: (13, 13)" in out


def test_part4_3_numpynn_sequential_shapes(example, tmp_path):
    shapes = example("part4_3_numpynn")["main"](out=str(tmp_path))
    assert list(shapes.values()) == [(4, 1, 28, 28), (4, 8, 26, 26), (4, 8, 13, 13), (4, 1352), (4, 10), (4, 10)]
    assert (tmp_path / "part4_3.png").stat().st_size > 10_000


# --- 4.4 Regularization

def test_part4_4_l2_and_dropout_run_reaches_85_percent(tmp_path):
    out = run_series("part4_4_regularization.py", tmp_path, epochs=9)
    assert len(re.findall(r"\[with L2 \+ dropout\] Epoch \d+/9", out)) == 9
    assert len(re.findall(r"\[without\] Epoch \d+/9", out)) == 9
    (with_reg,) = numbers(r"Final Test Accuracy with L2 \+ dropout: ([\d.]+)", out)
    (without,) = numbers(r"Final Test Accuracy without regularization: ([\d.]+)", out)
    assert with_reg >= 0.85 and without >= 0.85


def test_part4_4_exercises(tmp_path):
    out = run_series("part4_4_exercises.py", tmp_path, samples=500, epochs=2)
    assert "L2 penalty: 0.51\n" in out
    assert "Gradient for W1:\n [[0.02 0.04]\n [0.06 0.08]]" in out
    assert "Gradient for W2:\n [[0.01 0.03]\n [0.05 0.07]]" in out
    first, second = (out.split(f"Training, {which} pass:\n")[1].split("\n\n")[0].split("Training")[0]
                     for which in ("first", "second"))
    assert " 0. " in first and first != second  # two different masks
    assert "Evaluation (unchanged):\n [[ 1.  2.  3.  4.]\n [ 5.  6.  7.  8.]\n [ 9. 10. 11. 12.]]" in out
    plain, decayed = numbers(r"sum of squared weights ([\d.]+)", out)
    assert decayed < plain


def test_part4_4_numpynn_with_and_without_regularization(example, tmp_path):
    accuracies = example("part4_4_numpynn")["main"](out=str(tmp_path), samples=1000, epochs=2)
    assert set(accuracies) == {"L2 + dropout", "without"} and all(0 < a <= 1 for a in accuracies.values())
    assert (tmp_path / "part4_4.png").stat().st_size > 10_000


# --- 4.5 Advanced optimization

def test_part4_5_momentum_run_reaches_88_percent(tmp_path):
    out = run_series("part4_5_momentum.py", tmp_path, epochs=6)
    accuracies = numbers(r"Epoch \d+/6, Loss: [\d.]+, Test Accuracy: ([\d.]+)", out)
    assert len(accuracies) == 6
    # With lambda 0.01 and momentum the weights forget within an epoch, so the accuracy swings by about
    # +-0.02 from epoch to epoch: the run reaches 0.88, and it stays above 0.85 from epoch 3 on.
    assert max(accuracies) >= 0.88 and min(accuracies[2:]) >= 0.85


def test_part4_5_exercises(tmp_path):
    out = run_series("part4_5_exercises.py", tmp_path, samples=1000, epochs=3)
    assert "Velocity after step 1:\n [[-0.1 -0.2]\n [-0.3 -0.4]]" in out
    assert "Velocity after step 2:\n [[-0.14 -0.33]\n [-0.52 -0.71]]" in out
    assert "Accuracy with class indices: 0.75" in out and "Accuracy with one-hot labels: 0.75" in out
    plain, momentum = numbers(r"mu 0\.\d: loss per epoch \[[\d., ]+\], final test accuracy ([\d.]+)", out)
    assert momentum > plain  # in 3 epochs momentum is off the plateau, plain SGD is not
    plain, momentum = numbers(r"distance to the minimum after 100 steps ([\d.]+)", out)
    assert momentum < plain / 10


def test_part4_5_numpynn_momentum_beats_plain_sgd_early(example, tmp_path):
    accuracies = example("part4_5_numpynn")["main"](out=str(tmp_path), samples=1000, epochs=3)
    assert accuracies["momentum 0.9"] > accuracies["plain SGD"]
    assert (tmp_path / "part4_5.png").stat().st_size > 10_000


def test_every_series_script_is_tested():
    scripts = {p.stem for p in SERIES.glob("part4_*.py")}
    assert len(scripts) == 15  # 4.1-4.5: demo, exercises and the numpynn version of each
    source = Path(__file__).read_text(encoding="utf-8")
    assert {s for s in scripts if f'"{s}' not in source} == set()
