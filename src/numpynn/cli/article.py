"""Run the article's scripts offline: `python -m numpynn.article SCRIPT.py`.

The article loads MNIST with scikit-learn's `fetch_openml('mnist_784', ...)`, which needs the internet.
Here that call is answered from numpynn's bundled MNIST, with the same arrays OpenML returns (70,000 rows
of float64 pixels in OpenML's order, string labels); everything else in the script runs untouched.
"""

import contextlib
import os
import runpy
import sys

from numpynn.datasets import fetch_mnist_784


@contextlib.contextmanager
def offline_openml():
    """Within this block, sklearn.datasets.fetch_openml('mnist_784', ...) reads the bundled MNIST."""
    try:
        import sklearn.datasets
    except ImportError:
        raise SystemExit("numpynn: error: the article's scripts import scikit-learn; install it with "
                         "`pip install scikit-learn` (MNIST itself comes from numpynn, offline).") from None
    real = sklearn.datasets.fetch_openml

    def fetch_openml(name=None, *, version="active", return_X_y=False, as_frame="auto", **kwargs):
        if name != "mnist_784" or not return_X_y or as_frame is True:
            return real(name, version=version, return_X_y=return_X_y, as_frame=as_frame, **kwargs)
        return fetch_mnist_784()

    sklearn.datasets.fetch_openml = fetch_openml
    try:
        yield
    finally:
        sklearn.datasets.fetch_openml = real


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    seed = None
    if len(argv) == 3 and argv[0] == "--seed" and argv[1].isdigit():
        seed, argv = int(argv[1]), argv[2:]
    if len(argv) != 1 or not argv[0].endswith(".py"):
        print("usage: python -m numpynn.article [--seed N] SCRIPT.py   (runs one of the article's scripts "
              "offline; --seed seeds the global np.random the article's code draws from)", file=sys.stderr)
        return 2
    if not os.path.isfile(argv[0]):
        print(f"numpynn: error: {argv[0]} does not exist; pass the path of a Python script.", file=sys.stderr)
        return 2
    os.environ.setdefault("MPLBACKEND", "Agg")  # plt.show() then returns at once when there is no screen
    sys.argv = [argv[0]]
    if seed is not None:
        import numpy as np
        np.random.seed(seed)  # the article's scripts draw from the global state; a seed makes a run repeatable
    with offline_openml():
        runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
