"""Hostile inputs at the command line (issue 26): each gets one sentence, the right exit code, and nothing lost.

The library's side of the same root causes is in test_hostile_files.py and test_atomic.py;
benchmarks/hostile_probe.py runs the whole list through the real `numpynn` command.
"""

import errno
import json
import os
import socket

import numpy as np
import pytest

from numpynn.app.commands import parser as cli
from numpynn.app.commands import serve


def error_of(capsys, argv, code=2):
    """The one line a refused command prints, after checking its exit code."""
    got = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("numpynn: note:")]
    assert got == code, err
    assert len(lines) == 1 and lines[0].startswith("numpynn: error: "), err
    assert "Traceback" not in err and "[Errno" not in err and "(no file)" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A folder with tiny 28x28 data, a finished run, and things that are not files."""
    work = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8), np.arange(40) % 3
    np.savez(work / "tiny.npz", x=x, y=y, x_test=x[:10], y_test=y[:10])
    assert cli.main(["train", "--dataset", str(work / "tiny.npz"), "--epochs", "2", "--hidden", "8", "--out",
                     str(work / "runs"), "--name", "base", "--quiet", "--no-plots"]) == 0
    (work / "folder.toml").mkdir()
    (work / "folder.npz").mkdir()
    os.mkfifo(work / "pipe.toml")
    os.mkfifo(work / "pipe.npz")
    (work / "afile").write_text("a file")
    (work / "some_folder.onnx").mkdir()
    return work


def interrupted_copy(work, name, config_text):
    """The base run as if killed after its last checkpoint (no model.safetensors), with this config.json."""
    run = work / "runs" / name
    run.mkdir()
    for f in ("metrics.csv", "checkpoint.safetensors"):
        (run / f).write_bytes((work / "runs/base" / f).read_bytes())
    (run / "config.json").write_text(config_text)
    return run


# --- 26.7 deep nesting, 26.14 a byte-order mark -------------------------------------------------------------

@pytest.mark.parametrize("text", ["hidden = " + "[" * 3000 + "]" * 3000, "lr = " + "{a = " * 1500 + "1" + "}" * 1500,
                                  "[" + ".".join(["t"] * 400) + "]\nx = 1"])
def test_deeply_nested_toml_is_one_sentence(work, capsys, text):
    (work / "deep.toml").write_text(text)
    assert "levels deep" in error_of(capsys, ["train", "--config", work / "deep.toml"])
    assert "levels deep" in error_of(capsys, ["sweep", "--config", work / "deep.toml"])


@pytest.mark.parametrize("depth", [100_000, 40])
def test_a_deeply_nested_config_json_on_resume_is_one_sentence(work, capsys, depth):
    run = interrupted_copy(work, f"deep{depth}", "[" * depth + "]" * depth)
    assert "config.json nests lists or tables more than 32 levels deep" in error_of(capsys, ["train", "--resume", run])
    assert (run / "checkpoint.safetensors").exists()  # nothing lost


def test_a_toml_file_with_a_byte_order_mark_is_read(work, capsys):
    path = work / "bom.toml"
    path.write_text(f'dataset = "{work / "tiny.npz"}"\nepochs = 1\nhidden = [8]\nquiet = true\nplots = false\n'
                    f'out = "{work / "runs"}"\nname = "bom"\n', encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert cli.main(["train", "--config", str(path)]) == 0, capsys.readouterr().err
    assert json.loads((work / "runs/bom/config.json").read_text())["hidden"] == [8]


# --- 26.11 a folder, FIFO or device where a file belongs -----------------------------------------------------

@pytest.mark.parametrize("flag, name, kind", [
    ("--config", "folder.toml", "a folder"), ("--config", "pipe.toml", "a named pipe (FIFO)"),
    ("--config", "/dev/zero", "a character device"), ("--dataset", "folder.npz", "a folder"),
    ("--dataset", "pipe.npz", "a named pipe (FIFO)"), ("--dataset", "/dev/zero", "a character device")])
def test_a_folder_fifo_or_device_is_said_to_be_one(work, capsys, flag, name, kind):
    path = work / name if not name.startswith("/") else name
    line = error_of(capsys, ["train", flag, path, "--no-plots"])
    assert f"{path} is {kind}, not a regular file; pass " in line and "does not exist" not in line


def test_evaluate_on_a_fifo_says_so(work, capsys):
    line = error_of(capsys, ["evaluate", work / "runs/base", "--dataset", work / "pipe.npz", "--no-plots"])
    assert "is a named pipe (FIFO), not a regular file" in line


# --- 26.12 raw [Errno 20/21], 26.13 a full disk names the file -----------------------------------------------

def test_out_under_a_file_is_one_sentence(work, capsys):
    line = error_of(capsys, ["train", "--dataset", work / "tiny.npz", "--out", work / "afile/x", "--epochs", "1",
                             "--quiet", "--no-plots"])
    assert f"{work / 'afile'} is a file, not a folder" in line
    assert (work / "afile").read_text() == "a file"


def test_export_onto_a_folder_is_one_sentence(work, capsys):
    line = error_of(capsys, ["export", work / "runs/base", "-o", work / "some_folder.onnx"])
    assert f"{work / 'some_folder.onnx'} is a folder, so no file can be written there" in line
    assert (work / "some_folder.onnx").is_dir() and not list((work / "some_folder.onnx").iterdir())


def test_an_os_error_without_a_file_is_still_one_sentence():
    assert cli.os_error_sentence(OSError(errno.ENOSPC, "No space left on device")) == "No space left on device."
    own = FileNotFoundError("Dataset x.npz does not exist; use mnist.")
    assert cli.os_error_sentence(own) == "Dataset x.npz does not exist; use mnist."
    raw = NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), "/etc/hostname/x")
    assert cli.os_error_sentence(raw) == "/etc/hostname/x cannot be written: /etc/hostname is a file, not a " \
                                         "folder; choose a path under a folder."


def test_a_full_disk_during_resume_names_the_file(work, capsys, monkeypatch):
    run = interrupted_copy(work, "fulldisk", (work / "runs/base/config.json").read_text())
    before = (run / "checkpoint.safetensors").read_bytes()

    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # what a full disk raises: no file name
    monkeypatch.setattr(os, "write", full)
    monkeypatch.setattr(os, "fsync", full)
    line = error_of(capsys, ["train", "--resume", run], code=1)
    assert "No space left on device" in line and str(run) in line
    monkeypatch.undo()
    assert (run / "checkpoint.safetensors").read_bytes() == before  # still resumable


# --- 26.8 channels-last images, 26.9 the opset, 26.10 the host ----------------------------------------------

def test_channels_last_images_train_as_channels(work, capsys):
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 256, (30, 8, 8, 3), dtype=np.uint8), np.arange(30) % 3
    np.savez(work / "rgb.npz", x=x, y=y)
    assert cli.main(["train", "--dataset", str(work / "rgb.npz"), "--val-split", "0.2", "--conv", "2", "--pool", "1",
                     "--hidden", "", "--epochs", "1", "--out", str(work / "runs"), "--name", "rgb", "--no-plots"]) == 0
    assert "CNN 3x8x8" in capsys.readouterr().out  # 0.2.0: 8 channels of 8x3 images


@pytest.mark.parametrize("opset", ["99", "16", "0"])
def test_export_refuses_an_opset_onnxruntime_cannot_load(work, capsys, opset):
    pytest.importorskip("onnx")
    line = error_of(capsys, ["export", work / "runs/base", "-o", work / f"o{opset}.onnx", "--opset", opset])
    assert f"opset {opset} is outside" in line and not (work / f"o{opset}.onnx").exists()


@pytest.mark.parametrize("host", ["no-such-host.invalid", "not a host", "a" * 64 + ".example", "::zz"])
def test_a_host_that_does_not_resolve_is_one_sentence_and_exit_2(work, capsys, host):
    pytest.importorskip("uvicorn")
    assert f"--host {host} does not resolve" in error_of(capsys, ["serve", work / "runs/base", "--host", host])


def test_host_0000_listens_on_every_interface_loopback_included():
    sock = serve._bind("0.0.0.0", 0)
    try:
        assert sock.getsockname()[0] == "0.0.0.0"
        with socket.create_connection(("127.0.0.1", sock.getsockname()[1]), timeout=5):
            pass
    finally:
        sock.close()


# --- also untested in 0.2.0: plot on a hostile metrics.csv, MySQL without its driver -------------------------

@pytest.mark.parametrize("text", ["", "\x00\xff\xfe", "epoch,train_loss\n", "epoch,train_loss\none,two\n",
                                  "epoch,train_loss,test_accuracy\n1,nan,1e308\n2,inf,-1e308\n",
                                  "epoch,train_loss\n1,0.5,9,9\n2\n", "epoch\n" + "1\n" * 5000])
def test_plot_on_a_hostile_metrics_csv_draws_or_says_why(work, capsys, text, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_text(text, errors="surrogateescape")
    got = cli.main(["plot", str(run), "-o", str(tmp_path / "c.png")])
    err = capsys.readouterr().err
    assert got in (0, 2) and "Traceback" not in err
    assert (got == 0) == (tmp_path / "c.png").exists() and (got == 0 or err.count("\n") == 1), err


def test_mysql_storage_without_its_driver_says_what_to_install(work, capsys):
    pytest.importorskip("optuna")
    path = work / "sweep.toml"
    path.write_text(f'[data]\ndataset = "{work / "tiny.npz"}"\nval_split = 0.2\n[optim]\nepochs = 1\n'
                    '[search]\nlr = [0.1, 0.2]\n')
    line = error_of(capsys, ["sweep", "--config", path, "--storage", "mysql://u:secret@127.0.0.1/db", "--trials", "1",
                             "--out", work / "sweeps/m"])
    assert "needs its database driver" in line and "secret" not in line


@pytest.mark.parametrize("command", [["info"], ["evaluate", "--no-plots"], ["plot"]])
def test_a_fifo_as_model_or_metrics_is_said_to_be_one(work, capsys, tmp_path, command):
    """The same root as 26.11 behind the other doors: 0.2.0 said "does not exist" (and plot would have blocked)."""
    if command[0] == "plot":
        target = tmp_path / "run"
        target.mkdir()
        os.mkfifo(target / "metrics.csv")
    else:
        target = tmp_path / "m.safetensors"
        os.mkfifo(target)
    line = error_of(capsys, [command[0], target, *command[1:]])
    assert "is a named pipe (FIFO), not a regular file" in line
