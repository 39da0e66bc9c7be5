"""The seed facade `neural_network`: the article's 13 functions, same signatures, same float64 results."""

import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

import neural_network as nw

sys.path.insert(0, str(Path(__file__).parent / "seed"))
import seed_neural_network as seed  # noqa: E402  the article's file, verbatim

NAMES = ["normalize", "matrix_multiply", "sigmoid", "relu", "softmax", "mse_loss", "binary_cross_entropy",
         "cross_entropy", "gradient_descent", "numerical_gradient", "forward_perceptron", "forward_mlp",
         "backward_mlp"]
rng = np.random.default_rng(0)


def test_exactly_the_articles_thirteen_functions():
    public = {n for n, f in vars(nw).items() if inspect.isfunction(f) and not n.startswith("_")
              and f.__module__ == "neural_network"}
    assert public == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_signatures_match_the_article(name):
    ours, theirs = inspect.signature(getattr(nw, name)), inspect.signature(getattr(seed, name))
    assert list(ours.parameters) == list(theirs.parameters)
    for p in ours.parameters:
        d1, d2 = ours.parameters[p].default, theirs.parameters[p].default
        if d2 is not inspect.Parameter.empty and callable(d2):
            assert callable(d1) and d1(3.5) == d2(3.5)
        else:
            assert d1 == d2


def test_elementwise_and_loss_functions_match_the_article():
    Z = rng.standard_normal((7, 5)) * 3
    y01 = (rng.random((7, 1)) > 0.5).astype(float)
    A = rng.random((7, 1))
    onehot = np.eye(5)[rng.integers(0, 5, 7)]
    X = rng.standard_normal((30, 4)) * 5 + 2
    X[:, 1] = 7.0  # a constant column is only centred
    cases = [("normalize", (X,)), ("matrix_multiply", (Z, Z.T)), ("sigmoid", (Z,)), ("relu", (Z,)),
             ("softmax", (Z,)), ("mse_loss", (Z, Z[::-1])), ("binary_cross_entropy", (A, y01)),
             ("cross_entropy", (seed.softmax(Z), onehot)),
             ("forward_perceptron", (X, rng.standard_normal((4, 1)), np.zeros((1, 1))))]
    for name, args in cases:
        ours = getattr(nw, name)(*[a.copy() for a in args])
        theirs = getattr(seed, name)(*[a.copy() for a in args])
        assert np.shape(ours) == np.shape(theirs), name
        assert np.asarray(ours).dtype == np.float64, name
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15, err_msg=name)


def _mlp_params(d=6, h=5, k=3):
    return (rng.standard_normal((d, h)) * 0.5, rng.standard_normal((1, h)) * 0.1,
            rng.standard_normal((h, k)) * 0.5, rng.standard_normal((1, k)) * 0.1)


def test_forward_and_backward_mlp_match_the_article():
    X = rng.standard_normal((8, 6))
    y = np.eye(3)[rng.integers(0, 3, 8)]
    W1, b1, W2, b2 = _mlp_params()
    ours, theirs = nw.forward_mlp(X, W1, b1, W2, b2), seed.forward_mlp(X, W1, b1, W2, b2)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    A1, A2 = theirs
    Z1 = X @ W1 + b1
    for a, b in zip(nw.backward_mlp(X, A1, A2, y, W1, W2, Z1), seed.backward_mlp(X, A1, A2, y, W1, W2, Z1)):
        assert a.shape == b.shape and a.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


def test_backward_mlp_agrees_with_numerical_gradient():
    """The article's exercise in spirit: analytic gradients equal central differences of the loss."""
    X = rng.standard_normal((5, 6))
    y = np.eye(3)[rng.integers(0, 3, 5)]
    W1, b1, W2, b2 = _mlp_params()
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    A1, A2 = nw.forward_mlp(X, **params)
    grads = nw.backward_mlp(X, A1, A2, y, W1, W2, X @ W1 + b1)
    numeric = nw.numerical_gradient(X, y, params, nw.cross_entropy, lambda X, p: nw.forward_mlp(X, **p)[1], h=1e-6)
    for g, name in zip(grads, ["W1", "b1", "W2", "b2"]):
        np.testing.assert_allclose(g, numeric[name], rtol=1e-5, atol=1e-8, err_msg=name)


def test_numerical_gradient_perturbs_in_place_and_restores():
    X = rng.standard_normal((10, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    params = {"W": rng.standard_normal((3, 1)), "b": np.zeros((1, 1))}
    before = {k: v.copy() for k, v in params.items()}
    seen = []

    def forward(X, p):
        seen.append(p["W"].copy())
        return X @ p["W"] + p["b"]

    ours = nw.numerical_gradient(X, y, params, nw.mse_loss, forward)
    assert any(not np.array_equal(s, before["W"]) for s in seen)  # it really perturbed the caller's array
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])  # ... and restored it
    theirs = seed.numerical_gradient(X, y, {k: v.copy() for k, v in before.items()}, seed.mse_loss,
                                     lambda X, p: X @ p["W"] + p["b"])
    for k in params:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-9)


def test_gradient_descent_matches_the_article_and_prints_each_epoch(capsys):
    X = rng.standard_normal((40, 3))
    y = (X @ np.array([[0.5], [-1.0], [2.0]]) > 0).astype(float)
    args = (X, y, np.zeros((3, 1)), np.zeros((1, 1)), 0.5, 4, 8)
    np.random.seed(3)
    W1, b1, h1 = nw.gradient_descent(*args, nw.binary_cross_entropy, nw.sigmoid)
    ours_out = capsys.readouterr().out
    np.random.seed(3)
    W2, b2, h2 = seed.gradient_descent(*args, seed.binary_cross_entropy, seed.sigmoid)
    theirs_out = capsys.readouterr().out
    np.testing.assert_allclose(W1, W2, rtol=1e-12)
    np.testing.assert_allclose(b1, b2, rtol=1e-12)
    np.testing.assert_allclose(h1, h2, rtol=1e-12)
    assert ours_out == theirs_out and ours_out.count("Epoch ") == 4 and "Epoch 4/4, Loss: " in ours_out
    assert h1[-1] < h1[0]
