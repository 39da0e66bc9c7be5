"""Model files: safetensors tensors + JSON metadata, written atomically, validated in full before use.

A file from a stranger can at worst be refused: safetensors holds only raw numbers (no pickle, no code),
and every header field is checked against caps and against the declared architecture before any array
is built from it.
"""

import json
import os
import struct
from pathlib import Path

import numpy as np
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from .errors import CheckpointError
from .fileio import atomic_write_bytes
from .model import Sequential

FORMAT = "numpynn"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 2 * 1024**3      # a 784-256-10 model is 0.8 MB; 2 GiB leaves room for anything sane
MAX_HEADER_BYTES = 16 * 1024**2   # the header is a small JSON index of tensors
DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


def save_model(path: str | os.PathLike, model: Sequential, metadata: dict | None = None,
               extra_tensors: dict[str, np.ndarray] | None = None) -> Path:
    """Write model weights (PyTorch state_dict names) and metadata atomically; values must be JSON-able."""
    from . import __version__
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "numpynn_version": __version__,
            "architecture": json.dumps(model.config()), "dtype": str(model.dtype)}
    for key, value in (metadata or {}).items():
        meta[key] = value if isinstance(value, str) else json.dumps(value)
    tensors = {k: np.ascontiguousarray(v) for k, v in {**model.state_dict(), **(extra_tensors or {})}.items()}
    return atomic_write_bytes(path, st_save(tensors, metadata=meta))


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(tensors, metadata) after checking the file's size, header, dtypes, shapes and offsets."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Model file {path} does not exist; pass the path of a model.safetensors file.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise CheckpointError(f"Model file {path} is {size} bytes, over the {MAX_FILE_BYTES}-byte cap; "
                              "it is not a numpynn model.")
    data = path.read_bytes()
    header = _parse_header(data, path)
    meta = header.pop("__metadata__", None) or {}
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a numpynn model file (no numpynn metadata); "
                              "save models with numpynn.save_model or `numpynn train`.")
    if meta.get("format_version") != str(FORMAT_VERSION):
        raise CheckpointError(f"{path} has format version {meta.get('format_version')!r}, but this numpynn "
                              f"reads version {FORMAT_VERSION}; upgrade numpynn or re-save the model.")
    try:
        tensors = st_load(data)
    except Exception as exc:  # the safetensors library's own errors: surface them as ours
        raise CheckpointError(f"{path} is corrupt ({exc}); re-save or re-train the model.") from None
    for name, value in tensors.items():
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise CheckpointError(f"Tensor {name!r} in {path} holds NaN or infinity; the file is corrupt or "
                                  "was saved from a diverged run.")
    return tensors, meta


def load_model(path: str | os.PathLike) -> tuple[Sequential, dict]:
    """Rebuild the saved architecture and load its weights; returns (model, metadata with JSON decoded)."""
    tensors, meta = read_checkpoint(path)
    try:
        config = json.loads(meta["architecture"])
        dtype = np.dtype(meta.get("dtype", "float32"))
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"unsupported dtype {dtype}")
        model = Sequential.from_config(config, dtype=dtype)
        model.load_state_dict({k: v for k, v in tensors.items() if k[0].isdigit()})
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} does not describe a valid model ({exc}); re-save or re-train it.") from None
    return model, {k: _maybe_json(v) for k, v in meta.items()}


def _parse_header(data: bytes, path: Path) -> dict:
    if len(data) < 8:
        raise CheckpointError(f"{path} is truncated ({len(data)} bytes); re-save or re-train the model.")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise CheckpointError(f"{path} declares a {n}-byte header in a {len(data)}-byte file; it is corrupt "
                              "or truncated.")
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{path} has an unreadable header; it is corrupt or not a safetensors file.") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} has a malformed header; it is corrupt.")
    body = len(data) - 8 - n
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                raise CheckpointError(f"{path} has malformed metadata; it is corrupt.")
            continue
        if not isinstance(info, dict) or info.get("dtype") not in DTYPES:
            raise CheckpointError(f"Tensor {name!r} in {path} has dtype {info.get('dtype') if isinstance(info, dict) else '?'}"
                                  f"; numpynn files hold only {', '.join(DTYPES)}.")
        shape, offsets = info.get("shape"), info.get("data_offsets")
        if (not isinstance(shape, list) or not all(isinstance(d, int) and 0 <= d for d in shape)
                or not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) for o in offsets)):
            raise CheckpointError(f"Tensor {name!r} in {path} has a malformed shape or offsets; it is corrupt.")
        count = 1
        for d in shape:  # Python ints: a huge declared shape cannot overflow
            count *= d
        nbytes = count * np.dtype(DTYPES[info["dtype"]]).itemsize
        if not 0 <= offsets[0] <= offsets[1] <= body or offsets[1] - offsets[0] != nbytes:
            raise CheckpointError(f"Tensor {name!r} in {path} declares shape {shape} that does not match its "
                                  f"{offsets[1] - offsets[0]} stored bytes; the file is corrupt or truncated.")
    return header


def _maybe_json(value: str):
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value
