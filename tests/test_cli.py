"""The numpynn command end to end: run folder, printout, checkpoint, evaluate/info/plot, and every bad input."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import numpynn
from numpynn.app import figures as plots
from numpynn.app.commands import parser as cli
from numpynn.app.commands import plot as cli_plot
from numpynn.app.runs import training as cli_train
from numpynn.app.runs.data import load_data
from numpynn.app.runs.folder import open_model
from numpynn.app.runs.train_config import PRESETS, TrainConfig, parse_hidden, resolve_config
from numpynn.errors import TrainingDiverged

RUN = ["--subset", "1000", "--epochs", "2", "--batch-size", "32", "--seed", "3", "--name", "e2e"]
RUN_FILES = {"config.json", "metrics.csv", "model.safetensors", "loss.png", "accuracy.png", "confusion_matrix.png",
             "misclassified.png"}
PNG_KINDS = {"loss.png": "curve", "accuracy.png": "curve", "confusion_matrix.png": "confusion",
             "misclassified.png": "mistakes"}
EPOCH_LINE = re.compile(r"^Epoch (\d+)/(\d+), Loss: (\d+\.\d{4}), Test Accuracy: (\d\.\d{4}) \((\d+\.\d\d)s\)$", re.M)


# One BLAS thread: batch-sized matmuls gain little from two, and on a busy machine two threads spin-wait.
# TQDM_MININTERVAL=0 redraws the bar on every batch, so a fast run still shows its running loss.
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "TQDM_MININTERVAL": "0"}


def numpynn_cmd(*args, cwd):
    return subprocess.run([sys.executable, "-m", "numpynn", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=ENV)


def png_size(path):
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        return im.size


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One real run through `python -m numpynn train`: (run folder, completed process)."""
    root = tmp_path_factory.mktemp("cli")
    done = numpynn_cmd("train", *RUN, "--out", root / "runs", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "runs" / "e2e", done


# --- train ------------------------------------------------------------------------------------------------

def run_files(run):
    """The finished files of a run folder, after checking that no temp file (.<name>.*.tmp) was left."""
    names = {p.name for p in run.iterdir()}
    assert not [n for n in names if n.startswith(".")], names
    return names - {"checkpoint.safetensors"}  # the resumable training state, when that feature writes it


def test_run_folder_is_complete(trained):
    run, _ = trained
    assert run_files(run) == RUN_FILES


def test_pngs_are_valid_images_of_the_documented_size(trained):
    run, _ = trained
    for name, kind in PNG_KINDS.items():
        w, h = plots.SIZES[kind]
        assert png_size(run / name) == (round(w * plots.DPI), round(h * plots.DPI)), name


def test_metrics_csv_agrees_with_the_printout(trained):
    run, done = trained
    rows = read_csv(run / "metrics.csv")
    assert list(rows[0])[:6] == ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"]
    printed = EPOCH_LINE.findall(done.stdout)
    assert len(printed) == len(rows) == 2
    for (epoch, total, loss, acc, seconds), row in zip(printed, rows):
        assert (epoch, total) == (row["epoch"], "2")
        assert loss == f"{float(row['train_loss']):.4f}"
        assert acc == f"{float(row['test_acc']):.4f}"
        assert seconds == f"{float(row['seconds']):.2f}"
    assert f"Final Test Accuracy: {float(rows[-1]['test_acc']):.4f}" in done.stdout
    for name in RUN_FILES:  # every file it wrote, it names
        assert str(run / name) in done.stdout


def test_printout_follows_the_article_and_shows_progress(trained):
    _, done = trained
    lines = done.stdout.splitlines()
    # The first line says what was read (issue 17.12): rows, features, classes, and what accuracy is measured on.
    assert lines[0] == ("Read MNIST: 70,000 rows of 784 features, 10 classes (0, 1, 2, 3, 4, 5, 6, 7, 8, 9); "
                        "training on 1,000 rows, evaluating on 10,000: the mnist test set.")
    assert "Starting training..." in lines
    assert "loss=" in done.stderr and "Epoch 1/2" in done.stderr  # the tqdm bar, on stderr
    assert "Traceback" not in done.stderr


def test_config_json_is_all_it_takes_to_rerun(trained, tmp_path):
    run, _ = trained
    config = TrainConfig.from_dict(json.loads((run / "config.json").read_text()))
    assert (config.subset, config.epochs, config.batch_size, config.seed, config.name) == (1000, 2, 32, 3, "e2e")
    assert cli_train.train(config.replace(out=str(tmp_path), name="again", quiet=True, plots=False)) == 0
    first, again = read_csv(run / "metrics.csv"), read_csv(tmp_path / "again" / "metrics.csv")
    assert len(first) == len(again) == 2
    # The same run again; only float rounding may differ, where this process uses more BLAS threads.
    for a, b in zip(first, again):
        assert a["epoch"] == b["epoch"] and a["lr"] == b["lr"]
        for key in ("train_loss", "test_loss"):
            assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-5)
        for key in ("train_acc", "test_acc"):
            assert float(a[key]) == pytest.approx(float(b[key]), abs=3e-4)


def test_checkpoint_reloads_and_predicts_the_same_labels(trained):
    run, _ = trained
    trained_model = open_model(run)
    data = load_data(trained_model.config)
    labels = trained_model.model.predict(trained_model.preprocess(data.x_test))
    recorded = float(read_csv(run / "metrics.csv")[-1]["test_acc"])
    assert np.sum(labels == data.y_test) == round(recorded * len(data.y_test))
    # The public loader gives the same network; the metadata holds what inference needs.
    model, meta = numpynn.load_model(run / "model.safetensors")
    assert np.array_equal(model.predict(trained_model.preprocess(data.x_test)), labels)
    assert meta["preprocessing"] == {"method": "255", "input_shape": [28, 28]}
    assert meta["classes"] == [str(i) for i in range(10)]
    assert meta["config"]["subset"] == 1000 and meta["metrics"]["epoch"] == 2


def test_model_file_loads_into_pytorch(trained):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra (pip install numpynn[torch])")
    from safetensors.torch import load_file
    run, _ = trained
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    net.load_state_dict(load_file(run / "model.safetensors"))  # strict: names and shapes all match
    trained_model = open_model(run)
    x = trained_model.preprocess(load_data(trained_model.config).x_test[:500])
    with torch.no_grad():
        torch_labels = net(torch.from_numpy(x)).argmax(dim=1).numpy()
    assert np.array_equal(torch_labels, trained_model.model.predict(x))


# --- evaluate, info, plot ----------------------------------------------------------------------------------

def test_evaluate_reports_accuracy_table_and_confusion_matrix(trained):
    run, _ = trained
    done = numpynn_cmd("evaluate", run, cwd=run)
    assert done.returncode == 0, done.stderr
    recorded = float(read_csv(run / "metrics.csv")[-1]["test_acc"])
    assert f"Test accuracy: {recorded:.4f}" in done.stdout
    assert re.search(r"^\s+precision\s+recall\s+f1-score\s+support$", done.stdout, re.M)
    assert len(re.findall(r"^\s+\d \s+\d\.\d{4}\s+\d\.\d{4}\s+\d\.\d{4}\s+\d+$", done.stdout, re.M)) == 10
    matrix = re.findall(r"^\s+(\d)((?:\s+\d+){10})$", done.stdout, re.M)
    counts = np.array([[int(v) for v in row.split()] for _, row in matrix])
    assert counts.shape == (10, 10) and counts.sum() == 10000
    assert np.trace(counts) == round(recorded * 10000)
    w, h = plots.SIZES["confusion"]
    assert png_size(run / "evaluation_confusion_matrix.png") == (round(w * plots.DPI), round(h * plots.DPI))


def test_info_prints_architecture_parameters_config_and_metrics(trained, capsys):
    run, _ = trained
    assert cli.main(["info", str(run)]) == 0
    out = capsys.readouterr().out
    assert "Linear(in_features=784, out_features=256, bias=True)" in out
    assert "Parameters: 203,530 (float32)" in out  # 784*256 + 256 + 256*10 + 10
    assert "subset = 1000" in out and "batch_size = 32" in out
    assert re.search(r"Final metrics: .*test_acc 0\.\d+", out)
    assert cli.main(["info", str(run / "model.safetensors"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["parameters"] == 203530 and summary["config"]["epochs"] == 2


def test_plot_draws_several_runs_on_one_figure(trained, tmp_path, capsys):
    run, _ = trained
    assert cli.main(["train", "--subset", "300", "--epochs", "3", "--lr", "1.0", "--quiet", "--no-plots",
                     "--out", str(tmp_path), "--name", "lr1"]) == 0
    out = tmp_path / "both.png"
    assert cli.main(["plot", str(run), str(tmp_path / "lr1" / "metrics.csv"), "-o", str(out)]) == 0
    w, h = plots.SIZES["compare"]
    assert png_size(out) == (round(w * plots.DPI), round(h * plots.DPI))
    labels = cli_plot._legend_labels({run: json.loads((run / "config.json").read_text()),
                                          tmp_path / "lr1": json.loads((tmp_path / "lr1" / "config.json").read_text())})
    # The lr used, also when the run left it unset (issue 17.28: legends said "lr=default").
    assert "lr=1.0" in labels[tmp_path / "lr1"] and "lr=0.1" in labels[run] and "default" not in labels[run]


# --- options, presets, help ------------------------------------------------------------------------------

def test_presets_sit_under_flags():
    article = resolve_config({"preset": "article"})
    assert (article.subset, article.val_split, article.scale, article.init, article.epochs) == (5000, 0.2, "zscore",
                                                                                              "normal", 20)
    assert resolve_config({"preset": "article", "lr": 1.0}).lr == 1.0
    assert resolve_config({}) == TrainConfig()
    assert set(PRESETS["article"]) <= {f for f in TrainConfig.__dataclass_fields__}


def test_only_given_flags_reach_the_config():
    args = cli.build_parser().parse_args(["train", "--preset", "article", "--epochs", "3", "--hidden", "64,32",
                                          "--no-plots"])
    given = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    assert given == {"preset": "article", "epochs": 3, "hidden": (64, 32), "plots": False}


def test_every_config_field_is_a_flag():
    help_text = cli.build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for name in TrainConfig.__dataclass_fields__:
        flag = "--no-plots" if name == "plots" else "--" + name.replace("_", "-")
        assert flag in help_text, flag


def test_config_values_are_checked():
    assert parse_hidden("512,256") == (512, 256) and parse_hidden("") == () and parse_hidden("none") == ()
    with pytest.raises(ValueError, match="Unknown setting 'epoch'"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(ValueError, match="--batch-size must be at least 1"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="Unknown activation 'swish'"):
        TrainConfig.from_dict({"activation": "swish"})


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["predict"], ["plot"], ["info"]])
def test_help_has_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_console_script_and_module_both_run(tmp_path):
    script = Path(sys.executable).with_name("numpynn")
    if not script.exists():
        pytest.skip("the numpynn console script is not installed beside this Python")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"numpynn {numpynn.__version__}"


# --- bad input: one sentence, exit 2, no traceback ---------------------------------------------------------

def error_of(capsys, argv, code=2):
    assert cli.main([str(a) for a in argv]) == code
    err = capsys.readouterr().err
    assert err.startswith("numpynn: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def usage_error_of(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([str(a) for a in argv])
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--activation", "swish"], "invalid choice: 'swish'"),
    (["--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
    (["--hidden", "wide"], "comma-separated layer sizes"),
    (["--epochs", "two"], "expected an integer, got 'two'"),
    (["--lr", "fast"], "expected a number, got 'fast'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_unknown_option_values_are_usage_errors(capsys, argv, message):
    assert message in usage_error_of(capsys, ["train", *argv])


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--val-split", "1.5"], "--val-split must be in [0, 1)"),
    (["--lr", "-1"], "--lr must be positive"),
    (["--dataset", "missing.npz"], "missing.npz does not exist"),
    (["--name", "a/b", "--subset", "100", "--epochs", "1"], "must be a plain folder name"),
])
def test_impossible_train_values_are_refused(capsys, tmp_path, argv, message):
    assert message in error_of(capsys, ["train", "--out", tmp_path, "--quiet", *argv])


def test_option_for_another_optimizer_is_refused(capsys, tmp_path):
    other = sorted(set(numpynn.OPTIMIZERS) - {"sgd"})
    if not other:
        pytest.skip("only SGD is registered")
    err = error_of(capsys, ["train", "--out", tmp_path, "--optimizer", other[0], "--momentum", "0.9",
                            "--subset", "100", "--epochs", "1"])
    assert "--momentum does not apply" in err
    assert not tmp_path.exists() or not any(tmp_path.iterdir())  # refused before a run folder was made


def test_dataset_of_unknown_type_is_refused(capsys, tmp_path):
    (tmp_path / "digits.txt").write_text("1,2,3\n")
    assert "neither .npz nor .csv" in error_of(capsys, ["train", "--dataset", tmp_path / "digits.txt", "--quiet"])


def test_named_run_is_never_overwritten(capsys, trained):
    run, _ = trained
    before = (run / "metrics.csv").read_bytes()
    err = error_of(capsys, ["train", "--out", run.parent, "--name", run.name, "--subset", "100", "--epochs", "1"])
    assert "already exists" in err
    assert (run / "metrics.csv").read_bytes() == before


def test_missing_not_a_model_and_corrupt_models(capsys, trained, tmp_path):
    run, _ = trained
    assert "does not exist" in error_of(capsys, ["evaluate", tmp_path / "nope.safetensors"])
    (tmp_path / "notes.safetensors").write_text("hello, I am not a model")
    assert "notes.safetensors" in error_of(capsys, ["info", tmp_path / "notes.safetensors"])
    data = (run / "model.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    err = error_of(capsys, ["evaluate", tmp_path / "cut.safetensors"])
    assert "cut.safetensors" in err and ("corrupt" in err or "truncated" in err)
    flipped = bytearray(data)
    flipped[-100] ^= 0xFF  # one weight changed: only the checksum can tell
    (tmp_path / "flip.safetensors").write_bytes(bytes(flipped))
    assert "checksum" in error_of(capsys, ["predict", tmp_path / "flip.safetensors", tmp_path / "any.png"])


def test_model_without_preprocessing_is_refused(capsys, tmp_path):
    numpynn.save_model(tmp_path / "bare.safetensors", numpynn.mlp([784, 10]))
    assert "records no input preprocessing" in error_of(capsys, ["evaluate", tmp_path / "bare.safetensors"])


def test_mismatched_model_and_wrong_input_size(capsys, tmp_path, trained):
    run, _ = trained
    small = numpynn.mlp([100, 10])
    numpynn.save_model(tmp_path / "small.safetensors", small, metadata={"preprocessing": {"method": "255"}})
    Image.new("L", (28, 28), 0).save(tmp_path / "d.png")
    err = error_of(capsys, ["predict", tmp_path / "small.safetensors", tmp_path / "d.png"])
    assert "takes 100 input features but 28x28 digit images have 784" in err
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "tiny.npz", x=rng.integers(0, 255, (20, 10, 10), dtype=np.uint8), y=np.arange(20) % 10)
    err = error_of(capsys, ["evaluate", run, "--dataset", tmp_path / "tiny.npz", "--no-plots"])
    assert "takes 784 input features but the evaluation data have 100" in err


def test_plot_of_a_folder_that_is_not_a_run(capsys, tmp_path):
    assert "does not exist" in error_of(capsys, ["plot", tmp_path])
    (tmp_path / "metrics.csv").write_text("a,b\n1,2\n")
    assert "not a numpynn metrics.csv" in error_of(capsys, ["plot", tmp_path])


def test_errors_exit_2_through_the_real_command(tmp_path):
    done = numpynn_cmd("predict", tmp_path / "missing.safetensors", tmp_path / "x.png", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("numpynn: error: ") and "Traceback" not in done.stderr
    done = numpynn_cmd("train", "--init", "zeros", cwd=tmp_path)
    assert done.returncode == 2 and "invalid choice: 'zeros'" in done.stderr


# --- failures during a run keep what was written ----------------------------------------------------------

TINY = ["train", "--subset", "300", "--epochs", "1", "--quiet", "--name", "r"]


def test_divergence_exits_1_and_keeps_the_config(capsys, tmp_path, monkeypatch):
    def diverging_fit(*args, **kwargs):
        raise TrainingDiverged("Training diverged at epoch 1, step 3: the loss became nan; try a smaller lr.")
    monkeypatch.setattr(cli_train, "fit", diverging_fit)
    assert "diverged" in error_of(capsys, [*TINY, "--out", tmp_path], code=1)
    assert TrainConfig.from_dict(json.loads((tmp_path / "r" / "config.json").read_text())).subset == 300


def test_interrupt_exits_130(capsys, tmp_path, monkeypatch):
    def interrupted_fit(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli_train, "fit", interrupted_fit)
    assert "interrupted" in error_of(capsys, [*TINY, "--out", tmp_path], code=130)
    assert (tmp_path / "r" / "config.json").is_file()


def test_a_late_failure_keeps_model_and_metrics(capsys, tmp_path, monkeypatch):
    real_save = plots.save_figure

    def disk_full_at_the_last_figure(fig, path):
        if Path(path).name == "misclassified.png":
            raise OSError(28, "No space left on device", str(path))
        return real_save(fig, path)
    monkeypatch.setattr(plots, "save_figure", disk_full_at_the_last_figure)
    err = error_of(capsys, [*TINY, "--out", tmp_path], code=1)
    assert "No space left on device" in err
    run = tmp_path / "r"
    assert run_files(run) == RUN_FILES - {"misclassified.png"}
    assert len(read_csv(run / "metrics.csv")) == 1
    assert open_model(run).model.num_parameters() == 203530


def test_a_negative_seed_is_refused_in_our_words(capsys, tmp_path):
    """Issue 17 item 34: --seed -1 reached numpy, whose "expected non-negative integer" names no option."""
    err = error_of(capsys, ["train", "--out", tmp_path, "--quiet", "--seed", "-1"])
    assert "--seed must be a whole number >= 0, got -1" in err
    with pytest.raises(ValueError, match="--seed must be a whole number >= 0, got True"):
        TrainConfig.from_dict({"seed": True})  # TOML `seed = true`
