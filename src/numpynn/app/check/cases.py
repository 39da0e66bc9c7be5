"""The inputs each of the series' 21 functions is graded on: random arrays of several sizes, then edge cases.

Shapes are chosen so that no two of n (samples), d (features), h (hidden) and k (classes) are equal: a
transposed result then shows in its shape. Each case is built from its own seeded generator.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import neural_network as ref

OUTPUTS = {  # the names of a function's results, where it returns several
    "forward_mlp": ("A1", "A2"), "forward_mlp_3layer": ("A1", "A2", "A3"),
    "backward_mlp": ("grad_W1", "grad_b1", "grad_W2", "grad_b2"),
    "backward_mlp_3layer": ("grad_W1", "grad_b1", "grad_W2", "grad_b2", "grad_W3", "grad_b3"),
    "gradient_descent": ("W", "b", "loss_history"), "l2_regularization": ("penalty", "grads"),
    "momentum_update": ("new_velocity", "update"),
}
GLOBAL_RANDOM = {"gradient_descent", "dropout"}  # they draw from np.random: seeded before every call


@dataclass
class Case:
    """One call: a label for the hint ("batch of 1"), positional arguments, keyword arguments."""

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    params: dict | None = None  # a backward case: the forward's inputs {X, y, W1, b1, ...}, for numerical gradients


def _onehot(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.eye(k)[rng.integers(0, k, n)]


def _mlp(rng, n, d, h, k, big=False):
    X = rng.standard_normal((n, d))
    W1, W2 = rng.standard_normal((d, h)), rng.standard_normal((h, k)) * (300 if big else 1)
    return X, W1, rng.standard_normal((1, h)), W2, rng.standard_normal((1, k))


def _mlp3(rng, n, d, h1, h2, k):
    X, W1, b1, W2, b2 = _mlp(rng, n, d, h1, h2)
    return X, W1, b1, W2, b2, rng.standard_normal((h2, k)), rng.standard_normal((1, k))


def _backward(label, rng, n, d, h, k, dead=False):
    X, W1, b1, W2, b2 = _mlp(rng, n, d, h, k)
    if dead:  # two hidden units whose pre-activations are exactly 0: the ReLU derivative there is 0
        W1[:, :2], b1[:, :2] = 0.0, 0.0
    A1, A2 = ref.forward_mlp(X, W1, b1, W2, b2)
    y = _onehot(rng, n, k)
    return Case(label, (X, A1, A2, y, W1, W2, X @ W1 + b1),
                params={"X": X, "y": y, "W1": W1, "b1": b1, "W2": W2, "b2": b2})


def _backward3(label, rng, n, d, h1, h2, k):
    X, W1, b1, W2, b2, W3, b3 = _mlp3(rng, n, d, h1, h2, k)
    A1, A2, A3 = ref.forward_mlp_3layer(X, W1, b1, W2, b2, W3, b3)
    y = _onehot(rng, n, k)
    return Case(label, (X, A1, A2, A3, y, W1, W2, W3, X @ W1 + b1, A1 @ W2 + b2),
                params={"X": X, "y": y, "W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3})


def _regression(rng, n, d):
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal((d, 1)) + 0.5


def _linear(X, params):
    return X @ params["W"] + params["b"]


def _numerical_gradient(rng, n, d):
    X, y = _regression(rng, n, d)
    return X, y, {"W": rng.standard_normal((d, 1)), "b": np.zeros((1, 1))}, ref.mse_loss, _linear


def _probabilities(rng, n, k):
    return ref.softmax(rng.standard_normal((n, k)) * 2)


def _constant_column(rng):
    X = rng.standard_normal((6, 3))
    X[:, 1] = 4.0
    return X


def _zeros_inside(rng):
    Z = rng.standard_normal((4, 5))
    Z[:, ::2] = 0.0
    return Z


def _certain(rng):
    A = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
    return A, np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


BUILDERS: dict[str, Callable[[np.random.Generator], list[Case]]] = {
    "normalize": lambda r: [Case("random 8x3", (r.standard_normal((8, 3)) * 5 + 2,)),
                            Case("random 40x6", (r.standard_normal((40, 6)),)),
                            Case("a constant column", (_constant_column(r),)),
                            Case("batch of 1", (r.standard_normal((1, 4)),))],
    "matrix_multiply": lambda r: [Case("4x3 @ 3x5", (r.standard_normal((4, 3)), r.standard_normal((3, 5)))),
                                  Case("batch of 1", (r.standard_normal((1, 7)), r.standard_normal((7, 2))))],
    "sigmoid": lambda r: [Case("random 4x5", (r.standard_normal((4, 5)) * 3,)),
                          Case("large values", (np.array([[-30.0, -5.0, 0.0, 5.0, 30.0]]),))],
    "relu": lambda r: [Case("random 5x4", (r.standard_normal((5, 4)),)),
                       Case("zero pre-activations", (_zeros_inside(r),)),
                       Case("batch of 1", (r.standard_normal((1, 6)),))],
    "softmax": lambda r: [Case("random 4x3", (r.standard_normal((4, 3)),)),
                          Case("batch of 1", (r.standard_normal((1, 10)),)),
                          Case("large logits", (np.array([[1000.0, 1001.0, 1002.0], [-5.0, 0.0, 800.0]]),))],
    "mse_loss": lambda r: [Case("random 8x1", (r.standard_normal((8, 1)), r.standard_normal((8, 1)))),
                           Case("batch of 1", (r.standard_normal((1, 1)), r.standard_normal((1, 1))))],
    "binary_cross_entropy": lambda r: [
        Case("random 8x1", (ref.sigmoid(r.standard_normal((8, 1))), r.integers(0, 2, (8, 1)).astype(float))),
        Case("probabilities of exactly 0 and 1", (np.array([[0.0], [1.0], [0.3]]), np.array([[1.0], [1.0], [0.0]])))],
    "cross_entropy": lambda r: [Case("random 6x4", (_probabilities(r, 6, 4), _onehot(r, 6, 4))),
                                Case("batch of 1", (_probabilities(r, 1, 5), _onehot(r, 1, 5))),
                                Case("a probability of exactly 0", _certain(r))],
    "gradient_descent": lambda r: [
        Case("16 samples, batch 4, MSE", (*_regression(r, 16, 3), np.zeros((3, 1)), np.zeros((1, 1)), 0.1, 3, 4,
                                          ref.mse_loss)),
        Case("15 samples, batch 4, sigmoid + BCE", (r.standard_normal((15, 2)), r.integers(0, 2, (15, 1)) * 1.0,
                                                    r.standard_normal((2, 1)), np.zeros((1, 1)), 0.5, 2, 4,
                                                    ref.binary_cross_entropy, ref.sigmoid))],
    "numerical_gradient": lambda r: [Case("a linear model, 5x3", _numerical_gradient(r, 5, 3)),
                                     Case("batch of 1", _numerical_gradient(r, 1, 2))],
    "forward_perceptron": lambda r: [
        Case("random 6x3", (r.standard_normal((6, 3)), r.standard_normal((3, 1)), r.standard_normal((1, 1)))),
        Case("batch of 1", (r.standard_normal((1, 4)), r.standard_normal((4, 1)), r.standard_normal((1, 1))))],
    "forward_mlp": lambda r: [Case("5 samples, 4-6-3", _mlp(r, 5, 4, 6, 3)), Case("batch of 1", _mlp(r, 1, 4, 6, 3)),
                              Case("large logits", _mlp(r, 5, 4, 6, 3, big=True))],
    "backward_mlp": lambda r: [_backward("5 samples, 4-6-3", r, 5, 4, 6, 3), _backward("batch of 1", r, 1, 4, 6, 3),
                               _backward("zero pre-activations", r, 5, 4, 6, 3, dead=True)],
    "forward_mlp_3layer": lambda r: [Case("5 samples, 4-6-7-3", _mlp3(r, 5, 4, 6, 7, 3)),
                                     Case("batch of 1", _mlp3(r, 1, 4, 6, 7, 3))],
    "backward_mlp_3layer": lambda r: [_backward3("5 samples, 4-6-7-3", r, 5, 4, 6, 7, 3),
                                      _backward3("batch of 1", r, 1, 4, 6, 7, 3)],
    "conv2d": lambda r: [Case("6x7 image, 3x2 kernel", (r.standard_normal((6, 7)), r.standard_normal((3, 2)))),
                         Case("stride 2", (r.standard_normal((7, 7)), r.standard_normal((3, 3)), 2))],
    "max_pool": lambda r: [Case("6x6, size 2", (r.standard_normal((6, 6)),)),
                           Case("5x7x3, size 2, stride 1", (r.standard_normal((5, 7, 3)), 2, 1)),
                           Case("4x4x1 (the channel axis dropped)", (r.standard_normal((4, 4, 1)),))],
    "l2_regularization": lambda r: [Case("two weight matrices", ([r.standard_normal((3, 4)),
                                                                  r.standard_normal((4, 2))], 0.01)),
                                    Case("one weight matrix", ([r.standard_normal((2, 2))], 0.5))],
    "dropout": lambda r: [Case("keep 0.8, training", (r.standard_normal((6, 5)) + 3, 0.8)),
                          Case("keep 0.5, training", (r.standard_normal((4, 8)) + 3, 0.5, True)),
                          Case("not training", (r.standard_normal((3, 4)), 0.5, False))],
    "momentum_update": lambda r: [Case("random 3x2", (r.standard_normal((3, 2)), r.standard_normal((3, 2)), 0.9, 0.1)),
                                  Case("zero velocity", (np.zeros((2, 2)), r.standard_normal((2, 2)), 0.9, 0.1))],
    "accuracy": lambda r: [Case("class indices", (r.standard_normal((10, 4)), r.integers(0, 4, 10))),
                           Case("one-hot labels", (r.standard_normal((9, 3)), _onehot(r, 9, 3))),
                           Case("batch of 1", (r.standard_normal((1, 5)), np.array([2])))],
}
NAMES = tuple(BUILDERS)  # the series' 21 functions, in the order of its file


def cases(name: str, seed: int = 0) -> list[Case]:
    """The cases of one function, the same on every run."""
    return BUILDERS[name](np.random.default_rng([seed, NAMES.index(name)]))

