"""One thread policy for every entry point: how many cores numpynn computes on, and the context that applies it.

Default: 1 thread. Change it with `threads=` (fit, evaluate, predict, the scikit-learn estimators), `--threads`
(every command line), or the environment variable NUMPYNN_THREADS (everything, the article runner and the
examples included). An explicit argument wins over the environment, the environment over the default.

Why 1: on a machine shared with other busy processes two OpenBLAS threads spin-wait for each other at every
matrix product and an epoch can take 4-30x longer, while one thread never collapses (benchmarks/README.md,
results/threads_busy.md). With N > 1, BLAS runs on N threads.

Batch splitting (numpynn.nn.batch_split: Conv2d, pooling and BatchNorm run slices of the batch on N threads,
one BLAS thread each) is opt-in: NUMPYNN_BATCH_SPLIT=1, or limit(N, split=True). Measured on the 2-core
machine with nothing else running, it made the CNN recipes' epochs slower than BLAS threads alone (mnist-cnn
and LeNet-5 by 5-35 %, benchmarks/results/conv-2thread.md): their NumPy calls last 20-100 us, and each
hand-off of the GIL between the two threads costs a good part of that.
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
SPLIT_ENV_VAR = "NUMPYNN_BATCH_SPLIT"

_active: list[tuple[int, int]] = []  # (threads, batch-split workers) of the limit() contexts open now, innermost last
_lock = threading.RLock()


def resolve(threads: int | None = None) -> int:
    """The thread count to use: `threads` if given, else the open limit() context's, else $NUMPYNN_THREADS, else 1."""
    if threads is None:
        if _active:
            return _active[-1][0]
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


def split_wanted(split: bool | None = None) -> bool:
    """Whether limit() also splits batches over its threads: `split` if given, else $NUMPYNN_BATCH_SPLIT == "1"."""
    if split is None:
        return os.environ.get(SPLIT_ENV_VAR, "").strip() == "1"
    return bool(split)


@contextlib.contextmanager
def limit(threads: int | None = None, split: bool | None = None) -> Iterator[int]:
    """Run the block on `threads` threads (resolve()'s rule) for BLAS, and for the batch-splitting layers too
    when `split` (split_wanted()'s rule: off unless NUMPYNN_BATCH_SPLIT=1); restored after.

    Inside an open limit(), limit(None) keeps the outer setting (`numpynn train --threads 2` calling fit)."""
    n = resolve(threads)
    if split is None and _active and _active[-1][0] == n:
        workers = _active[-1][1]  # an inner limit() keeps the open one's splitting too
    else:
        workers = n if split_wanted(split) else 1
    with _lock:
        if _active and _active[-1] == (n, workers):  # already in force: nothing to set (predict per request)
            _active.append((n, workers))
            restore = None
        else:
            restore = (_set_blas(n), batch_split.set_workers(workers))
            _active.append((n, workers))
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
