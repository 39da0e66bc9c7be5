"""Convolutional networks end to end: whole-model gradients, fit/predict/evaluate on images, checkpoints, torch."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.errors import CheckpointError, DataError


def tiny_cnn(dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        # No bias before BatchNorm (it would be subtracted again): its gradient is exactly 0, which the
        # relative error of the gradient check would read as noise / 1e-8.
        nn.Conv2d(1, 4, 3, padding=1, bias=False, rng=rng, dtype=dtype), nn.BatchNorm2d(4, dtype=dtype), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, (3, 2), stride=(1, 2), rng=rng, dtype=dtype), nn.ReLU(), nn.AvgPool2d(2, stride=1),
        nn.Dropout(0.0), nn.Flatten(), nn.Linear(6 * 1 * 1, 5, rng=rng, dtype=dtype))


def images(n=40, size=8, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, n)
    x = rng.random((n, 1, size, size)).astype(np.float32) * 0.3
    for i, label in enumerate(y):  # a bright bar whose row is the class: learnable from the pixels
        x[i, 0, label + 1, 1:-1] += 1
    return x, y


def test_whole_cnn_gradients_through_every_layer_in_float64():
    model = tiny_cnn(np.float64)
    x, y = images(6)
    # h = 1e-4: some weight gradients are ~1e-5, and at h = 1e-5 the round-off of the loss (~1e-16 * 1.6 / 2h)
    # is already 1e-6 of them; the truncation error at 1e-4 is ~1e-8 relative.
    errors = nn.check_model(model, nn.CrossEntropyLoss(), x.astype(np.float64), y, h=1e-4)
    assert len(errors) == 7 and max(errors.values()) < 1e-6, errors


def test_fit_predict_evaluate_on_nchw_images():
    model = tiny_cnn()
    x, y = images(120)
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.Adam(model, lr=0.02), x, y, epochs=15, batch_size=16,
                     seed=0, validation_data=(x[:20], y[:20]), verbose=False)
    assert history["train_loss"][-1] < history["train_loss"][0] / 2
    assert np.mean(model.predict(x) == y) > 0.8
    assert model.predict_proba(x[:3]).shape == (3, 5) and model.predict_proba(x[:3]).dtype == np.float32
    loss, acc = nn.evaluate(model, nn.CrossEntropyLoss(), x, y)
    assert np.isfinite(loss) and acc > 0.8


def test_input_checks_name_the_problem():
    model = tiny_cnn()
    with pytest.raises(DataError, match=r"add the channel axis: x\[:, None\]"):
        model.predict(np.zeros((2, 8, 8)))
    with pytest.raises(DataError, match=r"images \(N, 1, H, W\)"):
        model.predict(np.zeros((2, 3, 8, 8)))
    with pytest.raises(DataError, match="Images of 12x12 give 36 features at layer 9"):
        model.predict(np.zeros((2, 1, 12, 12)))
    with pytest.raises(DataError, match="smaller than"):
        model.predict(np.zeros((2, 1, 2, 2)))
    with pytest.raises(DataError, match="NaN"):
        model.predict(np.full((2, 1, 8, 8), np.nan))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_checkpoint_round_trip_rebuilds_every_conv_layer(tmp_path, dtype):
    model = tiny_cnn(dtype)
    x, y = images(32)
    nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=1, batch_size=8, verbose=False)
    nn.save_model(tmp_path / "cnn.safetensors", model)
    loaded, meta = nn.load_model(tmp_path / "cnn.safetensors")
    assert loaded.config() == model.config() and loaded.dtype == dtype
    assert [type(a) for a in loaded.layers] == [type(b) for b in model.layers]
    np.testing.assert_array_equal(loaded.predict_logits(x), model.predict_logits(x))
    gap = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0, dtype=dtype), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    nn.save_model(tmp_path / "gap.safetensors", gap)
    np.testing.assert_array_equal(nn.load_model(tmp_path / "gap.safetensors")[0].forward(x), gap.forward(x))


def test_checkpoint_whose_conv_weight_does_not_fit_is_refused(tmp_path):
    from numpynn.io.checkpoint import read_checkpoint
    from numpynn.io.container import encode
    nn.save_model(tmp_path / "cnn.safetensors", tiny_cnn())
    tensors, meta = read_checkpoint(tmp_path / "cnn.safetensors")
    meta["architecture"] = meta["architecture"].replace('"out_channels": 4', '"out_channels": 400000', 1)
    (tmp_path / "bad.safetensors").write_bytes(encode(tensors, meta))
    with pytest.raises(CheckpointError, match="declared Conv2d"):
        nn.load_model(tmp_path / "bad.safetensors")


def test_cnn_model_file_loads_into_the_equivalent_torch_sequential(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra (pip install numpynn[torch])")
    from safetensors.torch import load_file
    model = tiny_cnn()
    x, y = images(48)
    nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=2, batch_size=8, verbose=False)
    nn.save_model(tmp_path / "model.safetensors", model)
    tnn = torch.nn
    net = tnn.Sequential(
        tnn.Conv2d(1, 4, 3, padding=1, bias=False), tnn.BatchNorm2d(4), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(4, 6, (3, 2), stride=(1, 2)), tnn.ReLU(), tnn.AvgPool2d(2, stride=1), tnn.Dropout(0.0),
        tnn.Flatten(), tnn.Linear(6, 5))
    net.load_state_dict(load_file(tmp_path / "model.safetensors"))  # strict: every name and shape matches
    net.eval()
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model.predict_logits(x), expected, atol=1e-5)
