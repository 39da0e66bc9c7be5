"""Batch normalisation: BatchNorm1d over (N, C) and BatchNorm2d over (N, C, H, W), as torch.nn's.

Both normalise each channel over every other axis with the batch mean and biased variance in training,
update running_mean / running_var (unbiased) with `momentum` (None: a cumulative average), and use the
running statistics in eval (and in training once frozen with requires_grad_(False)). Parameter and buffer
names match torch's state_dict. The math is written once,
on a channels-last view (C as the last axis): for BatchNorm2d that view is free behind a Conv2d's output.
"""

import numpy as np
from numpy.typing import DTypeLike

from numpynn.nn import batch_split
from numpynn.nn.layers import LAYERS, Layer


class _BatchNorm(Layer):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 *, dtype: DTypeLike = np.float32):
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

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, C) or (N, C, H, W) normalised per channel (batch statistics in training), scaled and shifted."""
        v = self._channels_last(x)                                     # (..., C)
        c, self.shape = self.num_features, v.shape
        # Two 2-D views of the same values: rows (M, C), one per position, for the per-channel sums, and wide
        # rows (N, reps * C) for the element-wise steps, against per-channel vectors tiled `reps` times. NumPy
        # broadcasts a (C,) vector over a 32-wide inner loop ~4x slower than over a 21,632-wide one, and sums
        # columns as a GEMV (ones @ rows) ~9x faster than rows.sum(axis=0) (benchmarks/README.md). Every pass
        # runs on slices of the batch (numpynn.nn.batch_split: one slice unless NUMPYNN_BATCH_SPLIT=1).
        # Channel-major memory (behind a one-channel Conv2d, nn/conv.py) is already one row per channel: the
        # same steps run on (C, N*H*W) rows against (C, 1) columns, and the sums are rows @ ones.
        self.channel_major = x.ndim == 4 and c > 1 and x.transpose(1, 0, 2, 3).flags.c_contiguous \
            and not v.flags.c_contiguous
        wide = x.transpose(1, 0, 2, 3).reshape(c, -1) if self.channel_major else v.reshape(len(v), -1)
        self.reps, self._rows = wide.shape[1] // c, len(wide)
        n = wide.size // c                                             # values per channel
        centred = np.empty_like(wide)
        # Frozen (weight and bias both fixed), the layer is a fixed function: running statistics, never updated.
        self.batch_stats = self.training and not (self.affine and not self.requires_grad)
        if self.batch_stats:
            if n < 2:
                raise ValueError(f"{type(self).__name__} needs more than one value per channel in training; use a "
                                 "batch size of at least 2 (and avoid a last batch of 1).")
            mean = self._split_sum(lambda s: self._sum(wide[s])) / n
            tiled = self._tile(mean)

            def centre(s):  # centred rows and their squares' per-channel sums
                np.subtract(wide[s], tiled, out=centred[s])
                return self._sum(centred[s] * centred[s])
            var = self._split_sum(centre) / n
            self._update_running(mean, var * (n / (n - 1)))  # torch keeps the unbiased variance
        else:
            tiled, var = self._tile(self.buffers["running_mean"]), self.buffers["running_var"]
            self._split(lambda s: np.subtract(wide[s], tiled, out=centred[s]))
        self.inv_std = 1 / np.sqrt(var + v.dtype.type(self.eps))
        self.xhat = centred                                            # (N, reps * C), channels-last
        scale = self._tile(self.inv_std)
        if not self.affine:
            self._split(lambda s: np.multiply(centred[s], scale, out=centred[s]))
            return self._restore(self.xhat)
        out, weight, bias = np.empty_like(wide), self._tile(self.params["weight"]), self._tile(self.params["bias"])

        def affine(s):
            np.multiply(centred[s], scale, out=centred[s])
            np.multiply(centred[s], weight, out=out[s])
            np.add(out[s], bias, out=out[s])
        self._split(affine)
        return self._restore(out)

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """grads (weight, bias: (C,)) and d loss / d x, shaped like x, through the batch statistics in training."""
        g = self._wide(grad_out)                                       # a view when in the forward's memory order
        n = g.size // self.num_features
        gx = np.empty_like(g)

        def sums(s):  # per-channel sums of g and g * xhat
            np.multiply(g[s], self.xhat[s], out=gx[s])
            return np.concatenate([self._sum(g[s]), self._sum(gx[s])])
        sum_g, sum_gx = np.split(self._split_sum(sums), 2)
        if self.affine:
            self.grads["weight"][...] = sum_gx
            self.grads["bias"][...] = sum_g
        if not self.needs_input_grad:
            return None
        scale = self.inv_std * (self.params["weight"] if self.affine else 1)  # d out / d x through xhat alone
        dx, tiled = np.empty_like(g), self._tile(scale)
        if not self.batch_stats:  # running statistics are constants: only the scaling remains
            self._split(lambda s: np.multiply(g[s], tiled, out=dx[s]))
            return self._restore(dx)
        # Batch statistics depend on every value of the channel; with the weight w folded in:
        # dx = w * inv_std * (g - mean(g) - xhat * mean(g * xhat)), one pass per term.
        t_gx, t_g = self._tile(scale * sum_gx / n), self._tile(scale * sum_g / n)

        def grad(s):
            np.multiply(g[s], tiled, out=dx[s])
            np.multiply(self.xhat[s], t_gx, out=gx[s])
            np.subtract(dx[s], gx[s], out=dx[s])  # not -=, which copies the slice onto itself again
            np.subtract(dx[s], t_g, out=dx[s])
        self._split(grad)
        return self._restore(dx)

    def _wide(self, a):  # an input-shaped array as the forward's 2-D rows
        if self.channel_major:
            return a.transpose(1, 0, 2, 3).reshape(self.xhat.shape)
        return self._channels_last(a).reshape(self.xhat.shape)

    def _restore(self, wide):  # the forward's 2-D rows back to the input's shape, in the same memory order
        if self.channel_major:
            n, h, w, c = self.shape
            return wide.reshape(c, n, h, w).transpose(1, 0, 2, 3)
        return self._back(wide.reshape(self.shape))

    def _split(self, fn):  # [fn(rows) for each slice of the batch], on the batch-splitting threads
        if self.channel_major:  # rows are channels here: one pass over all of them
            return [fn(slice(None))]
        return batch_split.split_rows(self._rows, fn)

    def _split_sum(self, fn):  # the sum of fn's per-slice results: per-channel sums, equal to float32 rounding
        parts = self._split(fn)
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total

    def _sum(self, wide):  # per-channel sums of (N, reps * C) values (or (C, M) rows) as one GEMV
        rows = wide.T if self.channel_major else wide.reshape(-1, self.num_features)
        ones = getattr(self, "_ones", None)
        if ones is None or len(ones) < len(rows) or ones.dtype != rows.dtype:
            ones = self._ones = np.ones(len(rows), rows.dtype)
        return ones[:len(rows)] @ rows

    def _tile(self, vector):  # (C,) -> (reps * C,), matching a wide row; (C, 1) for channel-major rows
        if self.channel_major:
            return vector[:, None]
        return np.tile(vector, self.reps) if self.reps > 1 else vector

    def _update_running(self, mean, unbiased_var):
        self.buffers["num_batches_tracked"] += 1
        m = 1 / float(self.buffers["num_batches_tracked"]) if self.momentum is None else self.momentum
        for key, value in (("running_mean", mean), ("running_var", unbiased_var)):
            buf = self.buffers[key]
            buf *= 1 - m
            buf += m * value.astype(buf.dtype, copy=False)

    def config(self) -> dict:
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

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """(N, C, H, W) -> the same shape: normalising changes no dimension."""
        return tuple(shape)


LAYERS.update(BatchNorm1d=BatchNorm1d, BatchNorm2d=BatchNorm2d)
