"""Images as token sequences (a Vision Transformer's front): patch embedding, class token, position embedding.

    PatchEmbedding   (N, C, H, W) -> (N, P, D): a Conv2d with kernel = stride = patch_size, flattened to tokens
    ClassToken       (N, P, D) -> (N, 1 + P, D): a learned token put in front, whose final state classifies
    PositionEmbedding (N, L, D) -> (N, L, D): a learned vector added at each position

Names follow torchvision's VisionTransformer (`class_token`, `pos_embedding`) and timm's PatchEmbed (`proj`).
"""

import numpy as np
from numpy.typing import DTypeLike

from numpynn.nn.conv import Conv2d
from numpynn.nn.layers import LAYERS, Layer


class PatchEmbedding(Layer):
    """x: (N, C, H, W) -> (N, (H / p) * (W / p), embed_dim) tokens, row by row; weights `proj.weight`, `proj.bias`."""

    def __init__(self, in_channels: int, embed_dim: int, patch_size: int, *,
                 rng: np.random.Generator | int | None = None, dtype: DTypeLike = np.float32):
        super().__init__()
        self.in_channels, self.embed_dim, self.patch_size = int(in_channels), int(embed_dim), int(patch_size)
        self.proj = Conv2d(in_channels, embed_dim, patch_size, stride=patch_size, rng=rng, dtype=dtype)
        for key in self.proj.params:  # the same arrays, under the submodule's dotted names
            self.params[f"proj.{key}"] = self.proj.params[key]
            self.grads[f"proj.{key}"] = self.proj.grads[key]

    def output_shape(self, shape: tuple) -> tuple:
        """(N, C, H, W) -> (N, (H / p) * (W / p), embed_dim)."""
        n, d, h, w = self.proj.output_shape(shape)
        return n, h * w, d

    def train(self, mode: bool = True) -> "PatchEmbedding":
        self.training = self.proj.training = mode
        return self

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, C, H, W) -> (N, P, D) patch tokens, P = (H / p) * (W / p), row by row."""
        self.proj.needs_input_grad = self.needs_input_grad
        out = self.proj.forward(x)                    # (N, D, h, w), channels-last in memory
        self.grid = out.shape
        n, d = out.shape[:2]
        return out.transpose(0, 2, 3, 1).reshape(n, -1, d)   # a free view of that memory

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """grad_out: (N, P, D) -> fills proj's grads; returns d loss / d x (N, C, H, W)."""
        n, _, d = grad_out.shape
        h, w = self.grid[2:]
        return self.proj.backward(grad_out.reshape(n, h, w, d).transpose(0, 3, 1, 2))

    def config(self) -> dict:
        return {"type": "PatchEmbedding", "in_channels": self.in_channels, "embed_dim": self.embed_dim,
                "patch_size": self.patch_size}


class ClassToken(Layer):
    """(N, P, D) -> (N, 1 + P, D): the learned `class_token` (1, 1, D), zeros at first as in torchvision."""

    def __init__(self, embed_dim: int, *, dtype: DTypeLike = np.float32):
        super().__init__()
        self.embed_dim = int(embed_dim)
        self.params["class_token"] = np.zeros((1, 1, self.embed_dim), dtype)
        self.grads["class_token"] = np.zeros_like(self.params["class_token"])

    def output_shape(self, shape: tuple) -> tuple:
        """(N, P, D) -> (N, 1 + P, D)."""
        return shape[0], shape[1] + 1, *shape[2:]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, P, D) -> (N, 1 + P, D), the class token first."""
        out = np.empty((x.shape[0], x.shape[1] + 1, x.shape[2]), x.dtype)
        out[:, 0] = self.params["class_token"][0]
        out[:, 1:] = x
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """grad_out: (N, 1 + P, D)."""
        grad_out[:, 0].sum(axis=0, out=self.grads["class_token"][0, 0])
        return grad_out[:, 1:]

    def config(self) -> dict:
        return {"type": "ClassToken", "embed_dim": self.embed_dim}


class PositionEmbedding(Layer):
    """(N, L, D) + `pos_embedding` (1, L, D), drawn from N(0, 0.02^2) as in torchvision."""

    def __init__(self, num_positions: int, embed_dim: int, *, rng: np.random.Generator | int | None = None,
                 dtype: DTypeLike = np.float32):
        super().__init__()
        self.num_positions, self.embed_dim = int(num_positions), int(embed_dim)
        shape = (1, self.num_positions, self.embed_dim)
        self.params["pos_embedding"] = (np.random.default_rng(rng).standard_normal(shape) * 0.02).astype(dtype)
        self.grads["pos_embedding"] = np.zeros_like(self.params["pos_embedding"])

    def output_shape(self, shape: tuple) -> tuple:
        """(N, num_positions, embed_dim) -> the same shape; a ValueError for any other."""
        if len(shape) != 3 or tuple(shape[1:]) != (self.num_positions, self.embed_dim):
            raise ValueError(f"PositionEmbedding({self.num_positions}, {self.embed_dim}) expects input (N, "
                             f"{self.num_positions}, {self.embed_dim}), got {tuple(shape)}; images of another "
                             "size give another number of patches.")
        return tuple(shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, L, D) -> x plus the position embeddings, the same shape."""
        self.output_shape(x.shape)
        return x + self.params["pos_embedding"]

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        grad_out.sum(axis=0, out=self.grads["pos_embedding"][0])
        return grad_out

    def config(self) -> dict:
        return {"type": "PositionEmbedding", "num_positions": self.num_positions, "embed_dim": self.embed_dim}


LAYERS.update(PatchEmbedding=PatchEmbedding, ClassToken=ClassToken, PositionEmbedding=PositionEmbedding)
