"""Loss objects on raw model outputs (logits): `loss = loss_fn(pred, target)`, then `grad = loss_fn.backward()`."""

import numpy as np

from numpynn.nn import functional as F


class Loss:
    """A value and its gradient w.r.t. the prediction; `count_correct` says what a right answer is (or None)."""

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float:
        """loss_fn(pred, target) is loss_fn.forward(pred, target): the mean loss, a float."""
        return self.forward(pred, target)

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        """The mean loss of pred (N, ...) against target; keeps what backward needs."""
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        """d loss / d pred, shaped like the last forward's pred."""
        raise NotImplementedError

    def count_correct(self, pred: np.ndarray, target: np.ndarray) -> int | None:
        """How many rows of pred are right answers for target, or None where that has no meaning."""
        return None


def _check_batch(pred, target, name):
    if pred.ndim != 2:
        raise ValueError(f"{name} expects predictions of shape (N, C), got {pred.shape}; reshape them to 2-D.")
    if len(target) != len(pred):
        raise ValueError(f"{name} got {len(pred)} predictions but {len(target)} targets; pass one target per row.")


def _labels_below(target, c) -> bool:
    """0 <= target < c for integer labels, in one reduction: viewed as unsigned, negatives become huge."""
    if target.dtype.kind == "i":
        target = target.view(f"u{target.itemsize}")  # saves the min() pass: ~1 us a call
    return bool(np.maximum.reduce(target) < c)


class CrossEntropyLoss(Loss):
    """Softmax + cross-entropy on logits (N, C); targets are class indices (N,) or one-hot rows (N, C)."""

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        """Mean cross-entropy of softmax(pred): pred (N, C) logits, target (N,) labels or (N, C) one-hot rows."""
        _check_batch(pred, target, "CrossEntropyLoss")
        n, c = pred.shape
        if target.ndim == 1:
            if target.dtype.kind not in "iu" or (n and not _labels_below(target, c)):
                raise ValueError(f"CrossEntropyLoss expects integer labels in [0, {c}); got {target.dtype} "
                                 f"values {target.min() if n else ''}..{target.max() if n else ''}.")
        elif target.shape == pred.shape:
            target = target.astype(pred.dtype, copy=False)
        else:
            raise ValueError(f"CrossEntropyLoss targets must be labels (N,) or one-hot (N, {c}); got {target.shape}.")
        # Log-sum-exp with the row max subtracted: finite for any finite logits, no epsilon needed.
        # (ufunc reduces, not the max/sum methods: each method call goes through a Python wrapper, ~1 us.)
        probs = pred - np.maximum.reduce(pred, axis=1, keepdims=True)  # the shifted logits ...
        if target.ndim == 1:
            picked = probs[self._rows(n), target]  # the label's shifted logit, taken before exp overwrites it
        else:
            picked = np.add.reduce(target * probs, axis=1)
        np.exp(probs, out=probs)  # ... become exp, then the softmax, in one (N, C) array
        sum_exp = np.add.reduce(probs, axis=1, keepdims=True)
        probs /= sum_exp
        self.probs, self.target = probs, target  # kept for backward: softmax is never computed twice
        log_z = np.log(sum_exp[:, 0])
        if target.ndim == 1:
            log_z -= picked
        else:
            log_z = log_z * np.add.reduce(target, axis=1) - picked
        # add.reduce and a Python division instead of np.mean (Python-level): same sum, ~5 us less per call.
        return float(np.add.reduce(log_z)) / n if n else float("nan")

    def backward(self) -> np.ndarray:
        """(softmax(pred) - one_hot(target)) / N, shape (N, C); overwrites the kept probabilities."""
        # Fused softmax + cross-entropy gradient: d loss / d logits = (p - y) / n.
        grad = self.probs
        n = len(grad)
        if self.target.ndim == 1:
            grad[self._rows(n), self.target] -= 1
        else:
            grad -= self.target
        grad *= grad.dtype.type(1.0 / n)
        return grad

    _row_index = np.arange(0)

    def _rows(self, n: int) -> np.ndarray:
        """np.arange(n), kept between calls: forward and backward index one label per row every step."""
        if len(self._row_index) != n:
            self._row_index = np.arange(n)
        return self._row_index

    def count_correct(self, pred: np.ndarray, target: np.ndarray) -> int:
        """Rows whose largest logit is the label: pred (N, C), target (N,) or (N, C)."""
        labels = target if target.ndim == 1 else target.argmax(axis=1)
        return int(np.count_nonzero(pred.argmax(axis=1) == labels))


class MSELoss(Loss):
    """Mean squared error; pred and target must have the same shape."""

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        """mean((pred - target) ** 2); pred and target of one shape, e.g. (N, 1)."""
        target = np.asarray(target)
        if pred.shape != target.shape:
            raise ValueError(f"MSELoss got prediction shape {pred.shape} and target shape {target.shape}; "
                             "make them equal (e.g. target.reshape(-1, 1)).")
        self.pred, self.target = pred, target.astype(pred.dtype, copy=False)
        return F.mse(self.pred, self.target)

    def backward(self) -> np.ndarray:
        """2 (pred - target) / pred.size, shaped like pred."""
        return F.mse_grad(self.pred, self.target)


class BCEWithLogitsLoss(Loss):
    """Sigmoid + binary cross-entropy on logits, computed stably; targets in [0, 1], same shape as pred."""

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        """Mean binary cross-entropy of sigmoid(pred): pred logits and target in [0, 1], both (N, K)."""
        target = np.asarray(target)
        if pred.shape != target.shape:
            raise ValueError(f"BCEWithLogitsLoss got prediction shape {pred.shape} and target shape "
                             f"{target.shape}; make them equal (e.g. target.reshape(-1, 1)).")
        self.pred, self.target = pred, target.astype(pred.dtype, copy=False)
        return F.bce_with_logits(self.pred, self.target)

    def backward(self) -> np.ndarray:
        """(sigmoid(pred) - target) / pred.size, shaped like pred."""
        return F.bce_with_logits_grad(self.pred, self.target)

    def count_correct(self, pred: np.ndarray, target: np.ndarray) -> int:
        """Entries where pred > 0 agrees with target > 0.5, over all N * K outputs."""
        return int(np.count_nonzero((pred > 0) == (np.asarray(target) > 0.5)))


LOSSES = {"cross_entropy": CrossEntropyLoss, "mse": MSELoss, "bce_with_logits": BCEWithLogitsLoss}
