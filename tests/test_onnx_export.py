"""numpynn.export_onnx: every layer as ONNX ops, preprocessing baked in, and onnxruntime agreeing with numpynn."""

import json
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import numpynn as nn
from numpynn import datasets
from numpynn.errors import NumpynnError
from numpynn.interop import onnx_layers
from numpynn.interop.onnx_export import ExportError


@pytest.fixture(scope="module")
def mnist():
    (x_train, y_train), (x_test, _) = datasets.load_mnist()
    return x_train[:2000], y_train[:2000], x_test  # the 10,000 test images, raw uint8 (N, 28, 28)


def run_onnx(path, pixels):
    """(logits, probabilities) from onnxruntime for raw pixels (N, ...)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the test machine's cores are shared; one thread is also deterministic
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"pixels": pixels})


def assert_matches_numpynn(path, pixels, expected, tol=1e-5):
    logits, probs = run_onnx(path, pixels)
    assert probs.shape == expected.shape and probs.dtype == expected.dtype
    np.testing.assert_array_equal(probs.argmax(axis=1), expected.argmax(axis=1))  # every image
    assert np.abs(probs - expected).max() < tol
    np.testing.assert_allclose(probs, nn.functional.softmax(logits, axis=1), atol=1e-6)


def trained_mlp(mnist, scaler):
    x, y, _ = mnist
    model = nn.mlp([784, 48, 10], seed=0, batch_norm=True, dropout=0.2)
    nn.fit(model, nn.CrossEntropyLoss(), nn.Adam(model), datasets.flatten(x), y, epochs=2, preprocess=scaler,
           verbose=0)
    return model


@pytest.mark.parametrize("method", ["255", "zscore", "global"])
def test_mlp_gives_numpynns_answer_for_every_mnist_test_image(mnist, tmp_path, method):
    scaler = datasets.Scaler.fit(method, datasets.flatten(mnist[0]))
    model = trained_mlp(mnist, scaler)
    path = nn.export_onnx(model, tmp_path / "mlp.onnx", preprocess=scaler, input_shape=(28, 28),
                          class_names=[str(i) for i in range(10)])
    onnx.checker.check_model(onnx.load(path), full_check=True)
    x_test = mnist[2]
    expected = model.predict_proba(scaler(datasets.flatten(x_test)))
    assert (expected.argmax(axis=1) == datasets.load_mnist()[1][1]).mean() > 0.8  # a trained model, not noise
    assert_matches_numpynn(path, x_test.astype(np.float32), expected)


def tiny_cnn(rng):
    return nn.Sequential(
        # 28x28 -> 14x14 -> 7x7 -> 5x5 -> 6x6 (the padded average pool) -> 10 classes: small enough to train here
        nn.Conv2d(1, 4, 3, stride=2, padding=1, bias=False, rng=rng), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, rng=rng), nn.Tanh(), nn.AvgPool2d(2, stride=1, padding=1), nn.Dropout(0.1),
        nn.Flatten(), nn.Linear(8 * 6 * 6, 10, rng=rng))


def test_cnn_gives_numpynns_answer_for_every_mnist_test_image(mnist, tmp_path):
    x, y, x_test = mnist
    scaler = datasets.Scaler("global")
    model = tiny_cnn(np.random.default_rng(0))
    images = scaler(datasets.flatten(x)).reshape(-1, 1, 28, 28)
    nn.fit(model, nn.CrossEntropyLoss(), nn.Adam(model, lr=0.01), images, y, epochs=2, verbose=0)
    path = nn.export_onnx(model, tmp_path / "cnn.onnx", preprocess=scaler, input_shape=(28, 28))
    onnx.checker.check_model(onnx.load(path), full_check=True)
    expected = model.predict_proba(scaler(datasets.flatten(x_test)).reshape(-1, 1, 28, 28))
    assert (expected.argmax(axis=1) == datasets.load_mnist()[1][1]).mean() > 0.8
    assert_matches_numpynn(path, x_test.astype(np.float32), expected)


def test_every_layer_numpynn_has_is_mapped_including_the_activations_and_global_pool(tmp_path):
    rng = np.random.default_rng(1)
    assert set(nn.LAYERS) <= set(onnx_layers.ONNX_OPS)  # a new layer must get a mapping (or this test changes)
    mlp = nn.Sequential(nn.Linear(12, 16, rng=rng), nn.GELU(), nn.Linear(16, 16, rng=rng), nn.GELU("tanh"),
                        nn.Linear(16, 16, rng=rng), nn.LeakyReLU(0.1), nn.Linear(16, 16, rng=rng), nn.Sigmoid(),
                        nn.BatchNorm1d(16), nn.Linear(16, 5, rng=rng), nn.Softmax())
    cnn = nn.Sequential(nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=(1, 0), rng=rng), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(), nn.Flatten(), nn.Linear(4, 3, rng=rng))
    x = rng.uniform(0, 255, (7, 12)).astype(np.float32)
    images = rng.uniform(0, 255, (7, 3, 6, 5)).astype(np.float32)
    for model, raw, shape, scaled in ((mlp, x, None, x / np.float32(255)), (cnn, images, (3, 6, 5), images)):
        for layer in model.layers:  # non-trivial running statistics, so BatchNorm's eval form is exercised
            if "running_var" in layer.buffers:
                layer.buffers["running_mean"][:] = rng.normal(size=layer.num_features)
                layer.buffers["running_var"][:] = rng.uniform(0.5, 2, layer.num_features)
        path = nn.export_onnx(model, tmp_path / "m.onnx", preprocess="255" if shape is None else "none",
                              input_shape=shape)
        onnx.checker.check_model(onnx.load(path), full_check=True)
        assert_matches_numpynn(path, raw, model.predict_proba(scaled), tol=1e-6)


def test_float64_models_export_as_double(tmp_path):
    model = nn.mlp([6, 8, 3], seed=0, dtype=np.float64)
    x = np.random.default_rng(0).uniform(0, 255, (5, 6))
    path = nn.export_onnx(model, tmp_path / "m.onnx", preprocess="255")
    assert_matches_numpynn(path, x, model.predict_proba(x / 255), tol=1e-12)


def test_signature_metadata_and_versions(tmp_path):
    model = nn.mlp([784, 8, 3], seed=0)
    path = nn.export_onnx(model, tmp_path / "m.onnx", preprocess="global", input_shape=(28, 28),
                          class_names=["cat", "dog", "eel"])
    proto = onnx.load(path)
    assert proto.ir_version == 8 and [(o.domain, o.version) for o in proto.opset_import] == [("", 17)]
    (inp,) = proto.graph.input
    dims = inp.type.tensor_type.shape.dim
    assert inp.name == "pixels" and dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [28, 28]
    assert [o.name for o in proto.graph.output] == ["logits", "probabilities"]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["classes"]) == ["cat", "dog", "eel"] and meta["numpynn_version"] == nn.__version__
    assert json.loads(meta["preprocessing"]) == {"method": "global", "input_shape": [28, 28]}
    for batch in (1, 3):  # the batch dimension is dynamic
        logits, probs = run_onnx(path, np.zeros((batch, 28, 28), np.float32))
        assert logits.shape == probs.shape == (batch, 3)


def test_a_wrong_mapping_or_missing_preprocessing_is_caught(tmp_path, monkeypatch):
    """Negative controls: the comparison above fails when the graph is not numpynn's computation."""
    model = nn.mlp([20, 16, 4], seed=0)
    x = np.random.default_rng(0).uniform(0, 255, (50, 20)).astype(np.float32)
    expected = model.predict_proba(x / np.float32(255))
    unscaled = nn.export_onnx(model, tmp_path / "a.onnx", preprocess=None)
    with pytest.raises(AssertionError):
        assert_matches_numpynn(unscaled, x, expected)
    monkeypatch.setitem(onnx_layers.ONNX_OPS, "ReLU", onnx_layers._unary("Sigmoid"))
    wrong = nn.export_onnx(model, tmp_path / "b.onnx", preprocess="255")
    with pytest.raises(AssertionError):
        assert_matches_numpynn(wrong, x, expected)


class Mystery(nn.Layer):
    def forward(self, x):
        return x


def test_an_unsupported_layer_gets_one_sentence(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), Mystery())
    with pytest.raises(ExportError) as info:
        nn.export_onnx(model, tmp_path / "m.onnx")
    assert isinstance(info.value, ValueError) and isinstance(info.value, NumpynnError)
    message = str(info.value)
    assert message.startswith("Layer 1 (Mystery) has no ONNX mapping") and message.count(". ") == 0
    assert not (tmp_path / "m.onnx").exists()


def test_shapes_that_do_not_fit_are_refused(tmp_path):
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 3))
    with pytest.raises(ExportError, match="needs input_shape"):
        nn.export_onnx(cnn, tmp_path / "m.onnx")
    with pytest.raises(ExportError, match="cannot take inputs"):
        nn.export_onnx(cnn, tmp_path / "m.onnx", input_shape=(20, 20))
    with pytest.raises(ExportError, match="has 100 values"):
        nn.export_onnx(nn.mlp([784, 3]), tmp_path / "m.onnx", input_shape=(10, 10))
    with pytest.raises(ExportError, match="fitted datasets.Scaler"):
        nn.export_onnx(nn.mlp([784, 3]), tmp_path / "m.onnx", preprocess="zscore")


def test_import_numpynn_needs_no_onnx_and_export_names_the_extra():
    code = ("import sys; sys.modules['onnx'] = None; import numpynn\n"
            "assert 'onnxruntime' not in sys.modules and 'sklearn' not in sys.modules\n"
            "try:\n    numpynn.export_onnx(numpynn.mlp([2, 2]), 'x.onnx')\n"
            "except ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install numpynn[onnx]" in out and out.count(".") <= 3
