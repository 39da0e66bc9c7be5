"""torch modules for the numpynn layers that have no single torch.nn counterpart (imported only with torch)."""

import torch
from torch import nn


class _OutputOnly:
    def forward(self, x):
        return super().forward(x)[0]


class OutputOnlyRNN(_OutputOnly, nn.RNN):
    """torch.nn.RNN returning only `output`."""


class OutputOnlyLSTM(_OutputOnly, nn.LSTM):
    """torch.nn.LSTM returning only `output`."""


class OutputOnlyGRU(_OutputOnly, nn.GRU):
    """torch.nn.GRU returning only `output`."""


class SelfAttention(nn.MultiheadAttention):
    """torch.nn.MultiheadAttention with x as query, key and value, returning the attended sequence."""

    def forward(self, x):
        return super().forward(x, x, x, need_weights=False)[0]


class SequencePool(nn.Module):
    def __init__(self, mode: str, batch_first: bool):
        super().__init__()
        self.mode, self.batch_first = mode, batch_first

    def forward(self, x):
        steps = x.transpose(0, 1) if self.batch_first else x
        return steps.mean(0) if self.mode == "mean" else steps[-1 if self.mode == "last" else 0]


class ClassToken(nn.Module):
    def __init__(self, embed_dim: int):
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, embed_dim))

    def forward(self, x):
        return torch.cat([self.class_token.expand(len(x), -1, -1), x], dim=1)


class PositionEmbedding(nn.Module):
    def __init__(self, num_positions: int, embed_dim: int):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.zeros(1, num_positions, embed_dim))

    def forward(self, x):
        return x + self.pos_embedding


class PatchEmbedding(nn.Module):
    def __init__(self, in_channels: int, embed_dim: int, patch_size: int):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dim, patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


def _recurrent(cls, c):
    extra = {"nonlinearity": c["nonlinearity"]} if "nonlinearity" in c else {}
    return cls(c["input_size"], c["hidden_size"], c["num_layers"], bias=c["bias"], batch_first=c["batch_first"],
               bidirectional=c["bidirectional"], **extra)


_BUILDERS = {
    "Linear": lambda c: nn.Linear(c["in_features"], c["out_features"], c["bias"]),
    "Conv2d": lambda c: nn.Conv2d(c["in_channels"], c["out_channels"], c["kernel_size"], c["stride"], c["padding"],
                                  bias=c["bias"]),
    "ReLU": lambda c: nn.ReLU(), "Tanh": lambda c: nn.Tanh(), "Sigmoid": lambda c: nn.Sigmoid(),
    "LeakyReLU": lambda c: nn.LeakyReLU(c["negative_slope"]), "GELU": lambda c: nn.GELU(c["approximate"]),
    "Softmax": lambda c: nn.Softmax(c["dim"]), "Flatten": lambda c: nn.Flatten(),
    "Dropout": lambda c: nn.Dropout(c["p"]),
    "BatchNorm1d": lambda c: nn.BatchNorm1d(c["num_features"], c["eps"], c["momentum"], c["affine"]),
    "BatchNorm2d": lambda c: nn.BatchNorm2d(c["num_features"], c["eps"], c["momentum"], c["affine"]),
    "LayerNorm": lambda c: nn.LayerNorm(c["normalized_shape"], c["eps"], c["elementwise_affine"]),
    "Embedding": lambda c: nn.Embedding(c["num_embeddings"], c["embedding_dim"], c["padding_idx"]),
    "Unflatten": lambda c: nn.Unflatten(c["dim"], tuple(c["unflattened_size"])),
    "RNN": lambda c: _recurrent(OutputOnlyRNN, c), "LSTM": lambda c: _recurrent(OutputOnlyLSTM, c),
    "GRU": lambda c: _recurrent(OutputOnlyGRU, c),
    "MultiheadAttention": lambda c: SelfAttention(c["embed_dim"], c["num_heads"], bias=c["bias"],
                                                  batch_first=c["batch_first"]),
    "TransformerEncoderLayer": lambda c: nn.TransformerEncoderLayer(
        c["d_model"], c["nhead"], c["dim_feedforward"], c["dropout"], c["activation"], c["layer_norm_eps"],
        batch_first=c["batch_first"], norm_first=c["norm_first"], bias=c["bias"]),
    "SequencePool": lambda c: SequencePool(c["mode"], c["batch_first"]),
    "ClassToken": lambda c: ClassToken(c["embed_dim"]),
    "PositionEmbedding": lambda c: PositionEmbedding(c["num_positions"], c["embed_dim"]),
    "PatchEmbedding": lambda c: PatchEmbedding(c["in_channels"], c["embed_dim"], c["patch_size"]),
}


def build(layer) -> nn.Module:
    """The torch module for one numpynn layer, from its config()."""
    config = layer.config()
    if config["type"] not in _BUILDERS:
        raise ValueError(f"numpynn layer {config['type']} has no torch equivalent here; to_torch covers "
                         f"{', '.join(sorted(_BUILDERS))}.")
    return _BUILDERS[config["type"]](config)
