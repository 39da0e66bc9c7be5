"""`numpynn predict`: digits of any size, polarity and position get the label their MNIST original gets."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from numpynn.app.commands import parser as cli
from numpynn.app.runs.data import load_data
from numpynn.app.runs.folder import open_model
from numpynn.data.images import prepare_digit
from numpynn.data.mnist import load_mnist

WAYS = ("big-dark-on-light", "off-centre", "small-rgb-jpeg", "gray-paper")


def train(out, name, *extra):
    argv = ["train", "--out", str(out), "--name", name, "--quiet", "--no-plots", *extra]
    assert cli.main(argv) == 0
    return out / name


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train(tmp_path_factory.mktemp("predict"), "digits", "--subset", "3000", "--epochs", "3")


def render(img, way):
    """An MNIST digit as a user might draw or photograph it."""
    if way == "big-dark-on-light":
        return Image.fromarray(255 - img).resize((280, 280), Image.Resampling.BICUBIC)
    if way == "off-centre":  # light on dark, small, near the edge of a wide canvas
        canvas = Image.new("L", (200, 150), 0)
        canvas.paste(Image.fromarray(img).resize((84, 84), Image.Resampling.BILINEAR), (10, 50))
        return canvas
    if way == "small-rgb-jpeg":
        canvas = Image.new("L", (60, 40), 255)
        canvas.paste(Image.fromarray(255 - img).resize((30, 30), Image.Resampling.BILINEAR), (28, 5))
        return canvas.convert("RGB")
    if way == "gray-paper":
        paper = (255 - img.astype(np.float64)) * 0.6 + 90
        return Image.fromarray(paper.astype(np.uint8)).resize((450, 450), Image.Resampling.BILINEAR)
    raise ValueError(way)


@pytest.fixture(scope="module")
def rendered(run, tmp_path_factory):
    """Test digits the model gets right from MNIST's own pixels, re-rendered four ways: (paths, labels)."""
    (_, _), (x_test, y_test) = load_mnist()
    trained = open_model(run)
    pick = np.random.default_rng(7).choice(len(x_test), 200, replace=False)
    right = pick[trained.model.predict(trained.preprocess(x_test[pick].reshape(200, -1))) == y_test[pick]][:10]
    folder = tmp_path_factory.mktemp("images")
    paths, labels = [], []
    for i in right:
        for way in WAYS:
            path = folder / f"{i}-{way}.{'jpg' if way.endswith('jpeg') else 'png'}"
            render(x_test[i], way).save(path)
            paths.append(path)
            labels.append(int(y_test[i]))
    return paths, np.array(labels)


def test_predict_recovers_labels_of_rerendered_test_digits(run, rendered, tmp_path):
    paths, labels = rendered
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "numpynn", "predict", str(run), *map(str, paths), "--json"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    predicted = np.array([p["label"] for p in report["predictions"]])
    assert [p["image"] for p in report["predictions"]] == [str(p) for p in paths]
    assert np.mean(predicted == labels) >= 0.9  # each way of rendering costs at most a digit or two
    for way in WAYS:
        assert np.mean((predicted == labels)[[w == way for w in (p.stem.split("-", 1)[1] for p in paths)]]) >= 0.8


def test_top3_are_the_most_probable_classes(run, rendered, capsys):
    paths, _ = rendered
    assert cli.main(["predict", str(run), *map(str, paths[:4]), "--json"]) == 0
    for p in json.loads(capsys.readouterr().out)["predictions"]:
        probs = [t["probability"] for t in p["top3"]]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
        assert p["label"] == p["top3"][0]["label"] and p["class_name"] == str(p["label"])
        assert len({t["label"] for t in p["top3"]}) == 3


def test_text_output_has_one_line_per_image(run, rendered, capsys):
    paths, _ = rendered
    assert cli.main(["predict", str(run), *map(str, paths[:3])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for path, line in zip(paths, lines):
        assert re.fullmatch(re.escape(str(path)) + r": \d  \(\d: \d+\.\d%, \d: \d+\.\d%, \d: \d+\.\d%\)", line)


def test_save_preprocessed_writes_what_the_model_saw(run, rendered, tmp_path, capsys):
    paths, _ = rendered
    seen = tmp_path / "seen"
    assert cli.main(["predict", str(run), str(paths[0]), str(paths[1]), "--save-preprocessed", str(seen)]) == 0
    assert "the model saw" in capsys.readouterr().out
    for path in paths[:2]:
        with Image.open(seen / f"{path.stem}-28x28.png") as im:
            assert im.size == (28, 28) and im.mode == "L"
            assert np.array_equal(np.asarray(im), prepare_digit(path))


def test_zscore_statistics_travel_with_the_model(tmp_path, rendered, capsys):
    run = train(tmp_path, "z", "--subset", "600", "--epochs", "1", "--scale", "zscore", "--init", "normal")
    trained = open_model(run)
    assert trained.preprocess.method == "zscore" and trained.preprocess.mean.shape == (784,)
    # evaluate scales with the saved statistics, and so reproduces the accuracy training recorded
    data = load_data(trained.config)
    recorded = trained.metadata["metrics"]["test_acc"]
    assert np.mean(trained.model.predict(trained.preprocess(data.x_test)) == data.y_test) == pytest.approx(recorded)
    # predict applies (x - mean) / std as training did
    path = rendered[0][0]
    capsys.readouterr()  # train's own printout
    assert cli.main(["predict", str(run), str(path), "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["predictions"][0]["top3"][0]
    x = (prepare_digit(path).reshape(1, -1).astype(np.float32) - trained.preprocess.mean) / trained.preprocess.std
    probs = trained.model.predict_proba(x)[0]
    assert top["label"] == int(probs.argmax()) and top["probability"] == pytest.approx(float(probs.max()), rel=1e-5)


def error_of(capsys, argv):
    assert cli.main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("numpynn: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_bad_images_name_the_file(run, tmp_path, capsys):
    assert "does not exist" in error_of(capsys, ["predict", run, tmp_path / "nope.png"])
    (tmp_path / "notes.png").write_text("just text")
    assert "notes.png is not a readable image" in error_of(capsys, ["predict", run, tmp_path / "notes.png"])
    Image.new("L", (64, 64), 255).save(tmp_path / "blank.png")
    err = error_of(capsys, ["predict", run, tmp_path / "blank.png"])
    assert "blank.png" in err and "No digit found" in err


@pytest.fixture
def quick_model(tmp_path):
    """An untrained 784-10 model file with x/255 preprocessing: enough to exercise predict's plumbing."""
    import numpynn
    path = tmp_path / "quick.safetensors"
    numpynn.save_model(path, numpynn.mlp([784, 10], seed=0), metadata={"preprocessing": {"method": "255"}})
    return path


def digit_png(path):
    canvas = np.zeros((40, 40), np.uint8)
    canvas[8:32, 18:23] = 255  # a "1"
    Image.fromarray(canvas).save(path)
    return path


def test_one_bad_image_costs_only_its_own_answer(quick_model, tmp_path, capsys):
    """Issue 17 item 25: one unreadable image aborted the batch; now each is answered, then exit 2."""
    good, other = digit_png(tmp_path / "one.png"), digit_png(tmp_path / "two.png")
    (tmp_path / "notes.png").write_text("just text")
    images = [good, tmp_path / "notes.png", other, tmp_path / "missing.png"]
    assert cli.main(["predict", str(quick_model), *map(str, images)]) == 2
    out, err = capsys.readouterr()
    assert [line.split(":")[0] for line in out.splitlines()] == [str(good), str(other)]
    assert err.count("numpynn: error: ") == 2 and "notes.png is not a readable image" in err and "missing.png" in err
    assert cli.main(["predict", str(quick_model), *map(str, images), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)["predictions"]
    assert [("error" in r, r["image"]) for r in report] == [(False, str(images[0])), (True, str(images[1])),
                                                            (False, str(images[2])), (True, str(images[3]))]
    assert cli.main(["predict", str(quick_model), str(good)]) == 0  # all good: exit 0


def test_an_image_where_the_model_belongs_says_the_model_comes_first(tmp_path, capsys):
    """Issue 17 item 25: `predict digit.png x.png` said "declares a 8367736964726416744-byte header"."""
    digit = digit_png(tmp_path / "digit.png")
    err = error_of(capsys, ["predict", digit, tmp_path / "x.png"])
    assert "digit.png is an image, but predict's first argument must be the model" in err and "header" not in err


def test_a_model_that_overflows_is_an_error_not_a_nan_answer(quick_model, tmp_path, capsys):
    """Issue 17 item 14: finite but extreme weights printed "0 (0: nan%)" with exit 0, and NaN in --json."""
    import numpynn
    model, meta = numpynn.load_model(quick_model)
    model[0].params["weight"][:] = 3e38
    numpynn.save_model(quick_model, model, metadata={"preprocessing": meta["preprocessing"]})
    digit = digit_png(tmp_path / "d.png")
    for extra in ([], ["--json"]):
        assert cli.main(["predict", str(quick_model), str(digit), *extra]) == 2
        out, err = capsys.readouterr()
        assert out == "" and "outputs are NaN or infinite" in err and "nan%" not in err


def test_models_that_cannot_predict_are_refused_naming_the_file(tmp_path, capsys):
    """Issue 17 item 34: Softmax(dim=5) and zero outputs failed inside numpy at predict; now refused on opening."""
    import numpynn
    from numpynn.io.checkpoint import read_checkpoint
    from numpynn.io.container import encode
    meta = {"preprocessing": {"method": "255"}}
    digit = digit_png(tmp_path / "d.png")
    soft = numpynn.save_model(tmp_path / "soft.safetensors", numpynn.Sequential(numpynn.Linear(784, 10),
                                                                              numpynn.Softmax(dim=5)), metadata=meta)
    err = error_of(capsys, ["predict", soft, digit])
    assert "soft.safetensors holds a model that cannot predict: Softmax(dim=5) got 2-D input" in err
    zero = numpynn.save_model(tmp_path / "zero.safetensors", numpynn.mlp([784, 10]), metadata=meta)
    tensors, raw = read_checkpoint(zero)  # what an edited file can declare: a Linear with no outputs
    tensors["0.weight"], tensors["0.bias"] = np.zeros((0, 784), np.float32), np.zeros(0, np.float32)
    raw["architecture"] = json.dumps([{"type": "Linear", "in_features": 784, "out_features": 0, "bias": True}])
    zero.write_bytes(encode(tensors, raw))
    err = error_of(capsys, ["predict", zero, digit])
    assert "zero.safetensors" in err and "out_features >= 1" in err
