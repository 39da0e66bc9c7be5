"""Conv2d: float64 gradient checks over strides, padding and kernel shapes, torch equality, layout, negative control."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.gradcheck import check_layer

TOL = 1e-6

# (N, C, H, W, out_channels, kernel_size, stride, padding)
CASES = [
    (2, 3, 6, 5, 4, 3, 1, 0),
    (1, 1, 5, 5, 2, 3, 1, 1),                 # batch 1, one channel, same padding
    (2, 2, 7, 6, 3, (3, 2), (2, 1), (1, 0)),  # non-square kernel, stride and padding
    (3, 4, 6, 6, 2, 2, 2, 0),                 # non-overlapping windows
    (2, 3, 5, 4, 2, 1, 1, 0),                 # 1x1 convolution
    (1, 2, 8, 7, 3, 3, 3, 2),                 # stride larger than the padding, uncovered border
]
IDS = [f"N{c[0]}C{c[1]}-{c[2]}x{c[3]}-k{c[5]}-s{c[6]}-p{c[7]}" for c in CASES]


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_gradients(case, bias):
    n, c, h, w, o, k, s, p = case
    layer = nn.Conv2d(c, o, k, stride=s, padding=p, bias=bias, rng=1, dtype=np.float64)
    errors = check_layer(layer, _x((n, c, h, w)))
    assert set(errors) == {"input", "weight"} | ({"bias"} if bias else set())
    assert max(errors.values()) < TOL, errors


def test_negative_control_broken_conv_backward_is_caught():
    class FlippedConv(nn.Conv2d):  # the classic bug: the input gradient through an un-flipped (wrong) kernel
        def backward(self, grad_out):
            dx = super().backward(grad_out)
            return dx[:, :, ::-1, ::-1]

    class NoOverlapConv(nn.Conv2d):  # col2im that overwrites instead of summing overlapping windows
        def backward(self, grad_out):
            super().backward(grad_out)
            return np.zeros(self.x_shape)

    x = _x((2, 2, 6, 5), seed=3)
    assert check_layer(FlippedConv(2, 3, 3, rng=0, dtype=np.float64), x)["input"] > 1e-2
    assert check_layer(NoOverlapConv(2, 3, 3, rng=0, dtype=np.float64), x)["input"] > 1e-2


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv2d_equals_torch_forward_and_gradients(case):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    n, c, h, w, o, k, s, p = case
    layer = nn.Conv2d(c, o, k, stride=s, padding=p, rng=2, dtype=np.float64)
    ref = torch.nn.Conv2d(c, o, k, stride=s, padding=p, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.params["weight"].copy()))
        ref.bias.copy_(torch.from_numpy(layer.params["bias"]))
    x, g = _x((n, c, h, w), 4), None
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    g = _x(tuple(yt.shape), 5)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(layer.forward(x), yt.detach().numpy(), atol=1e-6, rtol=0)
    np.testing.assert_allclose(layer.backward(g), xt.grad.numpy(), atol=1e-6, rtol=0)
    np.testing.assert_allclose(layer.grads["weight"], ref.weight.grad.numpy(), atol=1e-6, rtol=0)
    np.testing.assert_allclose(layer.grads["bias"], ref.bias.grad.numpy(), atol=1e-6, rtol=0)


def test_outputs_and_weights_are_channels_last_in_memory_behind_nchw_shapes():
    layer = nn.Conv2d(3, 5, 3, padding=1, rng=0)
    y = layer.forward(np.ones((2, 3, 6, 6), np.float32))
    assert y.shape == (2, 5, 6, 6) and y.dtype == np.float32
    assert y.transpose(0, 2, 3, 1).flags.c_contiguous               # no transpose copy after the GEMM
    w = layer.params["weight"]
    assert w.shape == (5, 3, 3, 3) and w.transpose(0, 2, 3, 1).flags.c_contiguous
    assert layer.grads["weight"].strides == w.strides               # so the weight gradient GEMM writes in place


@pytest.mark.parametrize("bias", [True, False])
def test_one_channel_layouts_are_the_same_function(monkeypatch, bias):
    """A one-channel Conv2d writes channel-major memory (weight @ columns); the channels-last layout it replaced
    (columns.T @ weight.T, kept behind CHANNEL_MAJOR_ONE_CHANNEL for benchmarks/conv_layout.py) must give the
    same outputs and gradients, and a multi-channel Conv2d behind it the same again."""
    from numpynn.nn import conv as conv_layer

    x, results = _x((3, 1, 9, 8)), []
    for channel_major in (True, False):
        monkeypatch.setattr(conv_layer, "CHANNEL_MAJOR_ONE_CHANNEL", channel_major)
        first, second = (nn.Conv2d(1, 4, 3, bias=bias, rng=1, dtype=np.float64),
                         nn.Conv2d(4, 2, 2, stride=2, rng=2, dtype=np.float64))
        second.needs_input_grad = first.needs_input_grad = True
        y = first.forward(x)
        order = (1, 0, 2, 3) if channel_major else (0, 2, 3, 1)
        assert y.transpose(order).flags.c_contiguous
        z = second.forward(np.maximum(y, 0))
        dx = first.backward(second.backward(np.ones_like(z)) * (y > 0))
        results.append((y, z, dx, *first.grads.values(), *second.grads.values()))
        assert max(check_layer(first, x).values()) < TOL
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_replaced_c_order_arrays_still_give_the_right_gradients():
    layer = nn.Conv2d(2, 3, 3, rng=0, dtype=np.float64)
    layer.params["weight"] = np.ascontiguousarray(layer.params["weight"])
    layer.grads["weight"] = np.zeros_like(layer.params["weight"])
    assert max(check_layer(layer, _x((2, 2, 5, 5))).values()) < TOL


def test_buffers_are_kept_across_steps_and_shrinking_batches():
    layer = nn.Conv2d(1, 2, 3, rng=0, dtype=np.float64)
    layer.forward(_x((4, 1, 6, 6)))
    buf = layer._cols
    small = layer.forward(_x((3, 1, 6, 6), 1))
    assert layer._cols is buf  # a smaller last batch uses the front of the kept im2col buffer
    np.testing.assert_allclose(small, nn.functional.conv2d(_x((3, 1, 6, 6), 1), layer.params["weight"],
                                                           layer.params["bias"]), atol=1e-12)


def test_float32_stays_float32():
    layer = nn.Conv2d(1, 2, 3, rng=0)
    y = layer.forward(np.ones((2, 1, 5, 5), np.float32))
    assert y.dtype == np.float32 and layer.backward(np.ones_like(y)).dtype == np.float32
    assert layer.grads["weight"].dtype == np.float32


@pytest.mark.parametrize("kwargs, message", [
    ({"in_channels": 0, "out_channels": 2, "kernel_size": 3}, "positive channels"),
    ({"in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": -1}, "padding >= 0"),
    ({"in_channels": 1, "out_channels": 2, "kernel_size": 3, "init": "nope"}, "Unknown init"),
])
def test_bad_arguments_are_one_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(**kwargs)


def test_wrong_input_is_one_clear_error():
    layer = nn.Conv2d(3, 2, 5)
    with pytest.raises(ValueError, match=r"expects input \(N, 3, H, W\)"):
        layer.forward(np.ones((2, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match="smaller than"):
        layer.forward(np.ones((2, 3, 4, 8), np.float32))


def test_init_uses_torch_fans():
    # torch: kaiming_uniform(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C * kh * kw.
    w = nn.Conv2d(8, 64, 3, rng=0).params["weight"]
    bound = 1 / np.sqrt(8 * 9)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    he = nn.Conv2d(8, 64, 3, init="he", rng=0).params["weight"]
    assert abs(he.std() - np.sqrt(2 / 72)) < 0.01
