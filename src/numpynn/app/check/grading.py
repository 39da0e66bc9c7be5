"""Grade one of the learner's functions: every case against numpynn's `neural_network`, inputs left unchanged,
backward functions also against central differences of the learner's own forward pass.
"""

import contextlib
import copy
import inspect
import io
from collections.abc import Callable
from types import ModuleType

import numpy as np

import neural_network as ref
from numpynn.app.check.cases import GLOBAL_RANDOM, OUTPUTS, Case, cases
from numpynn.app.check.diagnose import difference, same
from numpynn.app.check.mistakes import call, which_mistake

FORWARD = {"backward_mlp": "forward_mlp", "backward_mlp_3layer": "forward_mlp_3layer"}
GRADIENTS = {"backward_mlp": ("W1", "b1", "W2", "b2"), "backward_mlp_3layer": ("W1", "b1", "W2", "b2", "W3", "b3")}


def grade(name: str, fn: Callable, learner: ModuleType | None = None) -> tuple[bool, str | None]:
    """(passed, hint): the learner's `fn` on every case of the series' function `name`; the hint names the case."""
    for i, case in enumerate(_cases_for(name, fn)):
        hint = grade_case(name, fn, case, seed=1000 + i, learner=learner)
        if hint is not None:
            return False, f"{hint} (case: {case.label})"
    return True, None


def _cases_for(name: str, fn: Callable) -> list[Case]:
    """The cases; Part 2.2's gradient_descent(X, y, W, b, lr, num_iterations, loss_fn) gets its full-batch form."""
    all_cases = cases(name)
    if name == "gradient_descent" and _is_part_2_2(fn):
        X, y, W, b, lr, epochs, _, loss_fn = all_cases[0].args
        return [Case("Part 2.2's full batch, 16 samples, MSE", (X, y, W, b, lr, epochs, loss_fn))]
    return all_cases


def _is_part_2_2(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return len(params) == 7 and "batch_size" not in params


def grade_case(name: str, fn: Callable, case: Case, seed: int, learner: ModuleType | None = None) -> str | None:
    """None when the learner's fn agrees with numpynn's on this case, else the one-line hint."""
    seed = seed if name in GLOBAL_RANDOM else None
    before = copy.deepcopy((case.args, case.kwargs))
    want = call(getattr(ref, name), *copy.deepcopy((case.args, case.kwargs)), seed)
    try:
        got = call(fn, case.args, case.kwargs, seed)
    except SystemExit as exc:
        return f"calls sys.exit({exc.code})"
    except Exception as exc:
        return f"raises {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no message'}"
    changed = _mutated(before, (case.args, case.kwargs))
    if changed:
        return f"changes its input {changed} in place; the series' {name} leaves its arguments as they were"
    if same(got, want):
        return None
    hint = which_mistake(name, got, *copy.deepcopy((case.args, case.kwargs)), same, seed)
    if hint is None:
        n = int(np.shape(case.args[0])[0]) if np.ndim(case.args[0]) else 1
        hint = difference(name, got, want, name, n, OUTPUTS.get(name, ()))
    if name in FORWARD and case.params is not None:
        hint += _against_own_forward(name, got, case, learner)
    return hint


def _mutated(before, after) -> str | None:
    """The name of the first argument whose values changed, else None."""
    (args0, kwargs0), (args1, kwargs1) = before, after
    for i, (a, b) in enumerate(zip(args0, args1)):
        if not _equal(a, b):
            return f"argument {i + 1}"
    return next((k for k in kwargs0 if not _equal(kwargs0[k], kwargs1[k])), None)


def _equal(a, b) -> bool:
    if isinstance(a, dict):
        return all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return all(map(_equal, a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    return True


def _against_own_forward(name: str, got, case: Case, learner: ModuleType | None) -> str:
    """A note when the learner's backward, fed their own forward's activations, matches central differences of
    that forward: the backward is right for the network the forward computes, and the forward is what differs."""
    forward_name = FORWARD[name]
    forward = getattr(learner, forward_name, None) if learner is not None else None
    backward = getattr(learner, name, None) if learner is not None else None
    if forward is None or backward is None:
        return ""
    keys, p = GRADIENTS[name], {k: np.array(v, dtype=float) for k, v in case.params.items()}
    try:
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            grads = backward(*_backward_args(forward, p))
            numeric = ref.numerical_gradient(p["X"], p["y"], {k: p[k] for k in keys}, ref.cross_entropy,
                                             lambda X, q: forward(X, *(q[k] for k in keys))[-1], 1e-6)
        agree = len(grads) == len(keys) and all(
            np.shape(g) == numeric[k].shape and np.allclose(g, numeric[k], rtol=1e-4, atol=1e-6)
            for g, k in zip(grads, keys))
    except Exception:
        return ""
    return (f"; it matches the numerical gradients of your own {forward_name}, so the difference is in "
            f"{forward_name}") if agree else ""


def _backward_args(forward, p: dict) -> tuple:
    """backward_mlp's (or backward_mlp_3layer's) arguments from the learner's forward on the case's parameters."""
    X, y = p["X"], p["y"]
    if "W3" not in p:
        A1, A2 = forward(X, p["W1"], p["b1"], p["W2"], p["b2"])
        return X, A1, A2, y, p["W1"], p["W2"], X @ p["W1"] + p["b1"]
    A1, A2, A3 = forward(X, p["W1"], p["b1"], p["W2"], p["b2"], p["W3"], p["b3"])
    return X, A1, A2, A3, y, p["W1"], p["W2"], p["W3"], X @ p["W1"] + p["b1"], A1 @ p["W2"] + p["b2"]
