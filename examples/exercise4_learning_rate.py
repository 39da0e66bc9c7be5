"""Exercise 4 of the article with the numpynn API: the same run at lr 0.1 and lr 1.0, both loss curves in one plot.

    python examples/exercise4_learning_rate.py [--out DIR]

Writes DIR/learning_rate.png (default: the current folder) and prints each run's final loss and accuracy.
"""

import argparse
from pathlib import Path

from exercise3_binary_mnist import train

from numpynn.cli import plots


def main(out: str = ".", lrs: tuple[float, ...] = (0.1, 1.0)) -> dict[float, tuple[list[float], float]]:
    results, runs = {}, {}
    for lr in lrs:
        history, accuracy = train(lr=lr, verbose=0)
        results[lr] = (history["train_loss"], accuracy)
        # plots draws train_* and test_* columns: the held-out 20 % is this exercise's test set.
        runs[f"lr {lr}"] = [{**r, "test_loss": r["val_loss"], "test_acc": r["val_acc"]} for r in history.records]
        losses = ", ".join(f"{v:.4f}" for v in history["train_loss"])
        print(f"lr={lr}: loss per epoch [{losses}]; final test accuracy {accuracy:.4f}")
    path = plots.save_figure(plots.compare_figure(runs), Path(out) / "learning_rate.png")
    print(f"Wrote {path}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="folder for learning_rate.png")
    main(parser.parse_args().out)
