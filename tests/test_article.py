"""The article's training script and its four exercises run unchanged against `neural_network`, offline.

Each runs in a subprocess through `python -m numpynn.article`, which answers sklearn's
fetch_openml('mnist_784') from the bundled MNIST; the figures the issue sets are asserted on the output.
The runner shows each plt.show() in a window where there is a display, and saves it as a PNG otherwise.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn", reason="the article's scripts import scikit-learn (a test extra)")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "article"


def run_article(script: str, timeout: int = 600, figures: Path | None = None) -> str:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    # timeout only catches a hang: train_mlp.py (the article verbatim: 4000 rows x 20 epochs of 784-256-10 in
    # float64) is ~70 s of CPU, and ran past 300 s of wall time at load average 18; 600 s as test_series does.
    # A fixed global seed: the article's code draws its init from np.random, and with some draws
    # exercise 2's tiny ReLU net starts with every hidden unit dead, so one update cannot move the loss.
    save = ["--save-figures", str(figures)] if figures is not None else []
    proc = subprocess.run([sys.executable, "-m", "numpynn.article", "--seed", "0", *save, str(EXAMPLES / script)],
                          capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=figures.parent if figures is not None else None)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def headless(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    return {**env, **extra}


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def test_training_script_reaches_85_percent(tmp_path):
    out = run_article("train_mlp.py", figures=tmp_path / "figs")
    assert f"Saved figure 1 to {tmp_path / 'figs' / 'train_mlp.1.png'}" in out
    assert is_png(tmp_path / "figs" / "train_mlp.1.png")
    epochs = re.findall(r"Epoch (\d+)/20, Loss: ([\d.]+), Test Accuracy: ([\d.]+)", out)
    assert len(epochs) == 20
    losses = [float(loss) for _, loss, _ in epochs]
    assert losses[-1] < losses[0]
    final = float(re.search(r"Final Test Accuracy: ([\d.]+)", out).group(1))
    assert final >= 0.85, out


def test_exercise1_prints_gradient_shapes():
    out = run_article("exercise1.py")
    for line in ["Gradient W1 shape: (2, 3)", "Gradient b1 shape: (1, 3)", "Gradient W2 shape: (3, 2)",
                 "Gradient b2 shape: (1, 2)"]:
        assert line in out


def test_exercise2_loss_decreases_after_one_update():
    out = run_article("exercise2.py")
    initial = float(re.search(r"Initial Loss: ([\d.e-]+)", out).group(1))
    final = float(re.search(r"Final Loss after one update: ([\d.e-]+)", out).group(1))
    assert final < initial


def test_exercise3_binary_mnist_reaches_95_percent():
    out = run_article("exercise3.py")
    assert len(re.findall(r"Epoch \d+/10, Loss: ", out)) == 10
    assert float(re.search(r"Test Accuracy: ([\d.]+)", out).group(1)) >= 0.95


def test_exercise4_high_learning_rate_runs_to_the_end():
    out = run_article("exercise4.py")
    assert len(re.findall(r"Epoch \d+/10, Loss: ", out)) == 10
    assert re.search(r"Test Accuracy: ([\d.]+|nan)", out)


def test_runner_refuses_bad_usage():
    proc = subprocess.run([sys.executable, "-m", "numpynn.article", "missing.py"], capture_output=True, text=True)
    assert proc.returncode == 2 and "missing.py does not exist" in proc.stderr and "Traceback" not in proc.stderr


TWO_SHOWS = """import sys
import matplotlib.pyplot as plt
from beside import WHERE
print("args", sys.argv[1:], WHERE)
plt.plot([1, 2, 3])
plt.show()
fig, axes = plt.subplots(2, 1)
axes[0].plot([3, 1, 2])
plt.show()
"""

# A stand-in for a GUI backend: renders like Agg, and records each show() instead of opening a window.
FAKE_GUI = """import os
from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas  # noqa: F401

def show(*args, **kwargs):
    with open(os.environ["FAKE_GUI_LOG"], "a") as log:
        log.write("shown\\n")
"""


def run_runner(tmp_path, env, *args):
    (tmp_path / "scripts").mkdir(exist_ok=True)
    script = tmp_path / "scripts" / "plots_twice.py"
    script.write_text(TWO_SHOWS)
    (tmp_path / "scripts" / "beside.py").write_text("WHERE = 'beside the script'\n")  # imports as with `python SCRIPT`
    return subprocess.run([sys.executable, "-m", "numpynn.article", *args, str(script), "--flag"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)


def test_runner_without_a_display_saves_each_shown_figure_as_a_png(tmp_path):
    proc = run_runner(tmp_path, headless())
    assert proc.returncode == 0, proc.stderr
    assert "args ['--flag'] beside the script" in proc.stdout  # what follows the script is the script's own argv
    first, second = Path("figures") / "plots_twice.1.png", Path("figures") / "plots_twice.2.png"
    assert f"Saved figure 1 to {first}" in proc.stdout and f"Saved figure 2 to {second}" in proc.stdout
    assert is_png(tmp_path / first) and is_png(tmp_path / second)
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["plots_twice.1.png", "plots_twice.2.png"]


def test_runner_save_figures_chooses_the_folder(tmp_path):
    proc = run_runner(tmp_path, headless(DISPLAY=":0", MPLBACKEND="Agg"), "--save-figures", "out/figs")
    assert proc.returncode == 0, proc.stderr
    assert is_png(tmp_path / "out" / "figs" / "plots_twice.2.png")
    assert not (tmp_path / "figures").exists()


def test_runner_with_a_display_opens_the_window_and_saves_only_when_asked(tmp_path):
    (tmp_path / "fake_gui.py").write_text(FAKE_GUI)
    log = tmp_path / "shown.log"
    env = headless(DISPLAY=":0", MPLBACKEND="module://fake_gui", FAKE_GUI_LOG=str(log),
                   PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    proc = run_runner(tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert log.read_text() == "shown\n" * 2 and "Saved figure" not in proc.stdout
    assert not (tmp_path / "figures").exists()
    log.unlink()
    proc = run_runner(tmp_path, env, "--save-figures", "both")
    assert proc.returncode == 0, proc.stderr
    assert log.read_text() == "shown\n" * 2 and is_png(tmp_path / "both" / "plots_twice.2.png")
