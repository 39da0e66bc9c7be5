"""Profile one numpynn MNIST epoch (batch 64, 2 threads) with pyinstrument; prints the call tree and the top
functions by own time, and writes both to benchmarks/results/profile.txt.

    python benchmarks/profile_epoch.py [--batch-size 64]
"""

import argparse
import sys
from pathlib import Path

import contenders as C
import numpy as np
from threadpoolctl import threadpool_limits

import numpynn as nn
from numpynn import datasets
from numpynn.io.atomic import atomic_write_text

HERE = Path(__file__).resolve().parent


def top_functions(session, limit: int = 12) -> list[tuple[float, str]]:
    """(seconds of own time, 'function  file:line') for the functions that spent the most time themselves."""
    own: dict[str, float] = {}

    def walk(frame):
        if not frame.is_synthetic:  # pyinstrument's "[self]" children repeat their parent's own time
            owner = f"{frame.class_name}." if frame.class_name else ""
            key = f"{owner}{frame.function}  {Path(frame.file_path or '?').name}:{frame.line_no}"
            own[key] = own.get(key, 0.0) + frame.total_self_time
        for child in frame.children:
            walk(child)

    walk(session.root_frame())
    return sorted(((t, k) for k, t in own.items()), reverse=True)[:limit]


def main(argv=None) -> int:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: pip install pyinstrument (or pip install -e '.[bench]').")
        return 1
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args(argv)
    data = C.Data()
    with threadpool_limits(limits=2):
        model = nn.mlp(list(C.SIZES), seed=0)
        loss_fn, optimizer = nn.CrossEntropyLoss(), nn.SGD(model, lr=C.LR)
        rng = np.random.default_rng(0)
        preprocess = datasets.Scaler("255", np.float32)  # as numpynn train: uint8 rows, scaled batch by batch
        run = lambda: nn.fit(model, loss_fn, optimizer, data.x_train_uint8, data.y_train, epochs=1,  # noqa: E731
                             batch_size=args.batch_size, rng=rng, verbose=0, preprocess=preprocess)
        run()  # warm-up: page faults and BLAS buffers out of the way
        profiler = Profiler(interval=0.0005)
        profiler.start()
        run()
        profiler.stop()
    session = profiler.last_session
    total = session.duration
    lines = [f"One epoch, batch {args.batch_size}: {total:.2f} s wall, {session.cpu_time:.2f} s CPU", "",
             "Top functions by own time:"]
    lines += [f"  {t:6.3f} s  {100 * t / total:5.1f} %  {name}" for t, name in top_functions(session)]
    text = "\n".join(lines) + "\n\n" + profiler.output_text(unicode=False, color=False, show_all=False)
    atomic_write_text(HERE / "results" / "profile.txt", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
