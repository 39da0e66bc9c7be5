"""Atomic writes: old-or-new files only, and a failed write names the file it was writing (issue 17 item 35)."""

import errno
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from numpynn.app.commands import parser as cli
from numpynn.data.idx import read_idx, write_idx
from numpynn.io import atomic
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


# --- several writers of one path, and the umask (issue 26.2, issue 21.17) ----------------------------------

def test_a_second_writer_leaves_a_live_writers_temp_file_alone(tmp_path):
    """0.2.0 deleted every temp file of the path before a write, the live one of another writer included."""
    path = tmp_path / "sweep.json"
    with atomic_open(path) as f:
        f.write(b"first")
        atomic_write_bytes(path, b"second")  # a second writer starts and ends while the first is mid-write
        assert path.read_bytes() == b"second"
        f.write(b" and last")
    assert path.read_bytes() == b"first and last" and [p.name for p in tmp_path.iterdir()] == ["sweep.json"]


def test_a_dead_writers_leftover_is_still_removed_but_not_a_fifo(tmp_path):
    path = tmp_path / "model.safetensors"
    stale = tmp_path / ".model.safetensors.abcd1234.tmp"
    stale.write_bytes(b"half a file")  # nobody holds it: what SIGKILL leaves
    fifo = tmp_path / ".model.safetensors.fifo0000.tmp"
    os.mkfifo(fifo)  # named like a temp file: must be neither opened for long nor removed
    atomic_write_bytes(path, b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == [fifo.name, "model.safetensors"]


WRITERS = """
import sys
from numpynn.io.atomic import atomic_write_bytes
path, me = sys.argv[1], sys.argv[2]
failures = 0
for i in range(150):
    try:
        atomic_write_bytes(path, (me * 4096).encode())
    except OSError as exc:
        failures += 1
print(failures)
"""


def test_several_processes_writing_one_path_all_succeed(tmp_path):
    """Three sweeps into one --out broke each other: 94 and 124 of 300 writes failed per process on 0.2.0."""
    path = tmp_path / "sweep.json"
    procs = [subprocess.Popen([sys.executable, "-c", WRITERS, str(path), me], stdout=subprocess.PIPE, text=True)
             for me in "abc"]
    failures = [int(p.communicate(timeout=120)[0]) for p in procs]
    assert failures == [0, 0, 0] and all(p.returncode == 0 for p in procs)
    content = path.read_text()
    assert len(content) == 4096 and len(set(content)) == 1  # one writer's whole file, never a mix
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.json"]


def test_writes_never_touch_the_process_umask(tmp_path, monkeypatch):
    """Issue 21.17: os.umask(0) around each write left another thread's new files world-writable meanwhile."""
    def no_umask(mask):
        raise AssertionError("atomic writes must not set the umask")
    monkeypatch.setattr(os, "umask", no_umask)
    errors = []

    def write(i):
        try:
            for j in range(20):
                atomic_write_bytes(tmp_path / f"f{i % 2}.bin", bytes([i, j]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {p.name for p in tmp_path.iterdir()} == {"f0.bin", "f1.bin"}
    for p in tmp_path.iterdir():
        assert p.stat().st_mode & 0o777 == 0o666 & ~atomic.UMASK  # as any new file, not mkstemp's 0600


def test_the_umask_is_read_as_the_os_reports_it():
    mask = os.umask(0o022)
    os.umask(mask)
    assert atomic._read_umask() == mask


@pytest.mark.parametrize("case", ["folder", "under a file", "under a file, deeper"])
def test_a_path_that_cannot_be_a_file_is_said_in_words(tmp_path, case):
    """Issue 26.12: `export -o some_folder.onnx` and `train --out afile/x` gave raw [Errno 21]/[Errno 20]."""
    (tmp_path / "some_folder.onnx").mkdir()
    (tmp_path / "afile").write_text("a file")
    target = {"folder": "some_folder.onnx", "under a file": "afile/x", "under a file, deeper": "afile/x/y.csv"}[case]
    with pytest.raises(OSError) as info:
        atomic_write_bytes(tmp_path / target, b"data")
    assert info.value.filename == str(tmp_path / target) and "Errno" not in info.value.strerror
    assert ("is a folder" if case == "folder" else "afile is a file, not a folder") in info.value.strerror
    assert (tmp_path / "afile").read_text() == "a file" and (tmp_path / "some_folder.onnx").is_dir()
