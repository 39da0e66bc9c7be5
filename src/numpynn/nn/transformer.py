"""TransformerEncoderLayer (torch.nn.TransformerEncoderLayer): self-attention and a feed-forward block, each
with its residual connection and LayerNorm, post-norm (torch's default) or pre-norm (norm_first=True).

    post-norm: x = norm1(x + sa(x));        x = norm2(x + ff(x))
    pre-norm:  x = x + sa(norm1(x));        x = x + ff(norm2(x))
    sa(x) = dropout1(self_attn(x));         ff(x) = dropout2(linear2(dropout(activation(linear1(x)))))

Its submodules carry torch's names (self_attn, linear1, linear2, norm1, norm2), so its parameters are
`self_attn.in_proj_weight`, `linear1.weight`, `norm2.bias`, ... The three Dropouts share one Generator, `rng`.
"""

import numpy as np
from numpy.typing import DTypeLike

from numpynn.nn.attention import MultiheadAttention
from numpynn.nn.layernorm import LayerNorm
from numpynn.nn.layers import GELU, LAYERS, Layer, Linear, ReLU
from numpynn.nn.regularization import Dropout

_ACTIVATIONS = {"relu": ReLU, "gelu": GELU}


class TransformerEncoderLayer(Layer):
    """x: (L, N, d_model), or (N, L, d_model) with batch_first -> the same shape."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, *, rng: np.random.Generator | int | None = None,
                 dtype: DTypeLike = np.float32):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"TransformerEncoderLayer activation must be 'relu' or 'gelu', got {activation!r}.")
        self.d_model, self.nhead, self.dim_feedforward = int(d_model), int(nhead), int(dim_feedforward)
        self.dropout_p, self.activation_name, self.layer_norm_eps = float(dropout), activation, float(layer_norm_eps)
        self.batch_first, self.norm_first, self.bias = bool(batch_first), bool(norm_first), bool(bias)
        rng = np.random.default_rng(rng)
        self.self_attn = MultiheadAttention(d_model, nhead, bias, batch_first=True, rng=rng, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias, rng=rng, dtype=dtype)
        self.linear2 = Linear(dim_feedforward, d_model, bias, rng=rng, dtype=dtype)
        self.norm1 = LayerNorm(d_model, layer_norm_eps, dtype=dtype)
        self.norm2 = LayerNorm(d_model, layer_norm_eps, dtype=dtype)
        self.activation = _ACTIVATIONS[activation]()
        self.rng = rng.spawn(1)[0]  # the dropout masks' own stream (saved and restored on resume, as Dropout's)
        self.dropout, self.dropout1, self.dropout2 = (Dropout(dropout, self.rng) for _ in range(3))
        for name in ("self_attn", "linear1", "linear2", "norm1", "norm2"):
            sub = getattr(self, name)
            sub.needs_input_grad = True
            for key in sub.params:  # the same arrays, under torch's dotted names
                self.params[f"{name}.{key}"] = sub.params[key]
                self.grads[f"{name}.{key}"] = sub.grads[key]

    @property
    def _subs(self):
        return (self.self_attn, self.norm1, self.norm2, self.activation, self.dropout, self.dropout1, self.dropout2)

    def train(self, mode: bool = True) -> "TransformerEncoderLayer":
        self.training = mode
        for sub in self._subs:
            sub.train(mode)
        return self

    def output_shape(self, shape: tuple) -> tuple:
        """(L, N, d_model), or (N, L, d_model) with batch_first -> the same shape."""
        return tuple(shape)

    def forward(self, src: np.ndarray, src_mask: np.ndarray | None = None,
                src_key_padding_mask: np.ndarray | None = None, is_causal: bool = False) -> np.ndarray:
        """src: (L, N, d_model) or (N, L, d_model); masks as MultiheadAttention's."""
        if src.ndim != 3 or src.shape[2] != self.d_model:
            raise ValueError(f"TransformerEncoderLayer({self.d_model}, ...) expects input with last axis "
                             f"d_model={self.d_model}, got shape {src.shape}.")
        x = src if self.batch_first else src.transpose(1, 0, 2)
        self.masks = (src_mask, src_key_padding_mask, is_causal)
        if self.norm_first:
            x = x + self._sa(self.norm1.forward(x))
            x = x + self._ff(self.norm2.forward(x))
        else:
            x = self.norm1.forward(x + self._sa(x))
            x = self.norm2.forward(x + self._ff(x))
        return x if self.batch_first else x.transpose(1, 0, 2)

    def _sa(self, x):
        return self.dropout1.forward(self.self_attn.forward(x, *self.masks))

    def _ff(self, x):
        n, length, d = x.shape
        hidden = self.dropout.forward(self.activation.forward(self.linear1.forward(x.reshape(n * length, d))))
        return self.dropout2.forward(self.linear2.forward(hidden)).reshape(n, length, d)

    def _sa_backward(self, g):
        return self.self_attn.backward(self.dropout1.backward(g))

    def _ff_backward(self, g):
        n, length, d = g.shape
        g = self.linear2.backward(self.dropout2.backward(g.reshape(n * length, d)))
        return self.linear1.backward(self.activation.backward(self.dropout.backward(g))).reshape(n, length, d)

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        g = grad_out if self.batch_first else grad_out.transpose(1, 0, 2)
        if self.norm_first:   # each residual passes g through unchanged and adds its branch's gradient
            g = g + self.norm2.backward(self._ff_backward(g))
            g = g + self.norm1.backward(self._sa_backward(g))
        else:
            g = self.norm2.backward(g)
            g = g + self._ff_backward(g)
            g = self.norm1.backward(g)
            g = g + self._sa_backward(g)
        return g if self.batch_first else g.transpose(1, 0, 2)

    def config(self) -> dict:
        return {"type": "TransformerEncoderLayer", "d_model": self.d_model, "nhead": self.nhead,
                "dim_feedforward": self.dim_feedforward, "dropout": self.dropout_p,
                "activation": self.activation_name, "layer_norm_eps": self.layer_norm_eps,
                "batch_first": self.batch_first, "norm_first": self.norm_first, "bias": self.bias}


LAYERS.update(TransformerEncoderLayer=TransformerEncoderLayer)
