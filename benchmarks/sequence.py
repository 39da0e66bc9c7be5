"""Sequence and attention recipes against PyTorch CPU: training steps of recipes/mnist-lstm.toml's and
recipes/mnist-vit.toml's networks, interleaved in one process, plus a per-layer profile of numpynn's step.

    python benchmarks/sequence.py [--pairs 5] [--batches 40] [--threads 1]  -> results/sequence.json, sequence.md

Each measurement is `--batches` training steps (batch 128, AdamW, float32) of the same network with the same
weights and data, numpynn and torch timed in turn (pairs in alternating order); the epoch figure scales the
median by 469 steps (60,000 images; `--batches 469` times whole epochs). Ratios are the median over the
pairs of numpynn's time over torch's in the same pair. Wall and process CPU seconds are both kept: on a
machine shared with other work the CPU time is the steadier comparison. Threads: threadpoolctl for numpynn's
BLAS, torch.set_num_threads.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

import numpynn as nn
from numpynn.interop.torch_equivalent import to_torch
from numpynn.io.atomic import atomic_write_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recipes import build  # noqa: E402  (the recipe runner's builder: the same networks)

ROOT = Path(__file__).resolve().parent.parent
STEPS_PER_EPOCH = 469


def _numpynn_steps(model, x, y, batches, batch):
    loss, opt = nn.CrossEntropyLoss(), nn.AdamW(model, lr=1e-3)

    def run():
        for i in range(batches):
            xb, yb = x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]
            loss(model.forward(xb), yb)
            model.backward(loss.backward())
            opt.step()
    return run


def _torch_steps(net, x, y, batches, batch):
    net.train()
    opt, loss = torch.optim.AdamW(net.parameters(), lr=1e-3), torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def run():
        for i in range(batches):
            opt.zero_grad()
            loss(net(xt[i * batch:(i + 1) * batch]), yt[i * batch:(i + 1) * batch]).backward()
            opt.step()
    return run


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def profile_layers(model, x, y, steps=5) -> list[dict]:
    """Seconds of forward and backward per layer, summed over `steps` training steps (CPU time)."""
    totals = {i: [0.0, 0.0] for i in range(len(model.layers))}
    loss = nn.CrossEntropyLoss()
    for _ in range(steps):
        h = x.astype(model.dtype)
        for i, layer in enumerate(model.layers):
            c0 = time.process_time()
            h = layer.forward(h)
            totals[i][0] += time.process_time() - c0
        loss(h, y)
        g = loss.backward()
        for i in reversed(range(model._first_trainable(), len(model.layers))):
            c0 = time.process_time()
            g = model.layers[i].backward(g)
            totals[i][1] += time.process_time() - c0
    return [{"layer": i, "type": type(model.layers[i]).__name__, "forward_ms": 1e3 * f / steps,
             "backward_ms": 1e3 * b / steps} for i, (f, b) in totals.items()]


def compare(recipe: str, pairs: int, batches: int) -> dict:
    import tomllib
    cfg = tomllib.loads((ROOT / "recipes" / f"{recipe}.toml").read_text())
    model, shape = build(cfg["model"], 0)
    batch = cfg["optim"]["batch_size"]
    rng = np.random.default_rng(0)
    x = rng.random((batches * batch, *shape), dtype=np.float32)
    y = rng.integers(0, 10, batches * batch)
    net = to_torch(model)
    fns = {"numpynn": _numpynn_steps(model, x, y, batches, batch), "torch": _torch_steps(net, x, y, batches, batch)}
    for fn in fns.values():
        fn()  # warm-up
    wall, cpu = {k: [] for k in fns}, {k: [] for k in fns}
    loads = []
    for p in range(pairs):
        for name in (("numpynn", "torch") if p % 2 == 0 else ("torch", "numpynn")):
            w, c = _timed(fns[name])
            wall[name].append(w)
            cpu[name].append(c)
        loads.append(os.getloadavg()[0])
    med = {k: {"wall": statistics.median(wall[k]), "cpu": statistics.median(cpu[k])} for k in fns}
    return {"recipe": recipe, "batches": batches, "batch_size": batch, "pairs": pairs, "wall": wall, "cpu": cpu,
            "median": med,  # ratios: the median over pairs of numpynn's time over torch's in the same pair
            "ratio_wall": statistics.median(a / b for a, b in zip(wall["numpynn"], wall["torch"])),
            "ratio_cpu": statistics.median(a / b for a, b in zip(cpu["numpynn"], cpu["torch"])),
            "epoch_seconds_cpu": {k: v["cpu"] * STEPS_PER_EPOCH / batches for k, v in med.items()},
            "loadavg_per_pair": loads, "profile": profile_layers(model, x[:batch], y[:batch])}


def render(result: dict) -> str:
    lines = [f"# Sequence and attention recipes vs PyTorch CPU ({result['date']}, commit {result['commit']})", "",
             f"{result['threads']} thread(s) each; BLAS {result['blas']}; torch {result['torch']}; load average "
             f"{result['loadavg_before'][0]:.1f} before, {result['loadavg_after'][0]:.1f} after.", "",
             "| network | steps x pairs | numpynn CPU s | torch CPU s | ratio (CPU) | ratio (wall) | epoch CPU s "
             "numpynn / torch |", "|---|---|---|---|---|---|---|"]
    for r in result["networks"]:
        m, e = r["median"], r["epoch_seconds_cpu"]
        lines.append(f"| {r['recipe']} | {r['batches']} x {r['pairs']} | {m['numpynn']['cpu']:.2f} | "
                     f"{m['torch']['cpu']:.2f} | {r['ratio_cpu']:.2f}x | {r['ratio_wall']:.2f}x | "
                     f"{e['numpynn']:.0f} / {e['torch']:.0f} |")
    for r in result["networks"]:
        lines += ["", f"Per-layer CPU ms per training step (batch {r['batch_size']}), {r['recipe']}:", "",
                  "| layer | forward | backward |", "|---|---|---|"]
        lines += [f"| {p['layer']} {p['type']} | {p['forward_ms']:.1f} | {p['backward_ms']:.1f} |"
                  for p in r["profile"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    torch.set_num_threads(args.threads)
    result = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "commit": commit.stdout.strip(),
              "threads": args.threads, "torch": torch.__version__, "loadavg_before": os.getloadavg(),
              "blas": ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})"
                                for b in threadpool_info() if b.get("user_api") == "blas")}
    with threadpool_limits(limits=args.threads):
        result["networks"] = [compare(r, args.pairs, args.batches) for r in ("mnist-lstm", "mnist-vit")]
    result["loadavg_after"] = os.getloadavg()
    out = ROOT / "benchmarks" / "results"
    atomic_write_text(out / "sequence.json", json.dumps(result, indent=1))
    atomic_write_text(out / "sequence.md", render(result))
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
