"""export_onnx: a numpynn Sequential, with its input preprocessing baked in, as an ONNX model file.

The graph takes raw samples as `numpynn predict` receives them (MNIST: 0-255 pixels, (batch, 28, 28)),
applies the run's scaling (/255, global or per-pixel z-score) and image reshape, then every layer in its
eval form (onnx_layers.ONNX_OPS), and returns `logits` and `probabilities` (their softmax). The batch
dimension is dynamic; the metadata names the class labels, the preprocessing and the numpynn version.
Opset 17 and IR version 8: what onnxruntime has run since 1.14 (1.32 included) and onnx >= 1.15 checks.
"""

import functools
import json
import os
from pathlib import Path
from types import ModuleType

import numpy as np

import numpynn.interop.onnx_sequence  # noqa: F401,E402  (registers the sequence and attention layers in ONNX_OPS)
from numpynn.data.transforms import MNIST_MEAN, MNIST_STD, SCALE_METHODS, Scaler
from numpynn.errors import NumpynnError
from numpynn.interop.extras import require
from numpynn.interop.onnx_layers import ONNX_OPS, GraphBuilder
from numpynn.io.atomic import atomic_write_bytes
from numpynn.nn.sequential import Sequential
from numpynn.validation import expected_features, first_conv

OPSET = 17
IR_VERSION = 8
INPUT, LOGITS, PROBABILITIES = "pixels", "logits", "probabilities"


class ExportError(NumpynnError, ValueError):
    """A model cannot be written as ONNX (an unsupported layer, an input shape that does not fit)."""


def export_onnx(model: Sequential, path: str | os.PathLike, *, preprocess: Scaler | str | None = None,
                input_shape: tuple[int, ...] | None = None, class_names: list[str] | None = None,
                opset: int = OPSET) -> Path:
    """Write `model` as an ONNX file at `path` (atomically) and return the path.

    preprocess: a datasets.Scaler (a run's input scaling) or a method name ("255", "global", "none";
    "zscore" needs the fitted Scaler), baked into the graph so it takes raw values; None: no scaling.
    input_shape: one raw sample's shape, e.g. (28, 28) for MNIST images, (784,) for rows; by default
    (in_features,) for an MLP. A convolutional model needs it: (H, W) for one channel, or (C, H, W).
    class_names: stored in the metadata as `classes` (JSON), with `numpynn_version` and `preprocessing`.
    """
    onnx = require("onnx", "onnx", "ONNX export")
    require("onnx.helper", "onnx", "ONNX export")
    require("onnx.numpy_helper", "onnx", "ONNX export")
    data = onnx_bytes(model, onnx, preprocess, input_shape, class_names, opset)
    return atomic_write_bytes(path, data)


def onnx_bytes(model: Sequential, onnx: ModuleType, preprocess: Scaler | str | None,
               input_shape: tuple[int, ...] | None, class_names: list[str] | None, opset: int) -> bytes:
    """The serialised ONNX model (see export_onnx)."""
    unsupported = [(i, type(layer).__name__) for i, layer in enumerate(model.layers)
                   if type(layer).__name__ not in ONNX_OPS]
    if unsupported:
        i, name = unsupported[0]
        raise ExportError(f"Layer {i} ({name}) has no ONNX mapping, so this model cannot be exported; numpynn "
                          f"exports {', '.join(ONNX_OPS)}.")
    check_opset(opset, onnx)
    dtype = np.dtype(model.dtype)
    scaler = _scaler(preprocess, dtype)
    conv = first_conv(model)
    input_shape, n_outputs = _input_shape(model, conv, input_shape)
    helper = onnx.helper
    g = GraphBuilder(onnx, dtype)
    x = INPUT
    # --- the run's preprocessing, on flat rows (N, D) as numpynn applies it
    n_features = int(np.prod(input_shape))
    if len(input_shape) > 1:
        x = g.node("Flatten", [x], "rows", axis=1)
    x = _scaling(g, scaler, x, n_features)
    if conv is not None:  # rows -> (N, C, H, W) images for the first Conv2d
        c = conv.in_channels
        image = [c, *input_shape] if len(input_shape) == 2 else list(input_shape)
        x = g.node("Reshape", [x, g.constant([-1, *image], "image_shape", dtype=np.int64)], "images")
    # --- the layers, in eval form
    for layer in model.layers:
        x = ONNX_OPS[type(layer).__name__](g, layer, x)
    g.node("Identity", [x], "logits", output=LOGITS)
    g.node("Softmax", [LOGITS], "probabilities", output=PROBABILITIES, axis=1)
    # --- the graph, its signature and metadata
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    classes = _classes(n_outputs, class_names)
    graph = helper.make_graph(
        g.nodes, "numpynn", [helper.make_tensor_value_info(INPUT, elem, ["batch", *input_shape])],
        [helper.make_tensor_value_info(LOGITS, elem, ["batch", len(classes)]),
         helper.make_tensor_value_info(PROBABILITIES, elem, ["batch", len(classes)])],
        initializer=g.initializers)
    from numpynn import __version__
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="numpynn",
                              producer_version=__version__, ir_version=IR_VERSION,
                              doc_string=f"numpynn model: raw input {INPUT} -> {LOGITS}, {PROBABILITIES}")
    helper.set_model_props(proto, {
        "classes": json.dumps(classes), "numpynn_version": __version__,
        "preprocessing": json.dumps({"method": scaler.method if scaler else "none",
                                     "input_shape": list(input_shape)}),
        "architecture": json.dumps(model.config())})
    onnx.checker.check_model(proto, full_check=True)  # shape inference included: a broken graph never leaves
    return proto.SerializeToString()


def check_opset(opset: int, onnx: ModuleType | None = None) -> None:
    """Refuse an opset outside OPSET..max_opset(): 0.2.0 wrote `--opset 99` files that onnxruntime cannot load."""
    if type(opset) is int and opset == OPSET:  # loads in every onnxruntime numpynn supports: no need to ask
        return
    top = max_opset(onnx)
    if type(opset) is not int or not OPSET <= opset <= top:
        raise ExportError(f"opset {opset} is outside what this exporter can write with the installed onnx and "
                          f"onnxruntime: pass an opset from {OPSET} to {top}.")


@functools.cache
def max_opset(onnx: ModuleType | None = None) -> int:
    """The newest opset both the installed onnx defines and the installed onnxruntime (if any) loads."""
    onnx = onnx or require("onnx", "onnx", "ONNX export")
    top = onnx.defs.onnx_opset_version()
    try:
        import onnxruntime
    except ImportError:
        return top
    low, high = OPSET, top  # onnxruntime has no API for it: ask it to load an empty graph, bisecting
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if _loads(onnx, onnxruntime, mid) else (low, mid - 1)
    return low


def _loads(onnx, onnxruntime, opset: int) -> bool:
    helper = onnx.helper
    value = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe", [value],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)
    try:
        onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception:  # noqa: BLE001 (onnxruntime raises its own types: any refusal means "not this opset")
        return False
    return True


def _scaler(preprocess, dtype) -> Scaler | None:
    if preprocess is None or isinstance(preprocess, Scaler):
        return preprocess
    if preprocess not in SCALE_METHODS or preprocess == "zscore":
        raise ExportError(f"preprocess={preprocess!r} is not a method name export can use; pass one of 255, "
                          "global, none, or a fitted datasets.Scaler for zscore.")
    return Scaler(preprocess, dtype)


def _scaling(g: GraphBuilder, scaler, x: str, n_features: int) -> str:
    """The Scaler's arithmetic as nodes, in numpynn's order of operations (so float rounding matches)."""
    if scaler is None or scaler.method == "none":
        return x
    if scaler.method == "zscore":
        if np.shape(scaler.mean) != (n_features,):
            raise ExportError(f"The z-score statistics cover {np.size(scaler.mean)} features but the input has "
                              f"{n_features}; pass the input_shape the model was trained on.")
        x = g.node("Sub", [x, g.constant(scaler.mean, "mean")], "centred")
        return g.node("Div", [x, g.constant(scaler.std, "std")], "scaled")
    x = g.node("Div", [x, g.constant(255.0, "max_pixel")], "unit")
    if scaler.method == "global":
        x = g.node("Sub", [x, g.constant(MNIST_MEAN, "mnist_mean")], "centred")
        x = g.node("Div", [x, g.constant(MNIST_STD, "mnist_std")], "scaled")
    return x


def _input_shape(model, conv, input_shape) -> tuple[tuple[int, ...], int]:
    """One raw sample's shape, checked by running a zero sample through the model, and the output width."""
    if input_shape is None:
        if conv is not None:
            raise ExportError("A convolutional model needs input_shape, e.g. input_shape=(28, 28) for MNIST "
                              "images or (C, H, W).")
        input_shape = (expected_features(model),)
    input_shape = tuple(int(d) for d in input_shape)
    if not input_shape or min(input_shape) < 1:
        raise ExportError(f"input_shape must be positive sizes such as (28, 28), got {input_shape}.")
    if conv is not None:
        c = conv.in_channels
        if len(input_shape) not in (2, 3) or (len(input_shape) == 2 and c != 1) or \
                (len(input_shape) == 3 and input_shape[0] != c):
            raise ExportError(f"input_shape {input_shape} does not fit the first Conv2d's {c} input channel(s); "
                              f"pass (H, W) for one channel or ({c}, H, W).")
        probe = np.zeros((1, c, *input_shape[-2:]), model.dtype)
    else:
        if expected_features(model) is not None and int(np.prod(input_shape)) != expected_features(model):
            raise ExportError(f"input_shape {input_shape} has {int(np.prod(input_shape))} values but the model "
                              f"takes {expected_features(model)} features; pass the shape it was trained on.")
        probe = np.zeros((1, int(np.prod(input_shape))), model.dtype)
    try:
        out = model.predict_logits(probe)  # the image shape must reach the first Linear with its in_features
    except ValueError as exc:
        raise ExportError(f"The model cannot take inputs of shape {input_shape}: {exc}") from None
    if out.ndim != 2:
        raise ExportError(f"The model outputs shape {out.shape[1:]} per sample, not a vector of class scores; "
                          "end it with a Linear (after a Flatten).")
    return input_shape, out.shape[1]


def _classes(width: int, class_names) -> list[str]:
    if class_names is None:
        return [str(i) for i in range(width)]
    if len(class_names) != width:
        raise ExportError(f"{len(class_names)} class names for a model with {width} outputs; pass one per output.")
    return [str(c) for c in class_names]

