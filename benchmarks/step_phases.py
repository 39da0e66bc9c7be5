"""Time each phase of numpynn's training step inside a real MNIST epoch loop: where a step's microseconds go.

    python benchmarks/step_phases.py [--batch-size 64] [--threads 2] [--epochs 3]

The loop is fit's, written out by hand with a clock between phases (gather and scaling, each layer's
forward and backward, the loss, its gradient, the accuracy count, the SGD step). A profiler samples;
this counts every step, and its medians show what an optimisation changed, phase by phase. Small NumPy
calls cost 1.5-3x more here than in isolation: every step streams the 800 KB first-layer weight and its
gradient through the caches.
"""

import argparse
import time

import contenders as C
import numpy as np
from threadpoolctl import threadpool_limits

import numpynn as nn
from numpynn import datasets

PHASES = ["gather + scale", "0 Linear forward", "1 ReLU forward", "2 Linear forward", "loss", "accuracy count",
          "loss gradient", "2 Linear backward", "1 ReLU backward", "0 Linear backward", "SGD step"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=3)
    args = p.parse_args(argv)
    data, b = C.Data(), args.batch_size
    x, y = data.x_train_uint8, data.y_train
    model = nn.mlp(list(C.SIZES), seed=0)
    lin0, relu, lin2 = model.layers
    loss_fn, optimizer = nn.CrossEntropyLoss(), nn.SGD(model, lr=C.LR)
    preprocess, rng = datasets.Scaler("255", np.float32), np.random.default_rng(0)
    raw, scaled = np.empty((b, x.shape[1]), x.dtype), np.empty((b, x.shape[1]), np.float32)
    clock, spent = time.perf_counter, [[] for _ in PHASES]
    with threadpool_limits(limits=args.threads):
        for _ in range(args.epochs):
            order = rng.permutation(len(x))
            for start in range(0, len(x) - b + 1, b):  # full batches only: every step does the same work
                t = [clock()]
                idx = order[start:start + b]
                xb = preprocess(x.take(idx, axis=0, out=raw), out=scaled)
                yb = y[idx]
                t.append(clock())
                h = lin0.forward(xb)
                t.append(clock())
                a = relu.forward(h)
                t.append(clock())
                logits = lin2.forward(a)
                t.append(clock())
                loss_fn(logits, yb)
                t.append(clock())
                loss_fn.count_correct(logits, yb)
                t.append(clock())
                g = loss_fn.backward()
                t.append(clock())
                g = lin2.backward(g)
                t.append(clock())
                g = relu.backward(g)
                t.append(clock())
                lin0.backward(g)
                t.append(clock())
                optimizer.step()
                t.append(clock())
                for bucket, t0, t1 in zip(spent, t, t[1:]):
                    bucket.append(t1 - t0)
    medians = [float(np.median(v)) * 1e6 for v in spent]
    print(f"batch {b}, {args.threads} BLAS thread(s), {len(spent[0])} steps; median microseconds per step:")
    for name, m, v in zip(PHASES, medians, spent):
        print(f"  {name:18s} {m:7.1f}   (p10 {np.percentile(v, 10) * 1e6:6.1f}, p90 {np.percentile(v, 90) * 1e6:7.1f})")
    gemm = sum(m for name, m in zip(PHASES, medians) if "Linear" in name)
    print(f"  {'sum':18s} {sum(medians):7.1f}   -> {sum(medians) * (len(x) // b) / 1e6:.3f} s an epoch; "
          f"the Linear phases (matrix products, bias) {gemm:.0f}, the rest {sum(medians) - gemm:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
