"""What every results file under benchmarks/results/ records about how it was made, and the interleaving helper.

    from record import machine, finish, interleaved_pairs

machine() at the start of a run: date (UTC), git commit (and whether the tree had changes), the 1-minute load
average before, the thread settings, NumPy's BLAS (library, version, kernel), OPENBLAS_CORETYPE /
OPENBLAS_L2_SIZE as set. finish(record) at the end adds the load average after. header_line(record) is the
one-line summary each .md file starts with.
"""

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                 "NUMPYNN_THREADS")


def _git(*args) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def blas_info() -> list[dict]:
    """NumPy's BLAS as threadpoolctl sees it: library, version, kernel (architecture), threads."""
    import numpy as np  # noqa: F401  (loads the BLAS threadpoolctl inspects)
    from threadpoolctl import threadpool_info
    return [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for i in threadpool_info() if i.get("user_api") == "blas"]


def machine(threads, **extra) -> dict:
    """The record's header, taken at the start of a run."""
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "commit": _git("rev-parse", "--short",
            "HEAD"), "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "loadavg_before": list(os.getloadavg()), "cpus": os.cpu_count(), "cpu": platform.processor() or
            platform.machine(), "threads": threads, "blas": blas_info(),
            "env": {k: os.environ[k] for k in OPENBLAS_VARS if k in os.environ}, **extra}


def finish(record: dict) -> dict:
    record["loadavg_after"] = list(os.getloadavg())
    return record


def header_line(r: dict) -> str:
    """`2026-12-03 14:02:11 UTC, commit abc1234, load 1.2 -> 3.4, 1 thread(s), openblas 0.3.31 (Haswell kernel)`."""
    blas = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']} kernel)" for b in r["blas"]) or "?"
    env = ", ".join(f"{k}={v}" for k, v in r["env"].items()) or "no OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE set"
    after = r.get("loadavg_after", [float("nan")])[0]
    return (f"{r['date']}, commit {r['commit']}{' (+ uncommitted changes)' if r['dirty'] else ''}, "
            f"1-minute load average {r['loadavg_before'][0]:.1f} before -> {after:.1f} after, "
            f"{r['cpus']} CPUs, threads: {r['threads']}, {blas}; {env}")


def interleaved_pairs(fns: dict, repeats: int, warmup: bool = True) -> dict:
    """Seconds per call of each function, one untimed call each first, then `repeats` rounds in a rotating order
    (so a burst of load from elsewhere hits every contender alike). Per contender: runs, median, min, CPU seconds,
    and the load average after each round."""
    if warmup:
        for f in fns.values():
            f()
    names = list(fns)
    wall, cpu, load = {k: [] for k in names}, {k: [] for k in names}, []
    for rep in range(repeats):
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            t0, c0 = time.perf_counter(), time.process_time()
            fns[name]()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
        load.append(os.getloadavg()[0])
    return {"load_per_round": load, **{k: {"runs": wall[k], "median": statistics.median(wall[k]), "min": min(wall[k]),
                                           "cpu_runs": cpu[k], "cpu_median": statistics.median(cpu[k])}
                                       for k in names}}


def pair_ratio(result: dict, a: str, b: str, key: str = "runs") -> float:
    """The median of the per-round ratios a / b (each round ran both back to back)."""
    return statistics.median(x / y for x, y in zip(result[a][key], result[b][key]))
