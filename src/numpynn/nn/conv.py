"""Conv2d: a 2-D convolution (cross-correlation, as torch.nn.Conv2d) as im2col columns and one GEMM each way.

Layout: the public shapes are NCHW, as torch's. In memory, every array this layer returns is channels-last
(NHWC) behind an NCHW view (`a.transpose(0, 3, 1, 2)` of an (N, H, W, C) array): the GEMM writes its
(N*Ho*Wo, O) result in that order, so the output needs no transpose copy, and the next Conv2d reads
channel-contiguous windows. NumPy's element-wise ops keep the memory order, so ReLU, BatchNorm2d and the
pools pass it on; Flatten then copies in NCHW order, exactly as torch flattens. The weight is stored the same
way: shape (O, C, kh, kw) as torch's, memory (O, kh, kw, C), so weight.transpose(0, 2, 3, 1).reshape(O, -1)
is a free view that matches the channels-last columns (benchmarks/README.md has the measurements).

One input channel (the first layer on grey images) is the exception: its columns are transposed, (kh*kw,
N*Ho*Wo), and weight (O, kh*kw) @ columns writes a channel-major result, memory (O, N, Ho, Wo) behind the NCHW
view. That GEMM is 1.3-1.7x faster than columns.T @ weight.T for 16 or 6 outputs, and the ReLU and pooling after
it then run over whole image rows instead of C numbers at a time (LeNet-5's first pool: C = 6). A Conv2d with
more input channels that receives such an array makes it channels-last first (one copy).
"""

import numpy as np
from numpy.typing import DTypeLike

from numpynn.nn import batch_split
from numpynn.nn import functional as F
from numpynn.nn.init import INITS
from numpynn.nn.layers import LAYERS, Layer


def _channels_last(a: np.ndarray) -> np.ndarray:
    """An (N, C, H, W) array with the same values whose memory is (N, H, W, C)."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


# The layout choice above for one input channel; benchmarks/conv_layout.py turns it off to time the other.
CHANNEL_MAJOR_ONE_CHANNEL = True


def _is_channels_last(a: np.ndarray) -> bool:
    return a.transpose(0, 2, 3, 1).flags.c_contiguous


class Conv2d(Layer):
    """x: (N, C, H, W) -> (N, out_channels, Ho, Wo); weight (out_channels, in_channels, kh, kw), bias (out,)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: F.IntPair, stride: F.IntPair = 1,
                 padding: F.IntPair = 0, bias: bool = True, *, init: str = "pytorch",
                 rng: np.random.Generator | int | None = None, dtype: DTypeLike = np.float32):
        super().__init__()
        if init not in INITS and init != "zeros":  # zeros: weights loaded next, as Linear's
            raise ValueError(f"Unknown init {init!r}; choose one of {', '.join(sorted(INITS))}.")
        self.in_channels, self.out_channels, self.init = int(in_channels), int(out_channels), init
        self.kernel_size, self.stride, self.padding = F.pair(kernel_size), F.pair(stride), F.pair(padding)
        if min(self.in_channels, self.out_channels, *self.kernel_size, *self.stride) < 1 or min(self.padding) < 0:
            raise ValueError("Conv2d needs positive channels, kernel_size and stride, and padding >= 0, e.g. "
                             "Conv2d(1, 32, 3, padding=1).")
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        if init == "zeros":  # allocated channels-last at once: _channels_last would copy it
            o, c, kh, kw = shape
            weight, b = np.zeros((o, kh, kw, c), dtype).transpose(0, 3, 1, 2), np.zeros(o, dtype)
        else:
            weight, b = INITS[init](shape, np.random.default_rng(rng), np.dtype(dtype))
        self.params["weight"] = _channels_last(weight)  # shape (O, C, kh, kw), memory (O, kh, kw, C): see above
        if bias:
            self.params["bias"] = b
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}  # zeros_like keeps the memory order
        self._cols = None  # the im2col buffer, kept across steps (sized for the largest batch seen)
        self._ones = None  # a vector of ones for the bias gradient's column sums

    def output_shape(self, shape: tuple) -> tuple:
        """(N, C, H, W) -> (N, out_channels, Ho, Wo), with a clear error where the input cannot fit."""
        if len(shape) != 4 or shape[1] != self.in_channels:
            raise ValueError(f"Conv2d({self.in_channels}, ...) expects input (N, {self.in_channels}, H, W), got "
                             f"{tuple(shape)}; images need a channel axis, e.g. x[:, None] for (N, H, W).")
        ho, wo = F.conv_output_size(*shape[2:], *self.kernel_size, self.stride, self.padding)
        if ho < 1 or wo < 1:
            raise ValueError(f"Input {shape[2]}x{shape[3]} is smaller than Conv2d's {self.kernel_size} kernel "
                             f"(padding {self.padding}); use larger images, padding or a smaller kernel.")
        return shape[0], self.out_channels, ho, wo

    def _weight_rows(self, a):  # (O, C, kh, kw) -> (O, kh*kw*C): a free view in the layout of __init__, else a copy
        return a.transpose(0, 2, 3, 1).reshape(self.out_channels, -1)

    def forward(self, x: np.ndarray) -> np.ndarray:  # x: (N, C, H, W)
        """x (N, C, H, W) -> (N, out_channels, Ho, Wo): im2col columns, one GEMM, bias; keeps the columns."""
        n, _, ho, wo = self.output_shape(x.shape)
        self.x_shape, p, o = x.shape, ho * wo, self.out_channels
        k = self.kernel_size[0] * self.kernel_size[1] * self.in_channels
        # One input channel: columns transposed, (kh*kw, N*Ho*Wo), filled one kernel offset at a time with
        # whole image rows (4x faster than C=1 windows copied row by row); else channels-last rows (N*Ho*Wo, K).
        self.transposed = self.in_channels == 1
        if not self.transposed and not _is_channels_last(x):  # e.g. behind a one-channel Conv2d (see below)
            x = _channels_last(x)
        shape = (k, n * p) if self.transposed else (n * p, k)
        if self.training:  # kept across steps; inference chunks (predict, evaluate) get a temporary one instead
            if self._cols is None or self._cols.size < n * p * k or self._cols.dtype != x.dtype:
                self._cols = np.empty(n * p * k, dtype=x.dtype)
            cols = self._cols[:n * p * k].reshape(shape)
        else:
            cols = np.empty(shape, dtype=x.dtype)
        bias = self.params.get("bias")
        cm = self.transposed and CHANNEL_MAJOR_ONE_CHANNEL
        if cm:  # weight (O, K) @ columns (K, N*Ho*Wo): channel-major output (O, N, Ho, Wo) in memory
            out, w = np.empty((o, n * p), dtype=x.dtype), self._weight_rows(self.params["weight"])
        else:
            out, w = np.empty((n * p, o), dtype=x.dtype), self._weight_rows(self.params["weight"]).T

        def part(s):  # images s: their columns, one GEMM into their output rows (or columns), bias
            rows = slice(s.start * p, s.stop * p)
            if self.transposed:
                F.im2col_t(x[s], *self.kernel_size, self.stride, self.padding, out=cols[:, rows])
                if cm:
                    np.matmul(w, cols[:, rows], out=out[:, rows])
                else:
                    np.matmul(cols[:, rows].T, w, out=out[rows])
            else:
                F.im2col(x[s], *self.kernel_size, self.stride, self.padding, out=cols[rows])
                np.matmul(cols[rows], w, out=out[rows])
            if bias is not None:
                dst, b = (out[:, rows], bias[:, None]) if cm else (out[rows], bias)
                np.add(dst, b, out=dst)
        batch_split.split_rows(n, part, min_rows=4)
        self.cols = cols
        if cm:
            return out.reshape(o, n, ho, wo).transpose(1, 0, 2, 3)  # channel-major memory (see the module's docstring)
        return out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)  # NHWC memory (see above)

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:  # grad_out: (N, O, Ho, Wo)
        """grad_out (N, O, Ho, Wo) -> grads (weight (O, C, kh, kw), bias (O,)); returns d loss / d x (N, C, H, W)."""
        # (N*Ho*Wo, O) rows: a free view when grad_out is channels-last or channel-major in memory, as ours are;
        # else one copy.
        if grad_out.transpose(1, 0, 2, 3).flags.c_contiguous:
            g = grad_out.transpose(1, 0, 2, 3).reshape(self.out_channels, -1).T
        else:
            g = grad_out.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)
        cols_rows = self.cols.T if self.transposed else self.cols  # (N*Ho*Wo, K)
        # Weight gradient: one GEMM per slice of output channels (each still sums over the whole batch), written
        # into the kept grad array through its (O, kh*kw*C) view.
        rows = self.grads["weight"].transpose(0, 2, 3, 1)
        if rows.flags.c_contiguous:
            grad_rows, gt = rows.reshape(self.out_channels, -1), g.T
            batch_split.split_rows(self.out_channels, lambda s: np.matmul(gt[s], cols_rows, out=grad_rows[s]),
                                   min_rows=8)
        else:  # a grad array someone replaced with a C-order one: same values, one copy more
            rows[...] = (g.T @ cols_rows).reshape(rows.shape)
        if "bias" in self.params:  # column sums as a GEMV, ones @ g: ~10x faster than g.sum(axis=0) for O = 6
            if self._ones is None or len(self._ones) < len(g) or self._ones.dtype != g.dtype:
                self._ones = np.ones(len(g), g.dtype)
            np.matmul(self._ones[:len(g)], g, out=self.grads["bias"])
        if not self.needs_input_grad:
            return None
        return self._input_grad(g)

    def _input_grad(self, g):
        """A GEMM back to columns, then col2im, per slice of images. The GEMM writes into the columns' buffer
        (their last reader was the weight gradient), and self.cols is dropped so a second backward fails loudly."""
        (n, c, h, w), (ph, pw) = self.x_shape, self.padding
        p, weight = len(g) // n, self._weight_rows(self.params["weight"])
        dcols = np.empty((len(g), weight.shape[1]), g.dtype) if self.transposed else self.cols
        self.cols = None
        dx = np.empty((n, h + 2 * ph, w + 2 * pw, c), dtype=g.dtype)

        def part(s):
            rows = slice(s.start * p, s.stop * p)
            np.matmul(g[rows], weight, out=dcols[rows])
            F.col2im(dcols[rows], (s.stop - s.start, c, h, w), *self.kernel_size, self.stride, self.padding,
                     out=dx[s])
        batch_split.split_rows(n, part, min_rows=4)
        return dx[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)

    def config(self) -> dict:
        return {"type": "Conv2d", "in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding),
                "bias": "bias" in self.params}


LAYERS.update(Conv2d=Conv2d)
