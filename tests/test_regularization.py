"""Dropout, BatchNorm1d, GELU and Softmax: float64 gradient checks, train/eval behaviour, torch parity, checkpoints."""

import math

import numpy as np
import pytest

import numpynn as nn
from numpynn.gradcheck import check_layer
from numpynn.nn.layers import _erf

TOL = 1e-6


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --- gradient checks --------------------------------------------------------------------------------------

def test_dropout_gradients_with_a_fixed_mask():
    layer = nn.Dropout(0.4)
    forward = layer.forward
    layer.forward = lambda x: (setattr(layer, "rng", np.random.default_rng(7)), forward(x))[1]  # same mask every call
    errors = check_layer(layer, _x((6, 5)))
    assert errors["input"] < TOL, errors
    assert np.any(layer.mask == 0) and np.any(layer.mask > 0)


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_gradients_in_train_mode(affine):
    layer = nn.BatchNorm1d(4, affine=affine, dtype=np.float64)
    if affine:
        layer.params["weight"][...] = [0.5, 1.5, -1.0, 2.0]
        layer.params["bias"][...] = [0.1, -0.2, 0.3, 0.0]
    errors = check_layer(layer, _x((8, 4), seed=1) * 3 + 1)
    assert set(errors) == ({"input", "weight", "bias"} if affine else {"input"})
    assert max(errors.values()) < TOL, errors


def test_batchnorm_gradients_in_eval_mode():
    layer = nn.BatchNorm1d(3, dtype=np.float64)
    layer.forward(_x((10, 3), seed=2) * 2 + 1)  # running statistics move away from (0, 1)
    layer.eval()
    errors = check_layer(layer, _x((5, 3), seed=3))
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("layer", [nn.GELU(), nn.GELU(approximate="tanh"), nn.Softmax(), nn.Softmax(dim=0)],
                         ids=["gelu", "gelu_tanh", "softmax", "softmax_dim0"])
def test_activation_gradients(layer):
    errors = check_layer(layer, _x((4, 7), seed=4) * 2)
    assert errors["input"] < TOL, errors


def test_negative_control_broken_batchnorm_is_caught():
    class BrokenBN(nn.BatchNorm1d):
        def backward(self, grad_out):
            return grad_out * self.params["weight"] * self.inv_std  # forgets the batch-statistics terms

    assert check_layer(BrokenBN(3, dtype=np.float64), _x((6, 3), seed=5))["input"] > 1e-2


# --- behaviour --------------------------------------------------------------------------------------------

def test_dropout_is_inverted_seeded_and_off_in_eval():
    x = np.ones((2000, 50), np.float32)
    drop = nn.Dropout(0.3, rng=0)
    y = drop(x)
    assert y.dtype == np.float32
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.01 and abs(y.mean() - 1) < 0.01  # expectation preserved
    np.testing.assert_array_equal(nn.Dropout(0.3, rng=0)(x), y)  # same seed, same mask
    drop.eval()
    assert drop(x) is x
    assert np.all(nn.Dropout(1.0, rng=0)(x) == 0) and nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_batchnorm_matches_torch_train_and_eval():
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    ours, theirs = nn.BatchNorm1d(5, momentum=0.2, dtype=np.float64), torch.nn.BatchNorm1d(5, momentum=0.2).double()
    for seed in range(3):
        x = _x((16, 5), seed=seed) * 2 + 3
        g = _x((16, 5), seed=10 + seed)
        tx = torch.tensor(x, requires_grad=True)
        tout = theirs(tx)
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(ours.forward(x), tout.detach().numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.grads["weight"], theirs.weight.grad.numpy(), atol=1e-10)
        theirs.zero_grad()
    tstate = {k: v.numpy() for k, v in theirs.state_dict().items()}
    ours_state = {**ours.params, **ours.buffers}
    assert set(tstate) == set(ours_state)  # same names: weight, bias, running_mean, running_var, num_batches_tracked
    for k in tstate:
        np.testing.assert_allclose(ours_state[k], tstate[k], atol=1e-10)
    ours.eval(), theirs.eval()
    x = _x((4, 5), seed=9)
    np.testing.assert_allclose(ours.forward(x), theirs(torch.tensor(x)).detach().numpy(), atol=1e-10)


def test_batchnorm_refuses_a_batch_of_one_in_training():
    with pytest.raises(ValueError, match="batch size of at least 2"):
        nn.BatchNorm1d(3)(np.ones((1, 3), np.float32))
    bn = nn.BatchNorm1d(3).eval()
    assert bn(np.ones((1, 3), np.float32)).shape == (1, 3)


def test_erf_matches_math_erf():
    x = np.linspace(-12, 12, 4801)
    ref = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(_erf(x) - ref)) < 1e-14
    assert np.max(np.abs(_erf(x.astype(np.float32)) - ref)) < 1e-6
    assert _erf(x.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(approximate):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    x = _x(5000, seed=6) * 4
    for dtype in (np.float64, np.float32):
        xd = x.astype(dtype)
        got = nn.GELU(approximate)(xd)
        want = torch.nn.functional.gelu(torch.tensor(xd), approximate=approximate).numpy()
        assert got.dtype == dtype
        # float32: |x| up to ~16, where one float32 ulp is ~1e-6; torch's vectorised erf differs by CPU ISA.
        np.testing.assert_allclose(got, want, atol=4e-6 if dtype == np.float32 else 1e-12)


def test_softmax_layer_gives_probabilities():
    p = nn.Softmax()(_x((3, 4)).astype(np.float32) * 50)
    assert p.dtype == np.float32 and np.allclose(p.sum(axis=1), 1) and np.all(p >= 0)


# --- in a model -------------------------------------------------------------------------------------------

def _deep_model(dtype=np.float64):
    return nn.Sequential(nn.Linear(6, 8, rng=0, dtype=dtype), nn.BatchNorm1d(8, dtype=dtype), nn.GELU(),
                         nn.Dropout(0.2, rng=1), nn.Linear(8, 3, rng=2, dtype=dtype))


def test_model_with_new_layers_checkpoints_and_rebuilds(tmp_path):
    model = _deep_model(np.float32)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 6)).astype(np.float32), rng.integers(0, 3, 64)
    nn.fit(model, nn.CrossEntropyLoss(), nn.Adam(model, lr=0.01), x, y, epochs=2, batch_size=16, verbose=0)
    assert model[1].buffers["num_batches_tracked"] == 8
    nn.save_model(tmp_path / "m.safetensors", model)
    loaded, _ = nn.load_model(tmp_path / "m.safetensors")
    assert [type(l).__name__ for l in loaded.layers] == ["Linear", "BatchNorm1d", "GELU", "Dropout", "Linear"]
    assert loaded[1].params["weight"].dtype == np.float32 and loaded[3].p == 0.2
    np.testing.assert_array_equal(loaded.predict_logits(x), model.predict_logits(x))  # eval: no dropout, running stats


def test_model_gradients_through_batchnorm_and_gelu():
    model = _deep_model()
    model[3].p = 0.0  # dropout off: the numerical check re-runs forward many times
    rng = np.random.default_rng(1)
    errors = nn.check_model(model, nn.CrossEntropyLoss(), rng.standard_normal((10, 6)), rng.integers(0, 3, 10))
    assert max(errors.values()) < TOL, errors
