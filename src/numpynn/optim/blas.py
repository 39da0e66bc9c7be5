"""axpy (y += alpha * x) and scal (x *= alpha) through the OpenBLAS that NumPy already loaded, or NumPy.

NumPy has no fused, multi-threaded `y += alpha * x`: `y -= lr * g` is two single-threaded passes (lr * g into
a buffer, then the subtraction). OpenBLAS's axpy is one pass split over its threads. For the 1.9 M weights of
recipes/mnist-99.toml (SGD with momentum and weight decay: four such passes per parameter) the update goes
from ~4 to ~1.7 ms a step; for 784-256-10 at batch 64, where the update is under a tenth of the step, the
gain is 0-7 % an epoch, within this machine's noise (benchmarks/README.md). The library is the one in
NumPy's own wheel (numpy.libs/), found once at import; anything else (MKL, Accelerate, a source build)
uses NumPy.
"""

import contextlib
import ctypes
import glob
import os

import numpy as np

# The 64-bit-integer (ILP64) interfaces NumPy's wheels ship, newest naming first; their int arguments are int64.
_PREFIXES = ("scipy_cblas_", "cblas_")
_KINDS = (("s", np.float32, ctypes.c_float), ("d", np.float64, ctypes.c_double))


def _find_blas():
    """{("axpy" or "scal", dtype): C function} from NumPy's bundled OpenBLAS, or {} if none can be called safely."""
    if os.environ.get("NUMPYNN_NO_BLAS"):  # an escape hatch, and how tests exercise the fallback
        return {}
    libs_dir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs_dir, "*openblas*.so*"))):
        try:
            lib = ctypes.CDLL(path)  # already loaded by NumPy: this returns the same library, the same threads
        except OSError:
            continue
        for prefix in _PREFIXES:
            found = {}
            for t, dtype, scalar in _KINDS:
                axpy_fn = getattr(lib, f"{prefix}{t}axpy64_", None)  # (n, alpha, x, incx, y, incy)
                scal_fn = getattr(lib, f"{prefix}{t}scal64_", None)  # (n, alpha, x, incx)
                if axpy_fn is None or scal_fn is None:
                    continue
                axpy_fn.restype = scal_fn.restype = None
                axpy_fn.argtypes = [ctypes.c_int64, scalar, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                                    ctypes.c_int64]
                scal_fn.argtypes = [ctypes.c_int64, scalar, ctypes.c_void_p, ctypes.c_int64]
                axpy_fn._lib_path = path  # where set_threads finds the thread calls of the same library
                found["axpy", np.dtype(dtype)], found["scal", np.dtype(dtype)] = axpy_fn, scal_fn
            if found:
                return found
    return {}


_BLAS = _find_blas()


def _find_thread_calls():
    """(get, set) of the OpenBLAS thread count of NumPy's bundled library, or None (threadpoolctl then does it)."""
    if os.environ.get("NUMPYNN_NO_BLAS") or not _BLAS:
        return None
    lib = ctypes.CDLL(_BLAS["axpy", np.dtype(np.float32)]._lib_path)
    get = getattr(lib, "scipy_openblas_get_num_threads64_", None)
    put = getattr(lib, "scipy_openblas_set_num_threads64_", None)
    if get is None or put is None:
        return None
    get.restype, get.argtypes, put.restype, put.argtypes = ctypes.c_int, [], None, [ctypes.c_int]
    return get, put


_THREAD_CALLS = _find_thread_calls()
# Below this size the ctypes call costs more than it saves (OpenBLAS itself stays on one thread below 10,000).
MIN_SIZE = 4096


def _blas_ok(y: np.ndarray) -> bool:
    if y.size < MIN_SIZE or ("axpy", y.dtype) not in _BLAS:
        return False
    flags = y.flags  # each .flags access builds a new object: read it once (this runs for every parameter)
    return flags.writeable and (flags.c_contiguous or flags.f_contiguous)


def uses_blas(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether axpy(alpha, x, y) goes through OpenBLAS: same dtype, same shape, same contiguous memory layout."""
    # With y contiguous, equal shape and strides make x contiguous in the same element order.
    return x.strides == y.strides and x.shape == y.shape and x.dtype == y.dtype and _blas_ok(y)


def axpy(alpha: float, x: np.ndarray, y: np.ndarray, scratch: np.ndarray | None = None) -> None:
    """y += alpha * x in place (x, y: same shape and dtype).

    Through OpenBLAS the product and sum are fused on FMA CPUs (one rounding); NumPy rounds alpha * x first,
    into `scratch` (an array like y) when given: a fresh 800 KB temporary per step costs more than the
    update itself. Either way the result is deterministic on one machine.
    """
    if uses_blas(x, y):
        # Equal strides and contiguity mean both arrays walk their memory in the same element order.
        _BLAS["axpy", y.dtype](y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
    elif scratch is None:
        y += y.dtype.type(alpha) * x
    else:
        np.multiply(x, y.dtype.type(alpha), out=scratch)
        y += scratch


def scal(alpha: float, x: np.ndarray) -> None:
    """x *= alpha in place."""
    if _blas_ok(x):
        _BLAS["scal", x.dtype](x.size, alpha, x.ctypes.data, 1)
    else:
        x *= x.dtype.type(alpha)


def get_threads() -> int | None:
    """OpenBLAS's current thread count for NumPy's bundled library (a C call), or None where there is none."""
    return None if _THREAD_CALLS is None else int(_THREAD_CALLS[0]())


def set_threads(threads: int) -> int | None:
    """Set NumPy's bundled OpenBLAS to `threads` threads (one C call, ~1 us); returns the previous count, or None
    where NumPy uses another BLAS (then nothing changed: use blas_threads, which goes through threadpoolctl)."""
    if _THREAD_CALLS is None:
        return None
    before = int(_THREAD_CALLS[0]())
    if before != threads:
        _THREAD_CALLS[1](int(threads))
    return before


def blas_threads(threads: int | None) -> contextlib.AbstractContextManager:
    """A context that runs NumPy's BLAS (GEMMs, and the axpy above) on `threads` threads; None: leave it as is.

    OpenBLAS threads spin-wait for each other at every product: beside another busy process the waiting
    thread loses its core and a batch-sized GEMM waits a scheduler tick (benchmarks/threads_busy.py).
    """
    if threads is None:
        return contextlib.nullcontext()
    if int(threads) < 1:
        raise ValueError(f"threads must be at least 1, got {threads}.")
    from threadpoolctl import threadpool_limits  # imported on demand: it inspects every loaded library
    return threadpool_limits(limits=int(threads), user_api="blas")
