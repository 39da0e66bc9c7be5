"""Read and write IDX files (the MNIST format), gzip or plain, refusing anything malformed with a DataError."""

import gzip
import hashlib
import io
import math
import os
import struct
import zlib

import numpy as np

from numpynn.errors import DataError
from numpynn.io.atomic import atomic_write_bytes

# IDX type byte -> big-endian dtype, as in LeCun's format description.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
TYPE_BYTES = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}

# Refuse a header claiming more than this before allocating (MNIST's largest file is 47 MB); also caps
# what a gzip bomb can make us decompress, since we never read past the size the header announces.
MAX_IDX_BYTES = 1 << 30
GZIP_MAGIC = b"\x1f\x8b"
MAX_DIMS = 64  # NumPy's ndarray limit: a 65-dimension header cannot be an array here, whatever its sizes
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


def idx_header(shape: tuple[int, ...], dtype) -> bytes:
    """The IDX header for an array of this shape and dtype: magic, type byte, ndim, one uint32 per dim."""
    code = TYPE_BYTES.get(np.dtype(dtype).newbyteorder("="))
    if code is None:
        raise DataError(f"IDX cannot store dtype {np.dtype(dtype)}; use uint8, int8, int16, int32, float32 or float64.")
    if not 1 <= len(shape) <= 255 or any(not 0 <= d < 2**32 for d in shape):
        raise DataError(f"IDX cannot store shape {shape}; it needs 1 to 255 dims, each below 2**32.")
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def idx_bytes(array: np.ndarray) -> bytes:
    """The complete IDX file for `array` (header + big-endian data), uncompressed."""
    array = np.asarray(array)
    header = idx_header(array.shape, array.dtype)
    return header + array.astype(array.dtype.newbyteorder(">"), copy=False).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> None:
    """Write `array` as an IDX file, atomically; gzip it when `compress` is True or (if None) when path ends in .gz."""
    data = idx_bytes(array)
    if compress is None:
        compress = os.fspath(path).endswith(".gz")
    if compress:
        # mtime=0 keeps the output byte-identical across runs, so its hash can be pinned.
        data = gzip.compress(data, compresslevel=6, mtime=0)
    atomic_write_bytes(path, data)


def read_idx(source: str | os.PathLike | bytes, *, sha256: str | None = None,
             max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Parse an IDX file (path or bytes, gzip detected by magic) into a native-endian array of its shape.

    When `sha256` is given, the decompressed bytes must hash to it. Every defect raises DataError.
    """
    name = _name(source)
    raw = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")
    with raw:
        is_gzip = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if is_gzip else raw
        try:
            array, digest = _parse(stream, name, max_bytes)
        except _GZIP_ERRORS as exc:
            raise DataError(f"{name}: the gzip data is damaged ({exc}); download or copy the file again.") from exc
    if sha256 is not None and digest != sha256.lower():
        raise DataError(f"{name}: content SHA-256 is {digest}, expected {sha256}; the file is corrupt or not the "
                        "one pinned, so replace it with a good copy.")
    return array


def _parse(stream, name, max_bytes):
    """Header, then exactly the announced payload, then EOF; returns (array, sha256 hex of all bytes read)."""
    magic = _read_exact(stream, 4, name, "the 4-byte magic number")
    if magic[:2] != b"\x00\x00":
        raise DataError(f"{name}: not an IDX file (magic starts {magic[:2].hex()}, expected 0000); "
                        "check that this is an MNIST-format file.")
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        raise DataError(f"{name}: unsupported IDX type byte 0x{code:02X}; supported are "
                        f"{', '.join(f'0x{c:02X}' for c in IDX_DTYPES)}.")
    if not 1 <= ndim <= MAX_DIMS:
        raise DataError(f"{name}: IDX header declares {ndim} dimensions; a valid file has 1 to {MAX_DIMS} "
                        "(NumPy's limit), so it is corrupt or not an IDX file.")
    dims_bytes = _read_exact(stream, 4 * ndim, name, f"the {ndim} dimension sizes")
    shape = struct.unpack(f">{ndim}I", dims_bytes)
    dtype = IDX_DTYPES[code]
    # Python ints: 60000*28*28 is fine in int32, but a hostile header's product must not wrap around.
    nbytes = math.prod(shape) * dtype.itemsize
    # A 0 among the dims empties the array but not its other dims: NumPy refuses (0, 2**31, 2**31) as "too big"
    # (a plain ValueError), so the bound covers the nonzero dims too.
    span = math.prod(max(d, 1) for d in shape) * dtype.itemsize
    if span > max_bytes:
        raise DataError(f"{name}: header claims shape {shape} ({span:,} bytes without its zeros), over the "
                        f"{max_bytes:,}-byte limit; the file is corrupt (or raise max_bytes if it is really that "
                        "large).")
    payload = np.empty(nbytes, dtype=np.uint8)
    got = _read_into(stream, payload)
    if got != nbytes:
        raise DataError(f"{name}: file ends after {got:,} of {nbytes:,} data bytes for shape {shape}; "
                        "it is truncated, so download or copy it again.")
    if stream.read(1):
        raise DataError(f"{name}: extra bytes after the {nbytes:,} data bytes for shape {shape}; "
                        "the header and the data disagree, so the file is corrupt.")
    digest = hashlib.sha256(magic + dims_bytes)
    digest.update(payload)
    array = payload.view(dtype).reshape(shape)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array, digest.hexdigest()


def _read_exact(stream, n, name, what):
    data = stream.read(n)
    if len(data) != n:
        raise DataError(f"{name}: file ends inside {what} ({len(data)} of {n} bytes); it is truncated or not IDX.")
    return data


def _read_into(stream, buffer):
    """Fill `buffer` from `stream`; return how many bytes arrived (short only at end of file)."""
    view, filled = memoryview(buffer), 0
    while filled < len(view):
        n = stream.readinto(view[filled:])
        if not n:
            break
        filled += n
    return filled


def read_images(source: str | os.PathLike | bytes, *, sha256: str | None = None) -> np.ndarray:
    """An IDX image file as uint8 (N, rows, cols)."""
    images = read_idx(source, sha256=sha256)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataError(f"{_name(source)}: expected uint8 images of shape (N, rows, cols), got {images.dtype} "
                        f"{images.shape}; is this a label file or another dataset?")
    return images


def read_labels(source: str | os.PathLike | bytes, *, sha256: str | None = None,
                num_classes: int = 10) -> np.ndarray:
    """An IDX label file as uint8 (N,), every label in [0, num_classes)."""
    labels = read_idx(source, sha256=sha256)
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{_name(source)}: expected uint8 labels of shape (N,), got {labels.dtype} "
                        f"{labels.shape}; is this an image file or another dataset?")
    check_label_range(labels, num_classes, _name(source))
    return labels


def check_label_range(labels: np.ndarray, num_classes: int, name: str) -> None:
    """Refuse labels outside [0, num_classes), naming the first offender."""
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        raise DataError(f"{name}: label {labels[bad[0]]} at index {bad[0]} is outside 0..{num_classes - 1}; "
                        "the file is corrupt or has a different number of classes.")


def check_pair(images: np.ndarray, labels: np.ndarray, name: str) -> None:
    """Images and labels must be equally many."""
    if len(images) != len(labels):
        raise DataError(f"{name}: {len(images)} images but {len(labels)} labels; the two files do not belong "
                        "together, so re-fetch both.")


def _name(source):
    return "<bytes>" if isinstance(source, (bytes, bytearray)) else os.fspath(source)
