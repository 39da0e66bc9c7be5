"""The one-channel Conv2d's output layout, A/B in one process: channel-major (weight @ columns, the default)
against channels-last rows (columns.T @ weight.T), with PyTorch beside both, for the two CNN recipes.

    python benchmarks/conv_layout.py [--rows 3200] [--rounds 7]   -> results/conv_layout.md

Each round times one numpynn epoch with each layout (order alternating between rounds) and one PyTorch epoch,
1 thread each; the figures are medians over rounds of the ratios within a round.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import conv
import record

from numpynn import datasets, threads
from numpynn.nn import conv as conv_layer

HERE = Path(__file__).resolve().parent


def compare(net, rounds: int) -> dict:
    def epoch(channel_major: bool) -> float:
        conv_layer.CHANNEL_MAJOR_ONE_CHANNEL = channel_major
        t0 = time.perf_counter()
        with threads.limit(1):
            net._numpynn_epoch()
        return time.perf_counter() - t0

    def torch_epoch() -> float:
        net.torch.set_num_threads(1)
        t0 = time.perf_counter()
        net.torch_epoch()
        return time.perf_counter() - t0

    epoch(True), epoch(False), torch_epoch()  # warm-up
    on_off, on_torch, off_torch = [], [], []
    for i in range(rounds):
        t = {f: epoch(f) for f in ((True, False) if i % 2 == 0 else (False, True))}
        tt = torch_epoch()
        on_off.append(t[True] / t[False])
        on_torch.append(t[True] / tt)
        off_torch.append(t[False] / tt)
    conv_layer.CHANNEL_MAJOR_ONE_CHANNEL = True
    return {"channel_major / channels_last": statistics.median(on_off),
            "channel_major / PyTorch": statistics.median(on_torch),
            "channels_last / PyTorch": statistics.median(off_torch)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=3200)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args(argv)
    result = record.machine(1, rows=args.rows, rounds=args.rounds)
    (x, y), (x_test, _) = datasets.load_mnist()
    x, x_test = x[:, None], x_test[:, None]
    result["networks"] = {name: compare(conv.Network(name, x, y, x_test, args.rows, 1), args.rounds)
                          for name in conv.RECIPES}
    record.finish(result)
    lines = ["# One-channel Conv2d output layout, A/B (benchmarks/conv_layout.py)", "", record.header_line(result), "",
             f"{args.rows}-image epochs, batch 128, 1 thread; medians over {args.rounds} rounds of the ratios "
             "within a round.", "", "| network | channel-major / channels-last | channel-major / PyTorch | "
             "channels-last / PyTorch |", "| --- | ---: | ---: | ---: |"]
    for name, r in result["networks"].items():
        lines.append(f"| {name} | {r['channel_major / channels_last']:.3f} | {r['channel_major / PyTorch']:.3f} | "
                     f"{r['channels_last / PyTorch']:.3f} |")
    (HERE / "results" / "conv_layout.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
