"""Pooling layers on (N, C, H, W): MaxPool2d, AvgPool2d and a global average pool, as torch.nn's.

Each is kh x kw strided slices of the (padded) input, one pass per kernel offset, never a Python loop over
pixels; backward adds each slice's share back into the same slice. Outputs keep the input's memory order
(channels-last after a Conv2d: see nn/conv.py).
"""

import numpy as np

from numpynn.nn import batch_split
from numpynn.nn import functional as F
from numpynn.nn.layers import LAYERS, Layer


class _Pool2d(Layer):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = F.pair(kernel_size)
        self.stride = F.pair(kernel_size if stride is None else stride)
        self.padding = F.pair(padding)
        (kh, kw), (ph, pw) = self.kernel_size, self.padding
        if min(*self.kernel_size, *self.stride) < 1 or min(ph, pw) < 0 or ph > kh // 2 or pw > kw // 2:
            raise ValueError(f"{type(self).__name__} needs a positive kernel_size and stride and padding at most "
                             f"half the kernel (as torch), got kernel {self.kernel_size}, padding {self.padding}.")

    def output_shape(self, shape: tuple) -> tuple:
        if len(shape) != 4:
            raise ValueError(f"{type(self).__name__} expects input (N, C, H, W), got {tuple(shape)}.")
        ho, wo = F.conv_output_size(*shape[2:], *self.kernel_size, self.stride, self.padding)
        if ho < 1 or wo < 1:
            raise ValueError(f"Input {shape[2]}x{shape[3]} is smaller than {type(self).__name__}'s window "
                             f"{self.kernel_size}; use fewer pooling layers or larger images.")
        return shape[0], shape[1], ho, wo

    def _slices(self, ho, wo):
        """(i, j, index) per kernel offset: index picks that offset's element of every window from the padded input."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        for i in range(kh):
            for j in range(kw):
                yield i, j, (slice(None), slice(None), slice(i, i + sh * (ho - 1) + 1, sh),
                             slice(j, j + sw * (wo - 1) + 1, sw))

    def _unpad(self, a):
        (ph, pw), (h, w) = self.padding, self.x_shape[2:]
        return a[:, :, ph:ph + h, pw:pw + w]

    def config(self):
        return {"type": type(self).__name__, "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding)}


class MaxPool2d(_Pool2d):
    """Window maxima (N, C, H, W) -> (N, C, Ho, Wo); stride defaults to kernel_size and padding counts as -inf.

    Ties: the whole gradient of a window goes to the first maximum in row-major window order (top-left
    first), as torch's CPU kernel does, so gradients are never split or counted twice.
    """

    def forward(self, x):
        n, _, ho, wo = self.output_shape(x.shape)
        self.x_shape, (ph, pw) = x.shape, self.padding
        self.xp = x if not ph and not pw else np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)),
                                                     constant_values=-np.inf)
        # The running maximum over the kh*kw offsets, and which offset holds it (uint8, in x's memory order:
        # mixing memory orders in one ufunc costs ~3x). Only a strictly larger value moves it: the first wins.
        # argmax = max(argmax, k * better) is that update without a masked store (~100x faster than copyto's
        # where=), because every earlier offset is below k. In eval mode only the maxima.
        index = [ix for _, _, ix in self._slices(ho, wo)]
        out = np.empty_like(self.xp[index[0]])                # empty_like keeps the slice's memory order
        index_type = np.uint8 if len(index) <= 256 else np.uint16
        self.argmax = np.zeros_like(out, dtype=index_type) if self.training else None

        def part(s):  # images s
            xs, o = self.xp[s], out[s]
            np.copyto(o, xs[index[0]])
            if self.argmax is None:
                for ix in index[1:]:
                    np.maximum(o, xs[ix], out=o)
                return
            a = self.argmax[s]
            better = np.empty_like(a, dtype=bool)
            for k, ix in enumerate(index[1:], start=1):
                np.greater(xs[ix], o, out=better)
                np.maximum(o, xs[ix], out=o)
                np.maximum(a, better.view(np.uint8) * index_type(k), out=a)
        batch_split.split_rows(n, part)
        self.out = out
        return out

    def backward(self, grad_out):
        if not self.needs_input_grad:
            return None
        grad = np.empty_like(self.xp, dtype=grad_out.dtype)  # in the input's memory order (channels-last)
        g = np.empty_like(self.argmax, dtype=grad_out.dtype)
        overlap = any(s < k for s, k in zip(self.stride, self.kernel_size))
        offsets = [ix for _, _, ix in self._slices(*self.argmax.shape[2:])]

        def part(s):  # images s
            gs, a, dst = g[s], self.argmax[s], grad[s]
            gs[...] = grad_out[s]                             # one copy into that order, if it differs
            if overlap or dst[offsets[0]].size * len(offsets) != dst.size:
                dst.fill(0)                                   # pixels no window covers, or shares that add up
            hit = np.empty_like(a, dtype=bool)
            for k, ix in enumerate(offsets):
                np.equal(a, k, out=hit)
                if overlap:                                   # windows share pixels: their shares add up
                    np.add(dst[ix], gs * hit, out=dst[ix])    # not +=, which copies the slice onto itself again
                else:
                    np.multiply(gs, hit, out=dst[ix])
        batch_split.split_rows(len(g), part)
        return self._unpad(grad)


class AvgPool2d(_Pool2d):
    """Window means (N, C, H, W) -> (N, C, Ho, Wo); zero padding is counted in the mean (torch's default)."""

    def forward(self, x):
        _, _, ho, wo = self.output_shape(x.shape)
        self.x_shape, (ph, pw) = x.shape, self.padding
        xp = self.xp = x if not ph and not pw else np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        out = None
        for _, _, index in self._slices(ho, wo):
            out = xp[index].copy(order="K") if out is None else np.add(out, xp[index], out=out)
        out *= x.dtype.type(1 / (self.kernel_size[0] * self.kernel_size[1]))
        return out

    def backward(self, grad_out):
        if not self.needs_input_grad:
            return None
        share = grad_out * grad_out.dtype.type(1 / (self.kernel_size[0] * self.kernel_size[1]))
        grad = np.zeros_like(self.xp, dtype=grad_out.dtype)
        for _, _, index in self._slices(*grad_out.shape[2:]):
            np.add(grad[index], share, out=grad[index])
        return self._unpad(grad)


class AdaptiveAvgPool2d(Layer):
    """Global average pool: (N, C, H, W) -> (N, C, 1, 1), the mean of each channel (torch's output_size=1 case)."""

    def __init__(self, output_size=1):
        super().__init__()
        if F.pair(output_size) != (1, 1):
            raise ValueError(f"AdaptiveAvgPool2d supports only output_size=1 (a global average pool), got "
                             f"{output_size!r}; use AvgPool2d for other sizes.")
        self.output_size = 1

    def output_shape(self, shape: tuple) -> tuple:
        if len(shape) != 4:
            raise ValueError(f"AdaptiveAvgPool2d expects input (N, C, H, W), got {tuple(shape)}.")
        return shape[0], shape[1], 1, 1

    def forward(self, x):
        self.output_shape(x.shape)
        self.x_shape = x.shape
        return x.mean(axis=(2, 3), keepdims=True)

    def backward(self, grad_out):
        if not self.needs_input_grad:
            return None
        h, w = self.x_shape[2:]
        return np.broadcast_to(grad_out * grad_out.dtype.type(1 / (h * w)), self.x_shape).copy()

    def config(self):
        return {"type": "AdaptiveAvgPool2d", "output_size": 1}


LAYERS.update(MaxPool2d=MaxPool2d, AvgPool2d=AvgPool2d, AdaptiveAvgPool2d=AdaptiveAvgPool2d)
