"""`numpynn train` on small own data: what a run reports, keeps and refuses (issue 17's CLI items)."""


import json

import numpy as np
import pytest

from numpynn.app import main
from numpynn.app.runs.folder import open_model


def make_npz(path, n=240, classes=2, features=16, seed=0, noise=False):
    """n rows of `features` floats; labels 0..classes-1 learnable from the first feature (or random if noise)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = rng.integers(0, classes, n) if noise else np.digitize(x[:, 0], np.linspace(-1, 1, classes - 1))
    np.savez(path, x=x, y=y.astype(np.uint8))
    return path


def train(tmp_path, *flags, name="r"):
    return main(["train", "--out", str(tmp_path / "runs"), "--name", name, "--no-plots", *map(str, flags)])


def test_early_stopped_model_reports_the_metrics_of_the_weights_it_keeps(tmp_path, capsys):
    # Random labels: the validation loss is best early and then rises as the net memorises the noise.
    data = make_npz(tmp_path / "noise.npz", n=200, noise=True)
    assert train(tmp_path, "--dataset", data, "--val-split", "0.3", "--hidden", "64", "--lr", "0.5",
                 "--epochs", "30", "--early-stopping", "2", "--batch-size", "16") == 0
    rows = [r for r in (tmp_path / "runs/r/metrics.csv").read_text().splitlines()[1:]]
    trained = open_model(tmp_path / "runs/r")
    best = min(range(len(rows)), key=lambda i: float(rows[i].split(",")[3])) + 1
    assert len(rows) == best + 2  # stopped at the 2nd epoch without improvement (patience 2), not the 3rd
    assert trained.metadata["metrics"]["epoch"] == best < len(rows)
    capsys.readouterr()
    assert main(["info", str(tmp_path / "runs/r")]) == 0
    assert f"Final metrics: epoch {best}," in capsys.readouterr().out


@pytest.mark.parametrize("flags", [["--hidden", "100000000"], ["--hidden", "64,1000000000000"]])
def test_a_model_too_big_for_memory_is_refused_before_allocating(flags, tmp_path, capsys):
    data = make_npz(tmp_path / "d.npz")
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", *flags) == 2
    err = capsys.readouterr().err
    assert "parameters" in err and "more than this machine's" in err and "--hidden" in err
    assert not (tmp_path / "runs").exists()  # refused before the run got a folder


def test_a_toml_hidden_size_of_a_trillion_is_refused(tmp_path, capsys):
    data = make_npz(tmp_path / "d.npz")
    (tmp_path / "big.toml").write_text(f'[data]\ndataset = "{data}"\nval_split = 0.2\n'
                                       '[model]\nhidden = [1000000000000]\n')
    assert main(["train", "--config", str(tmp_path / "big.toml"), "--out", str(tmp_path / "runs")]) == 2
    assert "more than this machine's" in capsys.readouterr().err


def test_the_memory_estimate_counts_parameters_optimizer_state_and_batch():
    from numpynn.app.runs.build import check_fits_in_memory
    from numpynn.app.runs.train_config import TrainConfig
    config = TrainConfig(optimizer="adam", batch_size=10)
    need = 4 * (1000 * (3 + 2) + 3 * 10 * 100)  # float32: 5 parameter copies with Adam's two moments, 3 batch copies
    check_fits_in_memory(config, 1000, 100, memory=need)  # exactly fits
    with pytest.raises(ValueError, match="more than this machine's"):
        check_fits_in_memory(config, 1000, 100, memory=need - 1)


@pytest.mark.parametrize("shift", [28, 40, 1000000])
def test_a_shift_that_moves_the_whole_image_out_is_refused(shift, tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "img.npz", x=rng.integers(0, 256, (60, 28, 28), dtype=np.uint8), y=np.arange(60) % 3)
    assert train(tmp_path, "--dataset", tmp_path / "img.npz", "--val-split", "0.2", "--augment-shift", shift) == 2
    assert "blank image" in capsys.readouterr().err


def test_random_shift_refuses_shifts_that_leave_no_image_in_the_library_too():
    from numpynn.data.augment import RandomShift, random_shift
    with pytest.raises(ValueError, match="blank image"):
        RandomShift(40, image_shape=(28, 28))
    with pytest.raises(ValueError, match="blank image"):
        random_shift(np.zeros((2, 16), np.float32), np.random.default_rng(0), 4, image_shape=(4, 4))
    assert RandomShift(27).max_shift == 27


# --- one writer per run folder (issue 17.2, 17.3, 17.5, 17.22) ------------------------------------------------

def test_a_locked_run_folder_is_refused_naming_its_holder(tmp_path, capsys):
    from numpynn.app.runs.lock import RunLock
    data = make_npz(tmp_path / "d.npz")
    (tmp_path / "runs" / "r").mkdir(parents=True)
    with RunLock(tmp_path / "runs" / "r"):  # another writer (flock conflicts between open files, even in-process)
        assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--epochs", "1") == 2
        err = capsys.readouterr().err
        assert "is in use by pid" in err and "numpynn" in err
        assert main(["train", "--resume", str(tmp_path / "runs" / "r")]) == 2
        assert "is in use by pid" in capsys.readouterr().err
    assert not (tmp_path / "runs" / "r" / ".lock").exists()  # released: nothing left behind
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--epochs", "1") == 0


def test_a_killed_holders_lock_is_taken_over_and_names_the_new_holder(tmp_path):
    """The OS drops a dead process's lock; its .lock file (and stale name) stays, and the next writer takes it."""
    import json
    import os
    import signal
    import subprocess
    import sys

    from numpynn.app.runs.lock import RunFolderBusy, RunLock
    run = tmp_path / "r"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from numpynn.app.runs.lock import RunLock; "
                               f"lock = RunLock({str(run)!r}).acquire(); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RunFolderBusy, match=f"in use by pid {holder.pid} "):  # alive: refused, named
        RunLock(run).acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait(30)
    assert json.loads((run / ".lock").read_text())["pid"] == holder.pid  # the dead holder's record is left
    with RunLock(run):
        assert json.loads((run / ".lock").read_text())["pid"] == os.getpid()  # taken over and rewritten
    assert not (run / ".lock").exists()


def test_two_trainings_racing_for_one_name_cannot_both_win(tmp_path):
    import os
    import subprocess
    import sys
    data = make_npz(tmp_path / "d.npz", n=2000)
    cmd = [sys.executable, "-m", "numpynn", "train", "--dataset", str(data), "--val-split", "0.2", "--epochs", "3",
           "--name", "same", "--out", str(tmp_path / "runs"), "--no-plots", "--quiet"]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    results = [(p.wait(120), p.stderr.read()) for p in procs]
    assert sorted(code for code, _ in results) == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    # The loser may arrive before the winner has written its name into the lock file (CI saw this): then the
    # folder is "in use by another process", still refused in one sentence.
    assert "is in use by pid" in loser or "in use by another process" in loser or "already exists" in loser


def test_a_run_that_failed_before_its_first_epoch_can_be_rerun_or_resumed(tmp_path, capsys):
    data = make_npz(tmp_path / "d.npz")
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--epochs", "2", "--lr", "1e30") == 1  # diverges
    run = tmp_path / "runs" / "r"
    assert sorted(p.name for p in run.iterdir()) == ["config.json"]
    assert main(["train", "--resume", str(run), "--no-plots"]) == 1  # the same config: starts and diverges again
    assert "starting it again from epoch 1" in capsys.readouterr().out
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--epochs", "2") == 0  # the name is free again
    assert {"metrics.csv", "model.safetensors", "checkpoint.safetensors"} <= {p.name for p in run.iterdir()}
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--epochs", "2") == 2  # now it holds results
    assert "already exists" in capsys.readouterr().err


def test_a_resumed_run_that_stopped_before_its_first_checkpoint_trains_from_the_start(tmp_path, capsys):
    data = make_npz(tmp_path / "d.npz")
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--epochs", "2", name="full") == 0
    run = tmp_path / "runs" / "cut"
    run.mkdir(parents=True)
    (run / "config.json").write_bytes((tmp_path / "runs/full/config.json").read_bytes().replace(b'"full"', b'"cut"'))
    assert main(["train", "--resume", str(run), "--no-plots"]) == 0
    assert (run / "metrics.csv").read_text().count("\n") == 3
    full, cut = (open_model(tmp_path / "runs" / n).model.state_dict() for n in ("full", "cut"))
    assert all(np.array_equal(full[k], cut[k]) for k in full)  # the same run as an unbroken one


def test_resuming_a_finished_run_says_so_and_rewrites_nothing(tmp_path, capsys):
    data = make_npz(tmp_path / "d.npz")
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--epochs", "2") == 0
    run = tmp_path / "runs" / "r"
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in run.iterdir()}
    capsys.readouterr()
    assert main(["train", "--resume", str(run)]) == 0
    assert "has already finished" in capsys.readouterr().out
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in run.iterdir()} == before


# --- own data: classes from the labels, and what was read said first (issue 17.12, 17.33) ----------------------

def test_a_two_class_npz_trains_a_two_class_model_and_says_what_it_read(tmp_path, capsys):
    data = make_npz(tmp_path / "two.npz", n=240, classes=2, features=16)
    assert train(tmp_path, "--dataset", data, "--val-split", "0.25", "--epochs", "3") == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("Read ") and "240 rows of 16 features, 2 classes (0, 1)" in first
    assert "training on 180 rows, evaluating on 60" in first
    trained = open_model(tmp_path / "runs" / "r")
    assert trained.class_names == ["0", "1"] and trained.metadata["classes"] == ["0", "1"]
    assert trained.model.predict_logits(np.zeros((1, 16), np.float32)).shape == (1, 2)  # not a 10-way softmax
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "runs" / "r"), "--no-plots"]) == 0
    assert "Confusion matrix" in (out := capsys.readouterr().out) and "\n      2 " not in out


def test_a_csv_without_a_label_column_is_refused_not_read_as_all_zero_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (50, 16))
    pixels[:, 0] = 0  # MNIST's corner pixel: read as the label, every row's label was 0 ("accuracy 1.0000")
    np.savetxt(tmp_path / "pixels.csv", pixels, fmt="%d", delimiter=",")
    assert train(tmp_path, "--dataset", tmp_path / "pixels.csv", "--val-split", "0.2") == 2
    err = capsys.readouterr().err
    assert "at least two classes" in err and "no label column" in err
    assert not (tmp_path / "runs").exists()


def test_a_training_split_with_one_class_is_refused(tmp_path, capsys):
    np.savez(tmp_path / "one.npz", x=np.zeros((20, 4), np.float32), y=np.full(20, 3, np.uint8))
    assert train(tmp_path, "--dataset", tmp_path / "one.npz", "--val-split", "0.2") == 2
    assert "has label 3; a classifier needs at least two classes" in capsys.readouterr().err


def test_evaluating_on_labels_the_model_does_not_have_is_refused(tmp_path, capsys):
    assert train(tmp_path, "--dataset", make_npz(tmp_path / "two.npz"), "--val-split", "0.2", "--epochs", "1") == 0
    capsys.readouterr()
    ten = make_npz(tmp_path / "ten.npz", classes=10)
    assert main(["evaluate", str(tmp_path / "runs" / "r"), "--dataset", str(ten), "--no-plots"]) == 2
    assert "2 classes" in capsys.readouterr().err


def test_options_larger_than_the_data_are_named_in_the_output(tmp_path, capsys):
    data = make_npz(tmp_path / "d.npz", n=100)
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--subset", "5000", "--batch-size", "1000",
                 "--epochs", "1") == 0
    err = capsys.readouterr().err
    assert "--subset 5,000 is more than the 100 training rows; using all of them" in err
    assert "--batch-size 1,000 is more than the 80 training rows; each epoch is one step" in err


# --- held-out rows are called what they are (issue 17.24) ---------------------------------------------------

def test_rows_held_out_of_the_training_data_are_called_validation_everywhere(tmp_path, capsys):
    from numpynn.app.runs.folder import read_metrics
    data = make_npz(tmp_path / "d.npz")
    assert main(["train", "--dataset", str(data), "--val-split", "0.25", "--epochs", "2", "--out",
                 str(tmp_path / "runs"), "--name", "r"]) == 0
    out = capsys.readouterr().out
    assert "Epoch 2/2, Loss: " in out and ", Validation Accuracy: " in out and "Test Accuracy" not in out
    assert "Final Validation Accuracy: " in out
    rows = read_metrics(tmp_path / "runs/r/metrics.csv")
    header = (tmp_path / "runs/r/metrics.csv").read_text().splitlines()[0].split(",")
    assert header[:6] == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]
    assert "test_acc" not in rows[0] and open_model(tmp_path / "runs/r").metadata["metrics"]["val_acc"] > 0
    assert main(["evaluate", str(tmp_path / "runs/r"), "--no-plots"]) == 0
    assert "Validation accuracy: " in capsys.readouterr().out


def test_a_test_set_is_still_called_test(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 4)).astype(np.float32)
    np.savez(tmp_path / "t.npz", x=x[:80], y=(x[:80, 0] > 0).astype(np.uint8), x_test=x[80:],
             y_test=(x[80:, 0] > 0).astype(np.uint8))
    assert train(tmp_path, "--dataset", tmp_path / "t.npz", "--epochs", "1") == 0
    assert "Final Test Accuracy: " in capsys.readouterr().out
    assert "test_acc" in (tmp_path / "runs/r/metrics.csv").read_text().splitlines()[0]


def test_curve_legends_name_the_validation_rows():
    from numpynn.app import figures as plots
    rows = [{"epoch": e, "train_loss": 1 / e, "train_acc": 0.5, "val_loss": 1.1 / e, "val_acc": 0.4} for e in (1, 2)]
    labels = [line.get_label() for line in plots.curve_figure(rows, "acc").axes[0].get_lines()]
    assert labels == ["train", "validation"]


# --- --threads (issue 17.23) -----------------------------------------------------------------------------------

def _blas_threads():
    from threadpoolctl import threadpool_info
    return {i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"}


def test_training_runs_on_the_threads_asked_for_and_defaults_to_one(tmp_path, monkeypatch):
    import numpynn.app.runs.training as cli_train
    seen, real_fit = [], cli_train.fit
    monkeypatch.setattr(cli_train, "fit", lambda *a, **k: seen.append(_blas_threads()) or real_fit(*a, **k))
    data = make_npz(tmp_path / "d.npz")
    outside = _blas_threads()
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--epochs", "1", name="default") == 0
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--epochs", "1", "--threads", "2",
                 name="two") == 0
    assert seen[0] == {1} and (seen[1] == {2} or outside == {1})  # a 1-core machine's BLAS may cap at 1
    assert _blas_threads() == outside  # restored after the run


def test_threads_may_change_on_resume_and_is_checked(tmp_path, capsys):
    from numpynn.app.runs.train_config import TrainConfig
    with pytest.raises(ValueError, match="--threads must be at least 1"):
        TrainConfig(threads=0)
    data = make_npz(tmp_path / "d.npz")
    (tmp_path / "runs" / "r").mkdir(parents=True)
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--epochs", "1") == 0
    assert main(["train", "--resume", str(tmp_path / "runs" / "r"), "--threads", "2"]) == 0  # not a setting
    assert "drop --threads" not in capsys.readouterr().err


def test_config_json_and_info_record_the_lr_used_not_default(tmp_path, capsys):
    data = make_npz(tmp_path / "d.npz")
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", "--epochs", "1", "--optimizer", "adamw") == 0
    config = json.loads((tmp_path / "runs/r/config.json").read_text())
    assert config["lr"] == 0.001 and config["weight_decay"] == 0.01  # torch's AdamW defaults, as used
    capsys.readouterr()
    assert main(["info", str(tmp_path / "runs/r")]) == 0
    out = capsys.readouterr().out
    assert "  lr = 0.001" in out and "  weight_decay = 0.01" in out and "lr = (default)" not in out
