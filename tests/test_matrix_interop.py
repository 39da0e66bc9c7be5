"""Model-by-door matrix, the doors out of numpynn: ONNX, torch, scikit-learn, a sweep trial, fine-tuning.

Each test takes one kind's shared run (tests/matrix_kinds.py): the exported graph must give numpynn's argmax on
raw test images, model.safetensors must load into the torch.nn.Sequential its architecture documents and give
the same logits, the estimators must build the kind where they can (and say why in one sentence where they
cannot), a sweep trial must train the kind, and fine-tuning must start from its weights.
"""

import numpy as np
import pytest
from matrix_kinds import BY_NAME, NAMES, cells, cli, info, layer_types, reference_proba


@pytest.mark.parametrize("name", NAMES)
def test_export_onnx(matrix, name, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    kind, run = BY_NAME[name], matrix.run(name)
    code, out, err = cli("export", run, "-o", tmp_path / "m.onnx")
    assert code == 0, err
    images, _ = matrix.test_images(kind)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    pixels = session.get_inputs()[0]
    assert pixels.type == f"tensor({'double' if kind.dtype == 'float64' else 'float'})"  # the model's own dtype
    logits, probabilities = session.run(None, {pixels.name: images.astype(kind.dtype)})
    assert np.array_equal(probabilities.argmax(axis=1), reference_proba(run, images).argmax(axis=1))
    assert session.get_modelmeta().custom_metadata_map["classes"].count('"') == 2 * len(matrix.classes(kind))


def torch_equivalent(architecture: list[dict]):
    """The torch.nn.Sequential that README documents for a numpynn architecture (one module per layer)."""
    torch = pytest.importorskip("torch")
    t = torch.nn
    build = {
        "Linear": lambda c: t.Linear(c["in_features"], c["out_features"], bias=c.get("bias", True)),
        "Conv2d": lambda c: t.Conv2d(c["in_channels"], c["out_channels"], c["kernel_size"], c["stride"], c["padding"],
                                     bias=c.get("bias", True)),
        "BatchNorm1d": lambda c: t.BatchNorm1d(c["num_features"], c["eps"], c["momentum"], c["affine"]),
        "BatchNorm2d": lambda c: t.BatchNorm2d(c["num_features"], c["eps"], c["momentum"], c["affine"]),
        "MaxPool2d": lambda c: t.MaxPool2d(c["kernel_size"], c["stride"], c["padding"]),
        "AvgPool2d": lambda c: t.AvgPool2d(c["kernel_size"], c["stride"], c["padding"]),
        "Dropout": lambda c: t.Dropout(c["p"]),
        "Flatten": lambda c: t.Flatten(),
        "ReLU": lambda c: t.ReLU(), "Sigmoid": lambda c: t.Sigmoid(), "Tanh": lambda c: t.Tanh(),
        "GELU": lambda c: t.GELU(), "LeakyReLU": lambda c: t.LeakyReLU(c.get("negative_slope", 0.01)),
    }
    from numpynn.interop._torch_modules import _BUILDERS  # the sequence layers' documented torch modules
    return t.Sequential(*((build.get(layer["type"]) or _BUILDERS[layer["type"]])(layer) for layer in architecture))


@pytest.mark.parametrize("name", cells("torch"))
def test_torch_loads_the_model_file(matrix, name):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    from numpynn import load_model

    kind, run = BY_NAME[name], matrix.run(name)
    model, _ = load_model(run / "model.safetensors")
    net = torch_equivalent(model.config())
    net.load_state_dict(load_file(run / "model.safetensors"))  # strict: every tensor has its place
    net.eval()
    net.to(torch.float64 if kind.dtype == "float64" else torch.float32)
    trained = __import__("matrix_kinds").reader()(run)
    images, _ = matrix.test_images(kind)
    x = trained.as_input(trained.preprocess(images.reshape(len(images), -1)))
    with torch.no_grad():
        logits = net(torch.from_numpy(np.ascontiguousarray(x))).numpy()
    assert logits.dtype == np.dtype(kind.dtype)
    np.testing.assert_allclose(logits, trained.model.predict_logits(x), rtol=1e-4, atol=1e-4)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # two iterations, on purpose
@pytest.mark.parametrize("name", NAMES)
def test_sklearn_estimator(matrix, name):
    """The estimator builds the kind's network and answers in its labels; where it cannot, it says why."""
    pytest.importorskip("sklearn")
    from numpynn.sklearn import MLPClassifier

    kind = BY_NAME[name]
    images, labels = matrix.test_images(kind, 64)
    x = images.reshape(len(images), -1) / np.float32(255)
    if "sklearn" in kind.not_for:  # the user's error names what the estimators lack
        with pytest.raises(TypeError, match="|".join(kind.sklearn)):
            MLPClassifier(**kind.sklearn)
        return
    y = np.array(matrix.classes(kind))[labels] if name == "fashion" else labels  # class names as labels
    est = MLPClassifier(**kind.sklearn, max_iter=2, random_state=0).fit(x, y)
    assert sorted(est.classes_.tolist()) == sorted(np.unique(y).tolist())
    assert set(est.predict(x).tolist()) <= set(y.tolist())
    assert est.model_.dtype == np.dtype(kind.dtype) and est.predict_proba(x).dtype == np.dtype(kind.dtype)


@pytest.mark.parametrize("name", NAMES)
def test_sweep_trial(matrix, name, tmp_path):
    pytest.importorskip("optuna")
    kind = BY_NAME[name]
    matrix.run(name)
    flags = matrix.flags(kind)
    if "--val-split" not in flags:
        flags += ["--val-split", "0.2"]
    code, out, err = cli("sweep", "--grid", "lr=0.05", *flags, "--out", tmp_path / "sweep")
    assert code == 0, err
    trials = [p for p in (tmp_path / "sweep").iterdir() if (p / "model.safetensors").exists()]
    assert len(trials) == 1
    summary = info(trials[0])
    assert summary["classes"] == matrix.classes(kind) and summary["dtype"] == kind.dtype
    assert summary["preprocessing"] == kind.scale and kind.layers <= layer_types(trials[0])


@pytest.mark.parametrize("name", cells("fine-tune"))
def test_fine_tuning(matrix, name, tmp_path):
    """--init-from starts from the run's weights (architecture, classes, scaling with them); --freeze 1 keeps
    the first layer's."""
    from safetensors.numpy import load_file

    run = matrix.run(name)
    code, out, err = cli("train", "--init-from", run, "--freeze", "1", "--epochs", "1", "--out", tmp_path,
                         "--name", "tuned", "--quiet", "--no-plots", *data_flags(BY_NAME[name], matrix))
    assert code == 0, err
    before, after = info(run), info(tmp_path / "tuned")
    for key in ("architecture", "classes", "preprocessing", "dtype"):
        assert after[key] == before[key], key
    old, new = load_file(run / "model.safetensors"), load_file(tmp_path / "tuned" / "model.safetensors")
    first = next(k for k in old if "weight" in k)  # Linear/Conv2d "0.weight", an LSTM's "1.weight_ih_l0"
    assert np.array_equal(old[first], new[first]) and any(not np.array_equal(old[k], new[k]) for k in old)


def data_flags(kind, matrix) -> list[str]:
    """The kind's own --dataset (and --val-split), so the fine-tuning rows have its classes."""
    flags, keep = matrix.flags(kind), []
    for flag in ("--dataset", "--val-split", "--subset"):
        if flag in flags:
            keep += [flag, flags[flags.index(flag) + 1]]
    return keep
