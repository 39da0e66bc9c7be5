"""Batch normalisation: BatchNorm1d over (N, C) and BatchNorm2d over (N, C, H, W), as torch.nn's.

Both normalise each channel over every other axis with the batch mean and biased variance in training,
update running_mean / running_var (unbiased) with `momentum` (None: a cumulative average), and use the
running statistics in eval. Parameter and buffer names match torch's state_dict. The math is written once,
on a channels-last view (C as the last axis): for BatchNorm2d that view is free behind a Conv2d's output.
"""

import numpy as np

from numpynn.nn.layers import LAYERS, Layer


class _BatchNorm(Layer):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 *, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        if int(num_features) < 1 or not eps > 0 or (momentum is not None and not 0 <= momentum <= 1):
            raise ValueError(f"{name} needs num_features >= 1, eps > 0 and momentum in [0, 1] (or None).")
        dtype = np.dtype(dtype)
        self.num_features, self.eps, self.affine = int(num_features), float(eps), bool(affine)
        self.momentum = None if momentum is None else float(momentum)
        if self.affine:
            self.params = {"weight": np.ones(self.num_features, dtype), "bias": np.zeros(self.num_features, dtype)}
            self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {"running_mean": np.zeros(self.num_features, dtype),
                        "running_var": np.ones(self.num_features, dtype),
                        "num_batches_tracked": np.zeros((), np.int64)}

    # Subclasses say how their input looks channels-last: (..., C), reduced over every axis but the last.
    def _channels_last(self, x):
        raise NotImplementedError

    def _back(self, a):
        raise NotImplementedError

    def forward(self, x):
        v = self._channels_last(x)
        axes = tuple(range(v.ndim - 1))
        if self.training:
            n = v.size // self.num_features
            if n < 2:
                raise ValueError(f"{type(self).__name__} needs more than one value per channel in training; use a "
                                 "batch size of at least 2 (and avoid a last batch of 1).")
            mean = v.mean(axis=axes)
            centred = v - mean
            var = np.mean(centred * centred, axis=axes)
            self._update_running(mean, var * (n / (n - 1)))  # torch keeps the unbiased variance
        else:
            centred, var = v - self.buffers["running_mean"], self.buffers["running_var"]
        self.inv_std = 1 / np.sqrt(var + v.dtype.type(self.eps))
        centred *= self.inv_std
        self.xhat = centred                                            # (..., C), channels-last
        if not self.affine:
            return self._back(self.xhat)
        return self._back(self.xhat * self.params["weight"] + self.params["bias"])

    def backward(self, grad_out):
        g = self._channels_last(grad_out)
        axes = tuple(range(g.ndim - 1))
        if self.affine:
            np.sum(g * self.xhat, axis=axes, out=self.grads["weight"])
            np.sum(g, axis=axes, out=self.grads["bias"])
            grad_xhat = g * self.params["weight"]
        else:
            grad_xhat = g
        if not self.needs_input_grad:
            return None
        if not self.training:  # running statistics are constants: only the scaling remains
            return self._back(grad_xhat * self.inv_std)
        # Batch statistics depend on every value of the channel: d xhat_i / d x_j adds the mean and variance terms.
        mean_g = grad_xhat.mean(axis=axes)
        mean_gx = np.mean(grad_xhat * self.xhat, axis=axes)
        grad_xhat = grad_xhat - mean_g                               # a new array: never write into grad_out
        grad_xhat -= self.xhat * mean_gx
        grad_xhat *= self.inv_std
        return self._back(grad_xhat)

    def _update_running(self, mean, unbiased_var):
        self.buffers["num_batches_tracked"] += 1
        m = 1 / float(self.buffers["num_batches_tracked"]) if self.momentum is None else self.momentum
        for key, value in (("running_mean", mean), ("running_var", unbiased_var)):
            buf = self.buffers[key]
            buf *= 1 - m
            buf += m * value.astype(buf.dtype, copy=False)

    def config(self):
        return {"type": type(self).__name__, "num_features": self.num_features, "eps": self.eps,
                "momentum": self.momentum, "affine": self.affine}


class BatchNorm1d(_BatchNorm):
    """Normalises each feature of x: (N, C) over the batch, then scales by weight and shifts by bias."""

    def _channels_last(self, x):
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}) expects input (N, {self.num_features}), got "
                             f"{x.shape}; place it after a Linear with out_features={self.num_features}.")
        return x

    def _back(self, a):
        return a


class BatchNorm2d(_BatchNorm):
    """Normalises each channel of x: (N, C, H, W) over the batch and both spatial axes, as torch.nn.BatchNorm2d."""

    def _channels_last(self, x):
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d({self.num_features}) expects input (N, {self.num_features}, H, W), got "
                             f"{x.shape}; place it after a Conv2d with out_channels={self.num_features}.")
        return x.transpose(0, 2, 3, 1)

    def _back(self, a):
        return a.transpose(0, 3, 1, 2)

    def output_shape(self, shape: tuple) -> tuple:
        return tuple(shape)


LAYERS.update(BatchNorm1d=BatchNorm1d, BatchNorm2d=BatchNorm2d)
