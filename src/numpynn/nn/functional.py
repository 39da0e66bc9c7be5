"""Pure math on arrays: activations, softmax and log-softmax by log-sum-exp, losses and their gradients."""

import numpy as np


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x), element-wise."""
    return np.maximum(x, 0)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """x where x > 0, negative_slope * x elsewhere."""
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    # exp(-|x|) never overflows; the two branches are the same function rearranged.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, element-wise."""
    return np.tanh(x)


def logsumexp(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log(sum(exp(x))) along axis, shifted by the max so it never overflows."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """x - logsumexp(x): finite for any finite logits."""
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along axis, computed with the max subtracted."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def one_hot(labels: np.ndarray, num_classes: int, dtype=np.float32) -> np.ndarray:
    """labels: (N,) integers in [0, num_classes) -> (N, num_classes) one-hot rows."""
    out = np.zeros((len(labels), num_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> float:
    """Mean cross-entropy of softmax(logits) against integer labels (N,) or one-hot/probability rows (N, C)."""
    logp = log_softmax(logits, axis=1)
    if target.ndim == 1:
        return float(-np.mean(logp[np.arange(len(target)), target]))
    return float(-np.mean(np.sum(target * logp, axis=1)))


def cross_entropy_grad(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """d cross_entropy / d logits = (softmax(logits) - y) / N, the fused softmax + cross-entropy gradient."""
    grad = softmax(logits, axis=1)
    if target.ndim == 1:
        grad[np.arange(len(target)), target] -= 1
    else:
        grad -= target
    grad /= len(logits)
    return grad


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean of the squared differences."""
    return float(np.mean((pred - target) ** 2))


def mse_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """d mse / d pred = 2 (pred - target) / pred.size."""
    return (pred - target) * pred.dtype.type(2 / pred.size)


def bce_with_logits(logits: np.ndarray, target: np.ndarray) -> float:
    """Mean binary cross-entropy of sigmoid(logits), as max(x, 0) - x*y + log(1 + exp(-|x|))."""
    loss = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    return float(np.mean(loss))


def bce_with_logits_grad(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """d bce / d logits = (sigmoid(logits) - target) / N."""
    return (sigmoid(logits) - target) / logits.dtype.type(logits.size)


def linear_backward(grad_out: np.ndarray, x: np.ndarray, weight: np.ndarray, input_grad: bool = True):
    """Gradients of y = x @ weight.T + bias: (d weight (out, in), d bias (out,), d x (N, in) or None)."""
    return grad_out.T @ x, grad_out.sum(axis=0), (grad_out @ weight if input_grad else None)


def relu_backward(grad_out: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gradient through ReLU: passes where the pre-activation z was positive, zero elsewhere."""
    return grad_out * (z > 0)
