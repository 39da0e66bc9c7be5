"""Load a user's own digits from CSV (`label, pixels...`) or NPZ (x, y), validated as strictly as the bundled MNIST.

Both readers cap what a file can make us allocate, as IDX files and images are capped: an .npz's arrays are
checked from their .npy headers before a byte is decompressed, and a CSV from its size before it is read.
"""

import codecs
import contextlib
import math
import os
import warnings
import zipfile
import zlib

import numpy as np

from numpynn.data.idx import MAX_IDX_BYTES
from numpynn.data.transforms import check_labels
from numpynn.errors import DataError, UserFileError
from numpynn.io.user_files import open_user_file, read_user_file

MAX_DATA_BYTES = MAX_IDX_BYTES  # the most one array (or one CSV file) may take: the cap IDX files have
NPZ_EXPECTED = "an .npz archive of arrays (np.savez(path, x=x, y=y))"
_NPZ_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error, NotImplementedError)


def load_csv(path: str | os.PathLike, *, num_features: int | None = 784, num_classes: int = 10,
             header: bool | None = None, max_bytes: int = MAX_DATA_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) from rows of `label, pixel_1, ..., pixel_D`: x (N, D), y (N,) uint8.

    x is uint8 when every pixel is an integer in 0..255, else float32 (any finite values, e.g. pre-scaled).
    `header=None` skips the first row when its first field is a name rather than a number ("label,pixel0,...").
    `num_features=None` accepts any row width, as long as all rows agree. Blank lines are skipped; every
    message gives the line number a text editor shows.
    """
    name = os.fspath(path)
    rows = _numbered_lines(name, max_bytes)  # [(line number, text)] of the non-blank lines
    if header is None:
        header = bool(rows) and _looks_like_header(rows[0][1])
    header_line, rows = (rows[0][1], rows[1:]) if header and rows else (None, rows)
    if not rows:
        raise DataError(f"{name}: no data rows; the file needs one `label, pixels...` row per sample.")
    table = _parse_rows(name, rows)
    line = np.array([n for n, _ in rows])  # file line number of each table row, for messages
    if header_line is not None and len(header_line.split(",")) != table.shape[1]:
        raise DataError(f"{name}: the header has {len(header_line.split(','))} fields but rows have "
                        f"{table.shape[1]}; fix the header or pass header=False if its first line is data.")
    if table.shape[1] < 2:
        raise DataError(f"{name}: rows have {table.shape[1]} field(s); expected a label then the pixels.")
    if num_features is not None and table.shape[1] - 1 != num_features:
        raise DataError(f"{name}: rows have {table.shape[1] - 1} pixels after the label, expected {num_features} "
                        "(28x28 for MNIST); pass num_features=None to accept another width.")
    bad_rows = np.flatnonzero(~np.isfinite(table).all(axis=1))
    if bad_rows.size:
        raise DataError(f"{name}: line {line[bad_rows[0]]} holds NaN or infinity; every value must be a "
                        "finite number.")
    labels, pixels = table[:, 0], table[:, 1:]
    not_whole = np.flatnonzero(labels != np.round(labels))
    if not_whole.size:
        raise DataError(f"{name}: line {line[not_whole[0]]} has label {labels[not_whole[0]]}, not an "
                        f"integer; labels must be class indices 0..{num_classes - 1}.")
    label_dtype = np.uint8 if num_classes <= 256 else np.int64
    if labels.min() < 0 or labels.max() >= num_classes:
        row = np.flatnonzero((labels < 0) | (labels >= num_classes))[0]
        raise DataError(f"{name}: line {line[row]} has label {labels[row]:g}, outside 0..{num_classes - 1}; "
                        "fix it or pass the right num_classes.")
    y = labels.astype(label_dtype)
    if np.array_equal(pixels, np.round(pixels)):
        if pixels.min() < 0 or pixels.max() > 255:
            row, col = np.argwhere((pixels < 0) | (pixels > 255))[0]
            raise DataError(f"{name}: line {line[row]}, pixel {col + 1} is {pixels[row, col]:g}, outside "
                            "0..255; integer pixels must be bytes (or write them as scaled floats).")
        return pixels.astype(np.uint8), y
    return pixels.astype(np.float32), y


def load_npz(path: str | os.PathLike, *, x_key: str = "x", y_key: str = "y", num_classes: int = 10,
             sample_shape: tuple[int, ...] | None = None,
             max_bytes: int = MAX_DATA_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) from an .npz holding x (N, ...) pixels and y (N,) integer labels; pickled objects are refused.

    Each array's .npy header is checked against `max_bytes` before the array is decompressed.
    """
    name = os.fspath(path)
    with _open_npz(name) as archive:
        missing = [key for key in (x_key, y_key) if key not in npz_names(archive)]
        if missing:
            raise DataError(f"{name}: no array named {', '.join(map(repr, missing))} (it has "
                            f"{npz_names(archive)}); pass x_key=/y_key= or save with np.savez(path, x=x, y=y).")
        x, y = (_read_npy(archive, key, name, max_bytes) for key in (x_key, y_key))
    x = check_images(x, name, sample_shape)
    y = check_labels(y, num_classes, f"{name}: labels {y_key!r}")
    if len(x) != len(y):
        raise DataError(f"{name}: {len(x)} samples in {x_key!r} but {len(y)} labels in {y_key!r}; "
                        "pass exactly one label per sample.")
    return x, y


def npz_names(source: str | os.PathLike | zipfile.ZipFile) -> list[str]:
    """The names of the arrays in an .npz archive (np.savez's `key.npy` members), after checking it is one."""
    if isinstance(source, zipfile.ZipFile):
        return [member[:-4] for member in source.namelist() if member.endswith(".npy")]
    with _open_npz(os.fspath(source)) as archive:
        return npz_names(archive)


@contextlib.contextmanager
def _open_npz(name: str):
    """The archive as a ZipFile, or one sentence for a folder/FIFO/device, a truncated file, a .npy, or a zip
    without arrays."""
    with open_user_file(name, "Data file", NPZ_EXPECTED) as f, _zip_of(f, name) as archive:
        if not npz_names(archive):
            raise DataError(f"{name}: is a zip archive without NumPy arrays (no .npy members), not an .npz; save "
                            "one with np.savez(path, x=x, y=y).")
        yield archive


def _zip_of(f, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(f)
    except _NPZ_ERRORS:
        f.seek(0)
        if f.read(6) == b"\x93NUMPY":
            raise DataError(f"{name}: holds a single array (a .npy file), not an .npz archive; save one with "
                            "np.savez(path, x=x, y=y).") from None
        raise DataError(f"{name}: not a readable .npz archive (it is truncated, damaged or not a zip file); save "
                        "one with np.savez(path, x=x, y=y).") from None


def _read_npy(archive: zipfile.ZipFile, key: str, name: str, max_bytes: int) -> np.ndarray:
    """One array, read through its own header: the size it claims is checked before anything is allocated."""
    try:
        with archive.open(f"{key}.npy") as f:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"unsupported .npy format version {version}")
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(f)
            if dtype.hasobject:
                raise DataError(f"{name}: holds an object array, which could run code when loaded; save plain "
                                "numeric arrays instead (e.g. x.astype(np.uint8)).")
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > max_bytes:
                raise DataError(f"{name}: array {key!r} claims shape {shape} ({nbytes:,} bytes), over the "
                                f"{max_bytes:,}-byte limit; the file is corrupt (or pass max_bytes= if it is "
                                "really that large).")
            buffer, got = bytearray(nbytes), 0
            while got < nbytes and (n := f.readinto(memoryview(buffer)[got:])):
                got += n
            extra = f.read(1)  # reading to the end also makes zipfile check the CRC
    except DataError:
        raise
    except _NPZ_ERRORS as exc:
        raise DataError(f"{name}: array {key!r} is damaged ({exc}); save the archive again.") from None
    if got != nbytes or extra:
        raise DataError(f"{name}: array {key!r} holds {'more' if extra else 'fewer'} bytes than its header's shape "
                        f"{shape} needs; the archive is damaged, so save it again.")
    array = np.frombuffer(buffer, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def check_images(x: np.ndarray, name: str = "images", sample_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """x (N, ...) as uint8 if integer pixels in 0..255, else floats kept as stored but required finite.

    4-D images come out as (N, C, H, W); channels-last (N, H, W, C), as Pillow, Keras and TensorFlow store
    them, are recognised and transposed, and a shape that could be either is refused.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "uif":
        raise DataError(f"{name}: pixels must be numbers, got dtype {x.dtype}; save numeric arrays.")
    if x.ndim < 2 or len(x) == 0 or x[0].size == 0:
        raise DataError(f"{name}: pixels must be a non-empty batch (N, ...) such as (N, 28, 28) or (N, 784), "
                        f"got shape {x.shape}.")
    x = _channels_first(x, name)
    if sample_shape is not None and x.shape[1:] != tuple(sample_shape):
        raise DataError(f"{name}: each sample has shape {x.shape[1:]}, expected {tuple(sample_shape)}; reshape it.")
    if x.dtype.kind == "f":
        if not np.isfinite(x).all():
            raise DataError(f"{name}: pixels contain NaN or infinity; clean those samples first.")
        return x
    if x.min() < 0 or x.max() > 255:
        raise DataError(f"{name}: integer pixels range over {x.min()}..{x.max()}, outside 0..255; store bytes "
                        "(uint8) or scaled floats.")
    return x.astype(np.uint8, copy=False)


def _channels_first(x: np.ndarray, name: str) -> np.ndarray:
    """(N, C, H, W) images from either layout; 0.2.0 read (N, 28, 28, 3) as 28 channels of 28x3 images.

    An axis holds channels if it is at most 4 long (gray, gray+alpha, RGB, RGBA) or shorter than both others.
    """
    if x.ndim != 4:
        return x
    _, a, b, c = x.shape
    if _holds_channels(a, b, c):
        return x
    if _holds_channels(c, a, b):
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    raise DataError(f"{name}: images of shape {x.shape} have no axis that reads as channels; save them as (N, C, H, "
                    "W) (or channels-last (N, H, W, C)) with at most 4 channels or fewer channels than pixels a side, "
                    "or as (N, H, W) for gray images.")


def _holds_channels(c: int, h: int, w: int) -> bool:
    return c <= 4 or (c < h and c < w)


def _numbered_lines(name: str, max_bytes: int) -> list[tuple[int, str]]:
    """(line number, text) of each non-blank line, the text decoded from UTF-8 or UTF-16 (byte-order mark)."""
    try:
        raw = read_user_file(name, "Data file", "a CSV file of `label, pixels...` rows", max_bytes)
    except UserFileError as exc:
        if "-byte limit" not in str(exc):
            raise
        raise DataError(f"{name} is over the {max_bytes:,}-byte limit for a CSV file; save large data as .npz "
                        "(np.savez(path, x=x, y=y)) or pass max_bytes=.") from None
    # Excel writes a byte-order mark; decoded as plain UTF-8 it would glue itself to the first label.
    encoding = "utf-16" if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: is not UTF-8 or UTF-16 text ({exc.reason} at byte {exc.start}); save the CSV "
                        "as UTF-8.") from None
    return [(i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _parse_rows(name: str, rows: list[tuple[int, str]]) -> np.ndarray:
    """The rows as a float64 table (N, fields); a row that is not numbers is named by its line, in our words."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            return np.loadtxt([text for _, text in rows], delimiter=",", dtype=np.float64, ndmin=2, comments=None)
        except ValueError:
            pass
    # NumPy's message counts rows its own way and suggests its own arguments: find the offender ourselves.
    first, width = rows[0][0], len(rows[0][1].split(","))
    for n, text in rows:
        fields = text.split(",")
        if len(fields) != width:
            raise DataError(f"{name}: line {n} has {len(fields)} fields but line {first} has {width}; every row "
                            "must be `label, pixels...`, all rows equally long.")
        for j, field in enumerate(fields, start=1):
            try:
                float(field)
            except ValueError:
                raise DataError(f"{name}: line {n}, field {j} is {field.strip()[:20]!r}, not a number; every row "
                                "must be `label, pixels...` written as numbers.") from None
    raise DataError(f"{name}: could not be read as comma-separated numbers; every row must be `label, pixels...` "
                    "written as plain decimal numbers.")


def _looks_like_header(line):
    # Judged by the label field alone: a data row with a bad pixel must be reported, not skipped as a header.
    label = line.split(",")[0].strip()
    try:
        float(label)
    except ValueError:
        return label != ""
    return False
