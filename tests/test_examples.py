"""Every script in examples/ runs and shows what it claims: shapes, a lower loss, accuracy, starving layers."""

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def example(monkeypatch):
    """Load an example's functions without running its __main__ block (exercise 4 imports exercise 3)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return lambda name: runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="example")


def test_exercise1_runs_as_a_script_and_prints_torch_shaped_gradients():
    done = subprocess.run([sys.executable, str(EXAMPLES / "exercise1_shapes.py")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Gradient 0.weight shape: (3, 2)" in done.stdout and "Gradient 2.bias shape: (2,)" in done.stdout


def test_exercise1_gradient_shapes(example):
    assert example("exercise1_shapes")["main"]() == {"0.weight": (3, 2), "0.bias": (3,), "2.weight": (2, 3),
                                                    "2.bias": (2,)}


def test_exercise2_one_update_lowers_the_loss_unless_every_relu_is_dead(example):
    main = example("exercise2_one_update")["main"]
    initial, final = main()
    assert final < initial
    initial, final = main(seed=0)  # the docstring's dead network: nothing can move
    assert final == initial


def test_exercise3_separates_zeros_from_ones(example):
    assert example("exercise3_binary_mnist")["main"]() >= 0.98


def test_exercise4_compares_two_learning_rates_in_one_plot(example, tmp_path):
    results = example("exercise4_learning_rate")["main"](out=str(tmp_path))
    assert set(results) == {0.1, 1.0}
    for losses, accuracy in results.values():
        assert len(losses) == 10 and losses[-1] < losses[0] and accuracy >= 0.95
    assert (tmp_path / "learning_rate.png").stat().st_size > 10_000


def test_vanishing_gradients_starve_the_sigmoid_net_but_not_relu(example, tmp_path):
    histories = example("vanishing_gradients")["main"](out=str(tmp_path), depth=6, epochs=1, n=640)
    (sigmoid,), (relu,) = histories["sigmoid, N(0, 0.01)"], histories["ReLU, He"]

    def first_over_last(rec):
        norms = [v for k, v in rec.items() if k.startswith("grad_norm.")]
        assert len(norms) == 7
        return norms[0] / norms[-1]

    assert first_over_last(sigmoid) < 1e-6  # the early layers starve
    assert 1e-2 < first_over_last(relu) < 1e2  # every layer gets a comparable signal
    assert (tmp_path / "vanishing_gradients.png").stat().st_size > 10_000


@pytest.mark.parametrize("name", ["exercise4_learning_rate", "vanishing_gradients"])
def test_figures_go_to_a_git_ignored_output_folder_not_the_current_one(example, name):
    import inspect
    out = inspect.signature(example(name)["main"]).parameters["out"].default
    assert Path(out) == EXAMPLES / "output"  # was ".": PNGs landed in the repository root as untracked files
    ignored = subprocess.run(["git", "check-ignore", "-q", str(EXAMPLES / "output" / "x.png")], cwd=EXAMPLES)
    assert ignored.returncode == 0
