"""Input checks in the spirit of scikit-learn's: one clear ValueError naming the problem and the fix.

Errors are DataError, a ValueError that is also a NumpynnError, so `except ValueError` (scikit-learn style)
and the CLI's `except NumpynnError` both catch them.

"Before training": a Sequential is initialised when it is built (as torch.nn is), so predicting with an
untrained model is allowed: it gives chance-level answers, which is useful as a baseline. What a user can
get wrong is predicting from a model that does not exist: numpynn.load_model on a missing, corrupt or
foreign file raises CheckpointError naming the file and how to get a trained one.
"""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from numpynn.errors import DataError

if TYPE_CHECKING:  # for the hints only
    from numpynn.nn.layers import Layer
    from numpynn.nn.losses import Loss
    from numpynn.nn.sequential import Sequential

_MAX_LISTED = 5  # how many offending labels an error message names


def expected_features(model: "Sequential | Layer") -> int | None:
    """in_features of the model's first Linear layer, or None if it has none."""
    for layer in getattr(model, "layers", [model]):
        if hasattr(layer, "in_features"):
            return layer.in_features
        if _takes_sequences(layer):  # token ids or (N, T, D) steps: any length fits
            return None
    return None


def _takes_sequences(layer) -> bool:
    """Embedding, RNN/LSTM/GRU, attention, an encoder layer: input whose length is free."""
    return any(hasattr(layer, name) for name in ("num_embeddings", "input_size", "embed_dim", "d_model"))


def first_conv(model: "Sequential | Layer") -> "Layer | None":
    """The model's first Conv2d (a layer with in_channels) when it comes before any Linear, else None."""
    for layer in getattr(model, "layers", [model]):
        if hasattr(layer, "in_features"):
            return None
        if hasattr(layer, "in_channels"):
            return layer
    return None


def _check_image_shape(model, shape: tuple) -> None:
    """Follow (N, C, H, W) through each layer's output_shape up to the first Linear; DataError where it breaks."""
    shape_in = shape
    for i, layer in enumerate(model.layers):
        if hasattr(layer, "in_features"):
            got = int(np.prod(shape[1:]))
            if got != layer.in_features:
                raise DataError(f"Images of {shape_in[2]}x{shape_in[3]} give {got} features at layer {i} (Linear) "
                                f"but it expects {layer.in_features}; pass images of the size the model was "
                                "built for.")
            return
        if hasattr(layer, "output_shape"):
            try:
                shape = layer.output_shape(shape)
            except ValueError as exc:
                raise DataError(str(exc)) from None


def output_size(model: "Sequential | Layer") -> int | None:
    """out_features of the model's last Linear layer (activations keep the width), or None if it has none."""
    for layer in reversed(getattr(model, "layers", [model])):
        if hasattr(layer, "out_features"):
            return layer.out_features
    return None


def check_batch_size(batch_size: int) -> int:
    """batch_size as an int >= 1 (predict, evaluate and fit chunk their input by it)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}; e.g. batch_size=256.")
    return int(batch_size)


def check_features(model: "Sequential | Layer", x: ArrayLike, cast: bool = True) -> np.ndarray:
    """x as an array of the model's dtype; refuse empty, non-numeric, non-finite or wrongly sized input.

    x: (N, D), or (N, d1, d2, ...) when the model starts with Flatten, or images (N, C, H, W) when it starts
    with a Conv2d (their size is followed through the layers to the first Linear). cast=False keeps x's own
    dtype (raw input that a preprocess step scales batch by batch).
    """
    try:
        x = np.asarray(x)
    except (ValueError, TypeError):  # ragged nested lists
        raise DataError("Input must be a rectangular numeric array; every row needs the same length.") from None
    if x.dtype.kind not in "fiub":
        raise DataError(f"Input must be numeric, got dtype {x.dtype}; convert it with np.asarray(x, float).")
    flattens = type(getattr(model, "layers", [None])[0]).__name__ == "Flatten"
    conv = first_conv(model)
    if conv is not None:
        if x.ndim != 4 or x.shape[1] != conv.in_channels:
            hint = " (add the channel axis: x[:, None])" if x.ndim == 3 and conv.in_channels == 1 else ""
            raise DataError(f"Input must be images (N, {conv.in_channels}, H, W) for this convolutional model, got "
                            f"shape {x.shape}{hint}.")
        _check_image_shape(model, x.shape)
    elif x.ndim != 2 and not ((flattens or _takes_sequences(model.layers[0] if hasattr(model, "layers") else model))
                              and x.ndim > 2):
        raise DataError(f"Input must be 2-D (samples, features), got shape {x.shape}; flatten images first "
                        "(e.g. x.reshape(len(x), -1)).")
    if len(x) == 0:
        raise DataError("Input is empty (0 samples); pass at least one row.")
    want, got = expected_features(model), int(np.prod(x.shape[1:]))
    if conv is None and want is not None and got != want:
        raise DataError(f"Input has {got} features but the model expects {want}; "
                        "reshape the data or build the model for this input size.")
    if cast:
        x = x.astype(model.dtype, copy=False)
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DataError("Input contains NaN or infinity; clean or impute those values first.")
    return x


def check_targets(y: ArrayLike, n: int, model: "Sequential | None" = None, loss_fn: "Loss | None" = None) -> np.ndarray:
    """y as an array: numeric, finite, one per input row and, given the model, fitting its output size.

    With a cross-entropy loss, labels (N,) must be integers in [0, classes); other targets must have the
    model's output width, (N, C), as the loss compares them element by element.
    """
    try:
        y = np.asarray(y)
    except (ValueError, TypeError):
        raise DataError("Targets must be a rectangular numeric array.") from None
    if y.dtype.kind not in "fiub":
        raise DataError(f"Targets must be numeric, got dtype {y.dtype}; convert string labels with y.astype(int).")
    if y.ndim == 0 or len(y) != n:
        raise DataError(f"Got {n} input rows but {y.size if y.ndim == 0 else len(y)} targets; "
                        "pass exactly one target per row.")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise DataError("Targets contain NaN or infinity; clean those rows first.")
    classes = None if model is None else output_size(model)
    if classes is None or loss_fn is None:
        return y
    if type(loss_fn).__name__ == "CrossEntropyLoss" and y.ndim == 1:
        _check_labels(y, classes)
    elif y.shape[1:] != (classes,):
        hint = " (e.g. y.reshape(-1, 1))" if classes == 1 and y.ndim == 1 else ""
        raise DataError(f"Targets have shape {y.shape} but the model outputs {classes} values per row; "
                        f"pass targets of shape ({n}, {classes}){hint}.")
    return y


def _check_labels(y: np.ndarray, classes: int) -> None:
    if y.dtype.kind == "b":
        raise DataError("Class labels must be integers, got booleans; convert them with y.astype(int).")
    if y.dtype.kind == "f":
        if not np.array_equal(y, np.round(y)):
            raise DataError("Class labels must be whole numbers, got fractional values; pass integer labels "
                            "(or one-hot rows for soft targets).")
        raise DataError(f"Class labels must be integers, got {y.dtype}; convert them with y.astype(int).")
    bad = np.unique(y[(y < 0) | (y >= classes)])
    if len(bad):
        listed = ", ".join(str(v) for v in bad[:_MAX_LISTED]) + (", ..." if len(bad) > _MAX_LISTED else "")
        raise DataError(f"Labels {listed} are outside the model's {classes} classes (0..{classes - 1}); "
                        f"remap the labels to 0..{classes - 1} or build the model with more outputs.")
