"""Exercise 4 of the article with the numpynn API: the same run at lr 0.1 and lr 1.0, both loss curves in one plot.

    python examples/exercise4_learning_rate.py [--out DIR]

Writes DIR/learning_rate.png (default: examples/output/, git-ignored) and prints each run's final loss and accuracy.
"""

import argparse
from pathlib import Path

from exercise3_binary_mnist import train

from numpynn.app import figures as plots

# Figures go into examples/output/ (git-ignored), never into whatever folder the script was started from.
OUTPUT = Path(__file__).resolve().parent / "output"


def main(out: str | Path = OUTPUT, lrs: tuple[float, ...] = (0.1, 1.0)) -> dict[float, tuple[list[float], float]]:
    results, runs = {}, {}
    for lr in lrs:
        history, accuracy = train(lr=lr, verbose=0)
        results[lr] = (history["train_loss"], accuracy)
        runs[f"lr {lr}"] = history.records  # train_* and val_* (the held-out 20 %), as plots draws them
        losses = ", ".join(f"{v:.4f}" for v in history["train_loss"])
        print(f"lr={lr}: loss per epoch [{losses}]; final test accuracy {accuracy:.4f}")
    path = plots.save_figure(plots.compare_figure(runs), Path(out) / "learning_rate.png")
    print(f"Wrote {path}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUTPUT, help=f"folder for learning_rate.png (default: {OUTPUT})")
    main(parser.parse_args().out)
