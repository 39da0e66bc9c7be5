"""Ready-made sequence and attention models as Sequentials: a recurrent classifier and a small Vision Transformer.

    rnn_classifier(28, 28, 128, 10)   (N, 28 * 28) rows of pixels -> Unflatten -> LSTM -> last step -> Linear
    vit((1, 28, 28), 7, 64, 4, 4, 128, 10)   images -> patches -> class token + positions -> encoder layers
                                             (pre-norm) -> LayerNorm -> class token's state -> Linear
"""

import numpy as np

from numpynn.nn.gru import GRU
from numpynn.nn.layernorm import LayerNorm
from numpynn.nn.layers import Layer, Linear
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
                   seed: int | np.random.Generator | None = 0, dtype=np.float32) -> Sequential:
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
        seed: int | np.random.Generator | None = 0, dtype=np.float32) -> Sequential:
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
