"""Reshaping layers around sequences: Unflatten rows into steps, SequencePool picks one step for a classifier."""

import math

import numpy as np

from numpynn.nn.layers import LAYERS, Layer


class Unflatten(Layer):
    """Splits axis `dim` into `unflattened_size` (torch.nn.Unflatten): (N, 784) -> (N, 28, 28) rows of an image."""

    def __init__(self, dim: int, unflattened_size: list[int] | tuple[int, ...]):
        super().__init__()
        self.dim, self.unflattened_size = int(dim), tuple(int(s) for s in unflattened_size)
        if self.dim == 0 or not self.unflattened_size or min(self.unflattened_size) < 1:
            raise ValueError(f"Unflatten needs a dim other than the batch axis 0 and positive sizes, got "
                             f"Unflatten({dim}, {unflattened_size}); e.g. Unflatten(1, (28, 28)).")

    @property
    def in_features(self) -> int:
        """Values per input row, so input checks know the width this model takes (N, in_features)."""
        return math.prod(self.unflattened_size)

    def output_shape(self, shape: tuple) -> tuple:
        """Axis `dim` split into unflattened_size, e.g. (N, 784) -> (N, 28, 28) for dim=1, (28, 28)."""
        d = self.dim % len(shape)
        if shape[d] != self.in_features:
            raise ValueError(f"Unflatten({self.dim}, {list(self.unflattened_size)}) needs {self.in_features} values "
                             f"on axis {self.dim}, got shape {tuple(shape)}.")
        return (*shape[:d], *self.unflattened_size, *shape[d + 1:])

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(self.output_shape(x.shape))

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        return grad_out.reshape(self.shape)

    def config(self) -> dict:
        return {"type": "Unflatten", "dim": self.dim, "unflattened_size": list(self.unflattened_size)}


class SequencePool(Layer):
    """(N, T, D) -> (N, D): the last step ("last", an RNN's summary), the first ("first", a class token) or the
    mean over steps ("mean"); with batch_first=False the input is (T, N, D)."""

    MODES = ("last", "first", "mean")

    def __init__(self, mode: str = "last", batch_first: bool = True):
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f"SequencePool mode must be one of {', '.join(self.MODES)}, got {mode!r}.")
        self.mode, self.batch_first = mode, bool(batch_first)

    def output_shape(self, shape: tuple) -> tuple:
        """(N, T, D), or (T, N, D) without batch_first -> (N, D)."""
        return (shape[0] if self.batch_first else shape[1], *shape[2:])

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, T, D), or (T, N, D) without batch_first -> (N, D)."""
        self.shape = x.shape
        steps = x if not self.batch_first else x.transpose(1, 0, 2)   # (T, N, D) view
        if self.mode == "mean":
            return steps.mean(axis=0)
        return steps[-1 if self.mode == "last" else 0].copy()

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """grad_out: (N, D) -> d loss / d x, shaped like forward's x."""
        g = np.zeros(self.shape, grad_out.dtype)
        steps = g if not self.batch_first else g.transpose(1, 0, 2)
        if self.mode == "mean":
            steps[...] = grad_out / grad_out.dtype.type(len(steps))
        else:
            steps[-1 if self.mode == "last" else 0] = grad_out
        return g

    def config(self) -> dict:
        return {"type": "SequencePool", "mode": self.mode, "batch_first": self.batch_first}


LAYERS.update(Unflatten=Unflatten, SequencePool=SequencePool)
