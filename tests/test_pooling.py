"""MaxPool2d, AvgPool2d and AdaptiveAvgPool2d: float64 gradient checks, torch equality, ties, negative control."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.gradcheck import check_layer

TOL = 1e-6

# (N, C, H, W, kernel_size, stride, padding)
CASES = [
    (2, 3, 6, 6, 2, None, 0),        # the usual 2x2 pool
    (1, 1, 5, 5, 2, None, 0),        # batch 1, odd size: the last row and column are dropped (floor)
    (2, 2, 7, 6, 3, 1, 1),           # overlapping windows with padding
    (1, 3, 7, 8, (3, 2), (2, 1), 1),  # non-square window and stride
    (2, 2, 6, 5, 3, 2, 0),           # overlapping, stride 2
]
IDS = [f"N{c[0]}C{c[1]}-{c[2]}x{c[3]}-k{c[4]}-s{c[5]}-p{c[6]}" for c in CASES]
POOLS = [nn.MaxPool2d, nn.AvgPool2d]


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("pool", POOLS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pool_gradients(pool, case):
    n, c, h, w, k, s, p = case
    errors = check_layer(pool(k, s, p), _x((n, c, h, w), 1))
    assert max(errors.values()) < TOL, errors


def test_global_average_pool_gradients():
    layer = nn.AdaptiveAvgPool2d(1)
    assert layer.forward(_x((2, 3, 4, 5))).shape == (2, 3, 1, 1)
    assert check_layer(layer, _x((2, 3, 4, 5)))["input"] < TOL
    with pytest.raises(ValueError, match="only output_size=1"):
        nn.AdaptiveAvgPool2d(2)


@pytest.mark.parametrize("pool", POOLS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pool_equals_torch(pool, case):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    n, c, h, w, k, s, p = case
    ref = getattr(torch.nn, pool.__name__)(k, s, p)
    layer = pool(k, s, p)
    x = _x((n, c, h, w), 2)
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    g = _x(tuple(yt.shape), 3)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(layer.forward(x), yt.detach().numpy(), atol=1e-6, rtol=0)
    np.testing.assert_allclose(layer.backward(g), xt.grad.numpy(), atol=1e-6, rtol=0)


def test_max_pool_ties_give_the_whole_gradient_to_the_first_maximum_as_torch():
    x = np.array([[[[1.0, 1.0, 2.0, 0.0],
                    [1.0, 1.0, 2.0, 2.0],
                    [0.0, 0.0, 5.0, 5.0],
                    [0.0, 0.0, 5.0, 5.0]]]])
    layer = nn.MaxPool2d(2)
    layer.forward(x)
    grad = layer.backward(np.ones((1, 1, 2, 2)))
    expected = np.array([[[[1.0, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]]])
    np.testing.assert_array_equal(grad, expected)
    assert grad.sum() == 4  # never split, never counted twice
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, 2).sum().backward()
    np.testing.assert_array_equal(grad, xt.grad.numpy())


def test_negative_control_max_pool_gradient_to_every_tie_is_caught():
    class EveryTie(nn.MaxPool2d):  # a plausible bug: mask = (x == max) without claiming the first one
        def backward(self, grad_out):
            return np.repeat(np.repeat(grad_out, 2, 2), 2, 3) * (self.xp == np.repeat(np.repeat(self.out, 2, 2), 2, 3))

    class Shifted(nn.MaxPool2d):  # the gradient routed one pixel off
        def backward(self, grad_out):
            return np.roll(super().backward(grad_out), 1, axis=3)

    x = np.round(_x((1, 2, 4, 4), 4), 0)  # integers: ties are certain
    layer, broken = nn.MaxPool2d(2), EveryTie(2)
    g = np.ones((1, 2, 2, 2))
    layer.forward(x)
    broken.forward(x)
    assert broken.backward(g).sum() > layer.backward(g).sum() == g.sum()
    assert check_layer(Shifted(2), _x((2, 2, 4, 4), 5))["input"] > 1e-2


def test_pools_keep_dtype_and_memory_order():
    # A Conv2d's output is channels-last in memory, (N, H, W, C); a one-channel Conv2d's is channel-major,
    # (C, N, H, W) (nn/conv.py): the pools keep whichever order they get.
    for c_in, order in ((2, (0, 2, 3, 1)), (1, (1, 0, 2, 3))):
        y = nn.Conv2d(c_in, 4, 3, rng=0).forward(np.ones((2, c_in, 8, 8), np.float32))
        assert y.transpose(*order).flags.c_contiguous
        for pool in (nn.MaxPool2d(2), nn.AvgPool2d(2)):
            out = pool.forward(y)
            assert out.dtype == np.float32 and out.transpose(*order).flags.c_contiguous
            assert pool.backward(np.ones_like(out)).dtype == np.float32


def test_bad_pool_arguments_are_one_clear_error():
    with pytest.raises(ValueError, match="at most half the kernel"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="smaller than"):
        nn.MaxPool2d(3).forward(np.ones((1, 1, 2, 2)))
