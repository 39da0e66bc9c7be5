"""Hostile files met by the library (issue 26): counts a file cannot back, channels-last images, opsets beyond the
installed ONNX, and things that are not regular files. Each is refused (or read right) in one sentence."""

import json
import os
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import numpynn as nn
from numpynn.errors import CheckpointError
from numpynn.io.checkpoint import load_training_checkpoint, read_checkpoint, save_training_checkpoint
from numpynn.io.container import encode


def _checkpoint(tmp_path, scheduler=False):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 6)).astype(np.float32), rng.integers(0, 3, 32)
    model = nn.mlp([6, 5, 3], seed=0)
    opt = nn.SGD(model, lr=0.1)
    sched = nn.StepLR(opt, 1, 0.5) if scheduler else None
    states = []
    nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, epochs=2, batch_size=16, scheduler=sched, verbose=0,
           on_checkpoint=states.append)
    return save_training_checkpoint(tmp_path / "checkpoint.safetensors", model, opt, states[-1], sched)


def _resign(path, edit_state=None, **meta_changes):
    """Edit a checkpoint's metadata and write it with a valid checksum: what anyone can craft."""
    tensors, meta = read_checkpoint(path)
    if edit_state:
        state = json.loads(meta["train_state"])
        edit_state(state)
        meta["train_state"] = json.dumps(state)
    path.write_bytes(encode(tensors, {**meta, **meta_changes}))
    return path


# --- 26.1: a count in a file is bounded by what the file holds before anything is allocated ----------------

# Counts that a regression would turn into ~10 and ~100 MB, not the 36 GB of 10**9 (the probe tries that one,
# under a memory cap): a reverted fix must fail this test, not take the machine down.
@pytest.mark.parametrize("field, value", [("epoch", 300_000), ("epoch", 3_000_000)])
def test_a_checkpoint_claiming_millions_of_epochs_allocates_nothing(tmp_path, field, value):
    """0.2.0 built list(range(epoch)) to compare with the records: 10**9 epochs asked for ~36 GB."""
    path = _resign(_checkpoint(tmp_path), lambda s: s.update({field: value}))
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="corrupt training state") as info:
            nn.load_model(path)  # what info, evaluate, serve and predict call
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024**2, f"validating the file allocated {peak:,} bytes"
    assert field != "epoch" or f"2 epoch records for {value} finished epochs" in str(info.value)


@pytest.mark.parametrize("last_epoch", ["Infinity", "1e400", "-1", "1.5", "9007199254740993", '"3"'])
def test_a_scheduler_count_out_of_range_is_a_corrupt_file_not_a_crash(tmp_path, last_epoch):
    """int(inf) raised OverflowError, gamma ** 10**400 too: neither was caught on --resume."""
    path = _resign(_checkpoint(tmp_path, scheduler=True),
                   scheduler=f'{{"last_epoch": {last_epoch}, "base_lr": 0.1}}')
    model = nn.mlp([6, 5, 3], seed=0)
    opt = nn.SGD(model, lr=0.1)
    with pytest.raises(CheckpointError, match="corrupt optimizer or scheduler state"):
        load_training_checkpoint(path, model, opt, nn.StepLR(opt, 1, 0.5))
    assert opt.lr == 0.1


# --- 26.9: the opset is bounded by what the installed onnx and onnxruntime support --------------------------

@pytest.mark.parametrize("opset", [99, "newest + 1", 16, 0, -17])
def test_an_opset_onnxruntime_cannot_load_is_refused_before_writing(tmp_path, opset):
    """0.2.0 wrote `--opset 99` files that onnxruntime refuses to load."""
    pytest.importorskip("onnxruntime")
    from numpynn.interop.onnx_export import ExportError, export_onnx, max_opset
    opset = max_opset() + 1 if opset == "newest + 1" else opset
    with pytest.raises(ExportError, match=f"opset {opset} is outside .* pass an opset from 17 to {max_opset()}"):
        export_onnx(nn.mlp([4, 3], seed=0), tmp_path / "m.onnx", opset=opset)
    assert not list(tmp_path.iterdir())


def test_the_newest_opset_allowed_loads_and_agrees():
    onnxruntime = pytest.importorskip("onnxruntime")
    import onnx

    from numpynn.interop.onnx_export import max_opset, onnx_bytes
    top = max_opset()
    assert 17 < top <= onnx.defs.onnx_opset_version()
    model = nn.mlp([4, 5, 3], seed=0)
    session = onnxruntime.InferenceSession(onnx_bytes(model, onnx, None, None, None, top),
                                           providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(session.run(["logits"], {"pixels": x})[0], model(x), rtol=1e-5, atol=1e-6)


def test_without_onnxruntime_the_bound_is_onnx_own(monkeypatch):
    import sys

    import onnx

    from numpynn.interop.onnx_export import max_opset
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    assert max_opset.__wrapped__(onnx) == onnx.defs.onnx_opset_version()


# --- 26.8: channels-last images are recognised, an ambiguous shape refused -----------------------------------

@pytest.mark.parametrize("stored, read", [
    ((6, 28, 28, 3), (6, 3, 28, 28)),    # RGB as Pillow/Keras store it: 0.2.0 read 28 channels of 28x3
    ((6, 12, 12, 1), (6, 1, 12, 12)),
    ((6, 16, 16, 4), (6, 4, 16, 16)),    # RGBA
    ((6, 16, 16, 8), (6, 8, 16, 16)),    # more channels, still fewer than pixels a side
    ((6, 2, 12, 12), (6, 2, 12, 12)),    # numpynn's own layout is kept as it is
    ((6, 1, 28, 28), (6, 1, 28, 28)),
    ((6, 8, 16, 16), (6, 8, 16, 16)),
    ((6, 3, 4, 3), (6, 3, 4, 3)),        # either way round: the documented (N, C, H, W)
])
def test_channels_last_images_are_read_as_channels_first(tmp_path, stored, read):
    from numpynn.datasets import load_npz
    x = np.random.default_rng(0).integers(0, 256, stored, dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(6) % 3)
    got, _ = load_npz(tmp_path / "d.npz")
    assert got.shape == read and got.flags.c_contiguous
    expected = x if stored == read else x.transpose(0, 3, 1, 2)
    assert np.array_equal(got, expected)  # every pixel where it belongs, nothing lost


@pytest.mark.parametrize("stored", [(6, 28, 28, 28), (6, 9, 7, 9), (6, 30, 20, 40)])
def test_images_with_no_axis_that_reads_as_channels_are_refused_naming_the_shape(tmp_path, stored):
    from numpynn.datasets import load_npz
    from numpynn.errors import DataError
    np.savez(tmp_path / "d.npz", x=np.zeros(stored, np.uint8), y=np.arange(6) % 3)
    with pytest.raises(DataError, match=rf"images of shape \({', '.join(map(str, stored))}\) .* \(N, C, H, W\)"):
        load_npz(tmp_path / "d.npz")


# --- 26.11: a folder, a FIFO or a device where a file belongs ------------------------------------------------

def _not_files(tmp_path):
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    return {"a folder": folder, "a named pipe (FIFO)": fifo, "a character device": Path("/dev/zero")}


def _within(seconds, fn, unblock):
    """fn()'s outcome, failing (not hanging) if it blocks: `unblock` then releases it."""
    outcome = {}

    def call():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        unblock()
        thread.join(5)
        pytest.fail(f"blocked for {seconds} s")
    return outcome


@pytest.mark.parametrize("kind", ["a folder", "a named pipe (FIFO)", "a character device"])
@pytest.mark.parametrize("reader", ["load_csv", "load_npz", "read_user_file"])
def test_a_folder_fifo_or_device_is_named_for_what_it_is(tmp_path, kind, reader):
    """0.2.0 said "does not exist" for a folder, waited forever on a FIFO and read /dev/zero to the end."""
    from numpynn import datasets
    path = _not_files(tmp_path)[kind]

    def read():
        from numpynn.io.user_files import read_user_file
        return read_user_file(path, "Config file", "a TOML file", 1024)
    call = {"load_csv": lambda: datasets.load_csv(path), "load_npz": lambda: datasets.load_npz(path),
            "read_user_file": read}[reader]

    def unblock():
        with open(path, "wb"):
            pass
    outcome = _within(10, call, unblock if kind.endswith("(FIFO)") else lambda: None)
    error = outcome.get("error")
    assert isinstance(error, ValueError) and not isinstance(error, OSError), outcome
    assert f"{path} is {kind}, not a regular file; pass a" in str(error) and "\n" not in str(error)


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path):
    from numpynn.errors import UserFileError
    from numpynn.io.user_files import read_user_file
    path = tmp_path / "big.toml"
    path.write_bytes(b"a = 1\n" * 300)
    with pytest.raises(UserFileError, match=r"big.toml is 1,800 bytes, over the 1,000-byte limit for a TOML file"):
        read_user_file(path, "Config file", "a TOML file", 1000)
    assert read_user_file(path, "Config file", "a TOML file", 1800) == b"a = 1\n" * 300
    with pytest.raises(FileNotFoundError, match=r"^Config file .*nothing.toml does not exist; name one\.$"):
        read_user_file(tmp_path / "nothing.toml", "Config file", "a TOML file", 1000, hint="name one")
    with pytest.raises(FileNotFoundError, match=r"big.toml/x.toml does not exist \(a part of its path is a file"):
        read_user_file(path / "x.toml", "Config file", "a TOML file", 1000)


# --- 26.7 and 26.14: deep nesting and a byte-order mark in the files a user writes --------------------------

@pytest.mark.parametrize("text", ["a = " + "[" * 5000 + "]" * 5000, "a = " + "{b = " * 2000 + "1" + "}" * 2000,
                                  "a = " + "[" * 40 + "]" * 40, "a." + ".".join(["b"] * 3000) + " = 1",
                                  "[" + ".".join(["t"] * 500) + "]\nx = 1"])
def test_deep_toml_is_one_sentence(text):
    import tomllib

    from numpynn.errors import UserFileError
    from numpynn.io.user_files import parse_nested
    with pytest.raises(UserFileError, match=r"^run.toml nests lists or tables more than 32 levels deep; .*\.$"):
        parse_nested(tomllib.loads, text, "run.toml")


@pytest.mark.parametrize("depth", [100_000, 33])
def test_deep_json_is_one_sentence(depth):
    from numpynn.errors import UserFileError
    from numpynn.io.user_files import parse_nested
    with pytest.raises(UserFileError, match="more than 32 levels deep"):
        parse_nested(json.loads, "[" * depth + "]" * depth, "config.json")
    assert parse_nested(json.loads, '{"a": [[1, 2]]}', "config.json") == {"a": [[1, 2]]}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"])
def test_a_byte_order_mark_is_accepted(tmp_path, encoding):
    """Notepad saves UTF-8 with a BOM; 0.2.0 refused it as 'Invalid statement (line 1, column 1)'."""
    import tomllib

    from numpynn.io.user_files import parse_nested, read_user_text
    path = tmp_path / "run.toml"
    path.write_text("lr = 0.5\n[optim]\nepochs = 3\n", encoding=encoding)
    text = read_user_text(path, "Config file", "a TOML file", 1024)
    assert parse_nested(tomllib.loads, text, str(path)) == {"lr": 0.5, "optim": {"epochs": 3}}


@pytest.mark.parametrize("kind", ["a folder", "a named pipe (FIFO)", "a character device"])
def test_the_model_loader_names_a_folder_fifo_or_device(tmp_path, kind):
    """The library's own door: numpynn.load_model said "does not exist" for each (a FIFO would not block: stat)."""
    path = _not_files(tmp_path)[kind]
    outcome = _within(10, lambda: nn.load_model(path), lambda: None)
    assert isinstance(outcome.get("error"), CheckpointError), outcome
    assert f"{path} is {kind}, not a regular file" in str(outcome["error"])
