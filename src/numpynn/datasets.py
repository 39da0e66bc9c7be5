"""The public data API: MNIST out of the box, user data, and the helpers between loading and training.

    from numpynn import datasets
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist()
    x_train = datasets.scale(datasets.flatten(x_train), "255")
"""

from numpynn.data.idx import read_idx, write_idx
from numpynn.data.mnist import fetch_mnist_784, load_fashion_mnist, load_mnist
from numpynn.data.transforms import (
    MNIST_MEAN,
    MNIST_STD,
    Scaler,
    StandardScaler,
    flatten,
    one_hot,
    scale,
    subset,
    train_val_split,
)
from numpynn.data.userdata import load_csv, load_npz

__all__ = [
    "MNIST_MEAN", "MNIST_STD", "Scaler", "StandardScaler", "fetch_mnist_784", "flatten", "load_csv",
    "load_fashion_mnist", "load_mnist", "load_npz", "one_hot", "read_idx", "scale", "subset", "train_val_split",
    "write_idx",
]
