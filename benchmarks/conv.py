"""`make bench`, convolutions: CNN training epochs, the heaviest MNIST conv layer, predict, peak RSS, per layer.

    python benchmarks/conv.py [--threads 1] [--repeats 5] [--rows 60000] [--rss-subset N] [--networks mnist-cnn]
        -> results/conv-<T>thread.json and .md

numpynn and PyTorch run side by side in one process, interleaved in a rotating order, with T threads each
(numpynn.threads.limit(T) for numpynn: T BLAS threads, batch splitting only with NUMPYNN_BATCH_SPLIT=1;
torch.set_num_threads for PyTorch), float32, the same layers, weights and batch; the bare GEMMs of the same
im2col shapes are the floor.
The ratios are the result, the seconds are this (shared) machine's. Networks: recipes/mnist-cnn.toml's and
recipes/lenet5.toml's, without augmentation.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import record
from threadpoolctl import threadpool_limits

import numpynn as nn
from numpynn import datasets, threads
from numpynn.app.runs.build import build_model, build_optimizer
from numpynn.app.runs.config_file import load_train_config
from numpynn.io.atomic import atomic_write_text
from numpynn.nn import functional as F

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
THREADS = 1  # numpynn's default (numpynn.threads); make bench also runs --threads 2
RECIPES = {"mnist-cnn": ROOT / "recipes" / "mnist-cnn.toml", "LeNet-5": ROOT / "recipes" / "lenet5.toml"}
RSS_WRAPPER = ("import os, subprocess, sys; child = subprocess.Popen(sys.argv[2:]); "
               "_, status, usage = os.wait4(child.pid, 0); open(sys.argv[1], 'w').write(str(usage.ru_maxrss)); "
               "sys.exit(os.waitstatus_to_exitcode(status))")


def summary(times):
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "runs": times}


def interleaved(fns: dict, repeats: int) -> dict:
    """Seconds per call of each function (record.interleaved_pairs), in the shape report() reads.

    Also the process CPU seconds: on a machine shared with other work, wall time includes the time slices the
    scheduler gave to others (a 6 ms loop measured 27 ms at load 13).
    """
    r = record.interleaved_pairs(fns, repeats)
    return {k: {**summary(r[k]["runs"]), "cpu": summary(r[k]["cpu_runs"]), "load_per_round": r["load_per_round"]}
            for k in fns}


def pair_ratio(times: dict, a: str, b: str) -> float:
    """Median over the rounds of a's time / b's time in the same round (the issue's 'interleaved pairs')."""
    return statistics.median(x / y for x, y in zip(times[a]["runs"], times[b]["runs"]))


def torch_twin(model):
    """The equivalent torch.nn.Sequential with the same weights (what a model.safetensors loads into)."""
    import torch
    t = torch.nn
    make = {"Conv2d": lambda c: t.Conv2d(c["in_channels"], c["out_channels"], c["kernel_size"], c["stride"],
                                         c["padding"], bias=c["bias"]),
            "BatchNorm2d": lambda c: t.BatchNorm2d(c["num_features"], c["eps"], c["momentum"]),
            "BatchNorm1d": lambda c: t.BatchNorm1d(c["num_features"], c["eps"], c["momentum"]),
            "MaxPool2d": lambda c: t.MaxPool2d(c["kernel_size"], c["stride"], c["padding"]),
            "Linear": lambda c: t.Linear(c["in_features"], c["out_features"], bias=c["bias"]),
            "Dropout": lambda c: t.Dropout(c["p"]), "ReLU": lambda c: t.ReLU(), "Flatten": lambda c: t.Flatten()}
    net = t.Sequential(*(make[c["type"]](c) for c in model.config()))
    net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in model.state_dict().items()})
    return net


class Network:
    """One recipe's network for numpynn and PyTorch: an epoch each, the GEMM floor, predict, a step's profile."""

    def __init__(self, name, x, y, x_test, rows, n_threads=1):
        self.config = load_train_config(RECIPES[name]).replace(augment_shift=0)
        self.name, self.batch, self.threads = name, self.config.batch_size, n_threads
        self.x, self.y, self.x_test = x[:rows], y[:rows], x_test
        self.model = build_model(self.config, 784, 10, np.random.default_rng(0), (1, 28, 28))
        self.optimizer = build_optimizer(self.config, self.model)
        self.scaler = datasets.Scaler(self.config.scale)
        import torch
        self.torch = torch
        self.net = torch_twin(self.model)
        c = self.config
        self.topt = torch.optim.SGD(self.net.parameters(), lr=c.lr, momentum=c.momentum, nesterov=c.nesterov,
                                    weight_decay=c.weight_decay or 0)
        self.tx = torch.from_numpy(self.scaler(self.x))
        self.ty = torch.from_numpy(self.y.astype(np.int64))
        self.rng = np.random.default_rng(1)

    def numpynn_epoch(self):  # under numpynn's thread policy with --threads (BLAS threads)
        with threads.limit(self.threads):
            self._numpynn_epoch()

    def _numpynn_epoch(self):
        nn.fit(self.model, nn.CrossEntropyLoss(), self.optimizer, self.x, self.y, epochs=1, batch_size=self.batch,
               preprocess=self.scaler, rng=self.rng, verbose=0)

    def torch_epoch(self):
        torch, net = self.torch, self.net
        net.train()
        order = torch.from_numpy(self.rng.permutation(len(self.tx)))
        for i in range(0, len(order), self.batch):
            idx = order[i:i + self.batch]
            self.topt.zero_grad()
            out = net(self.tx[idx])
            loss = torch.nn.functional.cross_entropy(out, self.ty[idx])
            loss.backward()
            self.topt.step()
            loss.item(), (out.argmax(1) == self.ty[idx]).sum().item()  # what fit reports per batch

    def gemm_floor(self):
        """The epoch's matrix products alone, with the shapes and memory layouts numpynn's layers use (an operand
        marked T is the transpose of a C-order array, as g.T or weight.T is there), into out= buffers."""
        shapes, shape = [], (self.batch, 1, 28, 28)
        first = True
        for layer in self.model.layers:
            if isinstance(layer, nn.Conv2d):
                n, c, ho, wo = layer.output_shape(shape)
                m, k, o = n * ho * wo, c * layer.kernel_size[0] * layer.kernel_size[1], layer.out_channels
                # cols @ w2.T; g.T @ cols; g @ w2
                shapes += [(m, k, o, "", "T"), (o, m, k, "T", "")] + ([] if first else [(m, o, k, "", "")])
            elif isinstance(layer, nn.Linear):
                m, k, o = shape[0], layer.in_features, layer.out_features
                # x @ W.T (C-order (in, out) memory); x.T @ g; g @ W (its transpose)
                shapes += [(m, k, o, "", ""), (k, m, o, "T", "")] + ([] if first else [(m, o, k, "", "T")])
            first = False
            shape = layer.output_shape(shape) if hasattr(layer, "output_shape") else shape
        rng = np.random.default_rng(0)

        def operand(rows, cols, layout):
            return rng.random((cols, rows), np.float32).T if layout == "T" else rng.random((rows, cols), np.float32)
        self.products = [(operand(a, b, la), operand(b, c, lb), np.empty((a, c), np.float32))
                         for a, b, c, la, lb in shapes]
        self.flops_per_step = sum(2 * a * b * c for a, b, c, _, _ in shapes)
        steps = -(-len(self.x) // self.batch)

        def epoch():
            for _ in range(steps):
                for a, b, out in self.products:
                    np.matmul(a, b, out=out)
        return epoch

    def predict(self, which):
        x = self.scaler(self.x_test)
        if which == "numpynn":
            def run_numpynn():
                with threads.limit(self.threads):
                    return self.model.predict(x)
            return run_numpynn
        tx = self.torch.from_numpy(x)

        def run():
            self.net.eval()
            with self.torch.no_grad():
                return self.net(tx).argmax(1)
        return run

    def profile(self, steps=20) -> list[dict]:
        """Median ms of each layer's forward and backward over `steps` training steps (after one warm-up), as
        process CPU time (wall time on a shared machine is mostly other processes' time slices)."""
        model, loss_fn = self.model, nn.CrossEntropyLoss()
        xb, yb = self.scaler(self.x[:self.batch]), self.y[:self.batch]
        times = [[[], []] for _ in model.layers]
        for _ in range(steps + 1):
            h = xb
            for i, layer in enumerate(model.layers):
                t0 = time.process_time()
                h = layer.forward(h)
                times[i][0].append(time.process_time() - t0)
            loss_fn(h, yb)
            g = loss_fn.backward()
            for i in reversed(range(len(model.layers))):
                t0 = time.process_time()
                g = model.layers[i].backward(g)
                times[i][1].append(time.process_time() - t0)
        return [{"layer": f"{i} {layer!r}", "forward_ms": 1e3 * statistics.median(f[1:]),
                 "backward_ms": 1e3 * statistics.median(b[1:])} for i, (layer, (f, b)) in
                enumerate(zip(model.layers, times))]


def heaviest_layer(repeats: int) -> dict:
    """Conv2d(32, 64, 3) on (64, 32, 26, 26), forward + backward with the input gradient: numpynn's NHWC-in-memory
    layer, two NCHW alternatives it was measured against, PyTorch, and the three GEMMs alone."""
    import torch
    rng = np.random.default_rng(0)
    n, c, h, w, o, k = 64, 32, 26, 26, 64, 3
    ho, wo = h - k + 1, w - k + 1
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    x_cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # as a Conv2d's output arrives
    g = rng.standard_normal((n, o, ho, wo)).astype(np.float32)
    g_cl = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    layer = nn.Conv2d(c, o, k, rng=0)
    weight = np.ascontiguousarray(layer.params["weight"])
    w2 = weight.reshape(o, -1)

    def numpynn_layer():
        layer.forward(x_cl)
        layer.backward(g_cl)

    cols_rows = np.empty((n * ho * wo, c * k * k), np.float32)

    def nchw_rows():  # columns in (C, kh, kw) order from NCHW memory; transposes around the GEMMs
        c6 = cols_rows.reshape(n, ho, wo, c, k, k)
        np.copyto(c6, np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5))
        np.ascontiguousarray((cols_rows @ w2.T).reshape(n, ho, wo, o).transpose(0, 3, 1, 2))
        g2 = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, o)
        g2.T @ cols_rows
        d6 = (g2 @ w2).reshape(n, ho, wo, c, k, k)
        dx = np.zeros_like(x)
        for i in range(k):
            for j in range(k):
                dst = dx[:, :, i:i + ho, j:j + wo]
                np.add(dst, d6[:, :, :, :, i, j].transpose(0, 3, 1, 2), out=dst)

    cols_b = np.empty((n, c * k * k, ho * wo), np.float32)

    def nchw_batched():  # columns (N, C*kh*kw, Ho*Wo): the GEMM writes NCHW directly, one GEMM per image
        c6 = cols_b.reshape(n, c, k, k, ho, wo)
        for i in range(k):
            for j in range(k):
                c6[:, :, i, j] = x[:, :, i:i + ho, j:j + wo]
        np.matmul(w2, cols_b)
        g3 = g.reshape(n, o, -1)
        np.tensordot(g3, cols_b, axes=([0, 2], [0, 2]))
        d6 = np.matmul(w2.T, g3).reshape(n, c, k, k, ho, wo)
        dx = np.zeros_like(x)
        for i in range(k):
            for j in range(k):
                dst = dx[:, :, i:i + ho, j:j + wo]
                np.add(dst, d6[:, :, i, j], out=dst)

    m, kk = n * ho * wo, c * k * k
    a, b, out = rng.random((m, kk), np.float32), rng.random((kk, o), np.float32), np.empty((m, o), np.float32)
    gg, wg, dc = rng.random((o, m), np.float32), np.empty((o, kk), np.float32), np.empty((m, kk), np.float32)

    def floor():
        np.matmul(a, b, out=out)
        np.matmul(gg, a, out=wg)
        np.matmul(out, b.T, out=dc)

    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(weight, requires_grad=True)
    gt = torch.from_numpy(g)

    def torch_layer():
        xt.grad = wt.grad = None
        torch.nn.functional.conv2d(xt, wt).backward(gt)

    np.testing.assert_allclose(F.conv2d(x, weight), torch.nn.functional.conv2d(torch.from_numpy(x),
                                                                                 torch.from_numpy(weight)).numpy(),
                               atol=1e-3)
    fns = {"numpynn Conv2d (NHWC memory)": numpynn_layer, "NCHW, (N*P, C*k*k) columns": nchw_rows,
           "NCHW, batched (N, C*k*k, P) GEMMs": nchw_batched, "PyTorch": torch_layer, "GEMM floor": floor}
    return {"shape": "Conv2d(32, 64, 3) on 64x32x26x26, forward + backward", "flops": 3 * 2 * m * kk * o,
            "times": interleaved(fns, 5 * repeats)}


def peak_rss(subset: int | None) -> dict:
    """`numpynn train --config recipes/mnist-cnn.toml --epochs 1` in a child: its peak RSS."""
    with tempfile.TemporaryDirectory() as out:
        rss_file = Path(out) / "rss"
        cmd = [sys.executable, "-m", "numpynn", "train", "--config", str(RECIPES["mnist-cnn"]), "--epochs", "1",
               "--no-plots", "--quiet", "--out", out] + (["--subset", str(subset)] if subset else [])
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", RSS_WRAPPER, str(rss_file), *cmd], cwd=ROOT, capture_output=True,
                              text=True)
        kib = int(rss_file.read_text()) if rss_file.exists() else None
    return {"command": " ".join(cmd[2:]), "returncode": done.returncode, "seconds": time.perf_counter() - t0,
            "peak_rss_mb": None if kib is None else kib * 1024 / 1e6, "stderr_tail": done.stderr[-500:]}


def report(result: dict) -> str:
    lines = [f"# Convolutions: numpynn vs PyTorch, {result['threads']} thread(s) each, float32", "",
             record.header_line(result), "",
             f"numpynn under `numpynn.threads.limit({result['threads']})` (BLAS threads; batch splitting "
             f"{'on' if threads.split_wanted() else 'off'}), PyTorch "
             f"with torch.set_num_threads({result['threads']}); contenders interleaved in one process, rotating order. "
             "Ratios: the median over rounds of the two times measured back to back in that round (pairs).", ""]
    heavy = result.get("heaviest_layer")
    if heavy:
        lines += [f"## {heavy['shape']}", "", "| implementation | median ms | min ms | / PyTorch (pairs) | GFLOP/s "
                  "| CPU ms (median) | / PyTorch (CPU) |", "| --- | --- | --- | --- | --- | --- | --- |"]
        ref_cpu = heavy["times"]["PyTorch"]["cpu"]["median"]
        for name, t in heavy["times"].items():
            lines.append(f"| {name} | {1e3 * t['median']:.1f} | {1e3 * t['min']:.1f} | "
                         f"{pair_ratio(heavy['times'], name, 'PyTorch'):.2f} | "
                         f"{heavy['flops'] / t['median'] / 1e9:.1f} | {1e3 * t['cpu']['median']:.1f} | "
                         f"{t['cpu']['median'] / ref_cpu:.2f} |")
        lines.append("")
    for net in result["networks"]:
        lines += _network_lines(net)
    if result.get("rss"):
        r = result["rss"]
        lines += ["", f"Training peak RSS: {r['peak_rss_mb']:.0f} MB (`{r['command']}`, exit {r['returncode']})"]
    return "\n".join(lines) + "\n"


def _network_lines(net: dict) -> list:
    t = net["epoch"]
    lines = [f"## {net['name']}: one training epoch of {net['rows']:,} images, batch {net['batch']}", "",
             f"load average after each round: {', '.join(f'{v:.1f}' for v in t['PyTorch'].get('load_per_round', []))}",
             "", "| contender | median s | min s | / PyTorch (pairs) | / PyTorch (min) | CPU s | / PyTorch (CPU) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    ref = t["PyTorch"]
    for name, v in t.items():
        lines.append(f"| {name} | {v['median']:.2f} | {v['min']:.2f} | {pair_ratio(t, name, 'PyTorch'):.2f} "
                     f"| {v['min'] / ref['min']:.2f} | {v['cpu']['median']:.2f} | "
                     f"{v['cpu']['median'] / ref['cpu']['median']:.2f} |")
    p = net["predict"]
    lines += ["", "predict on 10,000 test images: " + ", ".join(
        f"{k} {10000 / v['median']:,.0f} img/s ({v['median']:.2f} s)" for k, v in p.items() if k != "load_per_round")
        + f"; numpynn / PyTorch time (pairs) {pair_ratio(p, 'numpynn', 'PyTorch'):.2f}"]
    if net.get("profile"):
        lines += ["", "per-layer profile of a step (numpynn, median CPU ms):", "", "| layer | forward | backward |",
                  "| --- | --- | --- |"]
        lines += [f"| {r['layer']} | {r['forward_ms']:.2f} | {r['backward_ms']:.2f} |" for r in net["profile"]]
    return lines + [""]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5, help="timed epochs per contender (rounds of pairs)")
    p.add_argument("--rows", type=int, default=60000, help="training images per timed epoch (60000: a full epoch)")
    p.add_argument("--rss-subset", type=int, default=None, help="--subset for the peak-RSS run (default: all)")
    p.add_argument("--no-rss", action="store_true")
    p.add_argument("--no-layer", action="store_true", help="skip the heaviest-layer comparison")
    p.add_argument("--no-floor", action="store_true", help="skip the GEMM floor epochs")
    p.add_argument("--networks", default=",".join(RECIPES), help="comma-separated: " + ", ".join(RECIPES))
    p.add_argument("--threads", type=int, default=THREADS, help="numpynn and PyTorch threads (default: 1)")
    p.add_argument("--label", default="", help="suffix of the results files, e.g. 'unset' for the run under "
                   "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE")
    p.add_argument("--out", default=str(HERE / "results"))
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: the convolution benchmark compares against it, so it is skipped.")
        return 0
    torch.set_num_threads(args.threads)
    result = record.machine(args.threads, networks=[], torch=torch.__version__, rows=args.rows)
    (x, y), (x_test, _) = datasets.load_mnist()
    x, x_test = x[:, None], x_test[:, None]  # (N, 1, 28, 28) uint8, scaled per batch as `numpynn train` does
    with threadpool_limits(limits=args.threads):  # the GEMM floor's and the layer comparison's BLAS threads
        if not args.no_layer:
            result["heaviest_layer"] = heaviest_layer(args.repeats)
        for name in args.networks.split(","):
            net = Network(name, x, y, x_test, args.rows, args.threads)
            fns = {"numpynn": net.numpynn_epoch, "PyTorch": net.torch_epoch}
            if not args.no_floor:
                fns["GEMM floor"] = net.gemm_floor()
            epoch = interleaved(fns, args.repeats)
            predict = interleaved({"numpynn": net.predict("numpynn"), "PyTorch": net.predict("torch")}, args.repeats)
            with threads.limit(args.threads):
                profile = net.profile()
            result["networks"].append({"name": name, "rows": len(net.x), "batch": net.batch, "epoch": epoch,
                                       "predict": predict, "profile": profile, "flops_per_step": net.flops_per_step
                                       if not args.no_floor else None})
            print(f"{name}: " + ", ".join(f"{k} {v['median']:.2f}s" for k, v in epoch.items()), flush=True)
    if not args.no_rss:
        result["rss"] = peak_rss(args.rss_subset)
    record.finish(result)
    out = Path(args.out)
    stem = f"conv-{args.threads}thread" + (f"-{args.label}" if args.label else "")
    atomic_write_text(out / f"{stem}.json", json.dumps(result, indent=1) + "\n")
    text = report(result)
    atomic_write_text(out / f"{stem}.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
