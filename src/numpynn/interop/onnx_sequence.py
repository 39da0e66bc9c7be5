"""The sequence and attention layers as ONNX nodes (opset 17), registered in ONNX_OPS beside the others.

Recurrent layers map to ONNX's own LSTM, GRU and RNN operators, with the gates reordered (torch: LSTM i f g o,
GRU r z n; ONNX: LSTM i o f c, GRU z r h) and GRU's linear_before_reset=1, torch's formula. Attention has no
single operator in opset 17: it is written out as MatMul, Softmax, Transpose and Reshape; LayerNorm is
LayerNormalization. Every node works on batch-first (N, L, D) sequences except the recurrent operators, whose
(T, N, D) layout is transposed in and out.
"""

import math
from typing import TYPE_CHECKING

import numpy as np

from numpynn.interop.onnx_layers import ONNX_OPS, GraphBuilder

if TYPE_CHECKING:  # for the hints only
    from numpynn.nn.layers import Layer

# torch's gate blocks, in the order ONNX wants them
_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN": [0]}


def _ints(g: GraphBuilder, values, hint: str) -> str:
    """An int64 initializer; a scalar stays 0-d (GraphBuilder.constant's ascontiguousarray would make it (1,)),
    so a Gather with it drops the axis."""
    value = np.asarray(values, np.int64)
    if value.ndim:
        return g.constant(value, hint, dtype=np.int64)
    name = g.name(hint)
    g.initializers.append(g.onnx.numpy_helper.from_array(value, name))
    return name


def _reorder(w: np.ndarray, mode: str) -> np.ndarray:
    blocks = np.split(w, len(_GATE_ORDER[mode]), axis=0)
    return np.concatenate([blocks[i] for i in _GATE_ORDER[mode]], axis=0)


def recurrent(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """RNN/LSTM/GRU: (N, T, D) or (T, N, D) -> the same layout with D = directions * hidden_size."""
    mode, h, dirs = layer.mode, layer.hidden_size, layer.num_directions
    seq = g.node("Transpose", [x], "time_major", perm=[1, 0, 2]) if layer.batch_first else x
    for i in range(layer.num_layers):
        suffixes = layer._suffixes(i)
        w = np.stack([_reorder(layer.params["weight_ih" + s], mode) for s in suffixes])
        r = np.stack([_reorder(layer.params["weight_hh" + s], mode) for s in suffixes])
        inputs = [seq, g.constant(w, "W"), g.constant(r, "R")]
        if layer.bias:
            b = np.stack([np.concatenate([_reorder(layer.params["bias_ih" + s], mode),
                                          _reorder(layer.params["bias_hh" + s], mode)]) for s in suffixes])
            inputs.append(g.constant(b, "B"))
        attrs = {"hidden_size": h, "direction": "bidirectional" if dirs == 2 else "forward"}
        if mode == "GRU":
            attrs["linear_before_reset"] = 1
        if mode == "RNN":
            attrs["activations"] = ["Tanh" if layer.nonlinearity == "tanh" else "Relu"] * dirs
        y = g.node(mode, inputs, mode.lower(), **attrs)                       # (T, dirs, N, H)
        y = g.node("Transpose", [y], "steps", perm=[0, 2, 1, 3])              # (T, N, dirs, H)
        seq = g.node("Reshape", [y, _ints(g, [0, 0, dirs * h], "shape")], "concat_dirs")
    return g.node("Transpose", [seq], "batch_major", perm=[1, 0, 2]) if layer.batch_first else seq


def _linear3d(g: GraphBuilder, x: str, weight: np.ndarray, bias: np.ndarray | None, hint: str) -> str:
    y = g.node("MatMul", [x, g.constant(np.ascontiguousarray(weight.T), hint + "_weight_t")], hint)
    return y if bias is None else g.node("Add", [y, g.constant(bias, hint + "_bias")], hint + "_b")


def self_attention(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """Batch-first (N, L, E) self-attention without masks, as MultiheadAttention's forward(x) computes it."""
    e, heads = layer.embed_dim, layer.num_heads
    hd = e // heads
    if not layer.batch_first:
        x = g.node("Transpose", [x], "batch_major", perm=[1, 0, 2])
    qkv = _linear3d(g, x, layer.params["in_proj_weight"], layer.params.get("in_proj_bias"), "in_proj")
    qkv = g.node("Reshape", [qkv, _ints(g, [0, 0, 3, heads, hd], "qkv_shape")], "qkv_heads")
    qkv = g.node("Transpose", [qkv], "qkv_split", perm=[2, 0, 3, 1, 4])      # (3, N, heads, L, hd)
    q, k, v = (g.node("Gather", [qkv, _ints(g, i, "index")], name, axis=0) for i, name in enumerate("qkv"))
    scores = g.node("MatMul", [q, g.node("Transpose", [k], "k_t", perm=[0, 1, 3, 2])], "scores")
    scores = g.node("Mul", [scores, g.constant(1 / math.sqrt(hd), "scale")], "scaled")
    attn = g.node("Softmax", [scores], "attn", axis=-1)
    ctx = g.node("Transpose", [g.node("MatMul", [attn, v], "context")], "merge", perm=[0, 2, 1, 3])
    ctx = g.node("Reshape", [ctx, _ints(g, [0, 0, e], "ctx_shape")], "heads_merged")
    out_proj = layer.out_proj
    out = _linear3d(g, ctx, out_proj.params["weight"], out_proj.params.get("bias"), "out_proj")
    return out if layer.batch_first else g.node("Transpose", [out], "seq_major", perm=[1, 0, 2])


def layer_norm(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """LayerNorm as one LayerNormalization over the last axes: x (..., *normalized_shape), same shape out."""
    shape = layer.normalized_shape
    weight = layer.params.get("weight", np.ones(shape))
    bias = layer.params.get("bias", np.zeros(shape))
    return g.node("LayerNormalization", [x, g.constant(weight, "ln_weight"), g.constant(bias, "ln_bias")],
                  "layer_norm", axis=-len(shape), epsilon=layer.eps)


def encoder_layer(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """TransformerEncoderLayer in eval form (dropout off), post- or pre-norm."""
    if not layer.batch_first:
        x = g.node("Transpose", [x], "batch_major", perm=[1, 0, 2])
    act = "Relu" if layer.activation_name == "relu" else None

    def ff(h):
        h = _linear3d(g, h, layer.linear1.params["weight"], layer.linear1.params.get("bias"), "linear1")
        h = g.node(act, [h], "relu") if act else ONNX_OPS["GELU"](g, layer.activation, h)
        return _linear3d(g, h, layer.linear2.params["weight"], layer.linear2.params.get("bias"), "linear2")

    def sa(h):
        return self_attention(g, layer.self_attn, h)

    if layer.norm_first:
        x = g.node("Add", [x, sa(layer_norm(g, layer.norm1, x))], "residual1")
        x = g.node("Add", [x, ff(layer_norm(g, layer.norm2, x))], "residual2")
    else:
        x = layer_norm(g, layer.norm1, g.node("Add", [x, sa(x)], "residual1"))
        x = layer_norm(g, layer.norm2, g.node("Add", [x, ff(x)], "residual2"))
    return x if layer.batch_first else g.node("Transpose", [x], "seq_major", perm=[1, 0, 2])


def patch_embedding(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """PatchEmbedding: x (N, C, H, W) through its Conv2d, then (N, P, D) tokens, row by row."""
    maps = ONNX_OPS["Conv2d"](g, layer.proj, x)                               # (N, D, h, w)
    tokens = g.node("Reshape", [maps, _ints(g, [0, layer.embed_dim, -1], "tokens_shape")], "tokens")
    return g.node("Transpose", [tokens], "patches", perm=[0, 2, 1])           # (N, P, D)


def class_token(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """ClassToken: the learned token (1, 1, D), expanded over the batch, before x (N, P, D) -> (N, 1 + P, D)."""
    n = g.node("Slice", [g.node("Shape", [x], "shape"), _ints(g, [0], "start"), _ints(g, [1], "end")], "batch")
    target = g.node("Concat", [n, _ints(g, [1, layer.embed_dim], "token_shape")], "expand_shape", axis=0)
    token = g.node("Expand", [g.constant(layer.params["class_token"], "class_token"), target], "class_tokens")
    return g.node("Concat", [token, x], "with_class_token", axis=1)


def sequence_pool(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """SequencePool: (N, T, D) or (T, N, D) -> (N, D), the mean, last or first step."""
    axis = 1 if layer.batch_first else 0
    if layer.mode == "mean":
        return g.node("ReduceMean", [x], "mean_steps", axes=[axis], keepdims=0)
    return g.node("Gather", [x, _ints(g, -1 if layer.mode == "last" else 0, "step")], "step", axis=axis)


def embedding(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """Token ids arrive as floats (the graph's input type): cast to int64, then one row of the table each."""
    ids = g.node("Cast", [x], "ids", to=g.onnx.TensorProto.INT64)
    return g.node("Gather", [g.constant(layer.params["weight"], "embedding"), ids], "embedded", axis=0)


ONNX_OPS.update({
    "Embedding": embedding,
    "RNN": recurrent, "LSTM": recurrent, "GRU": recurrent,
    "MultiheadAttention": self_attention,
    "LayerNorm": layer_norm,
    "TransformerEncoderLayer": encoder_layer,
    "PatchEmbedding": patch_embedding,
    "ClassToken": class_token,
    "PositionEmbedding": lambda g, layer, x: g.node("Add", [x, g.constant(layer.params["pos_embedding"], "pos")],
                                                    "positions"),
    "SequencePool": sequence_pool,
    "Unflatten": lambda g, layer, x: g.node(
        "Reshape", [x, _ints(g, [0] * layer.dim + list(layer.unflattened_size), "unflatten_shape")], "unflatten"),
})
