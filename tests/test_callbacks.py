"""EarlyStopping stops and restores the best weights; GradientTracker records per-layer norms and update ratios."""

import math

import numpy as np
import pytest

import numpynn as nn


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    return x, (x[:, 0] - x[:, 1] > 0).astype(np.int64)


class _ScriptedLoss(nn.Callback):
    """Overwrites val_loss with a scripted sequence (before EarlyStopping sees it) and snapshots weights."""

    def __init__(self, losses):
        self.losses, self.snapshots = losses, {}

    def on_epoch_end(self, epoch, record, model, optimizer):
        record["val_loss"] = self.losses[epoch - 1]
        self.snapshots[epoch] = model.state_dict()


def test_early_stopping_stops_after_patience_and_restores_best_weights():
    x, y = _data()
    model = nn.mlp([6, 8, 2], seed=0)
    script = _ScriptedLoss([1.0, 0.8, 0.5, 0.6, 0.7, 0.55, 0.9, 0.95, 1.0, 1.0])
    stop = nn.EarlyStopping(patience=2)
    hist = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=10, batch_size=64,
                  validation_data=(x, y), verbose=0, callbacks=[script, stop])
    # best at 3; epochs 4 and 5 do not improve: patience 2 is used up at 5 (Keras' wait >= patience), not at 6
    assert len(hist) == 5 and stop.stopped_epoch == 5
    assert stop.best_epoch == 3 and stop.best == 0.5
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, script.snapshots[3][k])
    assert not np.array_equal(model.state_dict()["0.weight"], script.snapshots[5]["0.weight"])


@pytest.mark.parametrize("patience, stopped", [(0, 4), (1, 4), (3, 6)])
def test_early_stopping_counts_patience_as_keras_does(patience, stopped):
    # Keras: wait += 1 per epoch without improvement, stop when wait >= patience (patience 0: at the first one).
    x, y = _data()
    model = nn.mlp([6, 8, 2], seed=0)
    stop = nn.EarlyStopping(patience=patience)
    nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=10, batch_size=64,
           validation_data=(x, y), verbose=0, callbacks=[_ScriptedLoss([1.0, 0.8, 0.5, 0.6, 0.7, 0.55, 0.9] + [1] * 3),
                                                         stop])
    assert stop.stopped_epoch == stopped


def test_early_stopping_on_accuracy_maximises_and_can_keep_last_weights():
    x, y = _data()
    model = nn.mlp([6, 8, 2], seed=0)
    stop = nn.EarlyStopping(monitor="val_acc", patience=1, restore_best_weights=False)
    assert stop.mode == "max"
    hist = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=3, batch_size=64,
                  validation_data=(x, y), verbose=0, callbacks=[stop])
    assert stop.best == max(hist["val_acc"])


def test_early_stopping_without_validation_data_says_what_to_do():
    x, y = _data()
    model = nn.mlp([6, 8, 2], seed=0)
    with pytest.raises(ValueError, match="validation_data"):
        nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=2, verbose=0,
               callbacks=[nn.EarlyStopping()])


def test_gradient_tracker_records_each_weight_every_epoch():
    x, y = _data()
    model = nn.mlp([6, 8, 8, 2], seed=0)
    tracker = nn.GradientTracker(every=2)
    hist = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=3, batch_size=32, verbose=0,
                  callbacks=[tracker])
    names = ["0.weight", "2.weight", "4.weight"]
    for rec in hist.records:
        for name in names:
            assert rec[f"grad_norm.{name}"] > 0 and 0 < rec[f"update_ratio.{name}"] < 1
    assert not any(k.endswith(".bias") for k in hist.records[0])


def test_gradient_tracker_values_are_the_norms_of_the_steps_it_samples():
    """With plain SGD each update is lr * grad, so update_ratio must equal lr * ||grad|| / ||w_before||."""
    x, y = _data(64)
    model = nn.Sequential(nn.Linear(6, 2, rng=0, dtype=np.float64))
    seen = []

    class Spy(nn.Callback):
        def on_train_begin(self, model, optimizer):
            self.model = model

        def on_batch_end(self, step, loss):
            w = self.model[0].params["weight"]
            g = self.model[0].grads["weight"]
            seen.append((np.linalg.norm(g), np.linalg.norm(w + 0.5 * g)))  # w before this step = w + lr * g

    tracker = nn.GradientTracker(every=1)
    hist = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.5), x, y, epochs=1, batch_size=16, verbose=0,
                  shuffle=False, callbacks=[Spy(), tracker])
    rec = hist.records[0]
    assert rec["grad_norm.0.weight"] == pytest.approx(np.mean([g for g, _ in seen]), rel=1e-9)
    assert rec["update_ratio.0.weight"] == pytest.approx(np.mean([0.5 * g / w for g, w in seen[1:]]), rel=1e-9)


def test_gradient_tracker_shows_vanishing_gradients_in_a_deep_sigmoid_net():
    x, y = _data(128)
    model = nn.mlp([6] + [32] * 6 + [2], activation="sigmoid", init="normal", seed=0)
    hist = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=1, batch_size=32, verbose=0,
                  callbacks=[nn.GradientTracker(every=1)])
    first, last = hist.records[0]["grad_norm.0.weight"], hist.records[0]["grad_norm.12.weight"]
    assert first < 1e-4 * last and math.isfinite(first)
