"""Extra arrays a model file keeps beside its weights (a z-score's `preprocess.mean` and `.std`), in its metadata.

numpynn 0.2.0 stored them as tensors next to the weights, where torch's strict load_state_dict refused them;
since 0.3 the tensors of a model file are exactly its state_dict and the extras are JSON in the metadata
(float32 values round-trip exactly through JSON's float64 text). Files of both kinds load.
"""

import json
import os

import numpy as np

from numpynn.errors import CheckpointError

EXTRA_DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64}
MAX_EXTRA_VALUES = 2**18  # what the metadata holds well (a z-score of 3x256x256 images' pixels fits)


def arrays_to_json(arrays: dict[str, np.ndarray]) -> str:
    """The metadata value for extra arrays: {name: {dtype, shape, values}} as JSON; finite numbers only."""
    total = sum(np.size(value) for value in arrays.values())
    if total > MAX_EXTRA_VALUES:
        raise ValueError(f"Extra tensors hold {total} values, over the {MAX_EXTRA_VALUES} a model file keeps "
                         "beside its weights; save large arrays in a file of their own (np.save).")
    out = {}
    for name, value in arrays.items():
        value = np.asarray(value)
        if value.dtype.name not in EXTRA_DTYPES or (value.dtype.kind == "f" and not np.isfinite(value).all()):
            raise ValueError(f"Extra tensor {name!r} must be finite float32, float64 or int64 numbers, got "
                             f"{value.dtype}.")
        out[name] = {"dtype": value.dtype.name, "shape": list(value.shape), "values": value.ravel().tolist()}
    return json.dumps(out)


def with_extra_arrays(tensors: dict, meta: dict, path: str | os.PathLike | None) -> dict:
    """tensors plus the extra arrays kept in the metadata (numpynn >= 0.3; 0.2.0 kept them beside the weights),
    all named in meta["extra_tensors"]; "extra_arrays" leaves the metadata."""
    if "extra_arrays" not in meta:
        return tensors
    arrays, names = _json(meta, "extra_arrays", path), _json(meta, "extra_tensors", path)
    del meta["extra_arrays"]
    if not isinstance(arrays, dict) or not isinstance(names, list):
        raise CheckpointError(f"{path} has malformed extra arrays in its metadata; the file is corrupt.")
    tensors = dict(tensors)
    for name, entry in arrays.items():
        try:
            dtype, shape = EXTRA_DTYPES[entry["dtype"]], tuple(entry["shape"])
            if name in tensors or not all(type(d) is int and d >= 0 for d in shape):
                raise ValueError
            with np.errstate(over="ignore"):  # 1e300 in a float32 array: refused just below as infinity
                value = np.array(entry["values"], dtype=dtype).reshape(shape)
        except (KeyError, TypeError, ValueError, OverflowError):
            raise CheckpointError(f"{path} has a malformed extra array {name!r} in its metadata; the file is "
                                  "corrupt.") from None
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise CheckpointError(f"Extra array {name!r} in {path} holds NaN or infinity; the file is corrupt.")
        tensors[name] = value
    meta["extra_tensors"] = json.dumps(sorted({*map(str, names), *arrays}))
    return tensors


def _json(meta: dict, key: str, path):
    try:
        return json.loads(meta[key])
    except (KeyError, ValueError, RecursionError):
        raise CheckpointError(f"{path} has missing or unreadable {key!r} metadata; the file is corrupt.") from None
