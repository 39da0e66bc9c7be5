"""Model-by-door matrix, the command-line doors: train, --resume, evaluate, predict, info, plot (README's table).

Each test takes one kind's shared run (tests/matrix_kinds.py) through one door and checks what the door read
back against the model file as numpynn reads it: a door that refused the kind, or misread its scaling, shape,
classes or dtype, fails here.
"""

import json
import re

import numpy as np
import pytest
from matrix_kinds import BY_NAME, NAMES, cells, cli, info, layer_types, reference_proba, stopped_in_second_epoch
from PIL import Image


@pytest.mark.parametrize("name", cells("train"))
def test_train(matrix, name):
    kind, run = BY_NAME[name], matrix.run(name)
    summary = info(run)
    assert summary["classes"] == kind.classes
    assert summary["dtype"] == kind.dtype and summary["preprocessing"] == kind.scale
    assert kind.layers <= layer_types(run)
    assert (run / "metrics.csv").read_text().count("\n") == 2  # header + the one epoch


@pytest.mark.parametrize("name", NAMES)
def test_resume(matrix, name, tmp_path, monkeypatch):
    """Stopped by Ctrl-C in its second epoch, the kind resumes to the very weights of an unbroken run."""
    from safetensors.numpy import load_file

    kind = BY_NAME[name]
    matrix.run(name)  # its data files
    flags = [*matrix.flags(kind), "--epochs", "2", "--out", tmp_path, "--quiet", "--no-plots"]
    assert cli("train", *flags, "--name", "unbroken")[0] == 0
    with monkeypatch.context() as patch:
        stopped_in_second_epoch(patch, tmp_path / "stopped")
        code, out, err = cli("train", *flags, "--name", "stopped")
    assert code == 130 and "--resume" in err and not (tmp_path / "stopped" / "model.safetensors").exists()
    code, out, err = cli("train", "--resume", tmp_path / "stopped", "--quiet")
    assert code == 0, err
    resumed, unbroken = (load_file(tmp_path / run / "model.safetensors") for run in ("stopped", "unbroken"))
    assert resumed.keys() == unbroken.keys()
    for key in resumed:
        assert np.array_equal(resumed[key], unbroken[key]), key
    assert info(tmp_path / "stopped")["classes"] == info(matrix.run(name))["classes"]


@pytest.mark.parametrize("name", NAMES)
def test_evaluate(matrix, name):
    run = matrix.run(name)
    code, out, err = cli("evaluate", run, "--no-plots")
    assert code == 0, err
    found = re.search(r"(Test|Validation) accuracy: ([0-9.]+) \(", out)
    metrics = info(run)["metrics"]
    split = "test" if "test_acc" in metrics else "val"
    assert found and found[1].lower().startswith(split[0])
    assert float(found[2]) == pytest.approx(metrics[f"{split}_acc"], abs=1e-4)
    for name_ in matrix.classes(BY_NAME[name]):
        assert name_[:6] in out  # the per-class report names the kind's classes


@pytest.mark.parametrize("name", NAMES)
def test_predict(matrix, name, tmp_path):
    """PNG and JPEG, --json and --save-preprocessed: the answer is the model's on the 28x28 it says it saw."""
    kind, run = BY_NAME[name], matrix.run(name)
    png, jpg = matrix.photo(kind, tmp_path / "photos")
    code, out, err = cli("predict", run, png, jpg, "--json", "--save-preprocessed", tmp_path / "seen")
    assert code == 0, err
    answers = json.loads(out)["predictions"]
    for answer in answers:
        seen = np.asarray(Image.open(answer["preprocessed"]))
        assert seen.shape == (28, 28)
        expected = reference_proba(run, seen[None])[0]
        assert answer["label"] == int(np.argmax(expected))
        assert answer["class_name"] == matrix.classes(kind)[answer["label"]]
        top = {t["label"]: t["probability"] for t in answer["top3"]}
        assert top == pytest.approx({k: float(expected[k]) for k in top}, abs=1e-5)
    code, out, err = cli("predict", run, jpg)  # the text answer names the class
    assert code == 0 and f": {answers[1]['class_name']}  (" in out, err


@pytest.mark.parametrize("name", NAMES)
def test_info(matrix, name):
    kind, run = BY_NAME[name], matrix.run(name)
    code, out, err = cli("info", run)
    assert code == 0, err
    assert f"Classes: {', '.join(matrix.classes(kind))}" in out and f"({kind.dtype})" in out
    assert f"preprocessing: {kind.scale}" in out
    summary = info(run)
    assert summary["input_features"] == 784 and summary["parameters"] > 0


@pytest.mark.parametrize("name", NAMES)
def test_plot(matrix, name, tmp_path):
    run = matrix.run(name)
    code, out, err = cli("plot", run, "-o", tmp_path / "curves.png")
    assert code == 0, err
    with Image.open(tmp_path / "curves.png") as figure:
        assert figure.size[0] > 300 and figure.size[1] > 200
