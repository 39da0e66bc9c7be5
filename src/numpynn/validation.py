"""Input checks in the spirit of scikit-learn's: one clear ValueError naming the problem and the fix."""

import numpy as np


def expected_features(model) -> int | None:
    """in_features of the model's first Linear layer, or None if it has none."""
    for layer in getattr(model, "layers", [model]):
        if hasattr(layer, "in_features"):
            return layer.in_features
    return None


def check_features(model, x) -> np.ndarray:
    """x as a 2-D array of the model's dtype; refuse empty, non-numeric, non-finite or wrongly sized input."""
    x = np.asarray(x)
    if x.dtype.kind not in "fiub":
        raise ValueError(f"Input must be numeric, got dtype {x.dtype}; convert it with np.asarray(x, float).")
    if x.ndim != 2:
        raise ValueError(f"Input must be 2-D (samples, features), got shape {x.shape}; flatten images first "
                         "(e.g. x.reshape(len(x), -1)).")
    if len(x) == 0:
        raise ValueError("Input is empty (0 samples); pass at least one row.")
    want = expected_features(model)
    if want is not None and x.shape[1] != want:
        raise ValueError(f"Input has {x.shape[1]} features but the model expects {want}; "
                         "reshape the data or build the model for this input size.")
    x = x.astype(model.dtype, copy=False)
    if not np.isfinite(x).all():
        raise ValueError("Input contains NaN or infinity; clean or impute those values first.")
    return x


def check_targets(y, n: int) -> None:
    """Targets must be numeric, finite and one per input row."""
    y = np.asarray(y)
    if y.dtype.kind not in "fiub":
        raise ValueError(f"Targets must be numeric, got dtype {y.dtype}; convert string labels with y.astype(int).")
    if len(y) != n:
        raise ValueError(f"Got {n} input rows but {len(y)} targets; pass exactly one target per row.")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("Targets contain NaN or infinity; clean those rows first.")
