"""Ready-made models as Sequentials: an MLP, a CNN, a recurrent classifier and a small Vision Transformer.

    mlp([784, 256, 10])               Linear -> ReLU -> Linear
    cnn((1, 28, 28), [32, 64], [128], 10)   conv blocks -> Flatten -> an MLP head

    rnn_classifier(28, 28, 128, 10)   (N, 28 * 28) rows of pixels -> Unflatten -> LSTM -> last step -> Linear
    vit((1, 28, 28), 7, 64, 4, 4, 128, 10)   images -> patches -> class token + positions -> encoder layers
                                             (pre-norm) -> LayerNorm -> class token's state -> Linear
"""

import numpy as np
from numpy.typing import DTypeLike

from numpynn.nn.gru import GRU
from numpynn.nn.layernorm import LayerNorm
from numpynn.nn.layers import ACTIVATIONS, Flatten, Layer, Linear
from numpynn.nn.lstm import LSTM
from numpynn.nn.recurrent import RNN
from numpynn.nn.regularization import Dropout
from numpynn.nn.sequence import SequencePool, Unflatten
from numpynn.nn.sequential import Sequential
from numpynn.nn.transformer import TransformerEncoderLayer
from numpynn.nn.vision import ClassToken, PatchEmbedding, PositionEmbedding

RECURRENT = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def rnn_classifier(steps: int, features: int, hidden_size: int, num_classes: int, *, kind: str = "lstm",
                   num_layers: int = 1, bidirectional: bool = False, pool: str = "last", dropout: float = 0.0,
                   seed: int | np.random.Generator | None = 0, dtype: DTypeLike = np.float32) -> Sequential:
    """x: (N, steps * features) -> (N, num_classes): each row read as `steps` steps of `features` values."""
    if kind not in RECURRENT:
        raise ValueError(f"Unknown recurrent kind {kind!r}; choose one of {', '.join(RECURRENT)}.")
    rng = np.random.default_rng(seed)
    layers: list[Layer] = [Unflatten(1, (steps, features)),
                           RECURRENT[kind](features, hidden_size, num_layers, batch_first=True,
                                           bidirectional=bidirectional, rng=rng, dtype=dtype),
                           SequencePool(pool)]
    if dropout:
        layers.append(Dropout(dropout, rng=rng.spawn(1)[0]))
    width = hidden_size * (2 if bidirectional else 1)
    layers.append(Linear(width, num_classes, rng=rng, dtype=dtype))
    return Sequential(*layers)


def vit(image_shape: tuple[int, int, int], patch_size: int, embed_dim: int, depth: int, num_heads: int,
        mlp_dim: int, num_classes: int, *, dropout: float = 0.0, activation: str = "relu",
        seed: int | np.random.Generator | None = 0, dtype: DTypeLike = np.float32) -> Sequential:
    """images (N, C, H, W) -> (N, num_classes): a Vision Transformer (Dosovitskiy et al., 2020), pre-norm."""
    c, h, w = map(int, image_shape)
    if h % patch_size or w % patch_size:
        raise ValueError(f"Images of {h}x{w} do not split into {patch_size}x{patch_size} patches; choose a patch "
                         f"size that divides both (e.g. 4 or 7 for 28x28).")
    rng = np.random.default_rng(seed)
    tokens = (h // patch_size) * (w // patch_size) + 1
    layers: list[Layer] = [PatchEmbedding(c, embed_dim, patch_size, rng=rng, dtype=dtype), ClassToken(embed_dim,
                                                                                                       dtype=dtype),
                           PositionEmbedding(tokens, embed_dim, rng=rng, dtype=dtype)]
    if dropout:
        layers.append(Dropout(dropout, rng=rng.spawn(1)[0]))
    layers += [TransformerEncoderLayer(embed_dim, num_heads, mlp_dim, dropout, activation, batch_first=True,
                                       norm_first=True, rng=rng, dtype=dtype) for _ in range(depth)]
    layers += [LayerNorm(embed_dim, dtype=dtype), SequencePool("first"), Linear(embed_dim, num_classes, rng=rng,
                                                                                dtype=dtype)]
    return Sequential(*layers)


def mlp(sizes: list[int], activation: str = "relu", init: str = "he", *,
        seed: int | np.random.Generator | None = 0, dtype: DTypeLike = np.float32, dropout: float = 0.0,
        batch_norm: bool = False) -> Sequential:
    """Linear / activation stack, e.g. mlp([784, 256, 10]) -> Linear(784,256), ReLU, Linear(256,10).

    Each hidden block is Linear [-> BatchNorm1d] -> activation [-> Dropout(dropout)]; the output layer is a bare Linear.
    """
    from numpynn.nn.normalization import BatchNorm1d  # these modules import layers, as this module does
    from numpynn.nn.regularization import Dropout
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"mlp needs at least two positive layer sizes, got {sizes}; e.g. [784, 256, 10].")
    if activation not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {activation!r}; choose one of {', '.join(sorted(ACTIVATIONS))}.")
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(fan_in, fan_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(BatchNorm1d(fan_out, dtype=dtype))
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(Dropout(dropout, rng=rng.spawn(1)[0]))  # own stream; spawning leaves init's untouched
    return Sequential(*layers)


def cnn(input_shape: tuple[int, int, int], channels: list[int], hidden: list[int], num_classes: int, *,
        kernel_size: int = 3, pool: int = 2, activation: str = "relu", init: str = "he",
        seed: int | np.random.Generator | None = 0, dtype: DTypeLike = np.float32, dropout: float = 0.0,
        batch_norm: bool = False) -> Sequential:
    """Conv blocks, Flatten, then an MLP head: cnn((1, 28, 28), [32, 64], [128], 10) for MNIST.

    Each conv block is Conv2d(k x k, no padding) [-> BatchNorm2d] -> activation [-> MaxPool2d(pool)]; the
    conv has no bias under BatchNorm2d, which would subtract it again. The head is mlp()'s hidden blocks.
    """
    from numpynn.nn.conv import Conv2d
    from numpynn.nn.normalization import BatchNorm2d
    from numpynn.nn.pooling import MaxPool2d
    if len(input_shape) != 3 or not channels or any(int(c) < 1 for c in channels):
        raise ValueError(f"cnn needs an input shape (C, H, W) and positive channel counts, got {input_shape} and "
                         f"{channels}; e.g. cnn((1, 28, 28), [32, 64], [128], 10).")
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    shape = (1, *map(int, input_shape))
    for c in channels:
        block = [Conv2d(shape[1], c, kernel_size, bias=not batch_norm, init=init, rng=rng, dtype=dtype)]
        if batch_norm:
            block.append(BatchNorm2d(c, dtype=dtype))
        block.append(ACTIVATIONS[activation]())
        if pool > 1:
            block.append(MaxPool2d(pool))
        for layer in block:
            try:
                shape = layer.output_shape(shape) if hasattr(layer, "output_shape") else shape
            except ValueError:
                raise ValueError(f"{len(channels)} conv blocks of kernel {kernel_size} and pool {pool} shrink "
                                 f"{input_shape[1]}x{input_shape[2]} images to nothing; use fewer --conv blocks, "
                                 "a smaller --kernel-size or --pool.") from None
        layers += block
    layers.append(Flatten())
    head = mlp([int(np.prod(shape[1:])), *hidden, num_classes], activation=activation, init=init, seed=rng,
               dtype=dtype, dropout=dropout, batch_norm=batch_norm)
    head.layers[0].needs_input_grad = True  # mlp's Sequential turned it off; here the conv blocks need it
    return Sequential(*layers, *head.layers)
