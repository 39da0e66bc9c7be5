"""`numpynn train --init-from RUN [--freeze N] [--mix-mnist N]`: fine-tuning from the command line, and a
drawings file meaning the digits 0-9 however few of them were drawn."""

import json

import numpy as np
import pytest

from numpynn.app.commands import parser as cli
from numpynn.app.runs.folder import open_model
from numpynn.io.checkpoint import load_model

TINY = ["--subset", "500", "--epochs", "1", "--no-plots", "--quiet"]


def _drawings(path, digits=(0, 1, 2, 7), per_digit=4):
    """A drawings.npz as the page writes it (x (N, 28, 28) uint8, y (N,) uint8), only some digits drawn."""
    from numpynn.datasets import load_mnist
    _, (x, y) = load_mnist()
    pick = np.concatenate([np.flatnonzero(y == d)[:per_digit] for d in digits])
    np.savez(path, x=x[pick], y=y[pick].astype(np.uint8))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("finetune")
    assert cli.main(["train", *TINY, "--hidden", "16", "--out", str(out), "--name", "mlp"]) == 0
    assert cli.main(["train", *TINY, "--conv", "4", "--hidden", "8", "--batch-norm", "--scale", "global",
                     "--optimizer", "adam", "--out", str(out), "--name", "cnn"]) == 0
    assert cli.main(["train", *TINY, "--hidden", "16", "--scale", "zscore", "--out", str(out), "--name", "z"]) == 0
    _drawings(out / "mlp" / "drawings.npz")
    return out


def _finetune(runs, source, name, *extra):
    return cli.main(["train", "--init-from", str(runs / source), "--dataset", str(runs / "mlp" / "drawings.npz"),
                     "--mix-mnist", "200", "--epochs", "1", "--lr", "0.01", "--no-plots", "--quiet",
                     "--out", str(runs), "--name", name, *extra])


def test_the_page_command_fine_tunes_the_served_model_on_drawings_and_mnist(runs):
    assert _finetune(runs, "mlp", "mine", "--freeze", "1") == 0
    base, _ = load_model(runs / "mlp" / "model.safetensors")
    tuned, meta = load_model(runs / "mine" / "model.safetensors")
    np.testing.assert_array_equal(tuned.state_dict()["0.weight"], base.state_dict()["0.weight"])  # frozen
    assert not np.array_equal(tuned.state_dict()["2.weight"], base.state_dict()["2.weight"])       # trained
    assert meta["classes"] == [str(d) for d in range(10)]  # 10 classes, though only 0, 1, 2 and 7 were drawn
    config = json.loads((runs / "mine" / "config.json").read_text())
    assert config["hidden"] == [16] and config["init_from"] == str(runs / "mlp") and config["freeze"] == 1


def test_a_cnn_with_batchnorm_fine_tunes_with_its_convolutions_frozen(runs):
    assert _finetune(runs, "cnn", "cnn-mine", "--freeze", "1") == 0
    base, _ = load_model(runs / "cnn" / "model.safetensors")
    tuned, _ = load_model(runs / "cnn-mine" / "model.safetensors")
    before, after = base.state_dict(), tuned.state_dict()
    for name in ("0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var"):  # conv and BatchNorm2d
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    assert not np.array_equal(after["5.weight"], before["5.weight"])
    assert open_model(runs / "cnn-mine").input_shape == (1, 28, 28)


def test_a_zscore_model_keeps_its_own_statistics(runs):
    assert _finetune(runs, "z", "z-mine") == 0
    np.testing.assert_array_equal(open_model(runs / "z-mine").preprocess.mean, open_model(runs / "z").preprocess.mean)


@pytest.mark.parametrize("flags, phrase", [
    (["--hidden", "32"], "--hidden contradicts the model in"),
    (["--scale", "zscore"], "--scale contradicts the model in"),
    (["--conv", "4"], "--conv contradicts the model in"),
    (["--freeze", "2"], "--freeze 2: Cannot freeze 2 layers"),
])
def test_a_flag_that_contradicts_the_model_is_one_sentence_and_exit_2(runs, capsys, flags, phrase):
    assert _finetune(runs, "mlp", "refused", *flags) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("numpynn: error:")]
    assert len(errors) == 1 and phrase in errors[0] and "Traceback" not in err
    assert not (runs / "refused" / "model.safetensors").exists()


def test_freeze_needs_init_from_and_init_from_needs_a_model(runs, capsys):
    assert cli.main(["train", *TINY, "--freeze", "1", "--out", str(runs)]) == 2
    assert "--freeze keeps layers of a trained model fixed" in capsys.readouterr().err
    assert cli.main(["train", *TINY, "--init-from", str(runs / "nope"), "--out", str(runs)]) == 2
    assert "--init-from" in capsys.readouterr().err


def test_a_model_trained_on_a_drawings_file_alone_has_ten_classes(runs):
    assert cli.main(["train", "--dataset", str(runs / "mlp" / "drawings.npz"), "--val-split", "0.25",
                     "--epochs", "1", "--hidden", "8", "--no-plots", "--quiet", "--out", str(runs),
                     "--name", "only-drawings"]) == 0
    _, meta = load_model(runs / "only-drawings" / "model.safetensors")
    assert meta["classes"] == [str(d) for d in range(10)]  # 0.2.0: 8 classes (0..7, the largest drawn)


def test_the_serve_page_gives_the_one_command_and_it_runs(runs, tmp_path, monkeypatch):
    """Saving a digit on the page answers with the command that fine-tunes the served model on the drawings."""
    import io
    import shlex

    from PIL import Image
    from starlette.testclient import TestClient

    from numpynn.app.serve.app import create_app
    from numpynn.app.serve.drawings import finetune_command

    run = tmp_path / "served"
    run.mkdir()
    (run / "model.safetensors").write_bytes((runs / "mlp" / "model.safetensors").read_bytes())
    buffer = io.BytesIO()
    Image.fromarray(np.pad(np.full((16, 4), 255, np.uint8), ((6, 6), (12, 12)))).save(buffer, format="PNG")
    with TestClient(create_app(open_model(run), loopback_only=False)) as client:
        answer = client.post("/api/drawings?label=1", content=buffer.getvalue(),
                             headers={"Content-Type": "image/png"}).json()
    assert (answer["finetune"], answer["finetune_where"]) == finetune_command(run)
    assert str(tmp_path) not in answer["finetune"]  # no host path: typed in the folder that holds the run
    assert answer["finetune_where"] == "in the folder that holds served"
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(answer["finetune"])[1:] + ["--epochs", "1", "--mix-mnist", "200", "--quiet", "--no-plots"]
    assert cli.main(argv) == 0
    _, meta = load_model(tmp_path / "runs" / "served-mine" / "model.safetensors")
    assert meta["classes"] == [str(d) for d in range(10)]


def test_a_stopped_fine_tuning_run_resumes_bit_identically(runs, monkeypatch):
    """config.json keeps --init-from and what was taken over; --resume reopens the model for its scaling and
    freezes the same layers, and ends where an unbroken run ends."""
    from numpynn.training.signals import StopRequest
    assert _finetune(runs, "mlp", "whole", "--freeze", "1", "--epochs", "2") == 0
    calls = {"n": 0}

    def stop_at_step_7(self):
        calls["n"] += 1
        if calls["n"] == 7:
            self.signum = 2  # as a Ctrl-C between steps 6 and 7 would
        return self.signum is not None
    with monkeypatch.context() as patch:
        patch.setattr(StopRequest, "__call__", stop_at_step_7)
        assert _finetune(runs, "mlp", "broken", "--freeze", "1", "--epochs", "2") == 130
    assert cli.main(["train", "--resume", str(runs / "broken"), "--quiet"]) == 0
    whole, _ = load_model(runs / "whole" / "model.safetensors")
    resumed, _ = load_model(runs / "broken" / "model.safetensors")
    for name, value in whole.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], value, err_msg=name)


def test_fine_tuning_a_model_with_dropout_is_reproducible(runs):
    """The loaded Dropout layers draw their masks from the run's --seed, not from OS entropy."""
    assert cli.main(["train", *TINY, "--hidden", "16", "--dropout", "0.3", "--out", str(runs), "--name", "drop"]) == 0
    for name in ("drop-a", "drop-b"):
        assert _finetune(runs, "drop", name) == 0
    a, _ = load_model(runs / "drop-a" / "model.safetensors")
    b, _ = load_model(runs / "drop-b" / "model.safetensors")
    assert all(np.array_equal(a.state_dict()[k], v) for k, v in b.state_dict().items())
