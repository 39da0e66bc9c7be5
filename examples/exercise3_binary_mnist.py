"""Exercise 3 of the article with the numpynn API: a 784-128-2 MLP separates MNIST 0s from 1s.

    python examples/exercise3_binary_mnist.py

The article's setup: the first 500 zeros and ones, its per-pixel z-score `normalize`, an 80/20 split with
seed 42, W ~ N(0, 0.01), 10 epochs of SGD with lr 0.1 and batch 32, softmax over 2 classes.
MNIST comes from the files bundled with numpynn, so this runs offline in a second or two.
"""

import numpy as np

import numpynn as nn
from numpynn import datasets


def load_zeros_and_ones(n: int = 500):
    """(x, y): the first n images of digit 0 or 1 from MNIST's training set, z-scored per pixel, flattened."""
    (x, y), _ = datasets.load_mnist()
    keep = (y == 0) | (y == 1)
    x, y = datasets.flatten(x[keep][:n]), y[keep][:n].astype(np.int64)
    return datasets.scale(x, "zscore"), y


def train(lr: float, epochs: int = 10, seed: int = 42, verbose: int = 1):
    """Train the exercise's MLP at learning rate lr; returns (History, test accuracy)."""
    x, y = load_zeros_and_ones()
    (x_train, y_train), (x_test, y_test) = datasets.train_val_split(x, y, val_fraction=0.2, seed=seed)
    model = nn.mlp([784, 128, 2], init="normal", seed=seed)
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=lr), x_train, y_train, epochs=epochs,
                     batch_size=32, validation_data=(x_test, y_test), seed=seed, verbose=verbose)
    accuracy = float(np.mean(model.predict(x_test) == y_test))
    return history, accuracy


def main() -> float:
    _, accuracy = train(lr=0.1)
    print("Test Accuracy:", accuracy)
    return accuracy


if __name__ == "__main__":
    main()
