"""Part 4.4 with numpynn's API: the 4.1 MLP with and without L2 plus dropout, from the same initial weights, with fit.

    python examples/series/part4_4_numpynn.py [--out DIR] [--samples 5000] [--epochs 20]

The series' L2 penalty lambda * sum(W**2), lambda 0.01, has the gradient 2 * lambda * W: SGD's weight_decay=0.02
(which, as in torch, decays the biases too). Its dropout keeps a unit with probability 0.8: Dropout(p=0.2),
numpynn's inverted dropout, which scales the kept units by 1 / 0.8 in training and masks their gradients too.
Writes DIR/part4_4.png (default runs/series): both runs' loss and test accuracy per epoch.
"""

import argparse
from pathlib import Path

from series_data import as_test_rows, mnist_subset

import numpynn as nn
from numpynn.app import figures as plots

RUNS = {"L2 + dropout": {"dropout": 0.2, "weight_decay": 0.02}, "without": {"dropout": 0.0, "weight_decay": 0.0}}


def main(out: str = "runs/series", samples: int = 5000, epochs: int = 20, seed: int = 0,
         runs: dict | None = None, name: str = "part4_4") -> dict[str, float]:
    """Train each of `runs` (label -> dropout, weight_decay[, momentum]); returns each run's final test accuracy."""
    (x_train, y_train), (x_test, y_test), scaler = mnist_subset(samples)
    accuracies, rows = {}, {}
    for label, options in (runs or RUNS).items():
        # The same seed gives both models the same weights: Dropout draws from its own spawned stream.
        model = nn.mlp([784, 256, 128, 10], init="normal", seed=seed, dropout=options["dropout"])
        optimizer = nn.SGD(model, lr=0.1, momentum=options.get("momentum", 0.0),
                           weight_decay=options["weight_decay"])
        print(f"Training {label}...")
        history = nn.fit(model, nn.CrossEntropyLoss(), optimizer, x_train, y_train, epochs=epochs, batch_size=64,
                         validation_data=(x_test, y_test), preprocess=scaler, seed=seed)
        accuracies[label], rows[label] = history.records[-1]["val_acc"], as_test_rows(history)
    for label, accuracy in accuracies.items():
        print(f"Final test accuracy {label}: {accuracy:.4f}")
    print(f"Wrote {plots.save_figure(plots.compare_figure(rows), Path(out) / f'{name}.png')}")
    return accuracies


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/series", help="folder for part4_4.png")
    parser.add_argument("--samples", type=int, default=5000, help="MNIST images used (default 5000)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per run (default 20)")
    args = parser.parse_args()
    main(args.out, args.samples, args.epochs)
