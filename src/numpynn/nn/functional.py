"""Pure math on arrays: activations, softmax and log-softmax by log-sum-exp, losses, convolution and pooling."""

import numpy as np
from numpy.typing import DTypeLike


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x), element-wise."""
    return np.maximum(x, 0)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """x where x > 0, negative_slope * x elsewhere."""
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    # exp(-|x|) never overflows; the two branches are the same function rearranged.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, element-wise."""
    return np.tanh(x)


def logsumexp(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log(sum(exp(x))) along axis, shifted by the max so it never overflows."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """x - logsumexp(x): finite for any finite logits."""
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along axis, computed with the max subtracted."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def one_hot(labels: np.ndarray, num_classes: int, dtype: DTypeLike = np.float32) -> np.ndarray:
    """labels: (N,) integers in [0, num_classes) -> (N, num_classes) one-hot rows."""
    out = np.zeros((len(labels), num_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> float:
    """Mean cross-entropy of softmax(logits) against integer labels (N,) or one-hot/probability rows (N, C)."""
    logp = log_softmax(logits, axis=1)
    if target.ndim == 1:
        return float(-np.mean(logp[np.arange(len(target)), target]))
    return float(-np.mean(np.sum(target * logp, axis=1)))


def cross_entropy_grad(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """d cross_entropy / d logits = (softmax(logits) - y) / N, the fused softmax + cross-entropy gradient."""
    grad = softmax(logits, axis=1)
    if target.ndim == 1:
        grad[np.arange(len(target)), target] -= 1
    else:
        grad -= target
    grad /= len(logits)
    return grad


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean of the squared differences."""
    return float(np.mean((pred - target) ** 2))


def mse_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """d mse / d pred = 2 (pred - target) / pred.size."""
    return (pred - target) * pred.dtype.type(2 / pred.size)


def bce_with_logits(logits: np.ndarray, target: np.ndarray) -> float:
    """Mean binary cross-entropy of sigmoid(logits), as max(x, 0) - x*y + log(1 + exp(-|x|))."""
    loss = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    return float(np.mean(loss))


def bce_with_logits_grad(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """d bce / d logits = (sigmoid(logits) - target) / N."""
    return (sigmoid(logits) - target) / logits.dtype.type(logits.size)


def linear_backward(grad_out: np.ndarray, x: np.ndarray, weight: np.ndarray,
                    input_grad: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of y = x @ weight.T + bias: (d weight (out, in), d bias (out,), d x (N, in) or None)."""
    return grad_out.T @ x, grad_out.sum(axis=0), (grad_out @ weight if input_grad else None)


def relu_backward(grad_out: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gradient through ReLU: passes where the pre-activation z was positive, zero elsewhere."""
    return grad_out * (z > 0)


# --- convolution and pooling: (N, C, H, W) arrays, as torch.nn.functional ------------------------------------

IntPair = int | tuple[int, int]  # kernel_size, stride, padding: one int for both sides, or (height, width)


def pair(v: IntPair) -> tuple[int, int]:
    """An int or a pair of ints -> (height, width), as torch's kernel_size / stride / padding arguments."""
    a, b = (v, v) if np.ndim(v) == 0 else tuple(v)
    return int(a), int(b)


def conv_output_size(h: int, w: int, kh: int, kw: int, stride: IntPair = (1, 1),
                     padding: IntPair = (0, 0)) -> tuple[int, int]:
    """(Ho, Wo) = ((H + 2ph - kh) // sh + 1, (W + 2pw - kw) // sw + 1), torch's floor rule."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1


def _padded(x, ph, pw, value=0.0):
    if not ph and not pw:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def im2col(x: np.ndarray, kh: int, kw: int, stride: IntPair = (1, 1), padding: IntPair = (0, 0),
           out: np.ndarray | None = None) -> np.ndarray:
    """x: (N, C, H, W) -> columns (N*Ho*Wo, kh*kw*C), one row per output pixel, its window channels-last.

    The windows are a sliding_window_view of x (no copy), copied once, into `out` when given (a buffer the
    caller keeps across steps). Channels-last rows copy C contiguous numbers at a time when x's memory is
    channels-last, as every Conv2d output is; the weight matching them is weight.transpose(0, 2, 3, 1).
    """
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    n, c, h, w = x.shape
    ho, wo = conv_output_size(h, w, kh, kw, (sh, sw), (ph, pw))
    xh = x.transpose(0, 2, 3, 1)                                   # (N, H, W, C), a view
    if ph or pw:
        xh = np.pad(xh, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(xh, (kh, kw), axis=(1, 2))[:, ::sh, ::sw][:, :ho, :wo]
    if out is None:
        out = np.empty((n * ho * wo, kh * kw * c), dtype=x.dtype)
    np.copyto(out.reshape(n, ho, wo, kh, kw, c), windows.transpose(0, 1, 2, 4, 5, 3))  # from (N,Ho,Wo,C,kh,kw)
    return out


def im2col_t(x: np.ndarray, kh: int, kw: int, stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0),
             out: np.ndarray | None = None) -> np.ndarray:
    """x: (N, C, H, W) -> transposed columns (kh*kw*C, N*Ho*Wo): im2col(x).T, one kernel offset at a time.

    For one input channel each offset is a strided slice of whole images copied into one contiguous row,
    4x faster than im2col's rows of kh*kw single numbers; `out` may be a column slice of a larger buffer.
    """
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    n, c, h, w = x.shape
    ho, wo = conv_output_size(h, w, kh, kw, (sh, sw), (ph, pw))
    xp = _padded(x, ph, pw)
    if out is None:
        out = np.empty((kh * kw * c, n * ho * wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            window = xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]   # (N, C, Ho, Wo)
            for ch in range(c):
                out[(i * kw + j) * c + ch].reshape(n, ho, wo)[...] = window[:, ch]
    return out


def col2im(cols: np.ndarray, x_shape: tuple[int, int, int, int], kh: int, kw: int, stride: IntPair = (1, 1),
           padding: IntPair = (0, 0), out: np.ndarray | None = None) -> np.ndarray:
    """columns (N*Ho*Wo, kh*kw*C) -> (N, C, H, W): each window's entries added back where im2col took them.

    The adjoint of im2col, as kh x kw strided slice-adds (overlapping windows sum), never np.add.at. The
    result is channels-last in memory, a view of `out` (an (N, H + 2ph, W + 2pw, C) buffer) without the padding.
    """
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    n, c, h, w = x_shape
    ho, wo = conv_output_size(h, w, kh, kw, (sh, sw), (ph, pw))
    if out is None:
        out = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=cols.dtype)
    else:
        out.fill(0)
    windows = cols.reshape(n, ho, wo, kh, kw, c)
    # np.add(dst, src, out=dst), not `dst += src`: Python's augmented assignment on a slice ends with a
    # __setitem__ that copies the result onto itself again (3x slower here).
    if kw == 1:  # one add per kernel row: (N, Ho, Wo, C) windows
        for i in range(kh):
            dst = out[:, i:i + sh * (ho - 1) + 1:sh, ::sw][:, :, :wo]
            np.add(dst, windows[:, :, :, i, 0], out=dst)
        return out[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)
    # One add per (kernel row, output column): the kw x C entries of a window row land on kw adjacent pixels,
    # kw*C contiguous numbers in both arrays, so NumPy's inner loops run kw times longer than per (i, j).
    for i in range(kh):
        rows = out[:, i:i + sh * (ho - 1) + 1:sh]                   # (N, Ho, W + 2pw, C)
        for x in range(wo):
            dst = rows[:, :, x * sw:x * sw + kw]                    # (N, Ho, kw, C)
            np.add(dst, windows[:, :, x, i], out=dst)
    return out[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: IntPair = 1,
           padding: IntPair = 0) -> np.ndarray:
    """x: (N, C, H, W), weight: (O, C, kh, kw), bias: (O,) -> (N, O, Ho, Wo): cross-correlation, as torch's conv2d.

    Columns, one GEMM, bias: out[n, o, y, x] = sum_{c,i,j} weight[o, c, i, j] * x_pad[n, c, y*sh + i, x*sw + j].
    """
    o, c, kh, kw = weight.shape
    if x.ndim != 4 or x.shape[1] != c:
        raise ValueError(f"conv2d expects input (N, {c}, H, W) for a weight of shape {weight.shape}, got {x.shape}.")
    n, _, h, w = x.shape
    ho, wo = conv_output_size(h, w, kh, kw, stride, padding)
    if ho < 1 or wo < 1:
        raise ValueError(f"Input {h}x{w} (padding {pair(padding)}) is smaller than the {kh}x{kw} kernel.")
    out = im2col(x, kh, kw, stride, padding) @ weight.transpose(0, 2, 3, 1).reshape(o, -1).T   # (N*Ho*Wo, O)
    if bias is not None:
        out += bias
    return np.ascontiguousarray(out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2))


def max_pool2d(x: np.ndarray, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0) -> np.ndarray:
    """x: (N, C, H, W) -> (N, C, Ho, Wo) window maxima, as torch's max_pool2d (stride defaults to kernel_size).

    The maximum of kh*kw strided slices, one pass each; padding counts as -inf, so it is never the maximum.
    """
    kh, kw = pair(kernel_size)
    (sh, sw), (ph, pw) = pair(kernel_size if stride is None else stride), pair(padding)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"max_pool2d padding {(ph, pw)} must be at most half the kernel {(kh, kw)}, as in torch.")
    h, w = x.shape[2:]
    ho, wo = conv_output_size(h, w, kh, kw, (sh, sw), (ph, pw))
    if ho < 1 or wo < 1:
        raise ValueError(f"Input {h}x{w} (padding {(ph, pw)}) is smaller than the {kh}x{kw} pooling window.")
    xp = _padded(x, ph, pw, -np.inf)
    out = None
    for i in range(kh):
        for j in range(kw):
            window = xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
            out = window.copy(order="K") if out is None else np.maximum(out, window, out=out)
    return out
