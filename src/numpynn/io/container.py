"""The safetensors container: named raw arrays + string metadata, with a checksum, encoded by the safetensors library.

Layout (the safetensors spec): 8-byte little-endian header size, a JSON header {name: {dtype, shape,
data_offsets}, "__metadata__": {str: str}} padded with spaces, then the tensors' bytes back to back.
The safetensors library writes it and parses it (JSON, dtypes, shapes, offsets that tile the data exactly);
numpynn adds `metadata["checksum"]`: SHA-256 over a canonical form of the header and the data, so a flipped
bit anywhere is caught rather than loaded as a slightly wrong weight. On top of the library, numpynn keeps
its own checks (each marked below with why the library cannot make it): size caps, duplicate names,
numpynn's metadata, the three dtypes numpynn uses, the checksum and finiteness. A file is read through a
memory map and its tensors are views into it: loading holds one copy of the weights, the model's. Every
failure, the library's included, is a CheckpointError of one sentence, and nothing in a file can allocate
more than the file's size.
"""

import hashlib
import json
import mmap
import struct

import numpy as np
import safetensors
import safetensors.numpy

from numpynn.errors import CheckpointError

MAX_FILE_BYTES = 2 * 1024**3      # a 784-256-10 model is 0.8 MB; 2 GiB leaves room for anything sane
MAX_HEADER_BYTES = 16 * 1024**2   # the header is a small JSON index of tensors plus metadata
DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8")}
CODES = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}


def encode(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """Serialise tensors (float32, float64 or int64) and string metadata, adding the checksum."""
    arrays = {}
    for name, value in tensors.items():
        array = np.asarray(value)
        code = CODES.get(array.dtype.newbyteorder("="))
        if code is None or name == "__metadata__":
            raise ValueError(f"Cannot save tensor {name!r} of dtype {array.dtype}; numpynn files hold float32, "
                             "float64 and int64 arrays.")
        arrays[name] = np.asarray(array, dtype=DTYPES[code], order="C")  # not ascontiguousarray: it makes 0-d 1-d
    # The checksum covers the tensors' offsets, which the library chooses: write once without it to learn them
    # (offsets count from the end of the header, so adding the checksum to the metadata does not move them).
    index, body = _index_and_body(safetensors.numpy.save(arrays, metadata))
    return safetensors.numpy.save(arrays, {**metadata, "checksum": _checksum(index, metadata, body)})


def decode(data: bytes | mmap.mmap, where: str,
           path: str | None = None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(tensors, metadata) from a file's bytes, after checking header, offsets, checksum and finiteness.

    data: bytes, or a read-only mmap of the file at `path`. The tensors are read-only views into data, so a
    model's weights are never held twice while loading (the model copies them into its own arrays).
    """
    # Size caps before the library sees a byte: it would accept any file size and headers up to 100 MB.
    if len(data) > MAX_FILE_BYTES:
        raise CheckpointError(f"{where} is {len(data)} bytes, over the {MAX_FILE_BYTES}-byte cap; it is not a "
                              "numpynn model.")
    if len(data) < 8:
        raise CheckpointError(f"{where} is truncated ({len(data)} bytes); re-save or re-train the model.")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(data):  # also says plainly what the library calls "invalid header length"
        raise CheckpointError(f"{where} declares a {n}-byte header in a {len(data)}-byte file, so it is not a model "
                              "file: it is corrupt, truncated, or not a safetensors file at all.")
    _library_check(data, where, path)
    index, metadata = _header(data, n, where)
    if "checksum" not in metadata:  # before the checksum: another tool's file is not a damaged numpynn file
        raise CheckpointError(f"{where} is a safetensors file without numpynn metadata, so it is not a numpynn "
                              "model (another tool wrote it); save models with numpynn.save_model or `numpynn "
                              "train`.")
    for name, entry in index.items():
        # The library reads 14 dtypes; numpynn's files hold three, and a layer must never receive a fourth.
        if entry["dtype"] not in DTYPES:
            raise CheckpointError(f"Tensor {name!r} in {where} has dtype {entry['dtype']!r}; numpynn files hold "
                                  f"only {', '.join(DTYPES)}.")
    body = memoryview(data)[8 + n:]
    claimed = metadata.pop("checksum")
    if claimed != _checksum(index, metadata, body):
        raise CheckpointError(f"{where} fails its checksum: it was damaged after it was written (a flipped bit, "
                              "a partial copy); re-save or re-train the model.")
    return _views(index, body, where), metadata


def _library_check(data, where, path):
    """The library's checks of the header: JSON, dtypes, shapes, offsets that tile the data exactly."""
    try:
        if path is None:
            safetensors.deserialize(data)  # its copies are dropped at once: only tests decode bytes in memory
        else:
            with safetensors.safe_open(path, framework="numpy"):  # maps the file: no copy of the data
                pass
    except Exception as exc:  # noqa: BLE001 (whatever the library refuses, it refuses because of the file's bytes)
        reason = str(exc).removeprefix("Error while deserializing: ").split("\n")[0][:120]
        raise CheckpointError(f"{where} is not a valid safetensors file ({reason}); it is corrupt, truncated, or "
                              "not a model file.") from None


def _views(index: dict, body: memoryview, where: str) -> dict[str, np.ndarray]:
    """Each tensor as a read-only view into the file's bytes, refused when it holds NaN or infinity."""
    tensors = {}
    for name, entry in index.items():
        dtype, (start, end) = DTYPES[entry["dtype"]], entry["data_offsets"]
        try:  # the library checked these offsets; this guards against the file changing between its look and ours
            tensors[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(entry["shape"]).astype(
                dtype.newbyteorder("="), copy=False)  # a view: no copy on a little-endian machine
        except ValueError:
            raise CheckpointError(f"Tensor {name!r} in {where} does not fit its declared place in the file; the "
                                  "file is corrupt or changed while it was read.") from None
        if dtype.kind == "f" and not np.isfinite(tensors[name]).all():
            raise CheckpointError(f"Tensor {name!r} in {where} holds NaN or infinity; the file was saved from a "
                                  "diverged run or is corrupt.")
    return tensors


def _header(data: bytes, n: int, where: str) -> tuple[dict, dict]:
    """(tensor index, metadata) of a header the library has accepted.

    The library's Python API returns neither the metadata of bytes in memory nor the data_offsets the checksum
    covers, so numpynn reads those two from the JSON itself; and where a name appears twice the library keeps
    the last one silently, so duplicates are refused here: a file with two "0.weight" is ambiguous.
    """
    try:
        header = json.loads(data[8:8 + n], object_pairs_hook=_refuse_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: also a 5000-digit int in an ignored field
        raise CheckpointError(f"{where} has an unreadable or ambiguous header (a name given twice, say); it is "
                              "corrupt.") from None
    metadata = header.pop("__metadata__", None) or {}
    return header, metadata


def _refuse_duplicates(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def _index_and_body(blob: bytes) -> tuple[dict, memoryview]:
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    return header, memoryview(blob)[8 + n:]


def _checksum(index: dict, metadata: dict, body) -> str:
    canonical = json.dumps({"index": index, "metadata": metadata}, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8"))
    digest.update(body)
    return "sha256:" + digest.hexdigest()
