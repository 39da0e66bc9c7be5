"""Part 4.5 with numpynn's API: the 4.4 network (L2 and dropout) trained with and without momentum 0.9, with fit.

    python examples/series/part4_5_numpynn.py [--out DIR] [--samples 5000] [--epochs 20]

SGD(momentum=0.9) keeps torch's buffer v = 0.9 v + g and steps p -= lr v; the series' v = 0.9 v - lr g,
p += v is the same sequence of weights at a constant lr (its v is -lr times torch's), from zero velocities.
Writes DIR/part4_5.png (default runs/series): both runs' loss and test accuracy per epoch.
"""

import argparse

from part4_4_numpynn import main as compare

RUNS = {"momentum 0.9": {"dropout": 0.2, "weight_decay": 0.02, "momentum": 0.9},
        "plain SGD": {"dropout": 0.2, "weight_decay": 0.02, "momentum": 0.0}}


def main(out: str = "runs/series", samples: int = 5000, epochs: int = 20, seed: int = 0) -> dict[str, float]:
    return compare(out, samples, epochs, seed, runs=RUNS, name="part4_5")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/series", help="folder for part4_5.png")
    parser.add_argument("--samples", type=int, default=5000, help="MNIST images used (default 5000)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per run (default 20)")
    args = parser.parse_args()
    main(args.out, args.samples, args.epochs)
