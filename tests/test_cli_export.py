"""`numpynn export`: a run (or model file) as ONNX taking raw pixels, equal to `numpynn predict`'s answers."""

import json
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import numpynn as nn
from numpynn.app.commands import parser as cli
from numpynn.app.runs.folder import open_model
from numpynn.data.mnist import load_mnist


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    argv = ["train", "--out", str(out), "--name", "z", "--quiet", "--no-plots", "--subset", "1000", "--epochs", "1",
            "--hidden", "32", "--scale", "zscore"]
    assert cli.main(argv) == 0
    return out / "z"


def probabilities(path, pixels):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], {"pixels": pixels.astype(np.float32)})[0]


def test_export_a_run_and_get_predicts_probabilities_from_raw_pixels(run, capsys):
    assert cli.main(["export", str(run)]) == 0
    path = run / "model.onnx"
    assert f"Wrote {path}" in capsys.readouterr().out
    onnx.checker.check_model(onnx.load(path), full_check=True)
    trained = open_model(run)
    pixels = load_mnist()[1][0][:500]  # raw uint8 (N, 28, 28), as `numpynn predict` prepares a digit
    expected = trained.model.predict_proba(trained.preprocess(pixels.reshape(len(pixels), -1)))
    got = probabilities(path, pixels)
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    assert np.abs(got - expected).max() < 1e-5
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert json.loads(meta["classes"]) == [str(i) for i in range(10)]


def test_export_a_cnn_run_taking_the_same_raw_pixels(tmp_path):
    argv = ["train", "--out", str(tmp_path), "--name", "cnn", "--quiet", "--no-plots", "--conv", "4", "--hidden", "16",
            "--subset", "300", "--epochs", "1", "--scale", "global", "--batch-norm"]
    assert cli.main(argv) == 0
    assert cli.main(["export", str(tmp_path / "cnn"), "-o", str(tmp_path / "cnn.onnx")]) == 0
    trained = open_model(tmp_path / "cnn")
    pixels = load_mnist()[1][0][:500]
    rows = trained.preprocess(pixels.reshape(len(pixels), -1))
    expected = trained.model.predict_proba(rows.reshape(len(rows), *trained.input_shape))
    got = probabilities(tmp_path / "cnn.onnx", pixels)  # (N, 28, 28), as for the MLP run
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    assert np.abs(got - expected).max() < 1e-5


def test_output_path_and_opset_options(run, tmp_path):
    out = tmp_path / "digits.onnx"
    assert cli.main(["export", str(run / "model.safetensors"), "-o", str(out), "--opset", "18"]) == 0
    assert [o.version for o in onnx.load(out).opset_import] == [18]


class Mystery(nn.Layer):
    def forward(self, x):
        return x


def test_an_unsupported_layer_is_one_sentence_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(nn.LAYERS, "Mystery", Mystery)  # a layer the file format knows but ONNX export does not
    path = nn.save_model(tmp_path / "model.safetensors", nn.Sequential(nn.Linear(784, 10), Mystery()),
                         metadata={"preprocessing": {"method": "255", "input_shape": [28, 28]}})
    assert cli.main(["export", str(path), "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("numpynn: error: Layer 1 (Mystery) has no ONNX mapping") and "\n" not in err
    assert not (tmp_path / "m.onnx").exists()


def test_bad_output_suffix_and_missing_model_exit_2(run, tmp_path, capsys):
    assert cli.main(["export", str(run), "-o", str(tmp_path / "model.txt")]) == 2
    assert cli.main(["export", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err.count("numpynn: error:") == 2


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_an_estimator_saved_by_numpynn_sklearn_exports_too(tmp_path):
    from numpynn.sklearn import MLPClassifier
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 5)), np.array(["a", "b", "c"])[rng.integers(0, 3, 60)]
    x = x.astype(np.float32)  # the estimator keeps the input's dtype (float64 rows would export a float64 graph)
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(x, y)
    est.save(tmp_path / "est.safetensors")
    assert cli.main(["export", str(tmp_path / "est.safetensors")]) == 0
    got = probabilities(tmp_path / "est.onnx", x)
    assert np.abs(got - est.predict_proba(x)).max() < 1e-5
    meta = {p.key: p.value for p in onnx.load(tmp_path / "est.onnx").metadata_props}
    assert json.loads(meta["classes"]) == ["a", "b", "c"]


def test_the_command_is_listed_in_help():
    done = subprocess.run([sys.executable, "-m", "numpynn", "export", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--opset" in done.stdout and "raw" in done.stdout


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["regressor", "multilabel"])
def test_estimators_whose_outputs_are_not_class_scores_are_refused_at_every_door(tmp_path, capsys, kind):
    """A regressor's or multilabel classifier's file has no one-class-per-input softmax: predict, evaluate, serve
    and export said nothing and showed softmax'd regression values as digit classes. Each now refuses it in one
    sentence (exit 2) that names the estimator and how to use it; info still describes the file."""
    from numpynn.sklearn import MLPClassifier, MLPRegressor
    rng = np.random.default_rng(0)
    x = rng.random((40, 784), dtype=np.float32)
    if kind == "regressor":
        est, name = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(x, x[:, :3]), "MLPRegressor"
    else:
        y = (x[:, :3] > 0.5).astype(int)
        est, name = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(x, y), "multilabel"
    path = est.save(tmp_path / "est.safetensors")
    image = tmp_path / "digit.png"
    from PIL import Image
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(image)
    for argv in (["predict", str(path), str(image)], ["evaluate", str(path)], ["serve", str(path), "--port", "0"],
                 ["export", str(path), "-o", str(tmp_path / "est.onnx")]):
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert name in err and "cannot use it" in err and "Traceback" not in err, (argv, err)
    assert not (tmp_path / "est.onnx").exists()
    assert cli.main(["info", str(path)]) == 0
