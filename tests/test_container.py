"""The safetensors container: files written by numpynn 0.1.0 (before the safetensors library did the encoding)
still load with identical weights and predictions, and the library's own readers accept what we write."""

import json
from pathlib import Path

import numpy as np

import numpynn as nn
from numpynn.cli.run_folder import open_model
from numpynn.io.checkpoint import load_training_checkpoint, read_checkpoint

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
    assert probs.dtype == np.float32 and np.array_equal(probs, io["probs"])


def test_a_training_checkpoint_written_by_0_1_0_resumes():
    model, meta = nn.load_model(CHECKPOINT)
    opt = nn.Adam(model, lr=1e-3)
    state, _ = load_training_checkpoint(CHECKPOINT, model, opt)
    assert state.epoch == 2 and meta["kind"] == "training"
    want = _expected("checkpoint/")
    got = {**model.state_dict(), **{f"optimizer.{k}": v for k, v in opt.state_dict().items()}}
    assert all(np.array_equal(np.asarray(got[k]), want[k]) for k in want), sorted(set(want) - set(got))
