"""Regularising layers: Dropout (inverted, off in eval mode), on input of any shape (N, ...).

BatchNorm1d lives in nn/normalization.py beside BatchNorm2d; it is imported here too, where it used to live.
"""

import numpy as np

from numpynn.nn.layers import LAYERS, Layer
from numpynn.nn.normalization import BatchNorm1d  # noqa: F401  (its old home: existing imports keep working)


class Dropout(Layer):
    """Zeroes each input with probability p in training and scales the rest by 1 / (1 - p); identity in eval.

    The mask comes from `rng` (a Generator or a seed), never from the global np.random.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout probability must be in [0, 1], got p={p}; 0.1 to 0.5 is usual.")
        self.p = float(p)
        self.rng = np.random.default_rng(rng)
        self.mask = None

    def forward(self, x: np.ndarray) -> np.ndarray:  # x: (N, ...)
        """x (N, ...) times a fresh mask of 0 and 1 / (1 - p) in training; x itself in eval mode or at p = 0."""
        if not self.training or self.p == 0:
            self.mask = None
            return x
        keep = 1 - self.p
        # Inverted dropout: scale at train time so eval needs no rescaling (as torch.nn.Dropout does).
        u = self.rng.random(x.shape, dtype=x.dtype)  # drawn in the model's dtype: float32 draws are half the cost
        self.mask = (u >= self.p).astype(x.dtype) * x.dtype.type(1 / keep if keep > 0 else 0)
        return x * self.mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out times the forward's mask, shaped like x: a dropped unit passes no gradient back."""
        return grad_out if self.mask is None else grad_out * self.mask

    def config(self) -> dict:
        return {"type": "Dropout", "p": self.p}


# Registered here, not in layers.py, because this module imports layers: checkpoints rebuild it by name.
LAYERS.update(Dropout=Dropout)
