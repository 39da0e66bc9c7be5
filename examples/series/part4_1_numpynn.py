"""Part 4.1 with numpynn's API: the 784-256-128-10 MLP on 5,000 MNIST images, built with mlp and trained with fit.

    python examples/series/part4_1_numpynn.py [--out DIR] [--samples 5000] [--epochs 20]

The series' setup: N(0, 0.01) weights (init="normal"), zero biases, SGD with lr 0.1, batch 64, 20 epochs,
z-scored pixels, 20 % held out. Writes DIR/part4_1.png (default runs/series), loss and accuracy per epoch.
"""

import argparse
from pathlib import Path

from series_data import as_test_rows, mnist_subset

import numpynn as nn
from numpynn.app import figures as plots


def main(out: str = "runs/series", samples: int = 5000, epochs: int = 20, seed: int = 0) -> float:
    (x_train, y_train), (x_test, y_test), scaler = mnist_subset(samples)
    model = nn.mlp([784, 256, 128, 10], init="normal", seed=seed)
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x_train, y_train, epochs=epochs,
                     batch_size=64, validation_data=(x_test, y_test), preprocess=scaler, seed=seed)
    accuracy = history.records[-1]["val_acc"]
    print(f"Final test accuracy: {accuracy:.4f}")
    figure = plots.compare_figure({"784-256-128-10": as_test_rows(history)})
    print(f"Wrote {plots.save_figure(figure, Path(out) / 'part4_1.png')}")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/series", help="folder for part4_1.png")
    parser.add_argument("--samples", type=int, default=5000, help="MNIST images used (default 5000)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs (default 20)")
    args = parser.parse_args()
    main(args.out, args.samples, args.epochs)
