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
from pathlib import Path

import numpy as np
import record

import numpynn as nn
from numpynn import datasets, threads
from numpynn.io.atomic import atomic_write_text

MODELS = {"784-256-10, batch 64 (the default)": ([784, 256, 10], 64),
          "784-1024-1024-10, batch 256 (mnist-99)": ([784, 1024, 1024, 10], 256)}


def epoch_seconds(x, y, sizes, batch_size, n_threads) -> float:
    model = nn.mlp(sizes, seed=0)
    with threads.limit(n_threads):
        t0 = time.perf_counter()
        nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=1, batch_size=batch_size,
               preprocess=datasets.Scaler("255", np.float32), verbose=0)
        return time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=20000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    header = record.machine("1 and 2 (numpynn.threads.limit)")
    (x, y), _ = datasets.load_mnist()
    x, y = datasets.flatten(x[:args.rows]), y[:args.rows].astype(np.int64)
    times = {}
    for _ in range(args.repeats):
        for busy in (False, True):
            spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
            try:
                time.sleep(0.3 if busy else 0)
                for name, (sizes, batch) in MODELS.items():
                    for n in (1, 2):
                        times.setdefault((name, busy, n), []).append(epoch_seconds(x, y, sizes, batch, n))
            finally:
                if spinner is not None:
                    spinner.kill()
                    spinner.wait()
    lines = ["# benchmarks/threads_busy.py", "", record.header_line(record.finish(header)), "",
             f"One epoch of {args.rows:,} MNIST rows, median of {args.repeats} (seconds)", "",
             "| model | threads | quiet | beside 1 busy process | busy / quiet |", "| --- | --- | --- | --- | --- |"]
    for name in MODELS:
        for n in (1, 2):
            q, b = (statistics.median(times[(name, busy, n)]) for busy in (False, True))
            lines.append(f"| {name} | {n} | {q:.2f} | {b:.2f} | {b / q:.1f}x |")
    print("\n".join(lines))
    atomic_write_text(Path(__file__).parent / "results" / "threads_busy.md", "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
