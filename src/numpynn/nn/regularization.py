"""Regularising layers: Dropout (inverted, off in eval mode) and BatchNorm1d (batch statistics, running averages)."""

import numpy as np

from numpynn.nn.layers import LAYERS, Layer


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

    def forward(self, x):            # x: (N, ...)
        if not self.training or self.p == 0:
            self.mask = None
            return x
        keep = 1 - self.p
        # Inverted dropout: scale at train time so eval needs no rescaling (as torch.nn.Dropout does).
        u = self.rng.random(x.shape, dtype=x.dtype)  # drawn in the model's dtype: float32 draws are half the cost
        self.mask = (u >= self.p).astype(x.dtype) * x.dtype.type(1 / keep if keep > 0 else 0)
        return x * self.mask

    def backward(self, grad_out):
        return grad_out if self.mask is None else grad_out * self.mask

    def config(self):
        return {"type": "Dropout", "p": self.p}


class BatchNorm1d(Layer):
    """Normalises each feature of x: (N, C) over the batch, then scales by weight and shifts by bias.

    Training uses the batch mean and biased variance and updates running_mean / running_var (unbiased)
    with `momentum` (None: a cumulative average); eval uses the running statistics. Parameter and buffer
    names match torch.nn.BatchNorm1d's state_dict.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 *, dtype=np.float32):
        super().__init__()
        if int(num_features) < 1 or not eps > 0 or (momentum is not None and not 0 <= momentum <= 1):
            raise ValueError("BatchNorm1d needs num_features >= 1, eps > 0 and momentum in [0, 1] (or None).")
        dtype = np.dtype(dtype)
        self.num_features, self.eps, self.affine = int(num_features), float(eps), bool(affine)
        self.momentum = None if momentum is None else float(momentum)
        if self.affine:
            self.params = {"weight": np.ones(self.num_features, dtype), "bias": np.zeros(self.num_features, dtype)}
            self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {"running_mean": np.zeros(self.num_features, dtype),
                        "running_var": np.ones(self.num_features, dtype),
                        "num_batches_tracked": np.zeros((), np.int64)}

    def forward(self, x):            # x: (N, num_features)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}) expects input (N, {self.num_features}), got "
                             f"{x.shape}; place it after a Linear with out_features={self.num_features}.")
        if self.training:
            n = len(x)
            if n < 2:
                raise ValueError("BatchNorm1d needs more than one sample per batch in training; use a batch "
                                 "size of at least 2 (and avoid a last batch of 1).")
            mean, var = x.mean(axis=0), x.var(axis=0)
            self._update_running(mean, var * (n / (n - 1)))  # torch keeps the unbiased variance
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        self.inv_std = 1 / np.sqrt(var + x.dtype.type(self.eps))
        self.xhat = (x - mean) * self.inv_std
        if not self.affine:
            return self.xhat
        return self.xhat * self.params["weight"] + self.params["bias"]

    def backward(self, grad_out):    # grad_out: (N, num_features)
        if self.affine:
            np.sum(grad_out * self.xhat, axis=0, out=self.grads["weight"])
            np.sum(grad_out, axis=0, out=self.grads["bias"])
            grad_xhat = grad_out * self.params["weight"]
        else:
            grad_xhat = grad_out
        if not self.needs_input_grad:
            return None
        if not self.training:  # running statistics are constants: only the scaling remains
            return grad_xhat * self.inv_std
        # Batch statistics depend on every row: d xhat_i / d x_j adds the mean and variance terms.
        mean_g = grad_xhat.mean(axis=0)
        mean_gx = (grad_xhat * self.xhat).mean(axis=0)
        return (grad_xhat - mean_g - self.xhat * mean_gx) * self.inv_std

    def _update_running(self, mean, unbiased_var):
        self.buffers["num_batches_tracked"] += 1
        m = 1 / float(self.buffers["num_batches_tracked"]) if self.momentum is None else self.momentum
        for key, value in (("running_mean", mean), ("running_var", unbiased_var)):
            buf = self.buffers[key]
            buf *= 1 - m
            buf += m * value.astype(buf.dtype, copy=False)

    def config(self):
        return {"type": "BatchNorm1d", "num_features": self.num_features, "eps": self.eps,
                "momentum": self.momentum, "affine": self.affine}


# Registered here, not in layers.py, because these classes import layers: checkpoints rebuild them by name.
LAYERS.update(Dropout=Dropout, BatchNorm1d=BatchNorm1d)
