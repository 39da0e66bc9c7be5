"""Time load_mnist() on the bundled files: cold (decompress, verify SHA-256, write the cache) and warm (cached).

    .venv/bin/python benchmarks/bench_load_mnist.py [--repeat 5]

The issue's budget: the full 70,000 images from the bundled files in <= 1 s. Cold runs in a fresh,
empty cache folder each time, so every repeat pays the gunzip, the hash and the cache write.
"""

import argparse
import os
import tempfile
import time


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from numpynn.datasets import fetch_mnist_784, load_mnist

    cold, warm = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            os.environ["NUMPYNN_DATA"] = cache  # a fresh cache: never the user's ~/.cache
            cold.append(timed(load_mnist))
            warm.extend(timed(load_mnist) for _ in range(3))
            openml = timed(fetch_mnist_784)
    budget = 1.0
    print(f"load_mnist cold (gunzip + SHA-256 + cache write): best {min(cold):.3f} s, median "
          f"{sorted(cold)[len(cold) // 2]:.3f} s  [{'OK' if min(cold) <= budget else 'OVER'} vs {budget:.1f} s budget]")
    print(f"load_mnist warm (verified .npy cache, re-hashed): best {min(warm):.3f} s, median "
          f"{sorted(warm)[len(warm) // 2]:.3f} s")
    print(f"fetch_mnist_784 warm (70000 x 784 float64):      {openml:.3f} s (last repeat)")
    print(f"cpus: {os.cpu_count()}, load average: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
