"""Every layer's backward against float64 central differences, plus a negative control that a bug is caught."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.gradcheck import check_layer

TOL = 1e-6


def _x(shape, seed=0, avoid_zero=False):
    x = np.random.default_rng(seed).standard_normal(shape)
    if avoid_zero:  # ReLU-like kinks at 0 are not differentiable: keep inputs away from them
        x = np.where(np.abs(x) < 0.1, 0.5, x)
    return x


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(bias):
    layer = nn.Linear(5, 4, bias=bias, rng=1, dtype=np.float64)
    errors = check_layer(layer, _x((6, 5)))
    assert set(errors) == {"input", "weight"} | ({"bias"} if bias else set())
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("layer", [nn.ReLU(), nn.LeakyReLU(0.1), nn.Sigmoid(), nn.Tanh(), nn.Flatten()],
                         ids=lambda l: type(l).__name__)
def test_activation_gradients(layer):
    errors = check_layer(layer, _x((4, 7), seed=2, avoid_zero=True))
    assert errors["input"] < TOL, errors


def test_negative_control_broken_backward_is_caught():
    class BrokenTanh(nn.Tanh):
        def backward(self, grad_out):
            return grad_out * (1 - self.out)  # wrong: should be 1 - out**2

    assert check_layer(BrokenTanh(), _x((4, 7), seed=3))["input"] > 1e-2

    class BrokenLinear(nn.Linear):
        def backward(self, grad_out):
            g = super().backward(grad_out)
            self.grads["weight"] *= 1.01  # a 1 % error must not slip through
            return g

    assert check_layer(BrokenLinear(3, 2, rng=0, dtype=np.float64), _x((5, 3)))["weight"] > 1e-3


def test_linear_shapes_follow_pytorch():
    layer = nn.Linear(784, 256)
    assert layer.params["weight"].shape == (256, 784) and layer.params["bias"].shape == (256,)
    assert layer.params["weight"].dtype == np.float32
    assert layer.forward(np.ones((3, 784), np.float32)).shape == (3, 256)


@pytest.mark.parametrize("init", ["normal", "he", "xavier", "pytorch"])
def test_initialisers_have_the_documented_scale(init):
    w = nn.Linear(1000, 400, init=init, rng=0).params["weight"]
    expected = {"normal": 0.01, "he": np.sqrt(2 / 1000), "xavier": np.sqrt(2 / 1400),
                "pytorch": 1 / np.sqrt(3 * 1000)}[init]
    assert abs(w.std() / expected - 1) < 0.02
    assert abs(w.mean()) < 0.1 * expected


def test_init_is_seeded_and_leaves_global_state_alone():
    state = np.random.get_state()[1].copy()
    a, b = nn.Linear(10, 5, rng=7), nn.Linear(10, 5, rng=7)
    np.testing.assert_array_equal(a.params["weight"], b.params["weight"])
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_unknown_init_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown init 'ones'"):
        nn.Linear(2, 2, init="ones")


def test_activations_keep_float32():
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    for layer in (nn.ReLU(), nn.LeakyReLU(), nn.Sigmoid(), nn.Tanh()):
        assert layer.forward(x).dtype == np.float32
        assert layer.backward(np.ones_like(x)).dtype == np.float32


@pytest.mark.parametrize("sizes", [(0, 3), (3, 0), (-1, 2)])
def test_a_linear_layer_without_inputs_or_outputs_is_a_clear_error(sizes):
    """Issue 17 item 11: Linear(0, 3) raised ZeroDivisionError from the initialiser; Linear(3, 0) predicted nothing."""
    with pytest.raises(ValueError, match=r"Linear needs in_features >= 1 and out_features >= 1"):
        nn.Linear(*sizes)


def test_softmax_with_a_dim_the_input_lacks_names_the_layer():
    """Issue 17 item 34: Softmax(dim=5) on (N, C) logits gave numpy's AxisError, which names no layer."""
    with pytest.raises(ValueError, match=r"Softmax\(dim=5\) got 2-D input of shape \(2, 3\); dim must be in -2..1"):
        nn.Softmax(dim=5)(np.zeros((2, 3), np.float32))
    assert nn.Softmax(dim=1)(np.zeros((2, 3), np.float32)).shape == (2, 3)
