"""One training epoch with 1 and 2 BLAS threads, on a quiet CPU and beside a busy process: what --threads defaults to.

    python benchmarks/threads_busy.py [--rows 20000] [--repeats 3]

OpenBLAS threads spin-wait for each other at every GEMM; when another process holds a core, the waiting
thread loses its time slice and every batch-sized product waits a scheduler tick. The busy neighbour here
is one other process spinning (`while True: pass`), the cheapest stand-in for a compile, a browser tab or
another training run. Conditions are interleaved (quiet/busy x 1/2 threads, `--repeats` rounds) and the
medians printed as a markdown table; on a shared machine "quiet" is only as quiet as the machine is.
"""

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import numpynn as nn
from numpynn import datasets

MODELS = {"784-256-10, batch 64 (the default)": ([784, 256, 10], 64),
          "784-1024-1024-10, batch 256 (mnist-99)": ([784, 1024, 1024, 10], 256)}


def epoch_seconds(x, y, sizes, batch_size, threads) -> float:
    model = nn.mlp(sizes, seed=0)
    with threadpool_limits(limits=threads, user_api="blas"):
        t0 = time.perf_counter()
        nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=1, batch_size=batch_size,
               preprocess=datasets.Scaler("255", np.float32), verbose=0)
        return time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=20000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    (x, y), _ = datasets.load_mnist()
    x, y = datasets.flatten(x[:args.rows]), y[:args.rows].astype(np.int64)
    times = {}
    for _ in range(args.repeats):
        for busy in (False, True):
            spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
            try:
                time.sleep(0.3 if busy else 0)
                for name, (sizes, batch) in MODELS.items():
                    for threads in (1, 2):
                        times.setdefault((name, busy, threads), []).append(epoch_seconds(x, y, sizes, batch, threads))
            finally:
                if spinner is not None:
                    spinner.kill()
                    spinner.wait()
    print(f"One epoch of {args.rows:,} MNIST rows, median of {args.repeats} (seconds)\n")
    print("| model | threads | quiet | beside 1 busy process | busy / quiet |")
    print("| --- | --- | --- | --- | --- |")
    for name in MODELS:
        for threads in (1, 2):
            q, b = (statistics.median(times[(name, busy, threads)]) for busy in (False, True))
            print(f"| {name} | {threads} | {q:.2f} | {b:.2f} | {b / q:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
