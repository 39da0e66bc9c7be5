"""Parts 1.1-3.3: every script in examples/series/part1_* ... part3_* runs unchanged under the article runner and
prints what the series' own code of that part prints.

Each script runs twice through numpynn.app.commands.article.main (the code behind `python -m numpynn.article`),
in-process to stay fast: once against numpynn's `neural_network`, once against the series' own file of that
part (tests/seed: Part 3.4's file verbatim for Parts 2.3-3.3, and series_part2_2.py, Part 2.2's full-batch
gradient_descent and np.where normalize, for Parts 1.2-2.2). The two outputs must be identical, line for line;
hand-checkable lines are asserted besides. numpynn prints the per-epoch `Epoch i/N, Loss: ...` line as Part
2.4's library and Part 3.4's listing do (the code published with Parts 3.1-3.3 has it commented out), so the
reference here is the printing version. One test runs a script through `python -m numpynn.article` itself.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the article runner patches scikit-learn's fetch_openml (a test extra)")

from numpynn.app.commands import article  # noqa: E402

SERIES = Path(__file__).resolve().parents[1] / "examples" / "series"
sys.path.insert(0, str(Path(__file__).parent / "seed"))
import seed_neural_network as part3_4  # noqa: E402  Part 3.4's file, verbatim (Parts 2.3-3.3's functions)
import series_part2_2 as part2_2  # noqa: E402  Parts 1.2-2.2's functions, reproduced

SCRIPTS = {  # script -> the series' own neural_network.py of its part (None: NumPy alone), figures shown
    "part1_1_arrays": (None, 0), "part1_1_exercises": (None, 0),
    "part1_2_matrix_operations": (part2_2, 0), "part1_2_exercises": (part2_2, 0),
    "part1_3_functions": (part2_2, 1), "part1_3_exercises": (part2_2, 0),
    "part2_1_losses": (part2_2, 0), "part2_1_exercises": (part2_2, 1),
    "part2_2_gradient_descent": (part2_2, 1), "part2_2_exercises": (part2_2, 0),
    "part2_3_mini_batch": (part3_4, 0), "part2_3_exercises": (part3_4, 0),
    "part2_4_gradient_check": (part3_4, 0), "part2_4_exercises": (part3_4, 0),
    "part3_1_perceptron": (part3_4, 1), "part3_1_exercises": (part3_4, 0),
    "part3_2_activations": (part3_4, 1), "part3_2_exercises": (part3_4, 0),
    "part3_3_forward_mlp": (part3_4, 0), "part3_3_exercises": (part3_4, 0),
}


def run(script: str, tmp_path: Path, monkeypatch, capsys, library=None) -> str:
    """The script's stdout under the article runner; `library` replaces `neural_network` when given."""
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if library is not None:
        monkeypatch.setitem(sys.modules, "neural_network", library)
    capsys.readouterr()
    with np.errstate(all="ignore"):  # the series' sigmoid overflows quietly in exp(-Z) for very negative Z
        assert article.main(["--seed", "0", "--save-figures", str(tmp_path), str(SERIES / f"{script}.py")]) == 0
    out = capsys.readouterr().out
    monkeypatch.delitem(sys.modules, "neural_network", raising=False)  # the next import is the facade again
    return out


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_prints_what_the_series_code_prints(script, tmp_path, monkeypatch, capsys):
    library, figures = SCRIPTS[script]
    ours = run(script, tmp_path / "ours", monkeypatch, capsys)
    source = (SERIES / f"{script}.py").read_text(encoding="utf-8")
    if library is None:
        assert "from neural_network" not in source and "import neural_network" not in source  # NumPy alone
    else:
        theirs = run(script, tmp_path / "theirs", monkeypatch, capsys, library=library)
        assert ours.replace(str(tmp_path / "ours"), "DIR") == theirs.replace(str(tmp_path / "theirs"), "DIR")
    for i in range(1, figures + 1):
        assert (tmp_path / "ours" / f"{script}.{i}.png").stat().st_size > 5_000
    assert not (tmp_path / "ours" / f"{script}.{figures + 1}.png").exists()
    assert "Run it with:  python -m numpynn.article examples/series/" in source


def test_hand_checkable_lines(tmp_path, monkeypatch, capsys):
    out = {s: run(s, tmp_path, monkeypatch, capsys) for s in ["part1_1_exercises", "part1_2_exercises",
                                                             "part2_1_losses", "part3_1_exercises",
                                                             "part3_2_exercises", "part1_3_exercises"]}
    assert "Column sums: [15 18 21 24]" in out["part1_1_exercises"]
    assert "Exercise 1:\n [[19. 22.]\n [43. 50.]]" in out["part1_2_exercises"]
    assert "Exercise 2:\n [[ 0.     -1.2247 -1.019 ]\n" in out["part1_2_exercises"]  # the constant column is 0
    assert "MSE Loss: 0.0200\n" in out["part2_1_losses"]  # (0.1² + 0.1² + 0.2²) / 3
    assert "Exercise 1: [[0.5]]" in out["part3_1_exercises"]
    assert "AND predictions: [0 0 0 1]" in out["part3_1_exercises"]
    assert "Exercise 1: [[0.09   0.2447 0.6652]]" in out["part3_2_exercises"]  # softmax(1000, 1001, 1002)
    assert "derivative at 0 = 0.25" in out["part1_3_exercises"]


def test_part2_2_full_batch_regression_by_its_formula(tmp_path, monkeypatch, capsys):
    """Part 2.2's seven-argument gradient_descent: the loss before each step, no per-iteration print."""
    out = run("part2_2_gradient_descent", tmp_path, monkeypatch, capsys)
    np.random.seed(42)
    X = np.random.randn(100, 2)
    y = X @ np.array([[2.0], [-3.0]]) + 1.5 + np.random.randn(100, 1) * 0.1
    W, b, losses = np.zeros((2, 1)), np.zeros((1, 1)), []
    for _ in range(100):
        error = X @ W + b - y
        losses.append(np.mean(error ** 2))
        W, b = W - 0.1 * X.T @ error / 100, b - 0.1 * np.mean(error)
    assert f"Initial Loss: {losses[0]:.4f}\nFinal Loss: {losses[-1]:.4f}\n" in out
    assert f"Learned W: {np.round(W.ravel(), 4)}" in out and "Epoch" not in out


def test_mini_batch_parts_print_each_epoch(tmp_path, monkeypatch, capsys):
    out = run("part2_3_mini_batch", tmp_path, monkeypatch, capsys)
    assert [line.split(",")[0] for line in out.splitlines()[:10]] == [f"Epoch {i}/10" for i in range(1, 11)]


def test_part2_2_runs_under_python_m_numpynn_article(tmp_path):
    """The headline crash of issue 22: Part 2.2's seven positional arguments, through the real entry point."""
    proc = subprocess.run([sys.executable, "-m", "numpynn.article", "--save-figures", str(tmp_path),
                           str(SERIES / "part2_2_exercises.py")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Exercise 2: W = 3.0000, b = 2.0000" in proc.stdout and "Diverges: True" in proc.stdout


def test_every_early_script_is_tested():
    assert {p.stem for p in SERIES.glob("part[123]_*.py")} == set(SCRIPTS)
    assert {p.stem.split("_")[0] + "_" + p.stem.split("_")[1] for p in SERIES.glob("part[123]_*.py")} == {
        "part1_1", "part1_2", "part1_3", "part2_1", "part2_2", "part2_3", "part2_4", "part3_1", "part3_2", "part3_3"}
