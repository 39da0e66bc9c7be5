"""Batch splitting: run a layer's work on slices of the batch on several threads at once, one core each.

NumPy releases the GIL inside copies, ufuncs, reductions and matrix products, so two Python threads that
each take half of a batch keep both cores busy with the im2col / col2im copies, pooling and BatchNorm work
that OpenBLAS's own threads never touch. Each piece runs its matrix products on one BLAS thread (set for
the duration of `run`), so the two halves never wait for each other inside OpenBLAS.

Only the layers know what may be split: rows of a forward pass, output rows of a weight gradient (each
still a sum over the whole batch, so the same numbers), per-half partial sums added afterwards (BatchNorm's
statistics: equal to float32 rounding). numpynn.threads decides how many workers there are (1: no
splitting, every call below runs inline, exactly as before).

Opt-in (NUMPYNN_BATCH_SPLIT=1, or numpynn.threads.limit(N, split=True)): on the 2-core machine, idle, it was
slower than BLAS threads alone for both CNN recipes. The layers' NumPy calls last 20-100 us, and a GIL
hand-off between the two threads costs a good part of one (benchmarks/README.md, "Re-measured on the idle
machine").
"""

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from numpynn.optim import blas

# Below this many rows (images, or rows of a weight gradient) a piece is too small to pay for the handoff
# to another thread (~20-50 us).
MIN_ROWS = 16

_workers = 1
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_inside = threading.local()


def workers() -> int:
    """How many threads a split batch runs on (set by numpynn.threads; 1 = no splitting)."""
    return _workers


def set_workers(n: int) -> int:
    """Set the number of threads a batch is split over; returns the previous number."""
    global _workers, _pool
    if int(n) < 1:
        raise ValueError(f"threads must be at least 1, got {n}.")
    with _lock:
        before, _workers = _workers, int(n)
        if _pool is not None and _pool._max_workers < _workers - 1:
            _pool.shutdown(wait=True)
            _pool = None
    return before


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, _workers - 1), thread_name_prefix="numpynn-split")
        return _pool


def _forget_pool_after_fork() -> None:
    """A forked child (a sweep worker) has none of the parent's threads: it must start its own pool."""
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def pieces(n: int, min_rows: int = MIN_ROWS) -> list[slice]:
    """[slice(0, n)] with one worker; else up to `workers()` near-equal consecutive slices of range(n)."""
    w = min(_workers, n // min_rows) if not getattr(_inside, "active", False) else 1
    if w < 2:
        return [slice(0, n)]
    bounds = [n * i // w for i in range(w + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


def _call(fn, piece):
    _inside.active = True  # a split inside a split runs inline
    try:
        return fn(piece)
    finally:
        _inside.active = False


def run(fn: Callable, parts: list) -> list:
    """[fn(p) for p in parts], the first in this thread and the others on the worker threads, BLAS on one thread
    each meanwhile. One part: a plain call, nothing else changes."""
    if len(parts) == 1:
        return [fn(parts[0])]
    pool = _get_pool()
    before = blas.set_threads(1)
    try:
        futures = [pool.submit(_call, fn, p) for p in parts[1:]]
        first = [_call(fn, parts[0])]
        return first + [f.result() for f in futures]
    finally:
        if before is not None and before != 1:
            blas.set_threads(before)


def split_rows(n: int, fn: Callable[[slice], object], min_rows: int = MIN_ROWS) -> list:
    """run(fn, pieces(n)): fn gets each slice of range(n) (one slice, the whole range, with one worker)."""
    return run(fn, pieces(n, min_rows))
