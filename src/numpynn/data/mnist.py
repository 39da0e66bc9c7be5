"""MNIST and Fashion-MNIST as uint8 arrays: bundled files or verified downloads, kept in a verified cache."""

import hashlib
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from numpynn.data.download import cache_dir, fetch_file, resolve_mirrors
from numpynn.data.idx import check_label_range, check_pair, idx_header, read_images, read_labels
from numpynn.errors import DataError
from numpynn.io.atomic import atomic_open

# {file name: (SHA-256 of the official .gz, SHA-256 of the decompressed IDX file or None if unknown)}.
Registry = Mapping[str, tuple[str, str | None]]

MNIST_FILES: Registry = {
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                                   "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                                   "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                                  "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                                  "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}
FASHION_MNIST_FILES: Registry = {
    "train-images-idx3-ubyte.gz": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", None),
    "train-labels-idx1-ubyte.gz": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", None),
    "t10k-images-idx3-ubyte.gz": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", None),
    "t10k-labels-idx1-ubyte.gz": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", None),
}
MNIST_MIRRORS = ("https://storage.googleapis.com/cvdf-datasets/mnist/",
                 "https://ossci-datasets.s3.amazonaws.com/mnist/")
FASHION_MNIST_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
# The most bytes a download of each file may bring (issue 21.19): Fashion-MNIST's files are pinned by their
# .gz hash, so their official .gz size; MNIST's by their content, so any gzip of the pinned IDX content, which
# is at most its size plus gzip's framing (5 bytes per 64 KiB stored block, and a header).
FASHION_MNIST_GZ_BYTES = {"train-images-idx3-ubyte.gz": 26_421_880, "train-labels-idx1-ubyte.gz": 29_515,
                          "t10k-images-idx3-ubyte.gz": 4_422_102, "t10k-labels-idx1-ubyte.gz": 5_148}
IDX_BYTES = {"train-images-idx3-ubyte.gz": 16 + 60_000 * 784, "train-labels-idx1-ubyte.gz": 8 + 60_000,
             "t10k-images-idx3-ubyte.gz": 16 + 10_000 * 784, "t10k-labels-idx1-ubyte.gz": 8 + 10_000}
PARTS = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

Split = tuple[np.ndarray, np.ndarray]


def bundled_dir() -> Path | None:
    """The folder of bundled MNIST files: $NUMPYNN_BUNDLED_DATA ('' disables), else data/mnist/ of the source tree."""
    override = os.environ.get("NUMPYNN_BUNDLED_DATA")
    if override is not None:
        return Path(override).expanduser() if override else None
    # An editable install or a clone: src/numpynn/data/mnist.py sits below the repo root. Requiring
    # pyproject.toml beside data/ keeps a wheel install from picking up an unrelated data/mnist folder.
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file() and (parent / "data" / "mnist").is_dir():
            return parent / "data" / "mnist"
    return None


def load_mnist(*, mirrors: Sequence[str] | None = None, registry: Registry | None = None,
               data_home: str | os.PathLike | None = None) -> tuple[Split, Split]:
    """((x_train, y_train), (x_test, y_test)): uint8 (60000, 28, 28), (60000,), (10000, 28, 28), (10000,), as Keras.

    Uses the bundled files when present (verified by content hash), else downloads from `mirrors`
    (default: $NUMPYNN_MNIST_MIRRORS, else the standard mirrors) into the cache.
    """
    mirrors = resolve_mirrors(mirrors, "NUMPYNN_MNIST_MIRRORS", MNIST_MIRRORS)
    return _load("mnist", MNIST_FILES if registry is None else registry, mirrors, bundled_dir(), data_home)


def load_fashion_mnist(*, mirrors: Sequence[str] | None = None, registry: Registry | None = None,
                       data_home: str | os.PathLike | None = None) -> tuple[Split, Split]:
    """Fashion-MNIST in load_mnist's layout, downloaded once (verified by .gz hash) into the cache."""
    mirrors = resolve_mirrors(mirrors, "NUMPYNN_FASHION_MNIST_MIRRORS", FASHION_MNIST_MIRRORS)
    return _load("fashion-mnist", FASHION_MNIST_FILES if registry is None else registry, mirrors, None, data_home)


def fetch_mnist_784(*, mirrors: Sequence[str] | None = None, registry: Registry | None = None,
                    data_home: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) as scikit-learn's fetch_openml('mnist_784', version=1, return_X_y=True, as_frame=False).

    X: (70000, 784) float64 pixels 0..255, the 60,000 training rows then the 10,000 test rows (OpenML's
    order); y: (70000,) object array of str '0'..'9'. These are the dtypes of scikit-learn's liac-arff
    parser: its default before 1.4, and what parser="liac-arff" gives since.
    """
    (x_train, y_train), (x_test, y_test) = load_mnist(mirrors=mirrors, registry=registry, data_home=data_home)
    # Filling a preallocated array is 20x faster than np.concatenate(..., dtype=np.float64) here.
    x = np.empty((len(x_train) + len(x_test), x_train[0].size), dtype=np.float64)
    x[:len(x_train)] = x_train.reshape(len(x_train), -1)
    x[len(x_train):] = x_test.reshape(len(x_test), -1)
    # One shared str object per class, as scikit-learn builds it with np.take over the category names.
    names = np.array([str(c) for c in range(10)], dtype=object)
    return x, names[np.concatenate([y_train, y_test])]


def _load(dataset, registry, mirrors, bundled, data_home):
    """Load the four parts, then check each images/labels pair belongs together."""
    missing = [name for name in PARTS if name not in registry]
    if missing:
        raise DataError(f"The {dataset} registry lacks {', '.join(missing)}; give (gz_sha256, content_sha256) "
                        "for all four files.")
    home = Path(data_home).expanduser() if data_home is not None else cache_dir()
    x_train, y_train, x_test, y_test = (_load_part(name, registry[name], dataset, mirrors, bundled, home)
                                        for name in PARTS)
    for images, labels, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        check_label_range(labels, 10, f"{dataset} {split} labels")
        check_pair(images, labels, f"{dataset} {split}")
    return (x_train, y_train), (x_test, y_test)


def _load_part(name, hashes, dataset, mirrors, bundled, home):
    """One file as an array: the verified cache if it holds it, else the bundled copy or a download."""
    gz_sha256, content_sha256 = hashes
    is_images = "-images-" in name
    # Keyed by the hash of what was verified, so a changed source is never served from a stale entry.
    cached = home / "verified" / f"{name.removesuffix('.gz')}-{content_sha256 or gz_sha256}.npy"
    array = _read_cache(cached, content_sha256, ndim=3 if is_images else 1)
    if array is not None:
        return array
    # A bundled file is trusted only through its content hash: its own .gz bytes differ from the official.
    if bundled is not None and content_sha256 and (bundled / name).is_file():
        source = bundled / name
    else:
        reader = read_images if is_images else read_labels
        check = (lambda path: reader(path, sha256=content_sha256)) if content_sha256 else None
        source = fetch_file(name, gz_sha256, mirrors, home / dataset, content_check=check,
                            max_bytes=_max_download_bytes(name, dataset, content_sha256))
    array = (read_images if is_images else read_labels)(source, sha256=content_sha256)
    _write_cache(cached, array)
    return array


def _max_download_bytes(name, dataset, content_sha256):
    if content_sha256 is None and dataset == "fashion-mnist":
        return FASHION_MNIST_GZ_BYTES[name]
    content = IDX_BYTES[name]
    return content + 5 * (content // 65_536 + 1) + 1024


def _read_cache(path, content_sha256, ndim):
    """The cached array if it is a plain uint8 array of the right rank whose content hash (if pinned) matches."""
    if not path.is_file():
        return None
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None  # torn, foreign or pickled: rebuild it from the source
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.ndim != ndim:
        return None
    if content_sha256 is not None:
        # Re-hashing 55 MB costs ~40 ms and proves the entry is the pinned content, bit for bit.
        digest = hashlib.sha256(idx_header(array.shape, array.dtype))
        digest.update(np.ascontiguousarray(array))
        if digest.hexdigest() != content_sha256:
            return None
    return array


def _write_cache(path, array):
    """Save atomically; a read-only cache only costs speed, so it warns instead of failing the load."""
    try:
        # np.save straight into the temp file (not atomic_write_bytes) spares a 47 MB copy on the cold path.
        with atomic_open(path) as f:
            np.save(f, array, allow_pickle=False)
    except OSError as exc:
        warnings.warn(f"Could not cache {path.name} in {path.parent} ({exc}); loading works but stays slow. "
                      "Set NUMPYNN_DATA to a writable folder.", RuntimeWarning, stacklevel=2)
