"""Drawings saved from the page: appended atomically, never losing earlier digits, readable by `numpynn train`."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from numpynn.app.commands import parser as cli
from numpynn.app.serve.drawings import Drawings
from numpynn.data.userdata import load_npz
from numpynn.errors import DataError


def digit(k):
    pixels = np.zeros((28, 28), np.uint8)
    pixels[4:24, 10 + k % 8] = 255  # a distinct stroke per k, so rows can be told apart
    return pixels


def test_appends_keep_every_digit_in_order(tmp_path):
    drawings = Drawings(tmp_path / "run" / "drawings.npz")
    assert drawings.count() == 0 and not drawings.path.exists()
    for k in range(3):
        assert drawings.append(digit(k), k) == k + 1
    x, y = load_npz(drawings.path)
    assert x.dtype == np.uint8 and y.tolist() == [0, 1, 2]
    assert all(np.array_equal(x[k], digit(k)) for k in range(3))
    assert sorted(p.name for p in drawings.path.parent.iterdir()) == [".drawings.npz.lock", "drawings.npz"]


def test_concurrent_appends_lose_nothing(tmp_path):
    drawings = Drawings(tmp_path / "drawings.npz")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: drawings.append(digit(k), k % 10), range(24)))
    x, y = load_npz(drawings.path)
    assert len(y) == 24 and sorted(y.tolist()) == sorted(k % 10 for k in range(24))
    for pixels, label in zip(x, y):  # each image kept beside its own label
        assert any(np.array_equal(pixels, digit(k)) for k in range(24) if k % 10 == label)


def test_a_file_that_is_not_ours_is_refused_and_kept(tmp_path):
    path = tmp_path / "drawings.npz"
    np.savez(path, x=np.zeros((2, 8, 8), np.uint8), y=np.zeros(2, np.uint8))
    before = path.read_bytes()
    with pytest.raises(DataError, match=r"expected \(28, 28\)"):
        Drawings(path).append(digit(0), 0)
    path.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable .npz"):
        Drawings(path).append(digit(0), 0)
    assert path.read_bytes() == b"not a zip" != before


def test_bad_digits_and_labels_are_refused(tmp_path):
    drawings = Drawings(tmp_path / "drawings.npz")
    with pytest.raises(DataError, match="outside 0..9"):
        drawings.append(digit(0), 10)
    with pytest.raises(DataError, match="uint8 image"):
        drawings.append(digit(0).astype(np.float32), 1)
    assert not drawings.path.exists()


def test_numpynn_train_reads_the_drawings(tmp_path):
    drawings = Drawings(tmp_path / "drawings.npz")
    for k in range(20):
        drawings.append(digit(k), k % 10)
    argv = ["train", "--dataset", str(drawings.path), "--val-split", "0.2", "--epochs", "1", "--hidden", "16",
            "--out", str(tmp_path / "runs"), "--name", "mine", "--quiet", "--no-plots"]
    assert cli.main(argv) == 0
    assert (tmp_path / "runs" / "mine" / "model.safetensors").is_file()
