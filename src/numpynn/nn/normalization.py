"""Batch normalisation: BatchNorm1d over (N, C) and BatchNorm2d over (N, C, H, W), as torch.nn's.

Both normalise each channel over every other axis with the batch mean and biased variance in training,
update running_mean / running_var (unbiased) with `momentum` (None: a cumulative average), and use the
running statistics in eval (and in training once frozen with requires_grad_(False)). Parameter and buffer
names match torch's state_dict. The math is written once,
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
        v = self._channels_last(x)                                     # (..., C)
        c, self.shape = self.num_features, v.shape
        # Two 2-D views of the same values: rows (M, C), one per position, for the per-channel sums, and wide
        # rows (N, reps * C) for the element-wise steps, against per-channel vectors tiled `reps` times. NumPy
        # broadcasts a (C,) vector over a 32-wide inner loop ~4x slower than over a 21,632-wide one, and sums
        # columns as a GEMV (ones @ rows) ~9x faster than rows.sum(axis=0) (benchmarks/README.md).
        wide = v.reshape(len(v), -1)
        self.reps = wide.shape[1] // c
        n = wide.size // c                                             # values per channel
        # Frozen (weight and bias both fixed), the layer is a fixed function: running statistics, never updated.
        self.batch_stats = self.training and not (self.affine and not self.requires_grad)
        if self.batch_stats:
            if n < 2:
                raise ValueError(f"{type(self).__name__} needs more than one value per channel in training; use a "
                                 "batch size of at least 2 (and avoid a last batch of 1).")
            mean = self._sum(wide) / n
            centred = wide - self._tile(mean)
            var = self._sum(centred * centred) / n
            self._update_running(mean, var * (n / (n - 1)))  # torch keeps the unbiased variance
        else:
            centred, var = wide - self._tile(self.buffers["running_mean"]), self.buffers["running_var"]
        self.inv_std = 1 / np.sqrt(var + v.dtype.type(self.eps))
        centred *= self._tile(self.inv_std)
        self.xhat = centred                                            # (N, reps * C), channels-last
        if not self.affine:
            return self._back(self.xhat.reshape(self.shape))
        out = self.xhat * self._tile(self.params["weight"])
        out += self._tile(self.params["bias"])
        return self._back(out.reshape(self.shape))

    def backward(self, grad_out):
        g = self._channels_last(grad_out).reshape(self.xhat.shape)    # a view when grad_out is channels-last
        n = g.size // self.num_features
        gx = g * self.xhat
        sum_g, sum_gx = self._sum(g), self._sum(gx)
        if self.affine:
            self.grads["weight"][...] = sum_gx
            self.grads["bias"][...] = sum_g
        if not self.needs_input_grad:
            return None
        scale = self.inv_std * (self.params["weight"] if self.affine else 1)  # d out / d x through xhat alone
        if not self.batch_stats:  # running statistics are constants: only the scaling remains
            return self._back((g * self._tile(scale)).reshape(self.shape))
        # Batch statistics depend on every value of the channel; with the weight w folded in:
        # dx = w * inv_std * (g - mean(g) - xhat * mean(g * xhat)), one pass per term.
        dx = g * self._tile(scale)
        np.multiply(self.xhat, self._tile(scale * sum_gx / n), out=gx)
        dx -= gx
        dx -= self._tile(scale * sum_g / n)
        return self._back(dx.reshape(self.shape))

    def _sum(self, wide):  # per-channel sums of (N, reps * C) values as one GEMV
        rows = wide.reshape(-1, self.num_features)
        ones = getattr(self, "_ones", None)
        if ones is None or len(ones) < len(rows) or ones.dtype != rows.dtype:
            ones = self._ones = np.ones(len(rows), rows.dtype)
        return ones[:len(rows)] @ rows

    def _tile(self, vector):  # (C,) -> (reps * C,), matching a wide row
        return np.tile(vector, self.reps) if self.reps > 1 else vector

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
