"""TOML run files: sections, dashes, precedence under the flags, and one clear error per bad key or type."""

from pathlib import Path

import pytest

from numpynn.app.runs.config_file import load_train_config, read_config_file
from numpynn.app.runs.train_config import TrainConfig

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def _write(tmp_path, text, name="run.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sections_and_dashes_flatten_to_train_config_fields(tmp_path):
    path = _write(tmp_path, '[model]\nhidden = [512, 256]\nactivation = "tanh"\n\n[optim]\nlr = 1\n'
                            'batch-size = 32\n')
    assert read_config_file(path) == {"hidden": (512, 256), "activation": "tanh", "lr": 1.0, "batch_size": 32}
    config = load_train_config(path)
    assert config.hidden == (512, 256) and config.lr == 1.0 and isinstance(config.lr, float)
    assert config.epochs == TrainConfig().epochs  # untouched settings keep their defaults


def test_command_line_flags_win_over_the_file(tmp_path):
    path = _write(tmp_path, "lr = 0.5\nepochs = 7\n")
    config = load_train_config(path, {"lr": 0.01})
    assert (config.lr, config.epochs) == (0.01, 7)


def test_hidden_may_also_be_the_flag_string(tmp_path):
    assert read_config_file(_write(tmp_path, 'hidden = "1024,1024"\n'))["hidden"] == (1024, 1024)


@pytest.mark.parametrize("text,match", [
    ('lr = "0.1"\n', r"'lr' .* must be a number"),
    ("epochs = 2.5\n", r"'epochs' .* must be an integer"),
    ("epochs = true\n", r"'epochs' .* must be an integer"),
    ('hidden = [256, "x"]\n', r"'hidden' .* must be a list of integers"),
    ("quiet = 1\n", r"'quiet' .* must be true or false"),
    ("learning_rate = 0.1\n", r"Unknown setting 'learning_rate'"),
    ("batchsize = 3\n", r"did you mean 'batch_size'"),
    ("lr = \n", r"not valid TOML"),
    ("lr = 0.1\n[optim]\nlr = 0.2\n", r"sets 'lr' twice"),
    ("[optim]\n[optim.b]\nlr = 1\n", r"nests a table"),
])
def test_bad_files_get_one_sentence_naming_the_key(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        read_config_file(_write(tmp_path, text))


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_config_file(tmp_path / "nope.toml")
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(ValueError, match="UTF-8"):
        read_config_file(path)


def test_values_are_still_validated_by_train_config(tmp_path):
    with pytest.raises(ValueError, match="epochs"):
        load_train_config(_write(tmp_path, "epochs = 0\n"))


@pytest.mark.parametrize("name", ["article.toml", "mnist-99.toml"])
def test_shipped_recipes_load(name):
    config = load_train_config(RECIPES / name)
    assert isinstance(config, TrainConfig)


# --- end to end: `numpynn train --config FILE` with the new training options -----------------------------

def test_cli_trains_from_a_config_file_with_the_new_options(tmp_path, capsys):
    from numpynn.app import main
    from numpynn.app.runs.folder import read_metrics
    from numpynn.io.checkpoint import load_model

    path = _write(tmp_path, '[data]\nsubset = 600\nval_split = 0.2\n[model]\nhidden = [16, 16]\n'
                            '[optim]\noptimizer = "adamw"\nlr = 0.003\nlr_schedule = "cosine"\nwarmup_epochs = 1\n'
                            'epochs = 3\nbatch_size = 50\n[regularisation]\ndropout = 0.1\nbatch_norm = true\n'
                            'augment_shift = 1\nearly_stopping = 5\ntrack_gradients = true\n')
    code = main(["train", "--config", str(path), "--epochs", "2", "--out", str(tmp_path / "runs"), "--name", "r",
                 "--quiet"])
    assert code == 0, capsys.readouterr().err
    run = tmp_path / "runs" / "r"
    rows = read_metrics(run / "metrics.csv")
    assert len(rows) == 2  # the flag beat the file's epochs = 3
    assert rows[0]["lr"] == pytest.approx(0.0015) and rows[1]["lr"] == pytest.approx(0.003)  # warm-up, then cosine
    assert {"grad_norm.0.weight", "update_ratio.4.weight", "grad_norm.8.weight"} <= set(rows[0])
    assert (run / "gradients.png").stat().st_size > 10_000
    model, meta = load_model(run / "model.safetensors")
    assert [type(l).__name__ for l in model.layers] == ["Linear", "BatchNorm1d", "ReLU", "Dropout"] * 2 + ["Linear"]
    # The values used, not "unset": torch's 0.01 weight decay for AdamW (issue 17.28).
    assert meta["config"]["optimizer"] == "adamw" and meta["config"]["weight_decay"] == 0.01


@pytest.mark.parametrize("args,match", [
    (["--early-stopping", "3"], "needs a validation split"),
    (["--optimizer", "adam", "--momentum", "0.9"], "does not apply to --optimizer adam"),
    (["--dataset", "x.npz", "--config", "missing.toml"], "does not exist"),
])
def test_cli_refuses_bad_combinations_with_exit_code_2(tmp_path, capsys, args, match):
    from numpynn.app import main

    assert main(["train", *args, "--out", str(tmp_path)]) == 2
    assert match in capsys.readouterr().err


@pytest.mark.parametrize("text,match", [
    ("[trainng]\nepochs = 3\n", r"unknown section \[trainng\].*known sections"),
    ("[optimiser]\nlr = 0.1\n", r"unknown section \[optimiser\].*known sections: \[data\], \[model\], \[optim\]"),
    ("[model]\nlr = 0.1\n", r"sets 'lr' under \[model\], but it belongs under \[optim\]"),
    ("[data]\nhidden = [64]\n", r"belongs under \[model\]"),
])
def test_unknown_sections_and_settings_in_the_wrong_section_are_refused(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        read_config_file(_write(tmp_path, text))


def test_every_setting_has_exactly_one_section():
    import dataclasses

    from numpynn.app.runs.config_file import SECTIONS
    from numpynn.app.runs.train_config import TrainConfig
    listed = [name for names in SECTIONS.values() for name in names]
    assert sorted(listed) == sorted(f.name for f in dataclasses.fields(TrainConfig))  # a new field needs a section


def test_regularization_is_the_same_section_as_regularisation(tmp_path):
    """Issue 20: the module and README spell it regularization; both spellings name one section."""
    from numpynn.app.runs.config_file import read_config_file
    for spelling in ("regularisation", "regularization"):
        path = tmp_path / f"{spelling}.toml"
        path.write_text(f"[{spelling}]\ndropout = 0.25\nbatch_norm = true\n")
        assert read_config_file(path) == {"dropout": 0.25, "batch_norm": True}
    path = tmp_path / "misplaced.toml"
    path.write_text("[regularization]\nlr = 0.1\n")
    with pytest.raises(ValueError, match=r"under \[regularization\], but it belongs under \[optim\]"):
        read_config_file(path)
    path = tmp_path / "both.toml"
    path.write_text("[regularisation]\ndropout = 0.1\n[regularization]\ndropout = 0.2\n")
    with pytest.raises(ValueError, match="sets 'dropout' twice"):
        read_config_file(path)


def test_a_runs_preprocess_is_the_datasets_scaler():
    """Issue 20: one concept, one name; the old name still imports."""
    import numpy as np

    from numpynn.app.runs.data import Preprocess
    from numpynn.datasets import Scaler
    assert Preprocess is Scaler
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    scaler = Scaler.fit("zscore", x)
    assert set(scaler.tensors()) == {"preprocess.mean", "preprocess.std"} and Scaler("255").tensors() == {}
