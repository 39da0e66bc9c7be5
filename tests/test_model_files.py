"""Model files: what torch sees (only the state_dict), what a header may declare, and what loading costs."""

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

import numpynn as nn
from numpynn.errors import CheckpointError
from numpynn.io.checkpoint import read_checkpoint
from numpynn.io.container import encode

FIXTURES = Path(__file__).parent / "fixtures"


def _zscore_model(tmp_path):
    model = nn.mlp([6, 5, 3], seed=0)
    extra = {"preprocess.mean": np.linspace(0, 1, 6, dtype=np.float32),
             "preprocess.std": np.full(6, 0.3, np.float32)}
    return nn.save_model(tmp_path / "z.safetensors", model, extra_tensors=extra), model, extra


def test_extra_arrays_stay_out_of_the_tensors_torch_loads(tmp_path):
    path, model, extra = _zscore_model(tmp_path)
    assert load_file(path).keys() == model.state_dict().keys()  # what safetensors.torch.load_file hands torch
    tensors, meta = read_checkpoint(path)
    assert json.loads(meta["extra_tensors"]) == ["preprocess.mean", "preprocess.std"]
    for name, value in extra.items():
        assert tensors[name].dtype == value.dtype and np.array_equal(tensors[name], value)
    loaded, meta = nn.load_model(path)
    np.testing.assert_array_equal(loaded.state_dict()["0.weight"], model.state_dict()["0.weight"])
    assert "extra_arrays" not in meta


def test_a_zscore_model_loads_into_torch_sequential(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    from safetensors.torch import load_file as torch_load_file
    path, model, _ = _zscore_model(tmp_path)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    tm.load_state_dict(torch_load_file(path))  # strict: 0.2.0's preprocess.mean/std made torch refuse the file
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_allclose(tm(torch.from_numpy(x)).detach().numpy(), model(x), rtol=1e-5, atol=1e-6)


def test_a_zscore_model_file_written_by_0_2_0_still_loads():
    """0.2.0 kept preprocess.mean/std beside the weights; written by 0.2.0's `numpynn train --scale zscore`."""
    path = FIXTURES / "model-0.2.0-zscore.safetensors"
    with np.load(FIXTURES / "model-0.2.0-zscore.expected.npz", allow_pickle=False) as saved:
        want = dict(saved)
    tensors, meta = read_checkpoint(path)
    assert meta["numpynn_version"] == "0.2.0" and "preprocess.mean" in load_file(path)
    np.testing.assert_array_equal(tensors["preprocess.mean"], want["mean"])
    model, _ = nn.load_model(path)
    probs = model.predict_proba((want["x"] - tensors["preprocess.mean"]) / tensors["preprocess.std"])
    np.testing.assert_allclose(probs, want["probs"], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("bad", [
    {"preprocess.mean": {"dtype": "object", "shape": [1], "values": [1]}},
    {"preprocess.mean": {"dtype": "float32", "shape": [3], "values": [1, 2]}},
    {"preprocess.mean": {"dtype": "float32", "shape": [1], "values": [1e300]}},
    {"0.weight": {"dtype": "float32", "shape": [1], "values": [1]}},
    ["preprocess.mean"],
])
def test_malformed_extra_arrays_are_refused(tmp_path, bad):
    path, model, _ = _zscore_model(tmp_path)
    tensors, meta = read_checkpoint(path)
    meta = {**meta, "extra_tensors": "[]", "extra_arrays": json.dumps(bad)}
    path.write_bytes(encode({k: v for k, v in tensors.items() if not k.startswith("preprocess")}, meta))
    with pytest.raises(CheckpointError, match="corrupt"):
        nn.load_model(path)


def test_save_model_refuses_extra_arrays_too_large_for_the_metadata(tmp_path):
    with pytest.raises(ValueError, match="file of their own"):
        nn.save_model(tmp_path / "m.safetensors", nn.mlp([2, 2]), extra_tensors={"big": np.zeros(2**18 + 1)})


@pytest.mark.parametrize("spec", [
    {"type": "Linear", "in_features": 40000, "out_features": 40000, "bias": True},
    {"type": "Conv2d", "in_channels": 4000, "out_channels": 4000, "kernel_size": [31, 31], "stride": [1, 1],
     "padding": [0, 0], "bias": True},
    {"type": "BatchNorm1d", "num_features": 2**30, "eps": 1e-5, "momentum": 0.1, "affine": True},
    {"type": "Dropout", "p": 0.5, "extra_width": 2**30},
])
def test_a_header_declaring_a_huge_layer_beside_tiny_tensors_is_refused_before_building(tmp_path, monkeypatch,
                                                                                        spec):
    """Without the loader's size checks, from_config would allocate 6.4 GB (Linear(40000, 40000)) first."""
    model = nn.mlp([2, 2], seed=0)
    path = nn.save_model(tmp_path / "m.safetensors", model)
    tensors, meta = read_checkpoint(path)
    meta["architecture"] = json.dumps([spec])
    path.write_bytes(encode(tensors, meta))

    def never(*args, **kwargs):
        raise AssertionError("the architecture was built before its sizes were checked against the file")
    monkeypatch.setattr(nn.Sequential, "from_config", never)
    with pytest.raises(CheckpointError, match="declare|does not match|absurd|corrupt"):
        nn.load_model(path)


def test_loading_holds_the_weights_once(tmp_path):
    model = nn.mlp([1000, 1000, 10], seed=0)  # 4 MB of float32 weights
    path = nn.save_model(tmp_path / "big.safetensors", model)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        loaded, _ = nn.load_model(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The model's own arrays (weights and their grads) plus bookkeeping; 0.2.0 held besides them the file's
    # bytes, the library's copy of them, a cast copy and a random init's float64 draws (~4x the file).
    own = sum(a.nbytes for layer in loaded.layers for a in (*layer.params.values(), *layer.grads.values()))
    assert peak - own < 0.3 * size, f"{(peak - own) / size:.2f}x the file's size beside the model's own arrays"
    np.testing.assert_array_equal(loaded.state_dict()["0.weight"], model.state_dict()["0.weight"])
