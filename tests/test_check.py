"""`numpynn check FILE.py`: the series' own 21 functions pass; a dozen broken copies, one mistake each, get the
hint that names that mistake; a file that hangs or crashes is reported, not fatal; bad usage exits 2.

The series' file is the seed (tests/seed/seed_neural_network.py, Part 3.4 verbatim) followed by Parts 4.1-4.5's
eight functions (tests/fixtures/check/series_part4_additions.py); the broken copies are made from its text by
one substitution each and graded in-process; the command itself runs a few files end to end.
"""

import json
import sys
import types
from pathlib import Path

import pytest

from numpynn.app import main
from numpynn.app.check.cases import NAMES
from numpynn.app.check.grading import grade

pytest.importorskip("scipy", reason="the series' conv2d calls scipy.signal.convolve2d (a test extra)")

HERE = Path(__file__).parent
SEED = (HERE / "seed" / "seed_neural_network.py").read_text(encoding="utf-8")
SERIES = SEED + "\n" + (HERE / "fixtures" / "check" / "series_part4_additions.py").read_text(encoding="utf-8")

BROKEN = {  # (function, text in the series' file, the mistake put in its place, what the hint must say)
    "transposed gradient": ("backward_mlp", "grad_W2 = (A1.T @ delta2) / n  #", "grad_W2 = (delta2.T @ A1) / n  #",
                            "transposed gradient: grad_W2 has shape (3, 6), expected (6, 3)"),
    "missing / n": ("backward_mlp", "grad_W1 = (X.T @ delta1) / n  #", "grad_W1 = X.T @ delta1  #",
                    "missing / n: grad_W1 is n = 5 times too large"),
    "bias without keepdims": ("backward_mlp", "grad_b2 = np.mean(delta2, axis=0, keepdims=True)  #",
                              "grad_b2 = np.mean(delta2, axis=0)  #",
                              "bias gradient without keepdims: grad_b2 has shape (3,), expected (1, 3)"),
    "bias over the wrong axis": ("backward_mlp", "grad_b1 = np.mean(delta1, axis=0, keepdims=True)  #",
                                 "grad_b1 = np.mean(delta1, axis=1, keepdims=True)  #",
                                 "bias gradient summed over the wrong axis: grad_b1 has shape (5, 1)"),
    "softmax without the max shift": ("softmax", "exp_Z = np.exp(Z - Z_max)", "exp_Z = np.exp(Z)",
                                      "softmax overflows on large logits (NaN)"),
    "cross-entropy without clipping": ("cross_entropy", "np.sum(y * np.log(A + epsilon), axis=1)",
                                       "np.sum(y * np.log(A), axis=1)", "cross-entropy without clipping"),
    "sign error in sigmoid": ("sigmoid", "return 1 / (1 + np.exp(-Z))", "return 1 / (1 + np.exp(Z))",
                              "sign error: sigmoid is 1 / (1 + np.exp(-Z))"),
    "sign error in the output delta": ("backward_mlp", "delta2 = A2 - y", "delta2 = y - A2",
                                       "sign error: grad_W1 is the negative of the expected values"),
    "dropout rescaled": ("dropout", "return A * mask", "return A * mask / p", "dropout rescaled by 1/p"),
    "dropout's p as the drop probability": ("dropout", "np.random.binomial(1, p, size=A.shape)",
                                            "np.random.binomial(1, 1 - p, size=A.shape)",
                                            "p is the KEEP probability"),
    "momentum velocity sign": ("momentum_update", "velocity = mu * velocity - lr * gradient",
                               "velocity = mu * velocity + lr * gradient", "momentum's velocity sign"),
    "normalize dividing by a zero std": (
        "normalize", "    mask = std != 0  # Create a mask for non-zero std\n    if np.any(mask):\n"
                     "        normalized_X[:, mask] = normalized_X[:, mask] / std[mask]",
        "    normalized_X = normalized_X / std",
        "a constant column (std 0) gives NaN: divide only where the std is non-zero"),
    "normalize in place": ("normalize", "normalized_X = X - mean", "X -= mean\n    normalized_X = X",
                           "changes its input argument 1 in place"),
    "conv2d as cross-correlation": ("conv2d", 'convolve2d(image, filter_kernel, mode="valid")',
                                    'convolve2d(image, filter_kernel[::-1, ::-1], mode="valid")',
                                    "cross-correlation: the series' conv2d is a true convolution"),
    "MSE summed": ("mse_loss", "return np.mean((y_pred - y) ** 2)", "return np.sum((y_pred - y) ** 2)",
                   "missing / n: mse_loss is n = 8 times too large"),
    "gradient descent uphill": ("gradient_descent", "W = W - lr * grad_W\n            b = b - lr * grad_b",
                                "W = W + lr * grad_W\n            b = b + lr * grad_b",
                                "sign error: step against the gradient"),
    "L2 gradient without the 2": ("l2_regularization", "l2_grads.append(2 * lambda_ * W)",
                                  "l2_grads.append(lambda_ * W)", "the factor 2 is missing"),
    "ReLU derivative 1 at zero": ("backward_mlp", "delta1 = (delta2 @ W2.T) * (Z1 > 0)  #",
                                  "delta1 = (delta2 @ W2.T) * (Z1 >= 0)  #",
                                  "the ReLU derivative at 0 is 0: use (Z1 > 0), not (Z1 >= 0) (case: zero pre-act"),
    "float32 result": ("relu", "return np.maximum(0, Z)", "return np.maximum(0, Z).astype(np.float32)",
                       "relu is float32; the series' functions return float64"),
    "BCE without clipping": ("binary_cross_entropy", "np.log(A + epsilon) + (1 - y) * np.log(1 - A + epsilon)",
                             "np.log(A) + (1 - y) * np.log(1 - A)", "cross-entropy without clipping"),
    "numerical gradient over h": ("numerical_gradient", "(loss_plus - loss_minus) / (2 * h)",
                                  "(loss_plus - loss_minus) / h", "divide by 2 * h, not h"),
    "3-layer transposed gradient": ("backward_mlp_3layer", "grad_W3 = (A2.T @ delta3) / n",
                                    "grad_W3 = (delta3.T @ A2) / n", "transposed gradient: grad_W3 has shape (3, 7)"),
}


def module(source: str) -> types.ModuleType:
    learner = types.ModuleType("learner")
    exec(compile(source, "learner.py", "exec"), learner.__dict__)
    return learner


@pytest.fixture(scope="module")
def series():
    return module(SERIES)


def test_the_series_own_21_functions_pass(series):
    assert [(name, grade(name, getattr(series, name), series)) for name in NAMES] == [
        (name, (True, None)) for name in NAMES]


@pytest.mark.parametrize("mistake", BROKEN)
def test_a_broken_function_gets_the_hint_that_names_its_mistake(mistake):
    name, right, wrong, hint = BROKEN[mistake]
    assert SERIES.count(right) == 1, right
    learner = module(SERIES.replace(right, wrong))
    passed, got = grade(name, getattr(learner, name), learner)
    assert not passed and hint in got, got
    others = [n for n in NAMES if n != name and n not in ("forward_mlp", "forward_mlp_3layer")]
    assert all(grade(n, getattr(learner, n), learner)[0] for n in others[:3])  # one mistake, one failing function


def test_a_backward_that_matches_its_own_wrong_forward_points_at_the_forward():
    """A sigmoid hidden layer, forward and backward: consistent with itself, not the series' ReLU network."""
    learner = module(SERIES.replace("    A1 = relu(Z1)      # ReLU", "    A1 = sigmoid(Z1)      # ReLU")
                     .replace("delta1 = (delta2 @ W2.T) * (Z1 > 0)  #", "delta1 = (delta2 @ W2.T) * A1 * (1 - A1)  #"))
    passed, hint = grade("backward_mlp", learner.backward_mlp, learner)
    assert not passed and "matches the numerical gradients of your own forward_mlp" in hint, hint
    assert grade("forward_mlp", learner.forward_mlp, learner)[0] is False


def test_part_2_2s_gradient_descent_is_graded_in_its_full_batch_form():
    source = SEED[:SEED.index("def gradient_descent")] + '''
def gradient_descent(X, y, W, b, lr, num_iterations, loss_fn):
    loss_history = []
    for _ in range(num_iterations):
        y_pred = X @ W + b
        loss_history.append(loss_fn(y_pred, y))
        W = W - lr * X.T @ (y_pred - y) / X.shape[0]
        b = b - lr * np.mean(y_pred - y)
    return W, b, loss_history
'''
    learner = module(source)
    assert grade("gradient_descent", learner.gradient_descent, learner) == (True, None)


def test_the_command_grades_a_file_and_exits_0_when_all_pass(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(SEED)
    assert main(["check", str(tmp_path / "mine.py")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["function", "result", "hint"]
    assert "backward_mlp          pass" in out and "13 of 13 functions pass; not in " in out
    assert "(not graded): forward_mlp_3layer, backward_mlp_3layer, conv2d" in out


def test_hang_crash_and_exit_are_reported_not_fatal(tmp_path, capsys):
    broken = SEED.replace('    return np.maximum(0, Z)', '    while True:\n        pass')
    broken = broken.replace("    return np.matmul(X, W)", "    import os\n    os._exit(3)")
    broken = broken.replace("    Z_max = np.max(Z, axis=1, keepdims=True)", "    raise SystemExit(4)")
    broken = broken.replace("    return A\n\ndef forward_mlp", "    import ctypes\n    ctypes.string_at(0)\n\n"
                                                                "def forward_mlp")
    (tmp_path / "mine.py").write_text(broken)
    assert main(["check", str(tmp_path / "mine.py"), "--json", "--timeout", "2"]) == 1
    result = {f["name"]: f for f in json.loads(capsys.readouterr().out)["functions"]}
    assert result["relu"]["hint"].startswith("did not finish within 2 s")
    assert result["matrix_multiply"]["hint"].startswith("ended the Python process (exit code 3")
    assert result["softmax"]["hint"].startswith("calls sys.exit(4)")
    assert result["forward_perceptron"]["hint"].startswith("crashed the Python process (SIG")
    assert result["backward_mlp"] == {"name": "backward_mlp", "passed": True, "hint": None}


def test_a_runaway_allocation_fails_in_the_learners_process_not_the_machine(tmp_path, capsys):
    """The child's address space is capped (worker.MEMORY_LIMIT): 16 GiB asked for in relu is a MemoryError
    reported for relu (without the cap Linux would hand it out lazily), and the other functions are graded."""
    broken = SEED.replace("    return np.maximum(0, Z)", "    big = np.empty(2**31)\n    return np.maximum(0, Z)")
    assert broken != SEED
    (tmp_path / "mine.py").write_text(broken)
    assert main(["check", str(tmp_path / "mine.py"), "--json", "--only", "relu", "--only", "softmax"]) == 1
    result = {f["name"]: f for f in json.loads(capsys.readouterr().out)["functions"]}
    assert result["relu"]["hint"].startswith("raises MemoryError"), result["relu"]
    assert result["softmax"]["passed"]


def test_a_file_named_neural_network_in_the_working_folder_is_graded_not_used_as_the_reference(tmp_path, capsys,
                                                                                              monkeypatch):
    (tmp_path / "neural_network.py").write_text(SEED.replace("exp_Z = np.exp(Z - Z_max)", "exp_Z = np.exp(Z)"))
    monkeypatch.chdir(tmp_path)
    assert main(["check", "neural_network.py", "--only", "softmax"]) == 1
    out = capsys.readouterr().out
    assert "softmax   FAIL    softmax overflows on large logits" in out and "0 of 1 function pass, 1 fails." in out


def test_only_and_json(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(SEED.replace("delta2 = A2 - y", "delta2 = y - A2"))
    assert main(["check", str(tmp_path / "mine.py"), "--only", "backward_mlp", "--only", "softmax", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [f["name"] for f in report["functions"]] == ["softmax", "backward_mlp"]
    assert (report["passed"], report["failed"], report["not_found"]) == (1, 1, [])
    assert report["functions"][1]["hint"].startswith("sign error: grad_W1 is the negative")


@pytest.mark.parametrize("source, says", [
    (None, "does not exist; pass the path of your neural_network.py."),
    ("def relu(Z):\n    return np.maximum(0, Z\n", "line 2: "),
    ("import numpy as np\nundefined_name\n", "importing {path} raises NameError (line 2): name 'undefined_name'"),
    ("import sys\nsys.exit(1)\n", "importing {path} calls sys.exit(1)"),
    ("x = 1\n", "does not define any of the series' 21 functions"),
])
def test_bad_usage_is_one_sentence_and_exit_2(tmp_path, capsys, source, says):
    path = tmp_path / "mine.py"
    if source is not None:
        path.write_text(source)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("numpynn: error: ") and says.format(path=path) in err and "Traceback" not in err


def test_help_says_it_runs_the_file(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    assert "RUNS THE CODE IN FILE" in capsys.readouterr().out


def test_every_function_has_cases_and_the_names_are_the_facades():
    import neural_network
    assert len(NAMES) == 21 and all(callable(getattr(neural_network, n)) for n in NAMES)
    assert sys.modules["neural_network"].__file__.endswith("src/neural_network.py")
