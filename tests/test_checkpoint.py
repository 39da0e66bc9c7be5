"""Checkpoints: exact round trips, safetensors compatibility, atomic writes under SIGKILL, and >= 20 corrupt or
malicious files that must each be refused with a CheckpointError (never a crash, never a side effect)."""

import io
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

import numpynn as nn
from numpynn.errors import CheckpointError
from numpynn.io.checkpoint import load_training_checkpoint, read_checkpoint, save_training_checkpoint
from numpynn.io.container import decode, encode


def small_model(dtype=np.float32):
    return nn.mlp([6, 5, 3], seed=0, dtype=dtype)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.safetensors"
    nn.save_model(path, small_model(), metadata={"note": "hello", "classes": [0, 1, 2]})
    return path


def reencode(path, tensors=None, meta=None, **changes):
    """Rewrite a saved file with edited tensors/metadata and a *valid* checksum: what an attacker can craft."""
    t, m = read_checkpoint(path)
    t, m = (tensors if tensors is not None else t), {**(meta if meta is not None else m), **changes}
    path.write_bytes(encode(t, m))
    return path


# --- round trips -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_model_round_trip_is_exact(tmp_path, dtype):
    model = small_model(dtype)
    extra = {"preprocess.mean": np.arange(6, dtype=dtype)}
    nn.save_model(tmp_path / "m.safetensors", model, metadata={"classes": ["a", "b", "c"]}, extra_tensors=extra)
    loaded, meta = nn.load_model(tmp_path / "m.safetensors")
    assert loaded.config() == model.config() and loaded.dtype == dtype
    for (name, a), (_, b) in zip(model.named_parameters(), loaded.named_parameters()):
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert meta["classes"] == ["a", "b", "c"] and meta["format"] == "numpynn" and meta["kind"] == "model"
    tensors, _ = read_checkpoint(tmp_path / "m.safetensors")
    assert np.array_equal(tensors["preprocess.mean"], extra["preprocess.mean"])


def test_files_are_standard_safetensors(saved):
    """The safetensors library reads our files unchanged (so do torch / HF tools)."""
    tensors = st_load(saved.read_bytes())
    ours, _ = read_checkpoint(saved)
    assert tensors.keys() == ours.keys()
    assert all(np.array_equal(tensors[k], ours[k]) for k in ours)


def test_no_pickle_anywhere_in_the_package():
    src = Path(nn.__file__).parent
    for path in src.rglob("*.py"):
        text = path.read_text()
        assert "import pickle" not in text and "allow_pickle=True" not in text, path


def test_reserved_metadata_keys_are_refused(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        nn.save_model(tmp_path / "m.safetensors", small_model(), metadata={"architecture": "mine"})


def test_missing_file_says_how_to_get_a_model(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist; train a model first"):
        nn.load_model(tmp_path / "nope.safetensors")


# --- corrupt and malicious files: each refused with our own error ----------------------------------------

def _truncate(at):
    def make(path):
        data = path.read_bytes()
        path.write_bytes(data[:at if at >= 0 else len(data) + at])
    return make


def _flip(where):
    def make(path):
        data = bytearray(path.read_bytes())
        (n,) = struct.unpack("<Q", data[:8])
        key = b'out_features\\": 5'  # inside the architecture JSON string; 5 -> 4 is still valid JSON
        pos = 8 + n + 5 if where == "body" else data.index(key) + len(key) - 1
        data[pos] ^= 0x01
        path.write_bytes(bytes(data))
    return make


def _raw_header(header: dict, body: bytes = b""):
    def make(path):
        raw = json.dumps(header).encode()
        path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)
    return make


def _edit(fn):
    def make(path):
        tensors, meta = read_checkpoint(path)
        fn(tensors, meta)
        path.write_bytes(encode(tensors, meta))
    return make


class Payload:
    """Unpickling this creates a folder: the side effect a malicious model file would have under pickle.load."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def _pickle_payload(path):
    path.write_bytes(pickle.dumps(Payload(path.parent / "PWNED")))


def _npz_object_array(path):
    buffer = io.BytesIO()
    np.savez(buffer, **{"0.weight": np.array([{"evil": 1}, None], dtype=object)})
    path.write_bytes(buffer.getvalue())


def _foreign_safetensors(path):
    path.write_bytes(st_save({"0.weight": np.zeros((5, 6), np.float32)}))


def _meta_edit(**changes):
    return _edit(lambda t, m: m.update(changes))


BAD_FILES = {
    "empty file": _truncate(0),
    "truncated in the length prefix": _truncate(5),
    "truncated in the header": _truncate(40),
    "truncated one byte short": _truncate(-1),
    "truncated in the data": _truncate(-30),
    "flipped bit in the weights": _flip("body"),
    "flipped bit in the architecture": _flip("header"),
    "trailing garbage": lambda p: p.write_bytes(p.read_bytes() + b"\0" * 8),
    "huge declared shape": _raw_header({"__metadata__": {"format": "numpynn"},
                                        "0.weight": {"dtype": "F32", "shape": [2**40, 2**40],
                                                     "data_offsets": [0, 16]}}, b"\0" * 16),
    "overlapping tensors": _raw_header({"__metadata__": {"format": "numpynn"},
                                        "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 16),
    "unsupported dtype": _raw_header({"__metadata__": {"format": "numpynn"},
                                      "0.weight": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),
    "deeply nested header": lambda p: p.write_bytes(struct.pack("<Q", 200_000) + b"[" * 200_000),
    "5000-digit integer in header": lambda p: p.write_bytes(
        struct.pack("<Q", 5013) + b'{"a":[' + b"9" * 5000 + b"]}     "),
    "wrong dtype (float64 weights in a float32 model)":
        _edit(lambda t, m: t.update({"0.weight": t["0.weight"].astype(np.float64)})),
    "missing tensor": _edit(lambda t, m: t.pop("2.bias")),
    "extra tensor": _edit(lambda t, m: t.update({"evil": np.zeros(3, np.float32)})),
    "architecture mismatch": _meta_edit(architecture=json.dumps([{"type": "Linear", "in_features": 784,
                                                                  "out_features": 5, "bias": True}])),
    "absurd architecture (Linear 10^9 x 10^9)": _meta_edit(architecture=json.dumps(
        [{"type": "Linear", "in_features": 10**9, "out_features": 10**9, "bias": True}])),
    "unknown layer type": _meta_edit(architecture=json.dumps([{"type": "__import__", "name": "os"}])),
    "NaN layer argument": _meta_edit(architecture=json.dumps(
        [{"type": "Linear", "in_features": 6, "out_features": 5, "bias": True},
         {"type": "LeakyReLU", "negative_slope": float("nan")},
         {"type": "Linear", "in_features": 5, "out_features": 3, "bias": True}])),
    "NaN weights": _edit(lambda t, m: t["0.weight"].__setitem__((0, 0), np.nan)),
    "unknown format version": _meta_edit(format_version="2"),
    "object dtype declared": _meta_edit(dtype="object"),
    "foreign safetensors file": _foreign_safetensors,
    "pickle payload": _pickle_payload,
    "NPZ with an object array": _npz_object_array,
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_corrupt_or_malicious_file_is_refused(saved, case):
    BAD_FILES[case](saved)
    with pytest.raises(CheckpointError) as info:
        nn.load_model(saved)
    message = str(info.value)
    assert str(saved) in message and len(message) < 400 and "\n" not in message  # one clear sentence
    assert not (saved.parent / "PWNED").exists()


def test_pickle_payload_is_live(tmp_path):
    """Negative control: the payload above really has a side effect when unpickled, so the test means something."""
    pickle.loads(pickle.dumps(Payload(tmp_path / "PWNED")))  # noqa: S301 (the point of the test)
    assert (tmp_path / "PWNED").is_dir()


def test_every_single_bit_flip_is_caught(tmp_path):
    """Flip each bit of a small model file in turn: the container checks (header, checksum) refuse every one.

    In memory through container.decode, which load_model runs first; a seeded sample goes through load_model.
    """
    path = tmp_path / "m.safetensors"
    nn.save_model(path, nn.mlp([2, 2], seed=0))
    good = path.read_bytes()
    escaped = []
    for i in range(len(good) * 8):
        bad = bytearray(good)
        bad[i // 8] ^= 1 << (i % 8)
        try:
            decode(bytes(bad), "m")
            escaped.append(i)
        except CheckpointError:
            pass
    assert escaped == [], f"bit flips at {escaped} decoded without error"
    for i in np.random.default_rng(0).choice(len(good) * 8, 40, replace=False):
        bad = bytearray(good)
        bad[i // 8] ^= 1 << (i % 8)
        path.write_bytes(bytes(bad))
        with pytest.raises(CheckpointError):
            nn.load_model(path)


def test_a_header_over_the_cap_is_refused_before_parsing():
    from numpynn.io.container import MAX_HEADER_BYTES
    n = MAX_HEADER_BYTES + 8
    with pytest.raises(CheckpointError, match=f"declares a {n}-byte header"):
        decode(struct.pack("<Q", n) + b"{" + b" " * n, "big")  # the bytes are there: only the cap refuses it


def test_a_file_over_the_size_cap_is_refused_before_reading(saved, monkeypatch):
    import numpynn.io.checkpoint as ckpt
    monkeypatch.setattr(ckpt, "MAX_FILE_BYTES", saved.stat().st_size - 1)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the file was read"))
    with pytest.raises(CheckpointError, match="over the"):
        nn.load_model(saved)


# --- training checkpoints --------------------------------------------------------------------------------

def _trained(tmp_path, scheduler=True):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    model = small_model()
    opt = nn.SGD(model, lr=0.1, momentum=0.9)
    sched = nn.StepLR(opt, 1, 0.5) if scheduler else None
    states = []
    nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, epochs=2, batch_size=16, scheduler=sched, verbose=0,
           on_checkpoint=states.append)
    path = save_training_checkpoint(tmp_path / "checkpoint.safetensors", model, opt, states[-1], sched,
                                    metadata={"config": {"lr": 0.1}})
    return path, model, opt, sched, states[-1]


def test_training_checkpoint_round_trip(tmp_path):
    path, model, opt, sched, state = _trained(tmp_path)
    model2 = small_model()
    opt2 = nn.SGD(model2, lr=0.1, momentum=0.9)
    sched2 = nn.StepLR(opt2, 1, 0.5)
    loaded, meta = load_training_checkpoint(path, model2, opt2, sched2)
    assert loaded == state and loaded.epoch == 2 and loaded.step == 0 and len(loaded.records) == 2
    assert all(np.array_equal(a, b) for a, b in zip(model.parameters(), model2.parameters()))
    sd, sd2 = opt.state_dict(), opt2.state_dict()
    assert sd.keys() == sd2.keys() and all(np.array_equal(sd[k], sd2[k]) for k in sd)
    assert sched2.state_dict() == sched.state_dict() and opt2.lr == opt.lr == 0.025
    assert meta["config"] == {"lr": 0.1} and meta["kind"] == "training"
    # A training checkpoint is also a model file: predict / evaluate can use it.
    m3, _ = nn.load_model(path)
    assert np.array_equal(m3[0].params["weight"], model[0].params["weight"])


def test_rng_state_survives_json(tmp_path):
    path, *_, state = _trained(tmp_path)
    assert isinstance(state.rng_state["state"]["state"], int) and state.rng_state["state"]["state"] > 2**64
    loaded = nn.TrainState.from_json(state.to_json())
    assert loaded.rng_state == state.rng_state
    assert '"state": "' in state.to_json()  # 128-bit ints travel as strings, safe for any JSON reader


@pytest.mark.parametrize("mismatch", ["optimizer type", "architecture", "scheduler missing", "model file"])
def test_resume_refuses_what_does_not_fit_and_changes_nothing(tmp_path, mismatch):
    path, *_ = _trained(tmp_path)
    model = small_model() if mismatch != "architecture" else nn.mlp([6, 7, 3], seed=1)
    before = [p.copy() for p in model.parameters()]
    opt = nn.Adam(model) if mismatch == "optimizer type" else nn.SGD(model, lr=0.1, momentum=0.9)
    sched = None if mismatch == "scheduler missing" else nn.StepLR(opt, 1, 0.5)
    if mismatch == "model file":
        path = nn.save_model(tmp_path / "model.safetensors", small_model())
    lr_before = opt.lr
    with pytest.raises(CheckpointError):
        load_training_checkpoint(path, model, opt, sched)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.parameters()))
    assert opt.lr == lr_before and opt.state == {}


@pytest.mark.parametrize("corruption", ["optimizer buffer shape", "negative lr", "train_state", "rng state"])
def test_corrupt_training_state_is_refused(tmp_path, corruption):
    path, *_ = _trained(tmp_path, scheduler=False)
    tensors, meta = read_checkpoint(path)
    if corruption == "optimizer buffer shape":
        tensors["optimizer.0.weight.momentum_buffer"] = np.zeros((2, 2), np.float32)
    elif corruption == "negative lr":
        tensors["optimizer.lr"] = np.array(-1.0)
    elif corruption == "train_state":
        meta["train_state"] = meta["train_state"].replace('"epoch": 2', '"epoch": -2')
    else:
        meta["train_state"] = meta["train_state"].replace('"bit_generator": "PCG64"', '"bit_generator": "Evil"')
    path.write_bytes(encode(tensors, meta))
    model = small_model()
    with pytest.raises(CheckpointError):
        load_training_checkpoint(path, model, nn.SGD(model, lr=0.1, momentum=0.9))


# --- atomic writes ---------------------------------------------------------------------------------------

WRITER = """
import sys, numpy as np, numpynn as nn
path = sys.argv[1]
model = nn.mlp([3000, 2000], seed=0)   # 24 MB per write: a wide window to be killed in
i = 0
while True:
    model[0].params["weight"][...] = i
    nn.save_model(path, model, metadata={"i": i})
    print(i, flush=True)
    i += 1
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_sigkill_mid_write_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "model.safetensors"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "0"  # one complete file exists
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(".model.safetensors.*.tmp")):  # a write is under way: kill it now
            assert time.monotonic() < deadline, "the writer never started a second write"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.stdout.close()
    model, meta = nn.load_model(path)  # the last complete write, untouched by the killed one
    assert np.all(model[0].params["weight"] == meta["i"])
    leftovers = list(tmp_path.glob(".model.safetensors.*.tmp"))
    assert leftovers, "the kill did not land mid-write; the test proved nothing"
    nn.save_model(path, model)  # the next write of the same file sweeps what the killed writer left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(saved, monkeypatch):
    before = saved.read_bytes()
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        nn.save_model(saved, nn.mlp([6, 5, 3], seed=9))
    assert saved.read_bytes() == before and [p.name for p in saved.parent.iterdir()] == [saved.name]


def test_a_schedule_that_ends_at_lr_zero_resumes(tmp_path):
    """Issue 17 item 1: cosine annealing ends at lr 0.0, a legal state, yet its checkpoint was refused as corrupt."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 6)).astype(np.float32), rng.integers(0, 3, 32)
    model = small_model()
    opt = nn.SGD(model, lr=0.1)
    sched = nn.CosineAnnealingLR(opt, T_max=2)
    states = []
    nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, epochs=2, batch_size=16, scheduler=sched, verbose=0,
           on_checkpoint=states.append)
    assert opt.lr == 0.0
    path = save_training_checkpoint(tmp_path / "c.safetensors", model, opt, states[-1], sched)
    nn.load_model(path)  # `info` and `predict` read a checkpoint this way
    model2 = small_model()
    opt2 = nn.SGD(model2, lr=0.1)
    state, _ = load_training_checkpoint(path, model2, opt2, nn.CosineAnnealingLR(opt2, T_max=2))
    assert state.epoch == 2 and opt2.lr == 0.0
    for bad in (-1e-9, float("inf")):  # still refused: what no optimizer or schedule can reach
        tensors, meta = read_checkpoint(path)
        tensors["optimizer.lr"] = np.array(bad)
        path.write_bytes(encode(tensors, meta))
        with pytest.raises(CheckpointError, match="lr'"):
            nn.load_model(path)


@pytest.mark.parametrize("records", ["none", "too few", "misnumbered"])
def test_train_state_records_must_match_the_finished_epochs(tmp_path, records):
    """Issue 17 item 10: empty or too few records passed validation, then resume failed with KeyError/IndexError."""
    path, *_ = _trained(tmp_path, scheduler=False)
    tensors, meta = read_checkpoint(path)
    state = json.loads(meta["train_state"])
    state["records"] = {"none": [], "too few": state["records"][:1],
                        "misnumbered": [{**r, "epoch": 1} for r in state["records"]]}[records]
    meta["train_state"] = json.dumps(state)
    path.write_bytes(encode(tensors, meta))
    model = small_model()
    with pytest.raises(CheckpointError, match="epoch records for 2 finished epochs"):
        load_training_checkpoint(path, model, nn.SGD(model, lr=0.1, momentum=0.9))
