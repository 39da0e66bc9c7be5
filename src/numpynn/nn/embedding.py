"""Embedding (torch.nn.Embedding): a lookup table of learned vectors, one row per token id."""

import numpy as np
from numpy.typing import DTypeLike

from numpynn.nn.layers import LAYERS, Layer


class Embedding(Layer):
    """ids: (N, ...) integers in [0, num_embeddings) -> (N, ..., embedding_dim); weight ~ N(0, 1) as in torch."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, *,
                 rng: np.random.Generator | int | None = None, dtype: DTypeLike = np.float32):
        super().__init__()
        if int(num_embeddings) < 1 or int(embedding_dim) < 1:
            raise ValueError(f"Embedding needs num_embeddings and embedding_dim >= 1, got {num_embeddings}, "
                             f"{embedding_dim}.")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None and not -self.num_embeddings <= padding_idx < self.num_embeddings:
            raise ValueError(f"Embedding padding_idx must be within num_embeddings, got {padding_idx}.")
        self.padding_idx = None if padding_idx is None else int(padding_idx) % self.num_embeddings
        weight = np.random.default_rng(rng).standard_normal((self.num_embeddings, self.embedding_dim)).astype(dtype)
        if self.padding_idx is not None:
            weight[self.padding_idx] = 0  # torch zeroes the padding row, and it never learns
        self.params["weight"] = weight
        self.grads["weight"] = np.zeros_like(weight)

    def output_shape(self, shape: tuple) -> tuple:
        """(N, ...) ids -> (N, ..., embedding_dim)."""
        return (*shape, self.embedding_dim)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, ...) ids -> (N, ..., embedding_dim); a float copy from Sequential's cast is accepted if whole."""
        ids = x.astype(np.int64) if x.dtype.kind == "f" else x
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings or (x.dtype.kind == "f"
                                                                               and not np.array_equal(ids, x))):
            raise ValueError(f"Embedding({self.num_embeddings}, ...) takes whole token ids in [0, "
                             f"{self.num_embeddings}); got values from {x.min()} to {x.max()}.")
        self.ids = ids
        return self.params["weight"][ids]

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """grad_out: (N, ..., embedding_dim) -> fills grads["weight"]; returns None (ids have no gradient)."""
        gw = self.grads["weight"]
        gw.fill(0)
        np.add.at(gw, self.ids.reshape(-1), grad_out.reshape(-1, self.embedding_dim))  # repeated ids add up
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return None  # ids are not differentiable

    def config(self) -> dict:
        return {"type": "Embedding", "num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "padding_idx": self.padding_idx}


LAYERS.update(Embedding=Embedding)
