"""Sequential: PyTorch names and shapes, whole-model gradients, state_dict round trips, dtype discipline."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.gradcheck import check_model


def test_state_dict_names_and_shapes_match_torch_sequential():
    model = nn.mlp([784, 256, 10])
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert shapes == {"0.weight": (256, 784), "0.bias": (256,), "2.weight": (10, 256), "2.bias": (10,)}
    assert set(model.grads()) == set(shapes)
    assert model.num_parameters() == 784 * 256 + 256 + 256 * 10 + 10


def test_state_dict_is_loadable_by_torch_when_installed():
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    model = nn.mlp([12, 7, 3], seed=1)
    tm = torch.nn.Sequential(torch.nn.Linear(12, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 12)).astype(np.float32)
    np.testing.assert_allclose(tm(torch.from_numpy(x)).detach().numpy(), model(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu"])
def test_whole_model_gradients(activation):
    rng = np.random.default_rng(0)
    model = nn.mlp([6, 5, 4, 3], activation=activation, init="xavier", dtype=np.float64, seed=3)
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    errors = check_model(model, nn.CrossEntropyLoss(), x, y)
    assert max(errors.values()) < 1e-6, errors


def test_input_gradient_on_request():
    rng = np.random.default_rng(1)
    model = nn.mlp([4, 3, 2], dtype=np.float64, seed=0)
    x = rng.standard_normal((3, 4))
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(x), np.array([0, 1, 1]))
    assert model.backward(loss_fn.backward()) is None  # skipped by default: training never needs it
    loss_fn(model(x), np.array([0, 1, 1]))
    gx = model.backward(loss_fn.backward(), input_grad=True)
    num = nn.numerical_gradient(lambda: loss_fn(model(x), np.array([0, 1, 1])), x)
    np.testing.assert_allclose(gx, num, rtol=1e-6, atol=1e-9)


def test_load_state_dict_round_trip_and_validation():
    a, b = nn.mlp([5, 4, 2], seed=0), nn.mlp([5, 4, 2], seed=1)
    b.load_state_dict(a.state_dict())
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and np.array_equal(pa, pb)
    sd = a.state_dict()
    with pytest.raises(ValueError, match="missing"):
        b.load_state_dict({k: v for k, v in sd.items() if k != "0.bias"})
    with pytest.raises(ValueError, match="shape"):
        b.load_state_dict({**sd, "0.weight": np.zeros((3, 5), np.float32)})
    with pytest.raises(ValueError, match="not finite"):
        b.load_state_dict({**sd, "2.bias": np.array([np.nan, 0], np.float32)})


def test_state_dict_returns_copies():
    model = nn.mlp([3, 2])
    sd = model.state_dict()
    sd["0.weight"][...] = 123
    assert not np.any(model[0].params["weight"] == 123)


def test_float32_model_never_becomes_float64():
    model = nn.mlp([4, 3, 2])
    out = model(np.ones((2, 4), dtype=np.float64))
    assert out.dtype == np.float32
    model.load_state_dict({k: v.astype(np.float64) for k, v in model.state_dict().items()})
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert nn.mlp([4, 2], dtype=np.float64)(np.ones((1, 4), np.float32)).dtype == np.float64


def test_config_round_trip_and_modes():
    model = nn.Sequential(nn.Linear(4, 3), nn.LeakyReLU(0.2), nn.Linear(3, 2, bias=False), nn.Sigmoid())
    clone = nn.Sequential.from_config(model.config())
    assert [type(l) for l in clone.layers] == [type(l) for l in model.layers]
    assert clone[1].negative_slope == 0.2 and "bias" not in clone[2].params
    clone.load_state_dict(model.state_dict())
    x = np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(clone(x), model(x))
    model.eval()
    assert not model.training and not any(l.training for l in model.layers)
    assert "Linear(in_features=4, out_features=3, bias=True)" in repr(model.train())


def test_predict_and_predict_proba():
    model = nn.mlp([3, 4, 5], seed=0)
    x = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    proba = model.predict_proba(x, batch_size=3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(x), proba.argmax(axis=1))
    assert model.training  # restored after inference


@pytest.mark.parametrize("sizes, message", [([784], "at least two"), ([784, 0, 10], "positive")])
def test_mlp_rejects_bad_sizes(sizes, message):
    with pytest.raises(ValueError, match=message):
        nn.mlp(sizes)


def test_mlp_rejects_unknown_activation():
    with pytest.raises(ValueError, match="Unknown activation 'swish'"):
        nn.mlp([3, 2, 1], activation="swish")


def test_load_state_dict_checks_finiteness_in_the_model_dtype():
    """Issue 17 item 18: 1e300 is finite in float64 but inf once cast into a float32 model, and was loaded."""
    model = nn.mlp([3, 2], seed=0)
    before = model.state_dict()
    state = {k: v.astype(np.float64) for k, v in before.items()}
    state["0.weight"][0, 0] = 1e300
    with pytest.raises(ValueError, match="'0.weight' is not finite numbers in the model's float32"):
        model.load_state_dict(state)
    assert all(np.array_equal(model.state_dict()[k], v) for k, v in before.items())  # nothing half-loaded
    state["0.weight"][0, 0] = 1e30  # large but representable in float32: loads, cast
    model.load_state_dict(state)
    assert model[0].params["weight"].dtype == np.float32 and model[0].params["weight"][0, 0] == np.float32(1e30)


def test_outputs_that_overflow_are_an_error_never_a_nan_prediction():
    """Issue 17 item 14: finite but extreme weights gave NaN probabilities, printed as "nan%" with exit 0."""
    model = nn.mlp([3, 4, 2], seed=0)
    model[0].params["weight"][:] = 3e38
    x = np.ones((5, 3), np.float32)
    for predict in (model.predict, model.predict_proba, model.predict_logits):
        with pytest.raises(ValueError, match="outputs are NaN or infinite for 5 of 5 rows"):
            predict(x)
    model[0].params["weight"][:] = 1.0
    assert np.isfinite(model.predict_proba(x)).all()
