"""LayerNorm: normalises each sample over its last axes (torch.nn.LayerNorm), the norm of transformers."""

import math

import numpy as np
from numpy.typing import DTypeLike

from numpynn.nn.layers import LAYERS, Layer


class LayerNorm(Layer):
    """x: (..., *normalized_shape) -> same shape; (x - mean) / sqrt(var + eps) * weight + bias over the last axes."""

    def __init__(self, normalized_shape: int | list[int] | tuple[int, ...], eps: float = 1e-5,
                 elementwise_affine: bool = True, *, dtype: DTypeLike = np.float32):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        if not shape or any(int(d) < 1 for d in shape) or not eps > 0:
            raise ValueError(f"LayerNorm needs a positive normalized_shape and eps > 0, got {normalized_shape!r} "
                             f"and eps={eps}; e.g. LayerNorm(64).")
        self.normalized_shape, self.eps = tuple(int(d) for d in shape), float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.params = {"weight": np.ones(self.normalized_shape, dtype), "bias": np.zeros(self.normalized_shape,
                                                                                               dtype)}
            self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def output_shape(self, shape: tuple) -> tuple:
        """(..., *normalized_shape) -> the same shape."""
        return tuple(shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (..., *normalized_shape) -> the same shape, each sample normalised over the last axes."""
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k:] != self.normalized_shape:
            raise ValueError(f"LayerNorm({list(self.normalized_shape)}) got input of shape {x.shape}; its last "
                             f"axes must be {self.normalized_shape}.")
        rows = x.reshape(-1, math.prod(self.normalized_shape))     # (M, D): one row per normalised sample
        mean = rows.mean(axis=1, keepdims=True)
        xhat = rows - mean
        var = np.einsum("ij,ij->i", xhat, xhat)[:, None] / rows.shape[1]  # one pass, no squared temporary
        self.inv_std = 1 / np.sqrt(var + x.dtype.type(self.eps))
        xhat *= self.inv_std
        self.xhat, self.shape = xhat, x.shape
        if not self.elementwise_affine:
            return xhat.reshape(x.shape)
        out = xhat * self.params["weight"].reshape(-1)
        out += self.params["bias"].reshape(-1)
        return out.reshape(x.shape)

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        g = grad_out.reshape(self.xhat.shape)
        if self.elementwise_affine:
            self.grads["weight"].reshape(-1)[...] = np.einsum("ij,ij->j", g, self.xhat)
            g.sum(axis=0, out=self.grads["bias"].reshape(-1))
            g = g * self.params["weight"].reshape(-1)
        if not self.needs_input_grad:
            return None
        # dx = inv_std * (g - mean(g) - xhat * mean(g * xhat)), per row
        d = g.shape[1]
        mean_g = g.sum(axis=1, keepdims=True) / d
        mean_gx = np.einsum("ij,ij->i", g, self.xhat)[:, None] / d
        dx = g - mean_g
        dx -= self.xhat * mean_gx
        dx *= self.inv_std
        return dx.reshape(self.shape)

    def config(self) -> dict:
        shape = self.normalized_shape  # an int for one axis, as usually written (and as model files store it)
        return {"type": "LayerNorm", "normalized_shape": shape[0] if len(shape) == 1 else list(shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine}


LAYERS.update(LayerNorm=LayerNorm)
