"""MultiheadAttention (torch.nn.MultiheadAttention) as self-attention: query = key = value = x.

    q, k, v = split(x @ in_proj_weight.T + in_proj_bias)           each (N, heads, L, head_dim)
    attn = softmax(q @ k.T / sqrt(head_dim) + mask)                 (N, heads, L, L)
    out = out_proj(merge_heads(attn @ v))                           (N, L, embed_dim)

Masks follow torch: a boolean attn_mask (L, L) or (N * heads, L, L) is True where attention is NOT allowed,
a float one is added to the scores; key_padding_mask (N, L) is True at padded keys; is_causal=True masks the
future (here it needs no attn_mask of its own). `attn_weights` keeps the weights averaged over heads, (N, L, L),
as torch returns them with need_weights=True.
"""

import math

import numpy as np
from numpy.typing import DTypeLike

from numpynn.nn.layers import LAYERS, Layer, Linear


def causal_mask(length: int) -> np.ndarray:
    """(L, L) boolean mask, True above the diagonal: position i may attend to positions <= i only."""
    return np.triu(np.ones((length, length), bool), k=1)


class MultiheadAttention(Layer):
    """Self-attention over x: (L, N, embed_dim), or (N, L, embed_dim) with batch_first -> the same shape."""

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True, batch_first: bool = False, *,
                 rng: np.random.Generator | int | None = None, dtype: DTypeLike = np.float32):
        super().__init__()
        if int(embed_dim) < 1 or int(num_heads) < 1 or int(embed_dim) % int(num_heads):
            raise ValueError(f"MultiheadAttention needs embed_dim divisible by num_heads, got embed_dim={embed_dim}, "
                             f"num_heads={num_heads}; e.g. MultiheadAttention(64, 4).")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        rng = np.random.default_rng(rng)
        e = self.embed_dim
        a = math.sqrt(6 / (e + 3 * e))  # torch: xavier_uniform_ on the (3E, E) in_proj_weight, zero biases
        self.out_proj = Linear(e, e, bias, rng=rng, dtype=dtype)  # torch's default Linear init, then bias zeroed
        self.params["in_proj_weight"] = rng.uniform(-a, a, (3 * e, e)).astype(dtype)
        if self.bias:
            self.params["in_proj_bias"] = np.zeros(3 * e, dtype)
            self.out_proj.params["bias"][...] = 0
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        for key in self.out_proj.params:  # the same arrays, under torch's dotted names
            self.params[f"out_proj.{key}"] = self.out_proj.params[key]
            self.grads[f"out_proj.{key}"] = self.out_proj.grads[key]
        self.attn_weights = None

    def output_shape(self, shape: tuple) -> tuple:
        """(L, N, E), or (N, L, E) with batch_first -> the same shape."""
        return tuple(shape)

    def forward(self, x: np.ndarray, attn_mask: np.ndarray | None = None, key_padding_mask: np.ndarray | None = None,
                is_causal: bool = False) -> np.ndarray:
        """x: (L, N, E) or (N, L, E); attn_mask (L, L) or (N * heads, L, L); key_padding_mask (N, L)."""
        if x.ndim != 3 or x.shape[2] != self.embed_dim:
            raise ValueError(f"MultiheadAttention({self.embed_dim}, ...) expects input "
                             f"{'(N, L, E)' if self.batch_first else '(L, N, E)'} with E={self.embed_dim}, got "
                             f"shape {x.shape}.")
        xb = x if self.batch_first else x.transpose(1, 0, 2)
        n, length, e = xb.shape
        heads, hd = self.num_heads, e // self.num_heads
        self.x2 = np.ascontiguousarray(xb).reshape(n * length, e)
        qkv = self.x2 @ self.params["in_proj_weight"].T
        if self.bias:
            qkv += self.params["in_proj_bias"]
        # (N*L, 3E) -> (3, N, heads, L, hd): q, k, v for every head as views of one array
        self.q, self.k, self.v = qkv.reshape(n, length, 3, heads, hd).transpose(2, 0, 3, 1, 4)
        scores = self.q @ self.k.transpose(0, 1, 3, 2)
        scores *= x.dtype.type(1 / math.sqrt(hd))
        mask = self._mask(attn_mask, key_padding_mask, is_causal, n, length, x.dtype)
        if mask is not None:
            scores += mask
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        self.attn = scores                                            # (N, heads, L, L)
        self.attn_weights = scores.mean(axis=1)
        ctx = (scores @ self.v).transpose(0, 2, 1, 3).reshape(n * length, e)   # heads merged back: (N*L, E)
        out = self.out_proj.forward(ctx).reshape(n, length, e)
        return out if self.batch_first else out.transpose(1, 0, 2)

    def _mask(self, attn_mask, key_padding_mask, is_causal, n, length, dtype):
        """One additive mask broadcastable to (N, heads, L, L), or None: -inf where attention is not allowed."""
        parts = []
        if is_causal:
            parts.append(causal_mask(length))
        if attn_mask is not None:
            m = np.asarray(attn_mask)
            parts.append(m if m.ndim == 2 else m.reshape(n, self.num_heads, length, length))
        if key_padding_mask is not None:
            parts.append(np.asarray(key_padding_mask).reshape(n, 1, 1, length))
        total = None
        for m in parts:
            add = np.where(m, -np.inf, 0).astype(dtype) if m.dtype == bool else m.astype(dtype, copy=False)
            total = add if total is None else total + add
        return total

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """grad_out: shaped like forward's output -> fills grads; returns d loss / d x, shaped like x."""
        g = grad_out if self.batch_first else grad_out.transpose(1, 0, 2)
        n, length, e = g.shape
        heads, hd = self.num_heads, e // self.num_heads
        self.out_proj.needs_input_grad = True
        d_ctx = self.out_proj.backward(np.ascontiguousarray(g).reshape(n * length, e))
        d_ctx = d_ctx.reshape(n, length, heads, hd).transpose(0, 2, 1, 3)   # (N, heads, L, hd)
        dqkv = np.empty((n, length, 3, heads, hd), g.dtype)
        dq, dk, dv = dqkv.transpose(2, 0, 3, 1, 4)
        np.matmul(self.attn.transpose(0, 1, 3, 2), d_ctx, out=dv)
        d_scores = self._softmax_backward(d_ctx @ self.v.transpose(0, 1, 3, 2))
        d_scores *= g.dtype.type(1 / math.sqrt(hd))
        np.matmul(d_scores, self.k, out=dq)
        np.matmul(d_scores.transpose(0, 1, 3, 2), self.q, out=dk)
        dqkv2 = dqkv.reshape(n * length, 3 * e)
        np.matmul(dqkv2.T, self.x2, out=self.grads["in_proj_weight"])
        if self.bias:
            dqkv2.sum(axis=0, out=self.grads["in_proj_bias"])
        if not self.needs_input_grad:
            return None
        dx = (dqkv2 @ self.params["in_proj_weight"]).reshape(n, length, e)
        return dx if self.batch_first else dx.transpose(1, 0, 2)

    def _softmax_backward(self, d_attn):
        """Row by row, attn * (d_attn - sum(d_attn * attn)), in place; masked entries have attn = 0."""
        d_attn -= np.einsum("nhij,nhij->nhi", d_attn, self.attn)[..., None]
        d_attn *= self.attn
        return d_attn

    def config(self) -> dict:
        return {"type": "MultiheadAttention", "embed_dim": self.embed_dim, "num_heads": self.num_heads,
                "bias": self.bias, "batch_first": self.batch_first}


LAYERS.update(MultiheadAttention=MultiheadAttention)
