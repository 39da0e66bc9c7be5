"""Load a user's own digits from CSV (`label, pixels...`) or NPZ (x, y), validated as strictly as the bundled MNIST."""

import os
import warnings
import zipfile
import zlib

import numpy as np

from numpynn.data.transforms import check_labels
from numpynn.errors import DataError


def load_csv(path: str | os.PathLike, *, num_features: int | None = 784, num_classes: int = 10,
             header: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) from rows of `label, pixel_1, ..., pixel_D`: x (N, D), y (N,) uint8.

    x is uint8 when every pixel is an integer in 0..255, else float32 (any finite values, e.g. pre-scaled).
    `header=None` skips the first row when its first field is a name rather than a number ("label,pixel0,...").
    `num_features=None` accepts any row width, as long as all rows agree.
    """
    name = os.fspath(path)
    first_line = _first_line(name)
    if header is None:
        header = _looks_like_header(first_line)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # numpy's "input contained no data": we raise instead
        try:
            table = np.loadtxt(name, delimiter=",", dtype=np.float64, skiprows=int(header), ndmin=2,
                               comments=None, encoding="utf-8")
        except ValueError as exc:
            raise DataError(f"{name}: {exc}; every row must be `label, pixels...` written as numbers, "
                            "all rows equally long.") from None
    first_row = 1 + int(header)  # file line number of table[0], for messages
    if table.shape[0] == 0:
        raise DataError(f"{name}: no data rows; the file needs one `label, pixels...` row per sample.")
    if header and len(first_line.split(",")) != table.shape[1]:
        raise DataError(f"{name}: the header has {len(first_line.split(','))} fields but rows have {table.shape[1]}; "
                        "fix the header or pass header=False if line 1 is data.")
    if table.shape[1] < 2:
        raise DataError(f"{name}: rows have {table.shape[1]} field(s); expected a label then the pixels.")
    if num_features is not None and table.shape[1] - 1 != num_features:
        raise DataError(f"{name}: rows have {table.shape[1] - 1} pixels after the label, expected {num_features} "
                        "(28x28 for MNIST); pass num_features=None to accept another width.")
    bad_rows = np.flatnonzero(~np.isfinite(table).all(axis=1))
    if bad_rows.size:
        raise DataError(f"{name}: line {bad_rows[0] + first_row} holds NaN or infinity; every value must be a "
                        "finite number.")
    labels, pixels = table[:, 0], table[:, 1:]
    not_whole = np.flatnonzero(labels != np.round(labels))
    if not_whole.size:
        raise DataError(f"{name}: line {not_whole[0] + first_row} has label {labels[not_whole[0]]}, not an "
                        f"integer; labels must be class indices 0..{num_classes - 1}.")
    label_dtype = np.uint8 if num_classes <= 256 else np.int64
    if labels.min() < 0 or labels.max() >= num_classes:
        row = np.flatnonzero((labels < 0) | (labels >= num_classes))[0]
        raise DataError(f"{name}: line {row + first_row} has label {labels[row]:g}, outside 0..{num_classes - 1}; "
                        "fix it or pass the right num_classes.")
    y = labels.astype(label_dtype)
    if np.array_equal(pixels, np.round(pixels)):
        if pixels.min() < 0 or pixels.max() > 255:
            row, col = np.argwhere((pixels < 0) | (pixels > 255))[0]
            raise DataError(f"{name}: line {row + first_row}, pixel {col + 1} is {pixels[row, col]:g}, outside "
                            "0..255; integer pixels must be bytes (or write them as scaled floats).")
        return pixels.astype(np.uint8), y
    return pixels.astype(np.float32), y


def load_npz(path: str | os.PathLike, *, x_key: str = "x", y_key: str = "y", num_classes: int = 10,
             sample_shape: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) from an .npz holding x (N, ...) pixels and y (N,) integer labels; pickled objects are refused."""
    name = os.fspath(path)
    try:
        archive = np.load(name, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{name}: not a readable .npz archive ({exc}); "
                        "save one with np.savez(path, x=x, y=y).") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{name}: holds a single array, not an .npz archive; save one with np.savez(path, x=x, y=y).")
    with archive:
        missing = [key for key in (x_key, y_key) if key not in archive.files]
        if missing:
            raise DataError(f"{name}: no array named {', '.join(map(repr, missing))} (it has {archive.files}); "
                            "pass x_key=/y_key= or save with np.savez(path, x=x, y=y).")
        try:
            x, y = archive[x_key], archive[y_key]
        except ValueError as exc:
            if "allow_pickle" in str(exc):  # numpy's refusal of an object array
                raise DataError(f"{name}: holds an object array, which could run code when loaded; save plain "
                                "numeric arrays instead (e.g. x.astype(np.uint8)).") from None
            raise DataError(f"{name}: an array in the archive is damaged ({exc}); save it again.") from None
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise DataError(f"{name}: the archive is damaged ({exc}); save it again.") from None
    x = check_images(x, name, sample_shape)
    y = check_labels(y, num_classes, f"{name}: labels {y_key!r}")
    if len(x) != len(y):
        raise DataError(f"{name}: {len(x)} samples in {x_key!r} but {len(y)} labels in {y_key!r}; "
                        "pass exactly one label per sample.")
    return x, y


def check_images(x: np.ndarray, name: str = "images", sample_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """x (N, ...) as uint8 if integer pixels in 0..255, else floats kept as stored but required finite."""
    x = np.asarray(x)
    if x.dtype.kind not in "uif":
        raise DataError(f"{name}: pixels must be numbers, got dtype {x.dtype}; save numeric arrays.")
    if x.ndim < 2 or len(x) == 0 or x[0].size == 0:
        raise DataError(f"{name}: pixels must be a non-empty batch (N, ...) such as (N, 28, 28) or (N, 784), "
                        f"got shape {x.shape}.")
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


def _first_line(name):
    with open(name, encoding="utf-8", errors="replace") as f:
        return f.readline()


def _looks_like_header(line):
    # Judged by the label field alone: a data row with a bad pixel must be reported, not skipped as a header.
    label = line.split(",")[0].strip()
    try:
        float(label)
    except ValueError:
        return label != ""
    return False
