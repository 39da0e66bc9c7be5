"""`numpynn train --kind lstm / vit` end to end: run folders with steps.png / attention.png, TOML [model] kind,
info/evaluate/predict, ONNX export that onnxruntime agrees with, torch loading, resume after Ctrl-C, mistakes."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from interrupt import interrupt_and_resume
from PIL import Image

ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}

SMALL = ["--subset", "300", "--val-split", "0.2", "--epochs", "1", "--optimizer", "adamw", "--lr", "0.003"]
LSTM = ["--kind", "lstm", "--hidden", "12", *SMALL]
VIT = ["--kind", "vit", "--embed-dim", "8", "--depth", "1", "--heads", "2", "--mlp-dim", "16", *SMALL]


def numpynn_cmd(*args, cwd, timeout=300):
    return subprocess.run([sys.executable, "-m", "numpynn", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=ENV)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("seq")
    (root / "vit.toml").write_text('[model]\nkind = "vit"\npatch_size = 7\nembed_dim = 8\ndepth = 1\nheads = 2\n'
                                   'mlp_dim = 16\n[regularisation]\ndropout = 0.1\n')
    lstm = numpynn_cmd("train", *LSTM, "--name", "lstm", cwd=root)
    assert lstm.returncode == 0, lstm.stderr
    vit = numpynn_cmd("train", "--config", "vit.toml", *SMALL, "--name", "vit", cwd=root)
    assert vit.returncode == 0, vit.stderr
    return root, {"lstm": lstm, "vit": vit}


@pytest.mark.parametrize("kind, picture, line", [("lstm", "steps.png", "LSTM 28 steps x 28 inputs, hidden 12"),
                                                 ("vit", "attention.png", "ViT 1x28x28, 7x7 patches")])
def test_run_folder_has_the_sequence_picture(runs, kind, picture, line):
    root, done = runs
    assert line in done[kind].stdout
    with Image.open(root / "runs" / kind / picture) as im:
        im.verify()
    with Image.open(root / "runs" / kind / picture) as im:
        assert im.size[0] > 400 and im.size[1] > 300
    config = json.loads((root / "runs" / kind / "config.json").read_text())
    assert config["kind"] == kind


@pytest.mark.parametrize("kind", ["lstm", "vit"])
def test_info_evaluate_predict_and_onnx_read_a_sequence_run(runs, kind, tmp_path):
    root, _ = runs
    run = root / "runs" / kind
    info = json.loads(numpynn_cmd("info", run, "--json", cwd=tmp_path).stdout)
    assert info["input_features"] == 784
    assert {"lstm": "LSTM", "vit": "TransformerEncoderLayer"}[kind] in [a["type"] for a in info["architecture"]]
    done = numpynn_cmd("evaluate", run, "--no-plots", cwd=tmp_path)
    assert done.returncode == 0 and "Validation accuracy:" in done.stdout, done.stderr
    from numpynn import datasets
    from numpynn.data.images import save_png
    (_, _), (x, _) = datasets.load_mnist()
    save_png(tmp_path / "digit.png", x[0])
    done = numpynn_cmd("predict", run, tmp_path / "digit.png", "--json", cwd=tmp_path)
    assert done.returncode == 0 and len(json.loads(done.stdout)["predictions"][0]["top3"]) == 3, done.stderr
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    done = numpynn_cmd("export", run, "-o", tmp_path / "m.onnx", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    from numpynn.app.runs.folder import open_model
    trained = open_model(run)
    rows = x[:8].reshape(8, -1)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    feed = rows.reshape(8, *session.get_inputs()[0].shape[1:]).astype(np.float32)
    got = session.run(["probabilities"], {session.get_inputs()[0].name: feed})[0]
    want = trained.model.predict_proba(trained.as_input(trained.preprocess(rows)))
    np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "vit"])
def test_sequence_run_model_loads_into_its_torch_equivalent(runs, kind):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    from safetensors.torch import load_file

    from numpynn.app.runs.folder import open_model
    from numpynn.interop._torch_modules import build
    root, _ = runs
    trained = open_model(root / "runs" / kind)
    net = torch.nn.Sequential(*(build(layer) for layer in trained.model.layers)).eval()
    tensors = {k: v for k, v in load_file(root / "runs" / kind / "model.safetensors").items()
               if not k.startswith("preprocess.")}
    net.load_state_dict(tensors)
    x = trained.as_input(np.random.default_rng(0).random((4, 784), dtype=np.float32))
    with torch.no_grad():
        np.testing.assert_allclose(net(torch.from_numpy(x)).numpy(), trained.model.predict_logits(x), atol=1e-5)


@pytest.mark.parametrize("flags, message", [
    (["--kind", "lstm", "--conv", "4"], "does not combine with --kind lstm"),
    (["--kind", "vit", "--embed-dim", "10", "--heads", "4"], "must divide --embed-dim"),
    (["--kind", "vit", "--patch-size", "5"], "does not divide the 28x28 images"),
    (["--kind", "gru", "--hidden", "8,8"], "takes one --hidden size"),
])
def test_sequence_mistakes_are_one_sentence_and_exit_2(tmp_path, flags, message):
    done = numpynn_cmd("train", "--subset", "50", "--epochs", "1", "--no-plots", *flags, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_vit_with_dropout_ctrl_c_then_resume_ends_bit_identical(tmp_path):
    flags = [*VIT, "--epochs", "2", "--subset", "600", "--batch-size", "16", "--dropout", "0.1", "--no-plots"]
    a, b = interrupt_and_resume(tmp_path, flags)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("kind", ["lstm", "vit"])
def test_serve_answers_with_a_sequence_model(runs, kind, tmp_path):
    import io

    from starlette.testclient import TestClient

    from numpynn import datasets
    from numpynn.app.runs.folder import open_model
    from numpynn.app.serve import app as server
    from numpynn.app.serve.drawings import Drawings
    root, _ = runs
    (_, _), (x, _) = datasets.load_mnist()
    png = io.BytesIO()
    Image.fromarray(255 - x[0]).save(png, "PNG")
    app = server.create_app(open_model(root / "runs" / kind), Drawings(tmp_path / "drawings.npz"))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        answer = client.post("/api/predict", content=png.getvalue(), headers={"Content-Type": "image/png"})
    assert answer.status_code == 200, answer.text  # a ViT needs (1, 1, 28, 28), not the flat row: as_input
    assert len(answer.json()["probabilities"]) == 10
