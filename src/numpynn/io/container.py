"""The safetensors container: named raw arrays + string metadata, with a checksum, parsed without trusting it.

Layout (the safetensors spec): 8-byte little-endian header size, a JSON header {name: {dtype, shape,
data_offsets}, "__metadata__": {str: str}} padded with spaces, then the tensors' bytes back to back.
numpynn adds `metadata["checksum"]`: SHA-256 over a canonical form of the header and the data, so a flipped
bit anywhere is caught rather than loaded as a slightly wrong weight. Reading is our own code, not the
safetensors library's, so every failure is a CheckpointError and nothing in the file can allocate more
memory than the file's own size.
"""

import hashlib
import json
import struct

import numpy as np

from numpynn.errors import CheckpointError

MAX_FILE_BYTES = 2 * 1024**3      # a 784-256-10 model is 0.8 MB; 2 GiB leaves room for anything sane
MAX_HEADER_BYTES = 16 * 1024**2   # the header is a small JSON index of tensors plus metadata
DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8")}
CODES = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}


def encode(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """Serialise tensors (float32, float64 or int64) and string metadata, adding the checksum."""
    index, chunks, offset = {}, [], 0
    # Widest items first, as the safetensors library does, so every tensor starts aligned to its item size.
    for name in sorted(tensors, key=lambda k: (-np.asarray(tensors[k]).dtype.itemsize, k)):
        array = np.asarray(tensors[name])
        code = CODES.get(array.dtype.newbyteorder("="))
        if code is None or name == "__metadata__":
            raise ValueError(f"Cannot save tensor {name!r} of dtype {array.dtype}; numpynn files hold float32, "
                             "float64 and int64 arrays.")
        raw = np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes()
        index[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    body = b"".join(chunks)
    metadata = {**metadata, "checksum": _checksum(index, metadata, body)}
    header = json.dumps({"__metadata__": metadata, **index}, separators=(",", ":")).encode("utf-8")
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + body


def decode(data: bytes, where: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(tensors, metadata) from a file's bytes, after checking header, offsets, checksum and finiteness."""
    if len(data) > MAX_FILE_BYTES:
        raise CheckpointError(f"{where} is {len(data)} bytes, over the {MAX_FILE_BYTES}-byte cap; it is not a "
                              "numpynn model.")
    index, metadata, start = _parse_header(data, where)
    body = memoryview(data)[start:]
    claimed = metadata.pop("checksum", None)
    if claimed != _checksum(index, metadata, body):
        raise CheckpointError(f"{where} fails its checksum: it was damaged after it was written (a flipped bit, "
                              "a partial copy); re-save or re-train the model.")
    tensors = {}
    for name, info in index.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        array = np.frombuffer(body[begin:end], dtype=dtype).reshape(info["shape"])
        tensors[name] = array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order
        if array.dtype.kind == "f" and not np.isfinite(tensors[name]).all():
            raise CheckpointError(f"Tensor {name!r} in {where} holds NaN or infinity; the file was saved from a "
                                  "diverged run or is corrupt.")
    return tensors, metadata


def _checksum(index: dict, metadata: dict, body) -> str:
    canonical = json.dumps({"index": index, "metadata": metadata}, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8"))
    digest.update(body)
    return "sha256:" + digest.hexdigest()


def _parse_header(data: bytes, where: str) -> tuple[dict, dict, int]:
    if len(data) < 8:
        raise CheckpointError(f"{where} is truncated ({len(data)} bytes); re-save or re-train the model.")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise CheckpointError(f"{where} declares a {n}-byte header in a {len(data)}-byte file; it is corrupt, "
                              "truncated, or not a safetensors file.")
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError covers JSON errors and 5000-digit ints
        raise CheckpointError(f"{where} has an unreadable header; it is corrupt or not a safetensors file.") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{where} has a malformed header; it is corrupt.")
    metadata = header.pop("__metadata__", None)
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"{where} has no numpynn metadata; it is not a numpynn model file (save models with "
                              "numpynn.save_model or `numpynn train`).")
    spans = []
    for name, info in header.items():
        dtype = info.get("dtype") if isinstance(info, dict) else None
        if dtype not in DTYPES:
            raise CheckpointError(f"Tensor {name!r} in {where} has dtype {dtype!r}; numpynn files hold only "
                                  f"{', '.join(DTYPES)}.")
        shape, offsets = info.get("shape"), info.get("data_offsets")
        if (not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape)
                or not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)):
            raise CheckpointError(f"Tensor {name!r} in {where} has a malformed shape or offsets; it is corrupt.")
        count = 1
        for d in shape:  # Python ints: a huge declared shape cannot overflow, it just fails the size check
            count *= d
        if offsets[1] - offsets[0] != count * DTYPES[dtype].itemsize:
            raise CheckpointError(f"Tensor {name!r} in {where} declares shape {shape}, which does not match its "
                                  f"{offsets[1] - offsets[0]} stored bytes; the file is corrupt.")
        spans.append(offsets)
    # The tensors must tile the data exactly: no overlaps, gaps, or bytes past the end (the spec's rule).
    body_len, pos, tiled = len(data) - 8 - n, 0, True
    for begin, end in sorted(spans):
        tiled = tiled and begin == pos
        pos = end
    if not tiled or pos != body_len:
        raise CheckpointError(f"{where} has tensors that do not tile its {body_len} data bytes; it is corrupt or "
                              "truncated.")
    return header, metadata, 8 + n
