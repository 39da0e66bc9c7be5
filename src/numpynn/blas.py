"""axpy (y += alpha * x) through the OpenBLAS that NumPy already loaded, with a NumPy fallback.

NumPy has no fused, multi-threaded `y += alpha * x`: `y -= lr * g` is two single-threaded passes (a temporary,
then the subtraction). OpenBLAS's axpy is one pass split over its threads, the same threads that just wrote
the gradient, so the data is still in their caches: for a 784x256 float32 weight at batch 64 on 2 cores the
SGD update drops from ~100 us to ~10 us a step (benchmarks/README.md). The library is the one in NumPy's own
wheel (numpy.libs/), found once at import; anything else (MKL, Accelerate, a source build) uses NumPy.
"""

import ctypes
import glob
import os

import numpy as np

# The 64-bit-integer (ILP64) interfaces NumPy's wheels ship, newest naming first; their int arguments are int64.
_SYMBOLS = ("scipy_cblas_{t}axpy64_", "cblas_{t}axpy64_")


def _find_axpy():
    """{dtype: C function} from NumPy's bundled OpenBLAS, or {} when there is none we can call safely."""
    if os.environ.get("NUMPYNN_NO_BLAS"):  # an escape hatch, and how tests exercise the fallback
        return {}
    libs_dir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs_dir, "*openblas*.so*"))):
        try:
            lib = ctypes.CDLL(path)  # already loaded by NumPy: this returns the same library, the same threads
        except OSError:
            continue
        found = {}
        for pattern in _SYMBOLS:
            for t, dtype, scalar in (("s", np.float32, ctypes.c_float), ("d", np.float64, ctypes.c_double)):
                fn = getattr(lib, pattern.format(t=t), None)
                if fn is not None and np.dtype(dtype) not in found:
                    fn.restype = None
                    fn.argtypes = [ctypes.c_int64, scalar, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                                   ctypes.c_int64]
                    found[np.dtype(dtype)] = fn
        if found:
            return found
    return {}


_AXPY = _find_axpy()
# Below this size the ctypes call costs more than it saves (OpenBLAS itself stays on one thread below 10,000).
MIN_SIZE = 4096


def uses_blas(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether axpy(alpha, x, y) goes through OpenBLAS: same dtype, same shape, same contiguous memory layout."""
    return (y.size >= MIN_SIZE and x.dtype == y.dtype and y.dtype in _AXPY and x.shape == y.shape
            and x.strides == y.strides and y.flags.writeable
            and (y.flags.c_contiguous or y.flags.f_contiguous) and (x.flags.c_contiguous or x.flags.f_contiguous))


def axpy(alpha: float, x: np.ndarray, y: np.ndarray, scratch: np.ndarray | None = None) -> None:
    """y += alpha * x in place (x, y: same shape and dtype).

    Through OpenBLAS the product is fused (one rounding, as an FMA); NumPy's fallback rounds alpha * x first,
    into `scratch` when given (no temporary per call). Either way the result is deterministic on one machine.
    """
    if uses_blas(x, y):
        # Equal strides and contiguity mean both arrays walk their memory in the same element order.
        _AXPY[y.dtype](y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
        return
    if scratch is None:
        y += y.dtype.type(alpha) * x
    else:
        np.multiply(x, y.dtype.type(alpha), out=scratch)
        y += scratch
