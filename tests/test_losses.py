"""Losses: values against textbook formulas, gradients against central differences, clear errors."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.gradcheck import check_loss

rng = np.random.default_rng(0)


def test_cross_entropy_value_and_gradient_with_labels():
    z, y = rng.standard_normal((6, 4)), np.array([0, 3, 1, 1, 2, 0])
    loss_fn = nn.CrossEntropyLoss()
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert np.isclose(loss_fn(z, y), -np.mean(np.log(p[np.arange(6), y])))
    assert check_loss(loss_fn, z, y) < 1e-7
    loss_fn(z, y)
    np.testing.assert_allclose(loss_fn.backward(), (p - np.eye(4)[y]) / 6)


def test_cross_entropy_one_hot_and_soft_targets_match_labels():
    z, y = rng.standard_normal((5, 3)), np.array([2, 0, 1, 1, 0])
    assert np.isclose(nn.CrossEntropyLoss()(z, np.eye(3)[y]), nn.CrossEntropyLoss()(z, y))
    soft = rng.dirichlet(np.ones(3), size=5)
    assert check_loss(nn.CrossEntropyLoss(), z, soft) < 1e-7


def test_mse_and_bce_gradients():
    pred, target = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    assert np.isclose(nn.MSELoss()(pred, target), np.mean((pred - target) ** 2))
    assert check_loss(nn.MSELoss(), pred, target) < 1e-7
    assert check_loss(nn.BCEWithLogitsLoss(), pred, (target > 0).astype(float)) < 1e-7


def test_negative_control_wrong_loss_gradient_is_caught():
    class Broken(nn.CrossEntropyLoss):
        def backward(self):
            return super().backward() * len(self.probs)  # forgot to divide by n

    assert check_loss(Broken(), rng.standard_normal((4, 3)), np.array([0, 1, 2, 0])) > 0.1


def test_float32_stays_float32():
    z = rng.standard_normal((8, 10)).astype(np.float32)
    for loss_fn, target in [(nn.CrossEntropyLoss(), np.arange(8) % 10), (nn.CrossEntropyLoss(), np.eye(10)[:8]),
                            (nn.MSELoss(), np.zeros((8, 10))), (nn.BCEWithLogitsLoss(), np.ones((8, 10)))]:
        loss_fn(z, target)
        assert loss_fn.backward().dtype == np.float32


def test_cross_entropy_is_finite_for_huge_logits():
    z = np.array([[1e4, 0.0], [0.0, 1e4]], dtype=np.float32)
    loss_fn = nn.CrossEntropyLoss()
    assert np.isclose(loss_fn(z, np.array([1, 1])), 5e3)
    assert np.all(np.isfinite(loss_fn.backward()))


@pytest.mark.parametrize("target, message", [
    (np.array([0, 5]), r"integer labels in \[0, 3\)"),
    (np.array([0, -1]), r"integer labels in \[0, 3\)"),
    (np.array([0.0, 1.0]), "integer labels"),
    (np.array([0, 1, 2]), "2 predictions but 3 targets"),
    (np.zeros((2, 4)), r"one-hot \(N, 3\)"),
])
def test_cross_entropy_rejects_bad_targets(target, message):
    with pytest.raises(ValueError, match=message):
        nn.CrossEntropyLoss()(np.zeros((2, 3)), target)


def test_mse_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="make them equal"):
        nn.MSELoss()(np.zeros((4, 1)), np.zeros(4))
