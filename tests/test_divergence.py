"""Divergence guard: the article's exercise 4 (784-128-2 on 0s and 1s) pushed to lr 10 and 1000 must stop at the
first non-finite loss, say where and what to try, and keep the last good checkpoint and the metrics so far."""

import csv
import re

import numpy as np
import pytest

import numpynn as nn
from numpynn.datasets import flatten, load_mnist, scale, train_val_split
from numpynn.io.checkpoint import save_training_checkpoint


@pytest.fixture(scope="module")
def exercise4():
    """Exercise 3/4's data: the first 500 zeros and ones of MNIST, z-scored, 80/20 split with seed 42."""
    (x, y), _ = load_mnist()
    keep = (y == 0) | (y == 1)
    x, y = flatten(x[keep][:500]), y[keep][:500].astype(np.int64)
    return train_val_split(scale(x, "zscore"), y, 0.2, seed=42)


class BatchLosses(nn.Callback):
    def __init__(self):
        self.losses = []

    def on_batch_end(self, step, loss):
        self.losses.append(loss)


def _run(data, lr, tmp_path=None, epochs=10, losses=None):
    (x, y), (xv, yv) = data
    model = nn.mlp([784, 128, 2], init="normal", seed=0)  # the article's randn * 0.01
    opt = nn.SGD(model, lr=lr)
    saved = []

    def checkpoint(state):
        saved.append(state)
        if tmp_path is not None:
            save_training_checkpoint(tmp_path / "checkpoint.safetensors", model, opt, state)

    with np.errstate(all="ignore"):  # the overflow warnings are what the guard turns into one sentence
        history = nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, epochs=epochs, batch_size=32,
                         validation_data=(xv, yv), verbose=0, on_checkpoint=checkpoint,
                         callbacks=[losses] if losses else ())
    return model, history, saved


def test_exercise4_at_its_own_lr_trains(exercise4):
    _, history, _ = _run(exercise4, 1.0, epochs=3)  # negative control: the guard does not fire on a healthy run
    assert len(history) == 3 and history["val_acc"][-1] > 0.95


@pytest.mark.parametrize("lr", [10, 1000])
def test_exercise4_pushed_to_a_huge_lr_stops_at_the_first_nan(exercise4, tmp_path, lr):
    losses = BatchLosses()
    with pytest.raises(nn.TrainingDiverged) as info:
        _run(exercise4, lr, tmp_path, losses=losses)
    err = info.value
    # Where it breaks depends on the BLAS (threads round differently); that it stops at once does not:
    # every step before the reported one had a finite loss, and no step ran after it.
    steps_per_epoch = -(-400 // 32)
    assert len(losses.losses) == (err.epoch - 1) * steps_per_epoch + err.step - 1
    assert np.isfinite(losses.losses).all() and err.lr == lr
    message = str(err)
    assert message.replace("e.g.", "eg").count(". ") == 0 and "\n" not in message  # one sentence
    assert re.match(rf"Training diverged at epoch {err.epoch}, step {err.step}: the loss became (nan|inf) with "
                    rf"lr={lr}; ", message)
    assert f"try a smaller learning rate (e.g. lr={lr / 10:g})" in message
    # The metrics of every finished epoch are kept, and so is the last good checkpoint (none if epoch 1 broke).
    assert len(err.history) == err.epoch - 1 and all(np.isfinite(r["train_loss"]) for r in err.history.records)
    ckpt = tmp_path / "checkpoint.safetensors"
    assert ckpt.exists() == (err.epoch > 1)
    if ckpt.exists():
        model, meta = nn.load_model(ckpt)  # finite weights: load_model refuses NaN
        assert meta["train_state"]["epoch"] == err.epoch - 1
        assert all(np.isfinite(p).all() for p in model.parameters())


class Overflowing(nn.SGD):
    """SGD whose last update of the run writes an infinity: the loss never sees it, the weight check must."""

    def __init__(self, model, lr, fail_at):
        super().__init__(model, lr=lr)
        self.fail_at = fail_at

    def step(self):
        super().step()
        if self.step_count == self.fail_at:
            self.slots[0][1]["weight"][0, 0] = np.inf


def test_weights_that_stop_being_finite_are_caught_at_the_epoch_end():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)), rng.integers(0, 2, 64)
    model = nn.mlp([4, 2], seed=0)
    saved = []
    with pytest.raises(nn.TrainingDiverged, match=r"epoch 2, step 4: the weights stopped being finite with lr=0.1"):
        nn.fit(model, nn.CrossEntropyLoss(), Overflowing(model, 0.1, fail_at=8), x, y, epochs=3, batch_size=16,
               verbose=0, on_checkpoint=saved.append)
    assert [s.epoch for s in saved] == [1]  # epoch 2's broken weights were never checkpointed


@pytest.mark.parametrize("lr", [10, 1000])
def test_cli_exercise4_at_a_huge_lr_exits_1_and_keeps_what_finished(exercise4, tmp_path, monkeypatch, capsys, lr):
    from numpynn.app import main
    (x, y), (xv, yv) = exercise4
    np.savez(tmp_path / "ex4.npz", x=x, y=y, x_test=xv, y_test=yv)  # already z-scored: --scale none
    monkeypatch.chdir(tmp_path)
    code = main(["train", "--dataset", "ex4.npz", "--scale", "none", "--hidden", "128", "--init", "normal",
                 "--lr", str(lr), "--batch-size", "32", "--epochs", "10", "--name", "ex4", "--no-plots", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and "Warning" not in err
    match = re.search(rf"numpynn: error: Training diverged at epoch (\d+), step \d+: .* with lr={lr}; try a smaller "
                      rf"learning rate \(e\.g\. lr={lr // 10}\); runs/ex4 keeps (.*)\.\n$", err)
    assert match, err
    run, finished = tmp_path / "runs" / "ex4", int(match.group(1)) - 1
    assert not (run / "model.safetensors").exists()  # no model from a diverged run
    if finished:  # where it breaks depends on the BLAS; what is kept must match it either way
        assert match.group(2) == f"the checkpoint of epoch {finished} and metrics.csv"
        assert len((run / "metrics.csv").read_text().splitlines()) == finished + 1
        _, meta = nn.load_model(run / "checkpoint.safetensors")
        assert meta["train_state"]["epoch"] == finished
    else:
        assert match.group(2) == "config.json (no epoch finished)"
        assert sorted(p.name for p in run.iterdir()) == ["config.json"]


# --- advice that fits the cause (issue 17.16) -----------------------------------------------------------------

def _pixels(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 64)).astype(np.uint8)
    return x, (x[:, 0] > 127).astype(np.int64)


@pytest.mark.parametrize("lr", [0.1, 0.01, 0.001])
def test_divergence_on_unscaled_inputs_names_the_input_scale_not_only_the_lr(lr):
    x, y = _pixels()
    model = nn.mlp([64, 32, 2], seed=0)
    with np.errstate(all="ignore"), pytest.raises(nn.TrainingDiverged) as info:
        nn.fit(model, nn.MSELoss(), nn.SGD(model, lr=lr), x.astype(np.float32), nn.datasets.one_hot(y, 2),
               epochs=20, batch_size=16, verbose=0)
    message = str(info.value)
    assert "the inputs are large (root-mean-square 1" in message and "x / 255" in message
    assert message.index("scale them") < message.index("smaller learning rate") and info.value.input_rms > 100


def test_divergence_on_scaled_inputs_still_advises_a_smaller_lr():
    x, y = _pixels()
    model = nn.mlp([64, 32, 2], seed=0)
    with np.errstate(all="ignore"), pytest.raises(nn.TrainingDiverged, match=r"try a smaller learning rate"):
        nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=1e6), x / np.float32(255), y, epochs=5, verbose=0)


def test_cli_divergence_on_unscaled_pixels_points_at_the_scale_option(tmp_path, capsys):
    from numpynn.app import main
    x, y = _pixels()
    np.savez(tmp_path / "pix.npz", x=x, y=y)
    code = main(["train", "--dataset", str(tmp_path / "pix.npz"), "--val-split", "0.2", "--loss", "mse", "--scale",
                 "none", "--lr", "0.01", "--epochs", "5", "--out", str(tmp_path / "runs"), "--no-plots", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "the inputs are large" in err and "--scale 255" in err


def test_chance_level_accuracy_after_an_epoch_is_warned_once():
    warned = []
    y = np.array([0] * 60 + [1] * 20 + [2] * 20)  # the commonest class is 60 %: chance is 0.6, the limit 0.64
    cb = nn.ChanceLevelWarning(y, warn=warned.append, min_steps=10)
    opt = nn.SGD(nn.mlp([2, 2]), lr=3)
    cb.on_epoch_end(1, {"train_acc": 0.6}, None, opt)  # too early to judge: no step yet
    cb.on_batch_end(10, 1.0)
    cb.on_epoch_end(1, {"train_acc": 0.9}, None, opt)  # negative control: a learning net is left alone
    assert warned == []
    cb.on_epoch_end(2, {"train_acc": 0.61}, None, opt)
    cb.on_epoch_end(3, {"train_acc": 0.60}, None, opt)
    assert len(warned) == 1 and "after epoch 2 is 0.6100" in warned[0] and "(0.6000)" in warned[0]
    assert "learning rate of 3 may be too high (try 0.3)" in warned[0]


def test_cli_warns_when_a_huge_lr_leaves_training_at_chance(tmp_path, capsys):
    from numpynn.app import main
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 16)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=np.digitize(x[:, 0], np.linspace(-1, 1, 3)).astype(np.uint8))
    args = ["train", "--dataset", str(tmp_path / "d.npz"), "--val-split", "0.2", "--epochs", "6", "--batch-size",
            "16", "--out",
            str(tmp_path / "runs"), "--no-plots", "--quiet", "--scale", "none"]
    assert main([*args, "--lr", "3", "--name", "hot"]) == 0
    # At lr 3 the argmax of logits ~1e5 is chaotic: the accuracy it sits at depends on the BLAS kernel's rounding
    # (0.4250 Haswell, 0.4313 Prescott, 0.3656 Sandybridge at epoch 5), so hold it to the callback's own rule:
    # judged from epoch 5 (100 steps of 20 a epoch), within a tenth of the way from chance to perfect.
    err = capsys.readouterr().err
    found = re.search(r"numpynn: warning: training accuracy after epoch (\d+) is (0\.\d{4}), about what always "
                      r"answering the most common class gets \((0\.\d{4})\)", err)
    assert found, err
    epoch, acc, chance = int(found[1]), float(found[2]), float(found[3])
    assert epoch in (5, 6) and 0.25 < chance < 0.5 and acc <= chance + 0.1 * (1 - chance) + 1e-4
    with open(tmp_path / "runs" / "hot" / "metrics.csv") as metrics:
        assert abs(float(list(csv.DictReader(metrics))[epoch - 1]["train_acc"]) - acc) < 1e-4
    # The loss blows up first (issue 21.13): both warnings name the learning rate.
    assert "A learning rate of 3 is too high (try 0.3)" in err
    assert main([*args, "--lr", "0.1", "--name", "ok"]) == 0
    assert "warning" not in capsys.readouterr().err


def _chance_warnings(sizes, activation, init, lr, seed=0, epochs=4):
    """Warnings of ChanceLevelWarning over a few epochs of a small net on a 3-class problem one feature decides."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((320, sizes[0])).astype(np.float32)
    y = np.digitize(x[:, 0], [-0.4, 0.4])
    warned = []
    model = nn.mlp(sizes, activation=activation, init=init, seed=seed)
    nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=lr), x, y, epochs=epochs, batch_size=16, seed=seed,
           callbacks=[nn.ChanceLevelWarning(y, warn=warned.append, min_steps=20)])
    return warned


def test_chance_level_from_vanishing_gradients_is_not_blamed_on_the_learning_rate():
    # Issue 21.13: a deep sigmoid net with N(0, 0.01) weights learns nothing because its first layers get no
    # gradient; 0.2.0 advised a lower learning rate, which makes that worse.
    warned = _chance_warnings([16, *[16] * 6, 3], "sigmoid", "normal", lr=0.1)
    assert len(warned) == 1 and "vanishing gradients" in warned[0] and "0.weight" in warned[0]
    assert "may be too high" not in warned[0]


def test_chance_level_after_the_loss_blew_up_blames_the_learning_rate():
    warned = _chance_warnings([16, 32, 3], "relu", "he", lr=5, epochs=2)  # 1.2e6 in epoch 1, still finite
    assert any("the training loss rose to" in w and "A learning rate of 5 is too high (try 0.5)" in w for w in warned)
    chance = [w for w in warned if w.startswith("training accuracy")]
    assert not chance or "vanishing" not in chance[0]
    assert _chance_warnings([16, 32, 3], "relu", "he", lr=0.1) == []  # negative control: a healthy run is quiet


def test_cli_warns_when_the_loss_grows_to_huge_values(tmp_path):
    # Issue 21.13: lr 50 on MNIST took the loss to 120,503 and the run exited 0 without a word.
    from matrix_kinds import cli

    code, out, err = cli("train", "--subset", "600", "--epochs", "1", "--lr", "50", "--hidden", "32", "--out",
                         tmp_path, "--quiet", "--no-plots")
    assert code == 0 and re.search(r"numpynn: warning: the training loss rose to [0-9.,e+]+ in epoch 1, from "
                                   r"2\.\d+ at the first step", err), err
