"""The seed facade `neural_network`: the article's 13 functions, same signatures, same float64 results, and the
eight that Parts 4.1-4.5 add, checked against the series' formulas, SciPy and central differences."""

import inspect
import subprocess
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
# Parts 4.1-4.5: each added function's parameters and defaults, as the series' listings give them.
SERIES = {
    "forward_mlp_3layer": {"X": None, "W1": None, "b1": None, "W2": None, "b2": None, "W3": None, "b3": None},
    "backward_mlp_3layer": {"X": None, "A1": None, "A2": None, "A3": None, "y": None, "W1": None, "W2": None,
                            "W3": None, "Z1": None, "Z2": None},
    "conv2d": {"image": None, "filter_kernel": None, "stride": 1},
    "max_pool": {"X": None, "size": 2, "stride": 2},
    "l2_regularization": {"weights": None, "lambda_": None},
    "dropout": {"A": None, "p": None, "training": True},
    "momentum_update": {"velocity": None, "gradient": None, "mu": None, "lr": None},
    "accuracy": {"y_pred": None, "y_true": None},
}
rng = np.random.default_rng(0)


def test_exactly_the_series_twenty_one_functions():
    public = {n for n, f in vars(nw).items() if inspect.isfunction(f) and not n.startswith("_")
              and f.__module__ == "neural_network"}
    assert public == set(NAMES) | set(SERIES) and len(public) == 21


@pytest.mark.parametrize("name", SERIES)
def test_series_signatures(name):
    params = inspect.signature(getattr(nw, name)).parameters
    empty = inspect.Parameter.empty
    assert {p: (None if v.default is empty else v.default) for p, v in params.items()} == SERIES[name]
    assert list(params) == list(SERIES[name])


@pytest.mark.parametrize("name", NAMES)
def test_signatures_match_the_article(name):
    ours, theirs = inspect.signature(getattr(nw, name)), inspect.signature(getattr(seed, name))
    assert list(ours.parameters) == list(theirs.parameters)
    for p in ours.parameters:
        d1, d2 = ours.parameters[p].default, theirs.parameters[p].default
        if (name, p) == ("gradient_descent", "loss_fn"):  # the one exemption: None lets Part 2.2's 7-argument form in
            assert d1 is None and d2 is inspect.Parameter.empty
            continue
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


def test_gradient_descent_takes_part_2_2s_seven_arguments_full_batch(capsys):
    """Part 2.2: gradient_descent(X, y, W, b, lr, num_iterations, loss_fn), the loss before each step, no print."""
    X = rng.standard_normal((12, 2))
    y = X @ np.array([[1.5], [-0.5]]) + 0.25
    W0, b0 = np.zeros((2, 1)), np.zeros((1, 1))
    state = np.random.get_state()
    W, b, history = nw.gradient_descent(X, y, W0, b0, 0.1, 5, nw.mse_loss)
    assert capsys.readouterr().out == "" and len(history) == 5
    assert np.array_equal(np.random.get_state()[1], state[1])  # full batch: no shuffling draws
    w, c = W0, b0
    for loss in history:
        error = X @ w + c - y
        assert loss == pytest.approx(np.mean(error ** 2), rel=1e-12)
        w, c = w - 0.1 * X.T @ error / 12, c - 0.1 * np.mean(error)
    np.testing.assert_allclose(W, w, rtol=1e-12)
    np.testing.assert_allclose(b, c, rtol=1e-12)
    assert not W0.any() and not b0.any()  # new arrays: the caller's are untouched
    with pytest.raises(TypeError, match="needs a loss function"):
        nw.gradient_descent(X, y, W0, b0, 0.1, 5, 4)


# --- Parts 4.1-4.5 ---------------------------------------------------------------------------------------------

def _mlp3_params(d=6, h1=5, h2=4, k=3):
    return {"W1": rng.standard_normal((d, h1)) * 0.5, "b1": rng.standard_normal((1, h1)) * 0.1,
            "W2": rng.standard_normal((h1, h2)) * 0.5, "b2": rng.standard_normal((1, h2)) * 0.1,
            "W3": rng.standard_normal((h2, k)) * 0.5, "b3": rng.standard_normal((1, k)) * 0.1}


def _series_mlp3(X, y, p):
    """The series' formulas, written out: forward, then backward with the recomputed Z1, Z2."""
    Z1 = X @ p["W1"] + p["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = A1 @ p["W2"] + p["b2"]
    A2 = np.maximum(0, Z2)
    A3 = seed.softmax(A2 @ p["W3"] + p["b3"])
    n = len(X)
    d3 = A3 - y
    d2 = (d3 @ p["W3"].T) * (Z2 > 0)
    d1 = (d2 @ p["W2"].T) * (Z1 > 0)
    grads = (X.T @ d1 / n, d1.mean(axis=0, keepdims=True), A1.T @ d2 / n, d2.mean(axis=0, keepdims=True),
             A2.T @ d3 / n, d3.mean(axis=0, keepdims=True))
    return (A1, A2, A3), (Z1, Z2), grads


def test_forward_and_backward_mlp_3layer_follow_the_series_formulas():
    X = rng.standard_normal((8, 6))
    y = np.eye(3)[rng.integers(0, 3, 8)]
    p = _mlp3_params()
    (A1, A2, A3), (Z1, Z2), expected = _series_mlp3(X, y, p)
    ours = nw.forward_mlp_3layer(X, **p)
    for a, b in zip(ours, (A1, A2, A3)):
        assert a.shape == b.shape and a.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-12)
    grads = nw.backward_mlp_3layer(X, A1, A2, A3, y, p["W1"], p["W2"], p["W3"], Z1, Z2)
    assert [g.shape for g in grads] == [(6, 5), (1, 5), (5, 4), (1, 4), (4, 3), (1, 3)]
    for g, e in zip(grads, expected):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-14)
    # W1 is accepted and unused, as in the series
    again = nw.backward_mlp_3layer(X, A1, A2, A3, y, np.full_like(p["W1"], np.nan), p["W2"], p["W3"], Z1, Z2)
    for g, e in zip(again, grads):
        np.testing.assert_array_equal(g, e)


def test_backward_mlp_3layer_agrees_with_numerical_gradient():
    X = rng.standard_normal((5, 6))
    y = np.eye(3)[rng.integers(0, 3, 5)]
    p = _mlp3_params()
    A1, A2, A3 = nw.forward_mlp_3layer(X, **p)
    Z1 = X @ p["W1"] + p["b1"]
    Z2 = A1 @ p["W2"] + p["b2"]
    grads = nw.backward_mlp_3layer(X, A1, A2, A3, y, p["W1"], p["W2"], p["W3"], Z1, Z2)
    numeric = nw.numerical_gradient(X, y, p, nw.cross_entropy, lambda X, q: nw.forward_mlp_3layer(X, **q)[2], h=1e-6)
    for g, name in zip(grads, ["W1", "b1", "W2", "b2", "W3", "b3"]):
        np.testing.assert_allclose(g, numeric[name], rtol=1e-5, atol=1e-8, err_msg=name)
    # negative control: the wrong ReLU mask for layer 2 is caught
    wrong = nw.backward_mlp_3layer(X, A1, A2, A3, y, p["W1"], p["W2"], p["W3"], Z1, -Z2)
    assert not np.allclose(wrong[2], numeric["W2"], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("shape, kshape, stride", [((28, 28), (3, 3), 1), ((9, 11), (3, 2), 2), ((10, 7), (4, 4), 3),
                                                    ((5, 5), (5, 5), 1), ((12, 9), (1, 3), 2)])
def test_conv2d_is_scipys_valid_convolution_then_strided(shape, kshape, stride):
    from scipy.signal import convolve2d
    image, kernel = rng.standard_normal(shape), rng.standard_normal(kshape)
    ours = nw.conv2d(image, kernel, stride)
    theirs = convolve2d(image, kernel, mode="valid")[::stride, ::stride]
    assert ours.shape == theirs.shape and ours.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    # negative control: cross-correlation (the kernel not flipped) is a different map for a random kernel
    assert kshape == (1, 1) or not np.allclose(nw.conv2d(image, kernel[::-1, ::-1], stride), theirs)


def test_conv2d_averaging_kernel_by_hand_and_integer_input():
    image = np.array([[1, 1, 1, 1], [1, 2, 2, 1], [1, 2, 2, 1], [1, 1, 1, 1]])  # integers: the result is float64
    kernel = np.full((2, 2), 0.25)
    out = nw.conv2d(image, kernel)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[1.25, 1.5, 1.25], [1.5, 2, 1.5], [1.25, 1.5, 1.25]])
    np.testing.assert_array_equal(nw.conv2d(image, kernel, stride=2), [[1.25, 1.25], [1.25, 1.25]])
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    ramp = np.tile(np.arange(6.0), (5, 1))  # brightness grows to the right: convolution gives +8, correlation -8
    np.testing.assert_array_equal(nw.conv2d(ramp, sobel), np.full((3, 4), 8.0))


def _max_pool_loops(X, size, stride):
    h, w = (X.shape[0] - size) // stride + 1, (X.shape[1] - size) // stride + 1
    out = np.zeros((h, w) + X.shape[2:])
    for i in range(h):
        for j in range(w):
            out[i, j] = X[i * stride:i * stride + size, j * stride:j * stride + size].max(axis=(0, 1))
    return out


def test_max_pool_by_hand_and_against_loops():
    X = np.arange(1, 17).reshape(4, 4)
    out = nw.max_pool(X)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[6, 8], [14, 16]])
    np.testing.assert_array_equal(nw.max_pool(X, size=2, stride=1), [[6, 7, 8], [10, 11, 12], [14, 15, 16]])
    for shape, size, stride in [((7, 5), 2, 2), ((9, 9, 3), 3, 2), ((6, 8, 4), 2, 1), ((26, 26, 8), 2, 2)]:
        Y = rng.standard_normal(shape)
        ours = nw.max_pool(Y, size, stride)
        assert ours.dtype == np.float64
        np.testing.assert_array_equal(ours, _max_pool_loops(Y, size, stride))


def test_max_pool_drops_a_channel_axis_of_size_one():
    Y = rng.standard_normal((6, 6, 1))
    out = nw.max_pool(Y)
    assert out.shape == (3, 3)
    np.testing.assert_array_equal(out, nw.max_pool(Y[:, :, 0]))
    assert nw.max_pool(rng.standard_normal((6, 6, 2))).shape == (3, 3, 2)


def test_l2_regularization_by_hand():
    W1, W2 = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, 1.5], [2.5, 3.5]])
    penalty, grads = nw.l2_regularization([W1, W2], 0.01)
    assert type(penalty) is float and penalty == 0.51  # 0.01 * (30 + 21)
    np.testing.assert_array_equal(grads[0], 2 * 0.01 * W1)
    np.testing.assert_array_equal(grads[1], 2 * 0.01 * W2)
    assert nw.l2_regularization([W1], 0.0)[0] == 0.0


@pytest.mark.parametrize("s", [0, 7, 123])
def test_dropout_draws_the_series_binomial_mask_from_the_global_state(s):
    A = rng.standard_normal((5, 7)) + 3
    np.random.seed(s)
    ours = nw.dropout(A, 0.8)
    after_ours = np.random.random()
    np.random.seed(s)
    mask = np.random.binomial(1, 0.8, size=A.shape)
    after_theirs = np.random.random()
    np.testing.assert_array_equal(ours, A * mask)  # kept values are not rescaled
    assert after_ours == after_theirs  # the same draws from the global state, no more, no fewer
    assert 0 < (ours == 0).sum() < A.size
    assert not np.array_equal(nw.dropout(A, 0.8), ours)  # the next call draws a new mask
    assert nw.dropout(A, 0.8, training=False) is A


def test_momentum_update_two_steps_by_hand():
    v, update = nw.momentum_update(np.zeros((2, 2)), np.array([[1.0, 2.0], [3.0, 4.0]]), 0.9, 0.1)
    assert update is v
    np.testing.assert_allclose(v, [[-0.1, -0.2], [-0.3, -0.4]], rtol=0, atol=1e-15)
    v, update = nw.momentum_update(v, np.array([[0.5, 1.5], [2.5, 3.5]]), 0.9, 0.1)
    np.testing.assert_allclose(v, [[-0.14, -0.33], [-0.52, -0.71]], rtol=0, atol=1e-15)


def test_accuracy_takes_one_hot_or_class_indices():
    y_pred = np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    labels = np.array([1, 0, 1, 0])
    for y_true in (labels, np.eye(3)[labels]):
        acc = nw.accuracy(y_pred, y_true)
        assert isinstance(acc, np.float64) and acc == 0.75


def test_conv2d_and_max_pool_need_no_scipy_at_run_time():
    code = ("import sys, numpy as np, neural_network as nw; nw.max_pool(nw.conv2d(np.eye(6), np.ones((3, 3))), 2, 1);"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
