"""Run the series' scripts offline, their figures shown or saved: `python -m numpynn.article SCRIPT.py`.

The article loads MNIST with scikit-learn's `fetch_openml('mnist_784', ...)`, which needs the internet.
Here that call is answered from numpynn's bundled MNIST, with the same arrays OpenML returns (70,000 rows
of float64 pixels in OpenML's order, string labels); everything else in the script runs untouched.
"""

import argparse
import contextlib
import io
import os
import runpy
import sys
from pathlib import Path

from numpynn import threads
from numpynn.datasets import fetch_mnist_784
from numpynn.io.atomic import atomic_write_bytes


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


def has_display() -> bool:
    """Whether a window can open: always on macOS and Windows; on Linux and the BSDs, an X11 or Wayland session."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@contextlib.contextmanager
def figures_to_png(script: str, folder: str | None):
    """Within this block, each plt.show() saves the open figures as FOLDER/SCRIPT.1.png, SCRIPT.2.png, ...

    With folder None the figures go to a window as usual, unless the backend cannot show one (no display):
    then they are saved into ./figures. A window, where there is one, still opens after saving.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # a script without matplotlib has nothing to show
        yield
        return
    real_show, stem, saved = plt.show, Path(script).stem, []

    def show(*args, **kwargs):
        interactive = plt.get_backend().lower() not in NON_INTERACTIVE_BACKENDS
        if folder is None and interactive:
            return real_show(*args, **kwargs)
        target = Path(folder if folder is not None else "figures")
        target.mkdir(parents=True, exist_ok=True)
        for num in plt.get_fignums():
            saved.append(target / f"{stem}.{len(saved) + 1}.png")
            png = io.BytesIO()
            # Tight: the series' scripts size their figures without a layout, so titles would be cut at the edge.
            plt.figure(num).savefig(png, format="png", bbox_inches="tight")
            atomic_write_bytes(saved[-1], png.getvalue())  # an interrupted run never leaves half a PNG
            print(f"Saved figure {len(saved)} to {saved[-1]}", flush=True)
        if interactive:
            real_show(*args, **kwargs)
        plt.close("all")  # as closing the windows does: the next show() saves only the figures drawn after this one

    plt.show = show
    try:
        yield
    finally:
        plt.show = real_show


# matplotlib's own list (backend_registry, BackendFilter.NON_INTERACTIVE), kept here so 3.7 works too.
NON_INTERACTIVE_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m numpynn.article",
        description="Run one of the series' scripts offline: sklearn's fetch_openml('mnist_784') is answered from "
                    "numpynn's bundled MNIST. Figures open in a window where there is a display; otherwise (or "
                    "with --save-figures) each plt.show() saves them as PNG files named after the script.")
    parser.add_argument("--seed", type=int, help="seed the global np.random the series' code draws from")
    parser.add_argument("--save-figures", metavar="DIR",
                        help="save each figure shown as DIR/SCRIPT.N.png (default without a display: ./figures)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="BLAS threads for the script's NumPy (default: $NUMPYNN_THREADS, else 1)")
    parser.add_argument("script", metavar="SCRIPT.py", help="the script to run")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments passed on to the script")
    return parser


def seed_global(n: int) -> None:
    """np.random.seed(n): the series' scripts and its dropout draw from NumPy's global state, and a seed repeats
    them. numpynn's one call into that state, here and for `numpynn check` (app/check/mistakes.py)."""
    import numpy as np
    np.random.seed(n)


def main(argv=None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if not args.script.endswith(".py"):
        print(f"numpynn: error: {args.script} is not a Python script; pass the path of a .py file.", file=sys.stderr)
        return 2
    if not os.path.isfile(args.script):
        print(f"numpynn: error: {args.script} does not exist; pass the path of a Python script.", file=sys.stderr)
        return 2
    if not has_display():
        os.environ.setdefault("MPLBACKEND", "Agg")  # no window can open: draw off-screen, then save
    sys.argv = [args.script, *args.script_args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.script)))  # as `python SCRIPT.py`: modules beside it import
    if args.seed is not None:
        seed_global(args.seed)
    try:
        n_threads = threads.resolve(args.threads)  # the one thread policy: the script's NumPy on N BLAS threads
    except ValueError as e:
        print(f"numpynn: error: {e}", file=sys.stderr)
        return 2
    with threads.limit(n_threads), offline_openml(), figures_to_png(args.script, args.save_figures):
        runpy.run_path(args.script, run_name="__main__")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
