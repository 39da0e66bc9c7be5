"""numpynn at an older commit against the working tree: one MNIST epoch each, interleaved, same data and seed.

    python benchmarks/before_after.py f035ee8 [--repeats 7] [--batch-sizes 64,256]

The old src/numpynn is extracted with `git archive` into a temporary folder and imported as numpynn_<rev>
(its core modules import each other relatively, so both versions live in one process). PyTorch and the
GEMM floor run in the same rotation, so the ratios before and after are measured under the same load.
"""

import argparse
import importlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import contenders as C
from run import THREADS, summary
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent


def import_revision(rev: str, folder: Path):
    """src/numpynn as of `rev`, imported under the name numpynn_<rev>."""
    archive = subprocess.run(["git", "archive", "--format=tar", rev, "src/numpynn"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    tar_path = folder / "old.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(folder, filter="data")
    name = f"numpynn_{rev.replace('-', '_').replace('~', '_').replace('^', '_')}"
    shutil.move(folder / "src" / "numpynn", folder / name)
    sys.path.insert(0, str(folder))
    return importlib.import_module(name)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("rev", help="the older commit, e.g. f035ee8")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--batch-sizes", default="64,256")
    args = p.parse_args(argv)
    skip = C.available()
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(limits=THREADS):
        old = import_revision(args.rev, Path(tmp))
        data = C.Data()
        for b in (int(s) for s in args.batch_sizes.split(",")):
            # The old revision gets float32 input (older fits have no preprocess); the working tree runs both ways.
            runners = [C.Numpynn(data, b, package=old, name=f"numpynn @ {args.rev}", float32_input=True),
                       C.Numpynn(data, b, float32_input=True), C.Numpynn(data, b), C.GemmFloor(data, b)]
            if not skip["PyTorch"]:
                runners.append(C.Torch(data, b))
            for r in runners:
                r.epoch()
            times = {r.name: [] for r in runners}
            for rep in range(args.repeats):
                for r in runners[rep % len(runners):] + runners[:rep % len(runners)]:
                    t0 = time.perf_counter()
                    inner = r.epoch()
                    times[r.name].append(inner if inner is not None else time.perf_counter() - t0)
            stats = {k: summary(v) for k, v in times.items()}
            print(f"\nbatch {b}, {args.repeats} interleaved epochs each (seconds per epoch):")
            for k, s in stats.items():
                print(f"  {k:22s} median {s['median']:.3f}  min {s['min']:.3f}  max {s['max']:.3f}")
            ref = [k for k in stats if k not in ("GEMM floor", "PyTorch")]
            for other in ("PyTorch", "GEMM floor"):
                if other in stats:
                    print("  " + ", ".join(f"{k} / {other}: {stats[k]['median'] / stats[other]['median']:.2f} "
                                           f"(best {stats[k]['min'] / stats[other]['min']:.2f})" for k in ref))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
