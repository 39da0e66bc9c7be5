"""The estimators' `conv` parameter: convolution blocks in front of the hidden layers, for rows that are images.

conv=(8, 16) puts two blocks Conv2d(3x3, padding 1) -> activation -> MaxPool2d(2) with 8 and 16 channels
before Flatten and the hidden layers. Rows of X are square one-channel images, flattened (MNIST: 784 = 28x28,
scikit-learn's load_digits: 64 = 8x8), so the estimators still take scikit-learn's 2-D X.
"""

import math
import numbers
from collections.abc import Iterable

import numpy as np
from numpy.typing import DTypeLike

from numpynn.interop.sklearn_network import build_mlp
from numpynn.nn.conv import Conv2d
from numpynn.nn.layers import ACTIVATIONS, Flatten
from numpynn.nn.pooling import MaxPool2d
from numpynn.nn.sequential import Sequential


def image_side(n_features: int) -> int:
    """The side of the square image a row of n_features holds, or a ValueError saying what conv needs."""
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise ValueError(f"conv needs rows that are square one-channel images (e.g. 784 = 28x28 pixels), got "
                         f"{n_features} features; drop conv for other data.")
    return side


def conv_channels(conv: int | Iterable[int]) -> tuple[int, ...]:
    """conv as a tuple of positive channel counts, or a ValueError."""
    channels = (conv,) if isinstance(conv, numbers.Integral) else conv
    if isinstance(channels, str) or not hasattr(channels, "__iter__") or not channels or not all(
            isinstance(c, numbers.Integral) and not isinstance(c, bool) and c > 0 for c in channels):
        raise ValueError(f"conv={conv!r} is invalid; it must be None or output channels per block, e.g. (8, 16).")
    return tuple(int(c) for c in channels)


def build_cnn(n_features: int, conv: int | Iterable[int], hidden: tuple[int, ...], n_outputs: int,
              activation: str | None, rng: np.random.Generator, dtype: DTypeLike, dropout: float) -> Sequential:
    """[Conv2d 3x3 -> activation -> MaxPool2d(2)] per entry of conv, Flatten, then build_mlp's hidden layers."""
    side, channels_in, layers = image_side(n_features), 1, []
    for channels in conv_channels(conv):
        if side < 2:
            raise ValueError(f"conv={conv!r} pools the {image_side(n_features)}-pixel image below one pixel; "
                             "use fewer blocks.")
        layers.append(Conv2d(channels_in, channels, 3, padding=1, init="xavier", rng=rng, dtype=dtype))
        if activation is not None:
            layers.append(ACTIVATIONS[activation]())
        layers.append(MaxPool2d(2))
        channels_in, side = channels, side // 2
    head = build_mlp(channels_in * side * side, hidden, n_outputs, activation, rng, dtype, dropout)
    for layer in head.layers:
        layer.needs_input_grad = True  # head's Sequential turned it off for its first layer, which is inside now
    return Sequential(*layers, Flatten(), *head.layers)


def as_images(x: np.ndarray) -> np.ndarray:
    """Rows (N, side*side) -> images (N, 1, side, side): a view, no copy."""
    side = image_side(x.shape[1])
    return x.reshape(len(x), 1, side, side)
