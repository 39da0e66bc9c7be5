"""The safetensors container: files written by numpynn 0.1.0 (before the safetensors library did the encoding)
still load with identical weights and predictions, and the library's own readers accept what we write."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

import numpynn as nn
from numpynn.app.runs.folder import open_model
from numpynn.errors import CheckpointError
from numpynn.io.checkpoint import load_training_checkpoint, read_checkpoint
from numpynn.io.container import decode

FIXTURES = Path(__file__).parent / "fixtures"
# Written by `numpynn train --dataset tiny.npz --scale zscore --hidden 8 --batch-norm --dropout 0.2 --epochs 2
# --optimizer adam` with numpynn 0.1.0; the .expected.npz holds what 0.1.0's own reader returned for them.
MODEL, CHECKPOINT = FIXTURES / "model-0.1.0.safetensors", FIXTURES / "checkpoint-0.1.0.safetensors"


def _expected(prefix):
    with np.load(FIXTURES / "model-0.1.0.expected.npz", allow_pickle=False) as saved:
        return {k[len(prefix):]: saved[k] for k in saved.files if k.startswith(prefix)}


def test_a_model_file_written_by_0_1_0_loads_with_identical_weights_and_predictions():
    tensors, meta = read_checkpoint(MODEL)
    want = _expected("model/")
    assert tensors.keys() == want.keys()
    assert all(tensors[k].dtype == want[k].dtype and np.array_equal(tensors[k], want[k]) for k in want)
    assert meta["numpynn_version"] == "0.1.0"
    types = [layer["type"] for layer in json.loads(meta["architecture"])]
    assert types == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    trained = open_model(MODEL)
    assert trained.preprocess.method == "zscore"
    io = _expected("")
    probs = trained.model.predict_proba(trained.preprocess(io["x"]))
    # The weights above are bit-identical; the probabilities depend on the BLAS kernel the machine picks for
    # the matmuls (float32 sums in another order differ by ~2e-7), so they are compared to float32 precision.
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs, io["probs"], rtol=2e-6, atol=1e-7)


def test_a_training_checkpoint_written_by_0_1_0_resumes():
    model, meta = nn.load_model(CHECKPOINT)
    opt = nn.Adam(model, lr=1e-3)
    state, _ = load_training_checkpoint(CHECKPOINT, model, opt)
    assert state.epoch == 2 and meta["kind"] == "training"
    want = _expected("checkpoint/")
    got = {**model.state_dict(), **{f"optimizer.{k}": v for k, v in opt.state_dict().items()}}
    assert all(np.array_equal(np.asarray(got[k]), want[k]) for k in want), sorted(set(want) - set(got))


def _raw(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def test_what_we_write_is_exactly_what_the_safetensors_library_writes(tmp_path):
    model = nn.mlp([3, 4, 2], seed=0)
    path = nn.save_model(tmp_path / "m.safetensors", model, metadata={"note": "x"})
    tensors, meta = read_checkpoint(path)
    with safe_open(path, framework="np") as f:  # the library's own reader sees our metadata and tensors
        theirs = f.metadata()
        assert theirs["format"] == "numpynn" and theirs["checksum"].startswith("sha256:")
        assert all(np.array_equal(f.get_tensor(k), v) for k, v in tensors.items())
    # The library's own bytes for the same tensors and metadata carry a checksum that holds.
    again, meta_again = decode(st_save(tensors, {**meta, "checksum": theirs["checksum"]}), "again")
    assert meta_again == meta and all(np.array_equal(again[k], v) for k, v in tensors.items())


def test_a_safetensors_file_from_another_tool_is_called_that_not_damaged(tmp_path):
    """Item 20 of issue 17: a file with metadata but no numpynn checksum was reported as failing its checksum."""
    path = tmp_path / "hf.safetensors"
    path.write_bytes(st_save({"0.weight": np.zeros((5, 6), np.float32)}, {"format": "pt"}))
    with pytest.raises(CheckpointError, match="not a numpynn model") as info:
        nn.load_model(path)
    assert "checksum" not in str(info.value)


def test_a_name_given_twice_is_refused_though_the_library_keeps_the_last(tmp_path):
    entry = {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}
    raw = json.dumps({"a": entry}).encode()
    twice = b'{"a":' + json.dumps(entry).encode() + b',' + raw[1:]
    data = struct.pack("<Q", len(twice)) + twice + b"\0" * 4
    assert list(st_load(data)) == ["a"]  # the library accepts it: our own check must refuse
    with pytest.raises(CheckpointError, match="a name given twice"):
        decode(data, "dup")


@pytest.mark.parametrize("header, body", [
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8),   # a gap: the library refuses
    ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 4]}}, b"\0" * 4),   # shape vs bytes
    ({"a": {"dtype": "Q99", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),   # a dtype nobody knows
    ({"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),  # the library's, not ours
    ({"__metadata__": {"checksum": 5}}, b""),                                     # metadata must be strings
])
def test_what_the_library_refuses_is_one_checkpoint_error_sentence(header, body):
    with pytest.raises(CheckpointError) as info:
        decode(_raw(header, body), "f.safetensors")
    assert "f.safetensors" in str(info.value) or "Tensor" in str(info.value)
    assert "\n" not in str(info.value) and len(str(info.value)) < 300
