"""numpynn.sklearn.MLPClassifier against scikit-learn's MLPClassifier: test accuracy and fit time, same precision.

Each case fits both estimators with the same parameters and random_state (so the same initial weights: numpynn
draws scikit-learn's init stream) on the same rows, in float64 and in float32 (both keep the input's dtype),
interleaved (numpynn, scikit-learn, numpynn, ...) so drifting load hits both alike; medians of the fit times.
Cases: load_digits (1,797 8x8 images /16, 3:1 split) with adam and with lbfgs, and the first 10,000 MNIST
training images /255 (tested on all 10,000 test images) with adam for 20 epochs.

    python benchmarks/sklearn_compare.py [--repeats 3] [--threads 1] [--out benchmarks/results/sklearn_compare.md]
"""

import argparse
import os
import statistics
import subprocess
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from threadpoolctl import threadpool_info, threadpool_limits

from numpynn import datasets
from numpynn.io.atomic import atomic_write_text
from numpynn.sklearn import MLPClassifier as NumpynnMLP

HERE = Path(__file__).resolve().parent
CONTENDERS = (("numpynn.sklearn", NumpynnMLP), ("scikit-learn", SklearnMLP))


def load_cases():
    """[(name, params, (x, y, x_test, y_test))] in float64; each is also run in float32."""
    x, y = load_digits(return_X_y=True)
    digits = train_test_split(x / 16.0, y, random_state=0)
    digits = (digits[0], digits[2], digits[1], digits[3])
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist()
    mnist = (datasets.flatten(x_train[:10000]) / 255.0, y_train[:10000], datasets.flatten(x_test) / 255.0, y_test)
    base = dict(hidden_layer_sizes=(100,), random_state=0)
    return [("load_digits, adam, up to 200 epochs", dict(base, solver="adam"), digits),
            ("load_digits, lbfgs, up to 200 iterations", dict(base, solver="lbfgs"), digits),
            ("MNIST 10,000 rows, adam, 20 epochs", dict(base, solver="adam", max_iter=20), mnist)]


def time_case(params, data, dtype, repeats: int) -> dict:
    """{contender: (median fit seconds, all seconds, test accuracy, n_iter_)} for one case in one dtype."""
    x, y, x_test, y_test = data
    x, x_test = x.astype(dtype), x_test.astype(dtype)
    seconds = {name: [] for name, _ in CONTENDERS}
    fitted = {}
    for _ in range(repeats):
        for name, cls in CONTENDERS:  # interleaved
            t0 = time.perf_counter()
            fitted[name] = cls(**params).fit(x, y)
            seconds[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(seconds[name]), seconds[name], fitted[name].score(x_test, y_test),
                   fitted[name].n_iter_, fitted[name].coefs_[0].dtype) for name, _ in CONTENDERS}


def header(load_before, load_after, threads: int, repeats: int) -> list[str]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    blas = ", ".join(f"{b['internal_api']} {b['version']} ({b.get('architecture')} kernel)" for b in threadpool_info()
                     if b["user_api"] == "blas")
    return [f"# numpynn.sklearn vs scikit-learn's MLPClassifier ({datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}, "
            f"commit {commit})", "",
            f"{threads} BLAS threads each (threadpoolctl), {blas}; {os.cpu_count()} cores. 1-minute load average "
            f"{load_before:.1f} before, {load_after:.1f} after (other jobs share the cores: the ratio is the figure, "
            f"not the seconds). Median of {repeats} interleaved fits; accuracy on the held-out rows.", "",
            "| case | dtype | estimator | fit s (median) | min–max | ÷ scikit-learn | test accuracy | n_iter_ |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "sklearn_compare.md")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    load_before = os.getloadavg()[0]
    rows = []
    with threadpool_limits(limits=args.threads):
        for case, params, data in load_cases():
            for dtype in (np.float64, np.float32):
                result = time_case(params, data, dtype, args.repeats)
                base = result["scikit-learn"][0]
                for name, (median, runs, accuracy, n_iter, trained) in result.items():
                    rows.append(f"| {case} | {np.dtype(dtype).name} (trained {trained}) | {name} | {median:.2f} | "
                                f"{min(runs):.2f}–{max(runs):.2f} | {median / base:.2f} | {accuracy:.4f} | {n_iter} |")
                print(rows[-2], rows[-1], sep="\n", flush=True)
    text = "\n".join(header(load_before, os.getloadavg()[0], args.threads, args.repeats) + rows) + "\n"
    print(text)
    atomic_write_text(args.out, text)


if __name__ == "__main__":
    main()
