"""scikit-learn's MLP losses on the network's raw output z, with per-row sample weights.

Each pairs an output activation with its canonical loss (softmax + cross-entropy, sigmoid + binary
cross-entropy, identity + half squared error, exp + half Poisson deviance), so d loss / d z is
(activation(z) - y) per row, weighted by w / sum(w) as scikit-learn's np.average(..., weights=w) is.
Targets are 2-D (N, n_outputs): one-hot rows, label indicators or values.
"""

import numpy as np
from scipy.special import xlogy

from numpynn.nn import functional as F
from numpynn.nn.losses import Loss


class OutputLoss(Loss):
    """A value per row, averaged with sample weights; the gradient is (activation(z) - y) * w / sum(w)."""

    per_output_mean = False  # True: rows average their outputs instead of summing them (squared error)

    def activation(self, z: np.ndarray) -> np.ndarray:
        """Predictions from raw outputs z (N, n_outputs), as predict_proba / predict return them."""
        raise NotImplementedError

    def row_losses(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The loss of each row (N,)."""
        raise NotImplementedError

    def forward(self, pred: np.ndarray, target: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
        """Weighted mean of row_losses: pred z (N, K), target (N, K), sample_weight (N,) or None."""
        n = len(pred)
        weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        total = float(weight.sum())
        rows = self.row_losses(pred, target)
        scale = weight / total / (pred.shape[1] if self.per_output_mean else 1)
        self.pred, self.target, self.scale = pred, target, scale.astype(pred.dtype)[:, None]
        return float(np.dot(rows.astype(np.float64), weight)) / total

    def backward(self) -> np.ndarray:
        """d loss / d z (N, K) for the last forward: activation(z) - y, each row scaled by its weight share."""
        grad = self.activation(self.pred)
        grad -= self.target
        grad *= self.scale
        return grad


class SoftmaxCrossEntropy(OutputLoss):
    """Softmax over the outputs and cross-entropy on one-hot targets (scikit-learn's log_loss)."""

    def activation(self, z: np.ndarray) -> np.ndarray:
        return F.softmax(z, axis=1)

    def row_losses(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return -np.add.reduce(y * F.log_softmax(z, axis=1), axis=1)


class BinaryCrossEntropy(OutputLoss):
    """An independent sigmoid per output and binary cross-entropy, summed over outputs (multilabel)."""

    def activation(self, z: np.ndarray) -> np.ndarray:
        return F.sigmoid(z)

    def row_losses(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        # max(z, 0) - z y + log(1 + exp(-|z|)): stable for any finite z
        return np.add.reduce(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), axis=1)


class HalfSquaredError(OutputLoss):
    """Identity output and (y - z)^2 / 2, averaged over outputs (scikit-learn's squared_error)."""

    per_output_mean = True

    def activation(self, z: np.ndarray) -> np.ndarray:
        return z.copy()

    def row_losses(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        diff = z - y
        return 0.5 * np.add.reduce(diff * diff, axis=1) / z.shape[1]


class HalfPoissonDeviance(OutputLoss):
    """Exponential output (the log link) and y log(y / exp(z)) - y + exp(z), summed over outputs (poisson)."""

    def activation(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z)

    def row_losses(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.add.reduce(xlogy(y, y) - y * z - y + np.exp(z), axis=1)


REGRESSION_LOSSES = {"squared_error": HalfSquaredError, "poisson": HalfPoissonDeviance}
