"""The series' MNIST setup for the numpynn examples: the first n images, an 80/20 split, z-scores from training rows."""

import numpy as np

from numpynn import datasets


def mnist_subset(n: int = 5000, seed: int = 42):
    """((x_train, y_train), (x_test, y_test), scaler): raw uint8 rows (N, 784), int64 labels, a zscore Scaler.

    The first n of MNIST's training images are the first n rows fetch_openml('mnist_784') returns, as the series
    uses; 20 % are held out for testing, and the scaler learns its statistics on the other 80 % only.
    """
    (x, y), _ = datasets.load_mnist()
    x, y = datasets.flatten(x[:n]), y[:n].astype(np.int64)
    (x_train, y_train), (x_test, y_test) = datasets.train_val_split(x, y, val_fraction=0.2, seed=seed)
    return (x_train, y_train), (x_test, y_test), datasets.Scaler.fit("zscore", x_train)


def as_test_rows(history) -> list[dict]:
    """fit's records with the held-out split named test_*, as numpynn's comparison figure draws them."""
    # Renamed, not copied: rows with both val_* and test_* would draw the one held-out curve twice, as
    # "validation" and "test" (issue 21.16).
    return [{("test" + k[3:] if k.startswith("val_") else k): v for k, v in r.items()} for r in history.records]
