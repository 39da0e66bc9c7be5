"""Fine-tuning in the library: fit on a loaded model, and requires_grad_ / freeze leaving frozen parameters alone."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.nn.models import cnn, mlp


def _data(n=96, d=12, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x, (np.abs(x[:, :classes]).argmax(axis=1)).astype(np.int64)


def test_fit_on_a_loaded_model_continues_from_its_weights(tmp_path):
    x, y = _data()
    model = mlp([12, 16, 3], seed=1)
    nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=2, verbose=0)
    nn.save_model(tmp_path / "m.safetensors", model)
    loaded, _ = nn.load_model(tmp_path / "m.safetensors")
    loss_fn = nn.CrossEntropyLoss()
    start, _ = nn.evaluate(loaded, loss_fn, x, y)
    assert start == pytest.approx(nn.evaluate(model, loss_fn, x, y)[0])  # the saved weights, not a fresh init
    history = nn.fit(loaded, loss_fn, nn.SGD(loaded, lr=0.1), x, y, epochs=2, verbose=0, seed=3)
    nn.fit(model, loss_fn, nn.SGD(model, lr=0.1), x, y, epochs=2, verbose=0, seed=3)
    assert history["train_loss"][-1] < start
    for (name, a), (_, b) in zip(loaded.named_parameters(), model.named_parameters()):
        np.testing.assert_array_equal(a, b, err_msg=name)  # loaded + fresh optimizer == the original, continued


@pytest.mark.parametrize("make_opt", [
    lambda m: nn.SGD(m, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda m: nn.Adam(m, lr=0.01, weight_decay=0.1),
    lambda m: nn.AdamW(m, lr=0.01, weight_decay=0.5),
    lambda m: nn.RMSprop(m, lr=0.01, momentum=0.9, weight_decay=0.1),
], ids=["sgd", "adam", "adamw", "rmsprop"])
def test_frozen_parameters_get_no_update_from_any_optimizer(make_opt):
    x, y = _data()
    model = mlp([12, 16, 8, 3], seed=2, batch_norm=True)
    opt = make_opt(model)
    nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, epochs=1, verbose=0)  # momentum buffers exist now
    model.freeze(1)  # after the optimizer was built: it must still see it
    model[3].requires_grad_(False, "bias")
    before = model.state_dict()
    state_before = {k: v.copy() for k, v in opt.state_dict().items()}
    nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, epochs=2, verbose=0)
    after = model.state_dict()
    for name in ("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "3.bias"):
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
        for key, value in state_before.items():
            if key.startswith(name + "."):
                np.testing.assert_array_equal(opt.state_dict()[key], value, err_msg=key)  # momentum kept as is
    for name in ("3.weight", "4.running_mean", "6.weight", "6.bias"):
        assert not np.array_equal(after[name], before[name]), name
    assert model.num_trainable_parameters() == 16 * 8 + 8 + 8 + 8 * 3 + 3
    model.requires_grad_(True)
    assert model.num_trainable_parameters() == model.num_parameters()


def test_frozen_batchnorm_is_a_fixed_function_in_training():
    x = np.random.default_rng(0).standard_normal((32, 4)).astype(np.float32) * 3 + 1
    bn = nn.BatchNorm1d(4)
    bn.buffers["running_mean"][:] = 1
    bn.requires_grad_(False)
    out = bn.train().forward(x)
    np.testing.assert_array_equal(out, bn.eval().forward(x))  # running statistics, as in eval
    assert int(bn.buffers["num_batches_tracked"]) == 0
    grad = bn.train().forward(x) * 0 + 1
    np.testing.assert_allclose(bn.backward(grad), np.broadcast_to(1 / np.sqrt(1 + 1e-5), x.shape), rtol=1e-6)


def test_backward_stops_below_the_first_trainable_layer():
    x = np.random.default_rng(0).standard_normal((8, 1, 10, 10)).astype(np.float32)
    model = cnn((1, 10, 10), [4], [6], 3, batch_norm=True, seed=0).freeze(1)
    conv = model[0]
    conv.backward = lambda g: pytest.fail("backward ran through a frozen layer with nothing to train below")
    model.forward(x)
    model.backward(np.ones((8, 3), np.float32))
    assert model[model._first_trainable()].needs_input_grad  # restored after the step
    assert np.abs(model.grads()["5.weight"]).sum() > 0


def test_finetuning_a_loaded_cnn_with_batchnorm_moves_only_the_head(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((48, 1, 10, 10), dtype=np.float32)
    y = (x[:, 0, :5].mean(axis=(1, 2)) > x[:, 0, 5:].mean(axis=(1, 2))).astype(np.int64)
    model = cnn((1, 10, 10), [4], [6], 2, batch_norm=True, seed=0)
    nn.save_model(tmp_path / "c.safetensors", model)
    loaded, _ = nn.load_model(tmp_path / "c.safetensors")
    loaded.freeze(1)
    before = loaded.state_dict()
    history = nn.fit(loaded, nn.CrossEntropyLoss(), nn.Adam(loaded, lr=0.01), x, y, epochs=3, batch_size=16,
                     verbose=0)
    after = loaded.state_dict()
    assert all(np.array_equal(after[k], before[k]) for k in before if k[0] in "01")  # conv and its BatchNorm2d
    assert not np.array_equal(after["5.weight"], before["5.weight"])
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_freeze_and_requires_grad_refuse_what_does_not_exist():
    model = mlp([4, 3, 2])
    with pytest.raises(ValueError, match="at least one layer is left to train"):
        model.freeze(2)
    with pytest.raises(ValueError, match="no parameter '5.weight'"):
        model.requires_grad_(False, ["5.weight"])
    with pytest.raises(ValueError, match="no parameter 'gamma'"):
        model[0].requires_grad_(False, "gamma")
    model.requires_grad_(False, ["2.bias"])
    assert model[2].frozen == {"bias"} and model[0].frozen == set()


def test_fine_tuning_a_loaded_model_with_dropout_is_reproducible(tmp_path):
    """from_config seeds each Dropout with its index: two loads of one file train to the same weights."""
    x, y = _data()
    nn.save_model(tmp_path / "d.safetensors", mlp([12, 16, 3], seed=0, dropout=0.5))
    runs = []
    for _ in range(2):
        model, _ = nn.load_model(tmp_path / "d.safetensors")
        nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=2, verbose=0)
        runs.append(model.state_dict())
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])
