"""Central-difference numerical gradients, to verify every analytic backward (CS231n's gradient_check)."""

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # for the hints only: the layers import nothing from here, but keep it that way
    from numpynn.nn.layers import Layer
    from numpynn.nn.losses import Loss
    from numpynn.nn.sequential import Sequential


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """d f() / d x by (f(x + h) - f(x - h)) / 2h per element; x is perturbed in place and restored."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
        it.iternext()
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|, 1e-8): scale-free, so small and large gradients are judged alike."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))


def check_layer(layer: "Layer", x: np.ndarray, seed: int = 0, h: float = 1e-5) -> dict[str, float]:
    """Worst relative error of layer.backward vs central differences, for the input and each parameter.

    x: the layer's input, e.g. (N, in_features) or (N, C, H, W); float64 makes the comparison sharp. Returns
    {"input": error, "weight": error, ...}; below ~1e-6 in float64 the backward pass is right.
    The scalar checked is sum(forward(x) * r) for a fixed random r, so every output element counts.
    """
    rng = np.random.default_rng(seed)
    r = rng.standard_normal(layer.forward(x).shape)

    def f():
        return float(np.sum(layer.forward(x) * r))

    layer.forward(x)
    grad_x = layer.backward(r.astype(x.dtype))
    analytic = {"input": grad_x, **{k: g.copy() for k, g in layer.grads.items()}}
    numeric = {"input": numerical_gradient(f, x, h)}
    for key, p in layer.params.items():
        numeric[key] = numerical_gradient(f, p, h)
    return {k: relative_error(analytic[k], numeric[k]) for k in analytic}


def check_loss(loss_fn: "Loss", pred: np.ndarray, target: np.ndarray, h: float = 1e-5) -> float:
    """Worst relative error of loss_fn.backward() vs central differences w.r.t. pred (N, C); target as forward takes."""
    loss_fn(pred, target)
    analytic = loss_fn.backward().copy()
    numeric = numerical_gradient(lambda: loss_fn(pred, target), pred, h)
    return relative_error(analytic, numeric)


def check_model(model: "Sequential", loss_fn: "Loss", x: np.ndarray, y: np.ndarray,
                h: float = 1e-5) -> dict[str, float]:
    """Worst relative error per named parameter ("0.weight", ...) of a whole model's backward, through its loss.

    x: a batch the model takes, e.g. (N, D); y: the targets loss_fn takes, e.g. (N,) labels.
    """
    loss_fn(model.forward(x), y)
    model.backward(loss_fn.backward())
    analytic = {k: g.copy() for k, g in model.grads().items()}
    f = lambda: loss_fn(model.forward(x), y)  # noqa: E731
    return {name: relative_error(analytic[name], numerical_gradient(f, p, h))
            for name, p in model.named_parameters()}
