"""Atomic writes: old-or-new files only, and a failed write names the file it was writing (issue 17 item 35)."""

import errno
import os

import numpy as np
import pytest

from numpynn.app.commands import parser as cli
from numpynn.data.idx import read_idx, write_idx
from numpynn.io.atomic import atomic_open, atomic_write_bytes


def full_disk(monkeypatch):
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # what a full disk raises: no file name
    monkeypatch.setattr(os, "fsync", fsync)


def test_a_full_disk_names_the_file_being_written_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"old")
    full_disk(monkeypatch)
    with pytest.raises(OSError) as info:
        atomic_write_bytes(path, b"new")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_every_writer_names_its_file(tmp_path, monkeypatch):
    """IDX files and the MNIST cache write through atomic_open too, so they name their file as well."""
    full_disk(monkeypatch)
    with pytest.raises(OSError) as info:
        write_idx(tmp_path / "x.idx", np.zeros((2, 3), np.uint8))
    assert info.value.filename == str(tmp_path / "x.idx") and not list(tmp_path.iterdir())
    with pytest.raises(OSError) as info, atomic_open(tmp_path / "y.npy") as f:
        np.save(f, np.zeros(3), allow_pickle=False)
    assert info.value.filename == str(tmp_path / "y.npy") and not list(tmp_path.iterdir())


def test_a_read_only_folder_names_the_file_too(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/tmp/.x.abcdefgh.tmp")
    monkeypatch.setattr("tempfile.mkstemp", denied)
    with pytest.raises(PermissionError) as info:
        atomic_write_bytes(tmp_path / "metrics.csv", b"")
    assert info.value.filename == str(tmp_path / "metrics.csv")  # the file the user knows, not our temp name


def test_the_command_line_says_which_file_did_not_fit(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (20, 4), dtype=np.uint8), np.arange(20) % 2
    np.savez(tmp_path / "d.npz", x=x, y=y, x_test=x, y_test=y)
    full_disk(monkeypatch)
    argv = ["train", "--dataset", str(tmp_path / "d.npz"), "--out", str(tmp_path / "runs"), "--name", "r",
            "--epochs", "1", "--quiet", "--no-plots"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and str(tmp_path / "runs" / "r") in err and "no file" not in err


def test_idx_round_trip_still_works(tmp_path):
    array = np.arange(12, dtype=np.int16).reshape(3, 4)
    write_idx(tmp_path / "a.idx.gz", array)
    assert np.array_equal(read_idx(tmp_path / "a.idx.gz"), array)
