"""Vanishing gradients, made visible: a deep sigmoid MLP with N(0, 0.01) weights next to ReLU with He init.

    python examples/vanishing_gradients.py [--out DIR] [--depth 8] [--epochs 5]

Both networks have `depth` hidden layers of 128 units and train on 2,000 MNIST images with the same SGD.
GradientTracker records every layer's gradient norm and update/weight ratio each epoch; the figure
(DIR/vanishing_gradients.png, default examples/output/) puts the two runs side by side on log scales.
In the sigmoid net each layer multiplies the backward signal by sigmoid' <= 0.25 times weights of size
0.01, so the first layers get
gradients many orders of magnitude smaller than the last: they starve and barely move, and the net stays
near chance (an update/weight ratio of 0 means the update fell below float32's resolution: the weights
did not change at all: the log-scale plot marks it with a hollow triangle on its floor). ReLU passes gradients through
unchanged where it is active, and He init keeps their scale from layer to layer, so every layer learns.
"""

import argparse
from pathlib import Path

import numpy as np

import numpynn as nn
from numpynn import datasets
from numpynn.app import figures as plots

RUNS = {"sigmoid, N(0, 0.01)": ("sigmoid", "normal"), "ReLU, He": ("relu", "he")}


# Figures go into examples/output/ (git-ignored), never into whatever folder the script was started from.
OUTPUT = Path(__file__).resolve().parent / "output"


def main(out: str | Path = OUTPUT, depth: int = 8, epochs: int = 5, n: int = 2000,
         seed: int = 0) -> dict[str, list[dict]]:
    (x, y), _ = datasets.load_mnist()
    x, y = datasets.scale(datasets.flatten(x[:n]), "255"), y[:n].astype(np.int64)
    histories = {}
    for label, (activation, init) in RUNS.items():
        model = nn.mlp([784] + [128] * depth + [10], activation=activation, init=init, seed=seed)
        history = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=epochs, batch_size=64,
                         seed=seed, verbose=0, callbacks=[nn.GradientTracker(every=5)])
        histories[label] = history.records
        last = history.records[-1]
        norms = [v for k, v in last.items() if k.startswith("grad_norm.")]
        ratios = [v for k, v in last.items() if k.startswith("update_ratio.")]
        print(f"{label:>20}: train accuracy {last['train_acc']:.3f}; gradient norm of the first layer "
              f"{norms[0]:.1e}, of the last {norms[-1]:.1e}; update/weight ratio first {ratios[0]:.1e}, "
              f"last {ratios[-1]:.1e}")
    path = plots.save_figure(plots.gradients_figure(histories), Path(out) / "vanishing_gradients.png")
    print(f"Wrote {path}")
    return histories


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUTPUT, help=f"folder for vanishing_gradients.png (default: {OUTPUT})")
    parser.add_argument("--depth", type=int, default=8, help="hidden layers (default 8)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per network (default 5)")
    args = parser.parse_args()
    main(args.out, args.depth, args.epochs)
