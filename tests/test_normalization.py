"""BatchNorm2d: float64 gradient checks in train and eval mode, torch equality including running statistics."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.gradcheck import check_layer

TOL = 1e-6


def _x(shape, seed=7):  # not check_layer's seed 0: its random r would be affine in x, and every gradient ~0
    return np.random.default_rng(seed).standard_normal(shape) * 2 + 1


@pytest.mark.parametrize("shape", [(4, 3, 5, 4), (1, 2, 3, 3), (2, 1, 4, 6)], ids=str)
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm2d_gradients_in_training(shape, affine):
    layer = nn.BatchNorm2d(shape[1], affine=affine, dtype=np.float64)
    if affine:  # not the identity initial values, so a swapped weight/bias gradient would show
        layer.params["weight"][:] = np.linspace(0.5, 2, shape[1])
        layer.params["bias"][:] = np.linspace(-1, 1, shape[1])
    errors = check_layer(layer, _x(shape))
    assert max(errors.values()) < TOL, errors


def _in_memory(x, order):  # the same (N, C, H, W) values with memory in `order` ("NCHW", "NHWC" or "CNHW")
    perm = {"NCHW": (0, 1, 2, 3), "NHWC": (0, 2, 3, 1), "CNHW": (1, 0, 2, 3)}[order]
    return np.ascontiguousarray(x.transpose(perm)).transpose(np.argsort(perm))


@pytest.mark.parametrize("order", ["NHWC", "CNHW"])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm2d_is_the_same_function_in_every_memory_order(order, training):
    """Conv2d hands BatchNorm2d channels-last memory, a one-channel Conv2d channel-major memory (nn/conv.py):
    each runs its own 2-D view, and must give NCHW input's outputs and gradients, in the input's order."""
    x, g = _x((4, 3, 5, 4)), _x((4, 3, 5, 4), 8)
    results = []
    for o in ("NCHW", order):
        layer = nn.BatchNorm2d(3, dtype=np.float64)
        layer.params["weight"][:], layer.params["bias"][:] = [0.5, 1, 2], [-1, 0, 1]
        layer.forward(_x((4, 3, 5, 4), 1))
        layer.train(training)
        out = layer.forward(_in_memory(x, o))
        dx = layer.backward(_in_memory(g, o))
        results.append((out, dx, layer.grads["weight"].copy(), layer.grads["bias"].copy(),
                        layer.buffers["running_mean"].copy(), layer.buffers["running_var"].copy()))
        if o == order:
            assert out.strides == _in_memory(out, o).strides and dx.strides == _in_memory(dx, o).strides
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    if training:  # and the float64 gradient check in that memory order
        layer = nn.BatchNorm2d(3, dtype=np.float64)
        assert max(check_layer(layer, _in_memory(_x((4, 3, 5, 4), 9), order)).values()) < TOL


def test_batchnorm2d_gradients_in_eval():
    layer = nn.BatchNorm2d(3, dtype=np.float64)
    layer.forward(_x((4, 3, 5, 5), 1))  # some running statistics
    layer.eval()
    assert max(check_layer(layer, _x((2, 3, 4, 4), 2)).values()) < TOL


def test_negative_control_batchnorm2d_without_the_batch_terms_is_caught():
    class Broken(nn.BatchNorm2d):  # treats the batch statistics as constants in training: a classic bug
        def backward(self, grad_out):
            super().backward(grad_out)
            return grad_out * (self.params["weight"] * self.inv_std)[:, None, None]

    assert check_layer(Broken(3, dtype=np.float64), _x((4, 3, 3, 3), 3))["input"] > 1e-2


def test_batchnorm2d_equals_torch_in_train_and_eval_with_running_statistics():
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    layer = nn.BatchNorm2d(3, momentum=0.2, dtype=np.float64)
    ref = torch.nn.BatchNorm2d(3, momentum=0.2, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.linspace(0.5, 2, 3, dtype=torch.float64))
        ref.bias.copy_(torch.linspace(-1, 1, 3, dtype=torch.float64))
    layer.params["weight"][:] = ref.weight.detach().numpy()
    layer.params["bias"][:] = ref.bias.detach().numpy()
    for step in range(3):
        x, g = _x((4, 3, 5, 4), 10 + step), _x((4, 3, 5, 4), 20 + step)
        xt = torch.tensor(x, requires_grad=True)
        yt = ref(xt)
        yt.backward(torch.from_numpy(g))
        np.testing.assert_allclose(layer.forward(x), yt.detach().numpy(), atol=1e-6, rtol=0)
        np.testing.assert_allclose(layer.backward(g), xt.grad.numpy(), atol=1e-6, rtol=0)
        np.testing.assert_allclose(layer.grads["weight"], ref.weight.grad.numpy(), atol=1e-6, rtol=0)
        np.testing.assert_allclose(layer.grads["bias"], ref.bias.grad.numpy(), atol=1e-6, rtol=0)
        ref.weight.grad = ref.bias.grad = None
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(layer.buffers[key], getattr(ref, key).numpy(), atol=1e-12)
    layer.eval()
    ref.eval()
    x = _x((2, 3, 5, 4), 30)
    np.testing.assert_allclose(layer.forward(x), ref(torch.from_numpy(x)).detach().numpy(), atol=1e-6, rtol=0)


def test_batchnorm2d_does_not_write_into_grad_out_and_checks_its_input():
    layer = nn.BatchNorm2d(2, affine=False, dtype=np.float64)
    layer.forward(_x((3, 2, 2, 2)))
    g = _x((3, 2, 2, 2), 1)
    before = g.copy()
    layer.backward(g)
    np.testing.assert_array_equal(g, before)
    with pytest.raises(ValueError, match="after a Conv2d with out_channels=2"):
        layer.forward(np.ones((3, 4, 2, 2)))
    with pytest.raises(ValueError, match="more than one value per channel"):
        nn.BatchNorm2d(2).forward(np.ones((1, 2, 1, 1), np.float32))


def test_dropout_on_images():
    x = np.ones((8, 4, 6, 6), np.float32)
    layer = nn.Dropout(0.25, rng=0)
    y = layer.forward(x)
    assert y.shape == x.shape and y.dtype == np.float32
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)} and 0.15 < np.mean(y == 0) < 0.35
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), y)  # the same mask, the same scaling
    layer.eval()
    assert layer.forward(x) is x
