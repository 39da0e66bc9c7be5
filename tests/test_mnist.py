"""Bundled MNIST: the Keras and scikit-learn layouts, hash verification, and the verified .npy cache."""

import gzip
import hashlib
import io
import shutil
import socket
import warnings
from pathlib import Path

import numpy as np
import pytest

from numpynn.data import mnist as mnist_module
from numpynn.data.download import cache_dir
from numpynn.data.idx import idx_bytes
from numpynn.data.mnist import MNIST_FILES, PARTS, bundled_dir, fetch_mnist_784, load_mnist
from numpynn.errors import DataError, DownloadError

REPO = Path(__file__).resolve().parents[1]
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def mnist():
    """The dataset once for the module; also fills the session cache the other fixtures copy."""
    return load_mnist()


@pytest.fixture(scope="module")
def openml(mnist):
    return fetch_mnist_784()


@pytest.fixture
def warm_home(mnist, tmp_path, monkeypatch):
    """A private copy of the session's verified cache, so a test may damage it."""
    home = tmp_path / "home"
    shutil.copytree(cache_dir() / "verified", home / "verified")
    monkeypatch.setenv("NUMPYNN_DATA", str(home))
    return home


@pytest.fixture
def bundled_copy(tmp_path, monkeypatch):
    """A private copy of data/mnist used as the bundled folder, so a test may damage it."""
    folder = tmp_path / "bundled"
    shutil.copytree(REPO / "data" / "mnist", folder)
    monkeypatch.setenv("NUMPYNN_BUNDLED_DATA", str(folder))
    return folder


def dead_mirror():
    with socket.socket() as s:  # a port nothing listens on: downloads fail at once, offline
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def cache_file(home, name):
    return home / "verified" / f"{name.removesuffix('.gz')}-{MNIST_FILES[name][1]}.npy"


def test_keras_layout(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS and np.bincount(y_test).tolist() == TEST_COUNTS
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert x_train.max() == 255 and x_train.min() == 0
    assert all(a.flags.writeable and a.flags.c_contiguous for a in (x_train, y_train, x_test, y_test))


def test_bundled_files_are_found_in_the_source_tree(monkeypatch):
    monkeypatch.delenv("NUMPYNN_BUNDLED_DATA", raising=False)
    assert bundled_dir() == REPO / "data" / "mnist"
    monkeypatch.setenv("NUMPYNN_BUNDLED_DATA", "")
    assert bundled_dir() is None


def test_cold_load_verifies_and_writes_the_cache_then_warm_load_skips_the_source(mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("NUMPYNN_DATA", str(tmp_path))
    cold = load_mnist()
    assert sorted(p.name for p in (tmp_path / "verified").iterdir()) == sorted(
        cache_file(tmp_path, name).name for name in PARTS)

    def no_source(*args, **kwargs):
        raise AssertionError("a warm load must not read the .gz files")

    monkeypatch.setattr(mnist_module, "read_images", no_source)
    monkeypatch.setattr(mnist_module, "read_labels", no_source)
    warm = load_mnist()
    for loaded in (cold, warm):
        for expected, got in zip((*mnist[0], *mnist[1]), (*loaded[0], *loaded[1])):
            assert got.dtype == expected.dtype and np.array_equal(got, expected)


@pytest.mark.parametrize("damage", ["flip-a-pixel", "truncate", "pickled-object", "float-array", "not-npy"])
def test_damaged_cache_entries_are_rebuilt_not_served(mnist, warm_home, damage):
    path = cache_file(warm_home, "t10k-images-idx3-ubyte.gz")
    if damage == "flip-a-pixel":
        data = bytearray(path.read_bytes())
        data[-1000] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:5000])
    elif damage == "pickled-object":
        np.save(path, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    elif damage == "float-array":
        np.save(path, mnist[1][0].astype(np.float32))
    else:
        path.write_bytes(b"hello")
    _, (x_test, _) = load_mnist()
    assert np.array_equal(x_test, mnist[1][0])
    # ...and the entry was rewritten with the verified content.
    assert np.array_equal(np.load(path, allow_pickle=False), mnist[1][0])


def test_unwritable_cache_still_loads_with_a_warning(mnist, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NUMPYNN_DATA", str(blocker / "cache"))  # root ignores chmod; a file in the path does not
    with pytest.warns(RuntimeWarning, match="Could not cache"):
        _, (x_test, _) = load_mnist()
    assert np.array_equal(x_test, mnist[1][0])


def test_a_bundled_file_with_wrong_content_is_refused_and_not_cached(warm_home, bundled_copy):
    name = "t10k-labels-idx1-ubyte.gz"
    cache_file(warm_home, name).unlink()
    labels = np.frombuffer(gzip.decompress((bundled_copy / name).read_bytes())[8:], dtype=np.uint8).copy()
    labels[0] = (labels[0] + 1) % 10  # one wrong label: still a valid file, only the hash can tell
    (bundled_copy / name).write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(DataError, match=f"{name}: content SHA-256 is .* expected {MNIST_FILES[name][1]}"):
        load_mnist()
    assert not cache_file(warm_home, name).exists()


def test_a_damaged_bundled_gzip_names_the_file(warm_home, bundled_copy):
    name = "t10k-images-idx3-ubyte.gz"
    cache_file(warm_home, name).unlink()
    (bundled_copy / name).write_bytes((bundled_copy / name).read_bytes()[:100000])
    with pytest.raises(DataError, match=f"{name}: the gzip data is damaged"):
        load_mnist()


def test_the_cache_is_keyed_by_content_so_a_changed_source_is_never_served_stale(mnist, warm_home, bundled_copy):
    name = "t10k-labels-idx1-ubyte.gz"
    changed = mnist[1][1].copy()
    changed[:3] = [1, 2, 3]
    data = idx_bytes(changed)
    (bundled_copy / name).write_bytes(gzip.compress(data))
    registry = {**MNIST_FILES, name: ("unused-for-bundled", hashlib.sha256(data).hexdigest())}
    _, (_, y_test) = load_mnist(registry=registry)
    assert y_test[:3].tolist() == [1, 2, 3]  # not the cached original labels
    _, (_, y_test) = load_mnist()
    assert y_test[:3].tolist() == [7, 2, 1]  # and the original entry is intact


def test_image_and_label_counts_must_agree(warm_home, bundled_copy):
    name = "t10k-labels-idx1-ubyte.gz"
    data = idx_bytes(np.zeros(9999, dtype=np.uint8))
    (bundled_copy / name).write_bytes(gzip.compress(data))
    registry = {**MNIST_FILES, name: ("unused", hashlib.sha256(data).hexdigest())}
    with pytest.raises(DataError, match="10000 images but 9999 labels"):
        load_mnist(registry=registry)


def test_without_bundled_files_it_downloads(warm_home, monkeypatch):
    monkeypatch.setenv("NUMPYNN_BUNDLED_DATA", "")
    cache_file(warm_home, "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DownloadError, match="train-labels-idx1-ubyte.gz"):
        load_mnist(mirrors=[dead_mirror()])


def test_registry_must_name_all_four_files():
    with pytest.raises(DataError, match="lacks t10k-labels-idx1-ubyte.gz"):
        load_mnist(registry={k: v for k, v in MNIST_FILES.items() if not k.startswith("t10k-labels")})


def test_fetch_mnist_784_matches_the_openml_layout(mnist, openml):
    (x_train, y_train), (x_test, y_test) = mnist
    x, y = openml
    assert x.shape == (70000, 784) and x.dtype == np.float64 and x.flags.c_contiguous
    # Row order: training rows then test rows. Every 13th row exactly, and all pixels through the totals
    # (exact: they stay far below 2**53), which spares two 400 MB temporaries.
    assert np.array_equal(x[:60000:13], x_train[::13].reshape(-1, 784))
    assert np.array_equal(x[60000::13], x_test[::13].reshape(-1, 784))
    assert x[:60000].sum() == x_train.sum(dtype=np.int64) and x[60000:].sum() == x_test.sum(dtype=np.int64)
    assert y.shape == (70000,) and y.dtype == object
    assert {type(v) for v in y} == {str}
    assert y[:5].tolist() == ["5", "0", "4", "1", "9"] and y[60000:60003].tolist() == ["7", "2", "1"]
    np.testing.assert_array_equal(y.astype(int), np.concatenate([y_train, y_test]))


def test_fetch_mnist_784_matches_scikit_learns_own_parser(openml):
    """Feed scikit-learn's liac-arff parser an ARFF of the first rows, shaped as OpenML's mnist_784, and compare."""
    try:
        from sklearn.datasets._arff_parser import load_arff_from_gzip_file
    except ImportError:
        pytest.skip("scikit-learn's ARFF parser is not importable here")
    rows = 4
    x, y = openml
    names = [f"pixel{i}" for i in range(1, 785)]
    arff = ["@RELATION mnist_784", *(f"@ATTRIBUTE {n} NUMERIC" for n in names),
            "@ATTRIBUTE class {0,1,2,3,4,5,6,7,8,9}", "@DATA"]
    arff += [",".join(str(int(v)) for v in x[i]) + f",{y[i]}" for i in range(rows)]
    columns = {n: {"data_type": "numeric", "index": str(i)} for i, n in enumerate(names)}
    columns["class"] = {"data_type": "nominal", "index": "784"}
    gz = gzip.GzipFile(fileobj=io.BytesIO(gzip.compress("\n".join(arff).encode())))
    try:
        x_sk, y_sk, _, _ = load_arff_from_gzip_file(gz, parser="liac-arff", output_type="numpy",
                                                      openml_columns_info=columns, feature_names_to_select=names,
                                                      target_names_to_select=["class"], shape=(rows, 785))
    except TypeError:
        pytest.skip("scikit-learn's private ARFF parser changed its signature")
    assert x_sk.dtype == x.dtype and y_sk.dtype == y.dtype
    assert type(y_sk[0]) is type(y[0])
    np.testing.assert_array_equal(x_sk, x[:rows])
    np.testing.assert_array_equal(y_sk, y[:rows])


def test_cache_dir_follows_numpynn_data_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMPYNN_DATA", str(tmp_path / "a"))
    assert cache_dir() == tmp_path / "a"
    monkeypatch.delenv("NUMPYNN_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "numpynn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "numpynn"


def test_no_cache_write_leaves_temp_files(warm_home):
    cache_file(warm_home, "t10k-labels-idx1-ubyte.gz").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_mnist()
    assert not [p for p in (warm_home / "verified").iterdir() if p.suffix != ".npy"]
