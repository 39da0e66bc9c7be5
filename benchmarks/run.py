"""`make bench`: one MNIST epoch (784-256-10, float32, --threads T) timed side by side, interleaved, in one run.

    python benchmarks/run.py --mode as-set [--threads 1]                          # the shell's environment
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py --mode unset  # results/<mode>-<T>thread.json
    python benchmarks/report.py                          # both runs -> benchmarks/results/latest.md

Contenders (benchmarks/contenders.py) run in turn, in a rotating order, `--repeats` times per batch size, so
machine load hits them alike; the ratios between them are the result, the seconds are this machine's.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import contenders as C
import numpy as np
import record
import report
from threadpoolctl import threadpool_info, threadpool_limits

from numpynn import threads
from numpynn.io.atomic import atomic_write_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
THREADS = 1  # numpynn's default (numpynn.threads); --threads 2 for the two-thread rows
EPOCH_LINE = re.compile(r"Epoch (\d+)/(\d+), Loss: ([\d.naif]+), Test Accuracy: ([\d.]+)")


def summary(times: list[float]) -> dict:
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "runs": times}


def time_epochs(data, batch_size: int, repeats: int, skip: dict, core: bool = False) -> dict:
    """Seconds per epoch for every contender at this batch size, interleaved in a rotating order (core: numpynn,
    PyTorch and the GEMM floor only)."""
    kinds = [C.Numpynn] + ([] if core else [lambda d, b: C.Numpynn(d, b, float32_input=True), C.Article])
    kinds.append(C.GemmFloor)
    if not skip["PyTorch"]:
        kinds += [C.Torch] + ([] if core else [lambda d, b: C.Torch(d, b, bookkeeping=False)])
    if not skip["scikit-learn"] and not core:
        kinds.append(C.Sklearn)
    runners = [kind(data, batch_size) for kind in kinds]
    for r in runners:  # one untimed warm-up epoch each: first-touch page faults, lazy init, BLAS buffers
        r.epoch()
    times, load = {r.name: [] for r in runners}, []
    for rep in range(repeats):
        load.append(os.getloadavg()[0])
        for r in runners[rep % len(runners):] + runners[:rep % len(runners)]:
            t0 = time.perf_counter()
            inner = r.epoch()
            times[r.name].append(inner if inner is not None else time.perf_counter() - t0)
        print(f"  batch {batch_size}, round {rep + 1}/{repeats}: "
              + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)
    return {"epoch": {k: summary(v) for k, v in times.items()}, "loadavg_per_round": load, "runners": runners}


def time_predict(runners, data, repeats: int) -> dict:
    """Seconds for predict() on the 10,000 test images, interleaved; plus each contender's test accuracy."""
    runners = [r for r in runners if r.name in ("numpynn", "article", "PyTorch", "scikit-learn")]
    times, accuracy = {r.name: [] for r in runners}, {}
    for r in runners:
        accuracy[r.name] = float(np.mean(r.predict(data.x_test) == data.y_test))
    for _ in range(repeats):
        for r in runners:
            t0 = time.perf_counter()
            r.predict(data.x_test)
            times[r.name].append(time.perf_counter() - t0)
    return {"predict": {k: summary(v) for k, v in times.items()}, "test_accuracy": accuracy}


def time_load(repeats: int = 3) -> dict:
    """Seconds for numpynn.datasets.load_mnist() in a fresh process (bundled files, OS cache warm)."""
    code = ("import time; t = time.perf_counter(); from numpynn import datasets; t1 = time.perf_counter(); "
            "datasets.load_mnist(); print(time.perf_counter() - t1, t1 - t)")
    load, imports = [], []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
        a, b = out.stdout.split()
        load.append(float(a))
        imports.append(float(b))
    result = {"load_mnist": summary(load), "import": summary(imports)}
    other = HERE / "bench_load_mnist.py"  # the loader's own benchmark: cold (fresh cache) and warm loads
    if other.exists():
        run = subprocess.run([sys.executable, str(other), "--repeat", str(repeats)], capture_output=True, text=True,
                             cwd=ROOT)
        result["bench_load_mnist"] = {"returncode": run.returncode, "output": run.stdout[-3000:]}
        for kind in ("cold", "warm"):
            m = re.search(rf"load_mnist {kind} .*?best ([\d.]+) s, median ([\d.]+) s", run.stdout)
            if m:
                result[kind] = {"min": float(m[1]), "median": float(m[2])}
    return result


# Runs argv[2:] and writes its peak RSS (KiB) to argv[1]. A small process must fork the measured one: Linux
# counts the forking process's memory, inherited until exec, in the child's ru_maxrss.
RSS_WRAPPER = ("import os, subprocess, sys; child = subprocess.Popen(sys.argv[2:]); "
               "_, status, usage = os.wait4(child.pid, 0); open(sys.argv[1], 'w').write(str(usage.ru_maxrss)); "
               "sys.exit(os.waitstatus_to_exitcode(status))")


def train_run(extra_args: list[str]) -> dict:
    """`numpynn train` (the default command) in a child: peak RSS, and wall time to 97.5 % test accuracy."""
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryFile("w+") as err:
        rss_file = Path(out) / "peak_rss_kib"
        command = [sys.executable, "-m", "numpynn", "train", "--out", str(Path(out) / "runs"), *extra_args]
        t0 = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", RSS_WRAPPER, str(rss_file), *command], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=err, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
        epochs, reached = [], None
        for line in child.stdout:
            m = EPOCH_LINE.search(line)
            if m:
                elapsed = time.perf_counter() - t0
                epochs.append({"epoch": int(m[1]), "test_acc": float(m[4]), "elapsed": elapsed})
                if reached is None and float(m[4]) >= 0.975:
                    reached = epochs[-1]
        rc = child.wait()
        total = time.perf_counter() - t0
        err.seek(0)
        tail = err.read()[-600:]
        peak_kib = int(rss_file.read_text()) if rss_file.exists() else None
    return {"command": " ".join(["numpynn train", *extra_args]), "returncode": rc, "seconds": total,
            "peak_rss_mb": None if peak_kib is None else peak_kib * 1024 / 1e6,  # Linux reports KiB
            "epochs": epochs, "reached_97_5": reached, "stderr_tail": tail if rc else ""}


def machine(mode: str, threads: int) -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "unknown CPU") if os.path.exists("/proc/cpuinfo") else "unknown CPU"
    blas = [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
            for i in threadpool_info() if i.get("user_api") == "blas" and "numpy" in (i.get("filepath") or "")]
    try:
        import torch
        torch.set_num_threads(threads)
        torch_info = {"version": torch.__version__, "threads": torch.get_num_threads(),
                      "mkl": torch.backends.mkl.is_available()}
    except ImportError:
        torch_info = None
    return {"mode": mode, "cpu": cpu, "cores": os.cpu_count(), "numpy": np.__version__, "numpy_blas": blas,
            "torch": torch_info, "threads": threads, "loadavg_start": os.getloadavg(),
            "commit": record.machine(threads)["commit"],
            "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                                   "OMP_NUM_THREADS")},
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", default="as-set", help="label for this run's environment (as-set or unset)")
    p.add_argument("--repeats", type=int, default=5, help="timed epochs per contender and batch size")
    p.add_argument("--batch-sizes", default="64,256")
    p.add_argument("--no-train-run", action="store_true",
                   help="skip the full `numpynn train` run (RSS, time to 97.5 %%)")
    p.add_argument("--train-args", default="", help="extra flags for that run (default: none, the default command)")
    p.add_argument("--rows", type=int, default=60000, help="training rows per epoch (default: all 60,000)")
    p.add_argument("--core", action="store_true", help="only numpynn, PyTorch and the GEMM floor")
    p.add_argument("--threads", type=int, default=THREADS, help="numpynn's, PyTorch's and BLAS threads (default 1)")
    p.add_argument("--out", default=str(HERE / "results"))
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be >= 1")

    skip = C.available()
    for message in filter(None, skip.values()):
        print(message)
    os.environ["BENCH_THREADS"] = str(args.threads)  # contenders.Torch's torch.set_num_threads
    info = machine(args.mode, args.threads)
    print(f"{args.mode}: {info['cpu']}, OpenBLAS {info['numpy_blas']}, env {info['env']}", flush=True)
    result = {"machine": info, "flops_per_sample": C.flops_per_sample(), "skipped": skip, "batches": {},
              "rows": args.rows}
    result["load"] = time_load()
    print(f"load_mnist: {result['load']['load_mnist']['median']:.3f}s", flush=True)
    with threadpool_limits(limits=args.threads), threads.limit(args.threads):
        data = C.Data(args.rows)
        for b in (int(s) for s in args.batch_sizes.split(",")):
            timed = time_epochs(data, b, args.repeats, skip, args.core)
            runners = timed.pop("runners")
            if b == 64:
                timed.update(time_predict(runners, data, 3 * args.repeats))
            result["batches"][str(b)] = timed
    if not args.no_train_run:
        print("numpynn train (default command) ...", flush=True)
        result["train_run"] = train_run(args.train_args.split())
    result["machine"]["loadavg_end"] = os.getloadavg()
    out = Path(args.out)
    path = out / f"{args.mode}-{args.threads}thread.json"
    atomic_write_text(path, json.dumps(result, indent=1) + "\n")
    print(report.section(result))
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
