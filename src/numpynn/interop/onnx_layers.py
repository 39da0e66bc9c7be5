"""Each numpynn layer as ONNX nodes (onnx.helper), in its eval form: ONNX_OPS maps a layer's class name to them.

A mapping gets a GraphBuilder, the layer and the name of its input, and returns the name of its output.
"""

import math
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

if TYPE_CHECKING:  # for the hints only
    from numpynn.nn.layers import Layer

SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class GraphBuilder:
    """Collects nodes and initializers (weights, constants) with unique names, in the model's float dtype."""

    def __init__(self, onnx: ModuleType, dtype: DTypeLike):
        self.onnx, self.dtype = onnx, np.dtype(dtype)
        self.nodes, self.initializers, self._count = [], [], 0

    def name(self, hint: str) -> str:
        """A name not used before in this graph: hint_<count>."""
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, value: ArrayLike, hint: str, dtype: DTypeLike | None = None) -> str:
        """An initializer holding `value` (in the model's dtype unless dtype is given); returns its name."""
        array = np.ascontiguousarray(np.asarray(value, dtype=self.dtype if dtype is None else dtype))
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, output: str | None = None, **attrs: object) -> str:
        """Append an `op` node reading `inputs` (names); returns the name of its one output."""
        output = output or self.name(hint)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=self.name(op), **attrs))
        return output


def linear(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """Gemm(x, weight, bias) with transB=1: x (N, in) -> (N, out)."""
    # Gemm computes x @ weight.T + bias with torch's (out, in) weight as stored: transB=1.
    inputs = [x, g.constant(layer.params["weight"], "weight")]
    if "bias" in layer.params:
        inputs.append(g.constant(layer.params["bias"], "bias"))
    return g.node("Gemm", inputs, "linear", transB=1)


def gelu(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """Opset 17 has no Gelu: x * (1 + erf(x / sqrt 2)) / 2, or torch's tanh formula, as numpynn computes them."""
    half, one = g.constant(0.5, "half"), g.constant(1.0, "one")
    if layer.approximate == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x], "x2"), x], "x3")
        inner = g.node("Add", [x, g.node("Mul", [cube, g.constant(0.044715, "c")], "cx3")], "inner")
        t = g.node("Tanh", [g.node("Mul", [inner, g.constant(SQRT_2_OVER_PI, "k")], "u")], "tanh")
    else:
        t = g.node("Erf", [g.node("Mul", [x, g.constant(1 / math.sqrt(2), "k")], "u")], "erf")
    return g.node("Mul", [x, g.node("Mul", [g.node("Add", [t, one], "t1"), half], "cdf")], "gelu")


def batch_norm(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """BatchNormalization with the running statistics (eval form), for BatchNorm1d's (N, C) and 2d's (N, C, H, W)."""
    c = layer.num_features
    weight = layer.params.get("weight", np.ones(c)) if layer.affine else np.ones(c)
    bias = layer.params.get("bias", np.zeros(c)) if layer.affine else np.zeros(c)
    inputs = [x, g.constant(weight, "bn_weight"), g.constant(bias, "bn_bias"),
              g.constant(layer.buffers["running_mean"], "running_mean"),
              g.constant(layer.buffers["running_var"], "running_var")]
    return g.node("BatchNormalization", inputs, "batch_norm", epsilon=layer.eps)


def conv2d(g: GraphBuilder, layer: "Layer", x: str) -> str:
    """Conv with the layer's kernel, stride and symmetric padding: (N, C, H, W) -> (N, O, Ho, Wo)."""
    (ph, pw) = layer.padding
    inputs = [x, g.constant(layer.params["weight"], "conv_weight")]  # (O, C, kh, kw), as ONNX's Conv takes it
    if "bias" in layer.params:
        inputs.append(g.constant(layer.params["bias"], "conv_bias"))
    return g.node("Conv", inputs, "conv", kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                  pads=[ph, pw, ph, pw])


def _pool(op: str, **extra):
    def mapping(g: GraphBuilder, layer, x: str) -> str:
        (ph, pw) = layer.padding
        # floor rule (ceil_mode=0) as torch and numpynn; MaxPool's padding never wins a max (numpynn pads -inf),
        # AvgPool2d counts zero padding in the mean (count_include_pad=1), as torch's default does.
        return g.node(op, [x], op.lower(), kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                      pads=[ph, pw, ph, pw], **extra)
    return mapping


def _unary(op: str):
    return lambda g, layer, x: g.node(op, [x], op.lower())


ONNX_OPS = {
    "Linear": linear,
    "ReLU": _unary("Relu"),
    "Sigmoid": _unary("Sigmoid"),
    "Tanh": _unary("Tanh"),
    "LeakyReLU": lambda g, layer, x: g.node("LeakyRelu", [x], "leaky_relu", alpha=layer.negative_slope),
    "GELU": gelu,
    "Softmax": lambda g, layer, x: g.node("Softmax", [x], "softmax", axis=layer.dim),
    "Flatten": lambda g, layer, x: g.node("Flatten", [x], "flatten", axis=1),
    "Dropout": lambda g, layer, x: x,  # the identity in eval mode
    "BatchNorm1d": batch_norm,
    "BatchNorm2d": batch_norm,
    "Conv2d": conv2d,
    "MaxPool2d": _pool("MaxPool"),
    "AvgPool2d": _pool("AveragePool", count_include_pad=1),
    "AdaptiveAvgPool2d": _unary("GlobalAveragePool"),
}
