"""Weight initialisers: the article's normal(0, 0.01), He (Kaiming), Xavier (Glorot) and PyTorch's default.

Each takes the weight shape (out_features, in_features) or a Conv2d's (out_channels, in_channels, kh, kw), a
numpy Generator and a dtype, and returns (weight, bias); biases start at zero except under PyTorch's default,
which draws them too. Fans are torch's: fan_in = in * kh * kw, fan_out = out * kh * kw.
"""

import math

import numpy as np
from numpy.typing import DTypeLike

Shape = tuple[int, ...]  # (out_features, in_features) or (out_channels, in_channels, kh, kw)
WeightBias = tuple[np.ndarray, np.ndarray]  # weight of `shape`, bias (shape[0],)


def _fans(shape) -> tuple[int, int]:
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _zeros_bias(shape, dtype):
    return np.zeros(shape[0], dtype=dtype)


def normal(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float32,
           std: float = 0.01) -> WeightBias:
    """W ~ N(0, std^2), b = 0: the article's `np.random.randn(...) * 0.01`."""
    return (rng.standard_normal(shape) * std).astype(dtype), _zeros_bias(shape, dtype)


def he(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float32) -> WeightBias:
    """W ~ N(0, 2 / fan_in), b = 0: Kaiming normal for ReLU layers (He et al., 2015)."""
    std = math.sqrt(2.0 / _fans(shape)[0])
    return (rng.standard_normal(shape) * std).astype(dtype), _zeros_bias(shape, dtype)


def xavier(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float32) -> WeightBias:
    """W ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)), b = 0: Glorot uniform for tanh/sigmoid layers."""
    a = math.sqrt(6.0 / sum(_fans(shape)))
    return rng.uniform(-a, a, size=shape).astype(dtype), _zeros_bias(shape, dtype)


def pytorch(shape: Shape, rng: np.random.Generator, dtype: DTypeLike = np.float32) -> WeightBias:
    """W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)): what torch.nn.Linear does by default."""
    bound = 1.0 / math.sqrt(_fans(shape)[0])
    weight = rng.uniform(-bound, bound, size=shape).astype(dtype)
    bias = rng.uniform(-bound, bound, size=shape[0]).astype(dtype)
    return weight, bias


INITS = {"normal": normal, "he": he, "kaiming": he, "xavier": xavier, "glorot": xavier, "pytorch": pytorch}
