"""fit(): learns MNIST, is bit-reproducible from a seed, keeps the dtype, never touches global np.random."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.datasets import Scaler, flatten, load_mnist, scale


@pytest.fixture(scope="module")
def mnist_small():
    (x_train, y_train), (x_test, y_test) = load_mnist()
    return ((scale(flatten(x_train[:6000]), "global"), y_train[:6000]),
            (scale(flatten(x_test[:2000]), "global"), y_test[:2000]))


def _train(data, seed=0, dtype=np.float32, epochs=3, **kw):
    (x, y), (xv, yv) = data
    model = nn.mlp([784, 128, 10], init="he", seed=seed, dtype=dtype)
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.05, momentum=0.9), x, y,
                     epochs=epochs, batch_size=64,
                     validation_data=(xv, yv), seed=seed, verbose=0, **kw)
    return model, history


def test_fit_learns_mnist_subset(mnist_small):
    model, history = _train(mnist_small)
    assert history["val_acc"][-1] >= 0.90  # 6,000 images, 3 epochs
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert len(history) == 3 and set(history.last) >= {"epoch", "train_loss", "train_acc", "val_loss",
                                                        "val_acc", "lr", "seconds"}
    loss, acc = nn.evaluate(model, nn.CrossEntropyLoss(), *mnist_small[1])
    assert acc == pytest.approx(history["val_acc"][-1]) and loss == pytest.approx(history["val_loss"][-1])
    assert nn.accuracy(mnist_small[1][1], model.predict(mnist_small[1][0])) == pytest.approx(acc)


def test_same_seed_bit_identical_and_global_state_untouched(mnist_small):
    small = ((mnist_small[0][0][:1500], mnist_small[0][1][:1500]), mnist_small[1])
    np.random.seed(123)
    before = np.random.get_state()
    a, ha = _train(small, seed=5, epochs=2)
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]
    b, hb = _train(small, seed=5, epochs=2)
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert np.array_equal(pa, pb)
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h.records]  # noqa: E731
    assert strip(ha) == strip(hb)
    c, _ = _train(small, seed=6, epochs=2)
    assert not np.array_equal(a[0].params["weight"], c[0].params["weight"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_end_to_end(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 5))  # float64 input: must not upcast a float32 model
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = nn.mlp([5, 8, 2], dtype=dtype)
    opt = nn.SGD(model, lr=0.5, momentum=0.9)
    h = nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, epochs=5, batch_size=32, verbose=0)
    assert all(p.dtype == dtype for p in model.parameters())
    assert all(g.dtype == dtype for g in model.grads().values())
    assert all(b.dtype == dtype for s in opt.state.values() for b in s.values())
    assert model.predict_proba(x).dtype == dtype
    assert h["train_acc"][-1] > 0.9


def test_last_partial_batch_and_one_hot_targets():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((103, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 103)]
    seen = []

    class Count(nn.Callback):
        def on_batch_end(self, step, loss):
            seen.append(step)

    model = nn.mlp([4, 3])
    nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=2, batch_size=50, verbose=0,
           callbacks=[Count()])
    assert seen == [1, 2, 3, 4, 5, 6]  # 50 + 50 + 3 per epoch


def test_verbose_prints_the_articles_line(capsys):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((64, 3)), rng.integers(0, 2, 64)
    model = nn.mlp([3, 2])
    nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=2, validation_data=(x, y))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2, Loss: ") and ", Test Accuracy: " in lines[1]


def test_callback_can_stop_training():
    class StopAfterOne(nn.Callback):
        def on_epoch_end(self, epoch, record, model, optimizer):
            self.stop_training = True

    x, y = np.ones((8, 2)), np.zeros(8, dtype=int)
    model = nn.mlp([2, 2])
    h = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=5, verbose=0,
               callbacks=[StopAfterOne()])
    assert len(h) == 1


def test_regression_with_mse_has_no_accuracy():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((128, 3))
    y = (x @ np.array([1.0, -2.0, 0.5]))[:, None]
    model = nn.Sequential(nn.Linear(3, 1, rng=0))
    h = nn.fit(model, nn.MSELoss(), nn.SGD(model, lr=0.05), x, y, epochs=20, batch_size=16, verbose=0)
    assert h["train_acc"][-1] is None and h["train_loss"][-1] < 1e-3


def test_divergence_raises_a_clear_error():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((256, 3)) * 1e3, rng.integers(0, 2, 256)
    model = nn.mlp([3, 16, 2], seed=0)
    with pytest.raises(nn.TrainingDiverged, match=r"epoch \d+, step \d+.*lr=1e\+30.*smaller learning rate"):
        nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=1e30), x, y, epochs=20, verbose=0)


@pytest.mark.parametrize("method", ["255", "global", "zscore", "none"])
def test_raw_uint8_with_a_preprocess_step_trains_bit_identically_to_prescaled_input(method):
    # What `numpynn train` does: the uint8 rows stay raw and each batch is scaled as it is gathered.
    (x, y), (xv, yv) = load_mnist()
    x, y, xv, yv = flatten(x[:1200]), y[:1200], flatten(xv[:300]), yv[:300]
    pre = Scaler.fit(method, x, np.float32)
    models, histories = [], []
    for kw in (dict(x=pre(x), xv=pre(xv)), dict(x=x, xv=xv, preprocess=pre)):
        xs, xvs = kw.pop("x"), kw.pop("xv")
        model = nn.mlp([784, 32, 10], seed=1)
        histories.append(nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.01, momentum=0.9), xs, y,
                                epochs=2, batch_size=50, validation_data=(xvs, yv), seed=2, verbose=0, **kw))
        models.append(model)
    assert x.dtype == np.uint8 and pre(x[:5]).dtype == np.float32
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_array_equal(a, b)
    assert histories[0]["val_acc"] == histories[1]["val_acc"] and histories[0]["val_loss"] == histories[1]["val_loss"]
    loss, acc = nn.evaluate(models[1], nn.CrossEntropyLoss(), xv, yv, preprocess=pre)
    assert (loss, acc) == (histories[1]["val_loss"][-1], histories[1]["val_acc"][-1])


def test_raw_input_is_still_checked_for_nan_and_width():
    model = nn.mlp([4, 3, 2], seed=0)
    bad = np.ones((6, 4))
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), bad, np.zeros(6, int), verbose=0,
               preprocess=Scaler("none", np.float32))
    with pytest.raises(ValueError, match="has 5 features but the model expects 4"):
        nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), np.ones((6, 5), np.uint8), np.zeros(6, int),
               verbose=0, preprocess=Scaler("255", np.float32))
