"""Every entry point with 1 and 2 threads, beside two busy processes (and without): is the default ever >1.5x the best?

    python benchmarks/threads_entry.py [--repeats 3] [--busy 2] [--quiet-too]   -> results/threads_entry.json and .md

Each entry point runs as a child process the way a user starts it, with the thread count set the one documented
way (`--threads N` where the command has it, NUMPYNN_THREADS=N otherwise), so the policy in numpynn.threads is
what is measured, start-up included. The busy neighbours are processes spinning `while True: pass`. Settings
are interleaved (1 and 2 threads in a rotating order each round) so load from elsewhere hits both alike.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import record

from numpynn.io.atomic import atomic_write_text

HERE = Path(__file__).resolve().parent
PY = sys.executable
FIT = ("import numpy as np, numpynn as nn; from numpynn import datasets; (x, y), _ = datasets.load_mnist(); "
       "x = datasets.flatten(x[:5000]); m = nn.mlp([784, 256, 10], seed=0); "
       "nn.fit(m, nn.CrossEntropyLoss(), nn.SGD(m, lr=0.1), x, y[:5000], epochs=1, preprocess=datasets.Scaler('255'),"
       " verbose=0)")
ESTIMATOR = ("import numpy as np; from numpynn import datasets; from numpynn.sklearn import MLPClassifier; "
             "(x, y), (xt, yt) = datasets.load_mnist(); x = datasets.flatten(x[:3000]) / 255.0; "
             "c = MLPClassifier((256,), max_iter=2, random_state=0).fit(x, y[:3000]); "
             "c.predict(datasets.flatten(xt) / 255.0)")
PREDICT = ("import numpy as np, numpynn as nn; from numpynn import datasets; _, (xt, yt) = datasets.load_mnist(); "
           "m = nn.Sequential(nn.Conv2d(1, 16, 3, bias=False, rng=0), nn.BatchNorm2d(16), nn.ReLU(), "
           "nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), "
           "nn.Linear(800, 10, rng=0)); x = xt[:, None].astype(np.float32) / 255; m.predict(x)")
def entry_points(tmp: str) -> dict:
    """name: function(threads) -> (argv, env)."""
    article_script = Path(tmp) / "article_epochs.py"
    article_script.write_text(_article_script())
    env = dict(os.environ)
    env.pop("NUMPYNN_THREADS", None)
    env["MPLBACKEND"] = "Agg"

    def with_env(argv):
        return lambda t: (argv, {**env, "NUMPYNN_THREADS": str(t)})
    return {
        "numpynn train (MLP, 5,000 rows, 1 epoch)": lambda t: (
            [PY, "-m", "numpynn", "train", "--subset", "5000", "--epochs", "1", "--no-plots", "--quiet",
             "--out", tmp + f"/train{t}", "--threads", str(t)], env),
        "numpynn train --config mnist-cnn (640 rows, 1 epoch)": lambda t: (
            [PY, "-m", "numpynn", "train", "--config", "recipes/mnist-cnn.toml", "--subset", "640", "--epochs", "1",
             "--no-plots", "--quiet", "--out", tmp + f"/cnn{t}", "--threads", str(t)], env),
        "nn.fit (library, MLP, 5,000 rows, 1 epoch)": with_env([PY, "-c", FIT]),
        "numpynn.sklearn.MLPClassifier fit (3,000 rows, 2 epochs) + predict": with_env([PY, "-c", ESTIMATOR]),
        "model.predict (CNN, 10,000 images; serve and predict use it)": with_env([PY, "-c", PREDICT]),
        "python -m numpynn.article (article's code, 1 epoch of 5,000 rows)": with_env(
            [PY, "-m", "numpynn.article", str(article_script)]),
    }


def _article_script() -> str:
    return (f"import sys\nsys.path.insert(0, {str(HERE)!r})\nimport numpy as np\nimport article_baseline as a\n"
            "from numpynn import datasets\n(x, y), _ = datasets.load_mnist()\n"
            "x = datasets.flatten(x[:5000]).astype(np.float64) / 255\n"
            "t = np.eye(10)[y[:5000]]\nrng = np.random.default_rng(0)\n"
            "a.train_epoch(x, t, a.init_params(rng), rng)\n")


def timed(argv, env) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=record.ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv[:4])} failed: {done.stderr[-800:]}")
    return time.perf_counter() - t0


def measure(points: dict, busy: int, repeats: int) -> dict:
    spinners = [subprocess.Popen([PY, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        times = {name: {1: [], 2: []} for name in points}
        for rep in range(repeats):
            for name, make in points.items():
                for t in ((1, 2) if rep % 2 == 0 else (2, 1)):
                    times[name][t].append(timed(*make(t)))
                    print(f"busy={busy} {name} threads={t}: {times[name][t][-1]:.2f} s", flush=True)
        return times
    finally:
        for s in spinners:
            s.kill()
            s.wait()


def table(times: dict, title: str) -> list:
    lines = [f"### {title}", "", "| entry point | 1 thread (default), median s | 2 threads, median s | "
             "default / best | 2 threads / 1 |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, t in times.items():
        one, two = statistics.median(t[1]), statistics.median(t[2])
        pairs = statistics.median(b / a for a, b in zip(t[1], t[2]))
        lines.append(f"| {name} | {one:.2f} | {two:.2f} | {one / min(one, two):.2f} | {pairs:.2f} |")
    return lines + [""]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--busy", type=int, default=2, help="busy background processes (default 2)")
    p.add_argument("--quiet-too", action="store_true", help="also measure without our busy processes")
    p.add_argument("--only", default="", help="comma-separated words: run the entry points whose name has one")
    args = p.parse_args(argv)
    result = record.machine("1 and 2 (per entry point)", busy=args.busy, repeats=args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        points = entry_points(tmp)
        if args.only:
            points = {k: v for k, v in points.items() if any(w in k for w in args.only.split(","))}
        result["busy_times"] = {k: {str(t): v for t, v in d.items()} for k, d in
                                measure(points, args.busy, args.repeats).items()}
        if args.quiet_too:
            result["quiet_times"] = {k: {str(t): v for t, v in d.items()} for k, d in
                                     measure(points, 0, args.repeats).items()}
    record.finish(result)
    lines = ["# Thread settings at every entry point (benchmarks/threads_entry.py)", "", record.header_line(result),
             "", "Wall time of each command from launch to exit (start-up included), median of "
             f"{args.repeats}; 1 and 2 threads interleaved. The default is 1 thread (numpynn.threads).", ""]
    for key, title in (("busy_times", f"beside {args.busy} busy processes"), ("quiet_times", "without them")):
        if key in result:
            lines += table({k: {int(t): v for t, v in d.items()} for k, d in result[key].items()}, title)
    atomic_write_text(HERE / "results" / "threads_entry.json", json.dumps(result, indent=1) + "\n")
    atomic_write_text(HERE / "results" / "threads_entry.md", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
