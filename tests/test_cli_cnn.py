"""`numpynn train --conv` end to end: run folder with filters and feature maps, evaluate/predict/info/plot, image
data of every shape, TOML, resume after Ctrl-C, torch loading, and the mistakes a user can make."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from interrupt import interrupt_and_resume
from PIL import Image

from numpynn.app.runs.config_file import read_config_file
from numpynn.app.runs.train_config import TrainConfig

ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
CNN = ["--conv", "4,8", "--hidden", "16", "--subset", "300", "--val-split", "0.2", "--epochs", "2", "--batch-norm",
       "--optimizer", "adam", "--lr", "0.01"]


def numpynn_cmd(*args, cwd, timeout=300):
    return subprocess.run([sys.executable, "-m", "numpynn", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=ENV)


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cnn")
    done = numpynn_cmd("train", *CNN, "--augment-shift", "2", "--track-gradients", "--name", "cnn", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "runs" / "cnn", done


def test_cnn_run_folder_has_the_cnn_figures(cnn_run):
    run, done = cnn_run
    assert "CNN 1x28x28 conv 4,8 then 16-10" in done.stdout
    for name in ("model.safetensors", "metrics.csv", "loss.png", "misclassified.png", "gradients.png",
                 "filters.png", "feature_maps.png"):
        assert (run / name).is_file(), name
    for name in ("filters.png", "feature_maps.png"):
        with Image.open(run / name) as im:
            im.verify()
        with Image.open(run / name) as im:
            assert im.size[0] > 200 and im.size[1] > 100
    config = json.loads((run / "config.json").read_text())
    assert config["conv"] == [4, 8] and config["kernel_size"] == 3 and config["pool"] == 2
    assert "grad_norm" in (run / "metrics.csv").read_text().splitlines()[0]


def test_evaluate_info_predict_and_plot_read_a_cnn_run(cnn_run, tmp_path):
    run, _ = cnn_run
    done = numpynn_cmd("evaluate", run, "--no-plots", cwd=tmp_path)
    # The held-out rows are --val-split rows: evaluate calls them validation (issue 17.24).
    assert done.returncode == 0 and "Validation accuracy:" in done.stdout and "60 rows" in done.stdout, done.stderr
    info = numpynn_cmd("info", run, "--json", cwd=tmp_path)
    summary = json.loads(info.stdout)
    assert summary["input_shape"] == [1, 28, 28] and summary["input_features"] == 784
    assert [layer["type"] for layer in summary["architecture"]][:4] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]
    from numpynn import datasets
    from numpynn.data.images import save_png
    (_, _), (x, _) = datasets.load_mnist()
    save_png(tmp_path / "digit.png", x[0])
    done = numpynn_cmd("predict", run, tmp_path / "digit.png", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    top3 = json.loads(done.stdout)["predictions"][0]["top3"]
    assert len(top3) == 3 and abs(sum(t["probability"] for t in top3)) <= 1 + 1e-6
    done = numpynn_cmd("plot", run, "--output", tmp_path / "cmp.png", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "cmp.png").is_file(), done.stderr


def test_cnn_run_model_loads_into_torch(cnn_run):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    from safetensors.torch import load_file

    from numpynn.app.runs.data import load_data
    from numpynn.app.runs.folder import open_model
    run, _ = cnn_run
    t = torch.nn
    net = t.Sequential(t.Conv2d(1, 4, 3, bias=False), t.BatchNorm2d(4), t.ReLU(), t.MaxPool2d(2),
                       t.Conv2d(4, 8, 3, bias=False), t.BatchNorm2d(8), t.ReLU(), t.MaxPool2d(2), t.Flatten(),
                       t.Linear(8 * 5 * 5, 16), t.BatchNorm1d(16), t.ReLU(), t.Linear(16, 10))
    net.load_state_dict(load_file(run / "model.safetensors"))
    net.eval()
    trained = open_model(run)
    x = trained.as_input(trained.preprocess(load_data(trained.config).x_test))
    with torch.no_grad():
        np.testing.assert_allclose(net(torch.from_numpy(x)).numpy(), trained.model.predict_logits(x), atol=1e-4)


@pytest.mark.parametrize("layout", ["NHW", "NCHW"])
def test_npz_images_of_either_layout_train_a_cnn(tmp_path, layout):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 120)
    x = rng.integers(0, 60, (120, 2, 12, 12), dtype=np.uint8)
    for i, label in enumerate(y):
        x[i, :, 2 + 3 * label, 2:10] = 255
    x = x[:, 0] if layout == "NHW" else x
    np.savez(tmp_path / "d.npz", x=x, y=y)
    done = numpynn_cmd("train", "--dataset", "d.npz", "--val-split", "0.25", "--conv", "4", "--kernel-size", "3",
                       "--pool", "2", "--hidden", "", "--epochs", "3", "--augment-shift", "1", "--no-plots",
                       "--name", "r", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    channels = 1 if layout == "NHW" else 2
    assert f"CNN {channels}x12x12 conv 4" in done.stdout
    info = json.loads(numpynn_cmd("info", tmp_path / "runs/r", "--json", cwd=tmp_path).stdout)
    assert info["input_shape"] == [channels, 12, 12]
    done = numpynn_cmd("evaluate", tmp_path / "runs/r", "--dataset", "d.npz", "--no-plots", cwd=tmp_path)
    assert done.returncode == 0 and "120 rows" in done.stdout, done.stderr


def test_toml_model_conv_section(tmp_path):
    path = tmp_path / "cnn.toml"
    path.write_text("[model]\nconv = [32, 64]\nkernel_size = 5\npool = 2\nhidden = [128]\n"
                    "[regularisation]\nbatch_norm = true\n")
    values = read_config_file(path)
    assert values["conv"] == (32, 64) and values["kernel_size"] == 5
    config = TrainConfig.from_dict(values)
    assert config.conv == (32, 64) and config.to_dict()["conv"] == [32, 64]
    path.write_text('[model]\nconv = "16,32"\n')
    assert read_config_file(path)["conv"] == (16, 32)


@pytest.mark.parametrize("flags, message", [
    (["--conv", "4", "--scale", "zscore"], "--scale global or 255 with --conv"),
    (["--conv", "4,8,16,32", "--kernel-size", "5"], "shrink 28x28 images to nothing"),
    (["--conv", "4,x"], "comma-separated channel counts"),
    (["--conv", "4", "--pool", "0"], "--pool must be at least 1"),
])
def test_cnn_mistakes_are_one_sentence_and_exit_2(tmp_path, flags, message):
    done = numpynn_cmd("train", "--subset", "50", "--epochs", "1", "--no-plots", *flags, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_conv_on_rows_that_are_no_images_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "t.npz", x=rng.random((40, 5)), y=rng.integers(0, 2, 40))
    done = numpynn_cmd("train", "--dataset", "t.npz", "--val-split", "0.2", "--conv", "4", "--no-plots",
                       cwd=tmp_path)
    assert done.returncode == 2 and "--conv needs images" in done.stderr, done.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_cnn_ctrl_c_then_resume_ends_bit_identical(tmp_path):
    flags = [*CNN, "--subset", "800", "--batch-size", "16", "--no-plots"]
    a, b = interrupt_and_resume(tmp_path, flags)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
