"""One thread policy for every entry point: how many cores numpynn computes on, and the context that applies it.

Default: 1 thread. Change it with `threads=` (fit, evaluate, predict, the scikit-learn estimators), `--threads`
(every command line), or the environment variable NUMPYNN_THREADS (everything, the article runner and the
examples included). An explicit argument wins over the environment, the environment over the default.

Why 1: on a machine shared with other busy processes two OpenBLAS threads spin-wait for each other at every
matrix product and an epoch can take 4-30x longer, while one thread never collapses (benchmarks/README.md,
results/threads_busy.md). With N > 1, BLAS runs on N threads and layers that split their batch
(numpynn.nn.batch_split: Conv2d, pooling, BatchNorm) run its halves on N threads, one BLAS thread each.
"""

import argparse
import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator

from numpynn.nn import batch_split

DEFAULT_THREADS = 1
ENV_VAR = "NUMPYNN_THREADS"

_active: list[int] = []  # the thread counts of the limit() contexts open now, innermost last
_lock = threading.RLock()


def resolve(threads: int | None = None) -> int:
    """The thread count to use: `threads` if given, else the open limit() context's, else $NUMPYNN_THREADS, else 1."""
    if threads is None:
        if _active:
            return _active[-1]
        env = os.environ.get(ENV_VAR, "").strip()
        if not env:
            return DEFAULT_THREADS
        try:
            threads = int(env)
        except ValueError:
            raise ValueError(f"{ENV_VAR}={env!r} is not a whole number; set it to the number of threads, e.g. "
                             f"{ENV_VAR}=1.") from None
        if threads < 1:
            raise ValueError(f"{ENV_VAR} must be at least 1, got {threads}; e.g. {ENV_VAR}=1.")
        return threads
    if isinstance(threads, bool) or int(threads) != threads or threads < 1:
        raise ValueError(f"threads must be a whole number of at least 1, got {threads!r}.")
    return int(threads)


@contextlib.contextmanager
def limit(threads: int | None = None) -> Iterator[int]:
    """Run the block on `threads` threads (resolve()'s rule): BLAS and the batch-splitting layers; restored after.

    Inside an open limit(), limit(None) keeps the outer setting (`numpynn train --threads 2` calling fit)."""
    n = resolve(threads)
    with _lock:
        if _active and _active[-1] == n:  # already in force: nothing to set (predict called per request)
            _active.append(n)
            restore = None
        else:
            restore = (_set_blas(n), batch_split.set_workers(n))
            _active.append(n)
    try:
        yield n
    finally:
        with _lock:
            _active.pop()
            if restore is not None:
                blas_before, workers_before = restore
                if blas_before is not None:
                    blas_before()
                batch_split.set_workers(workers_before)


def add_option(parser: argparse.ArgumentParser) -> None:
    """Give an argparse command the --threads N option (the application applies it with limit(args.threads))."""
    parser.add_argument("--threads", type=int, metavar="N", help="threads for BLAS and the batch-splitting layers "
                        f"(default: ${ENV_VAR}, else {DEFAULT_THREADS})")


def policy(fn: Callable) -> Callable:
    """Decorator: run `fn` under limit(threads), `threads` being fn's own keyword argument (None: the default)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with limit(kwargs.get("threads")):
            return fn(*args, **kwargs)
    return wrapper


def _set_blas(n: int):
    """Set every loaded BLAS (NumPy's, and e.g. PyTorch's when imported) to n threads; returns the function that
    puts them back. threadpoolctl's controller is built once and again whenever new modules were imported
    (a new module may have loaded another BLAS): ~0.02 ms a call instead of ~1 ms."""
    global _controller, _modules_seen
    if _controller is None or len(sys.modules) != _modules_seen:
        from threadpoolctl import ThreadpoolController  # imported on demand: it inspects every loaded library
        _controller, _modules_seen = ThreadpoolController(), len(sys.modules)
    limiter = _controller.limit(limits=n, user_api="blas")
    return limiter.restore_original_limits


_controller = None
_modules_seen = 0
