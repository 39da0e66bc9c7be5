"""MultiheadAttention and TransformerEncoderLayer: float64 gradient checks (with a negative control) and
equality with torch for outputs, input and parameter gradients and attention weights, over heads, lengths,
masks, is_causal, norm_first, activations and both batch_first values."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.gradcheck import check_layer, numerical_gradient
from numpynn.nn.attention import causal_mask

TOL = 1e-6


def _x(shape, seed=5):
    return np.random.default_rng(seed).standard_normal(shape)


class _Masked:
    """A layer whose forward passes fixed masks, so check_layer (which calls forward(x)) sees them."""

    def __init__(self, layer, **masks):
        self.layer, self.masks = layer, masks
        self.params, self.grads = layer.params, layer.grads

    def forward(self, x):
        return self.layer.forward(x, **self.masks)

    def backward(self, g):
        return self.layer.backward(g)


def _assert_gradients(layer, x, **masks):
    """check_layer's worst relative error < TOL, except for an attention's key bias: its true gradient is exactly
    0 (q . b_k shifts every score of a row alike, and softmax ignores that), where central differences give
    round-off ~1e-11, so a relative error means nothing there; it is checked as an absolute one instead."""
    errors = check_layer(_Masked(layer, **masks), x)
    biases = [k for k in errors if k.endswith("in_proj_bias")]
    relative = {k: v for k, v in errors.items() if k not in biases}
    assert max(relative.values()) < TOL, relative
    r = _x(layer.forward(x, **masks).shape, 0)
    layer.backward(r)
    analytic = {k: layer.grads[k].copy() for k in biases}
    for key in biases:
        numeric = numerical_gradient(lambda: float(np.sum(layer.forward(x, **masks) * r)), layer.params[key])
        assert np.abs(numeric - analytic[key]).max() < 1e-8, key
        assert np.abs(analytic[key][8:16]).max() < 1e-12  # the key part (embed_dim 8 in these tests)


@pytest.mark.parametrize("heads,batch_first,masks", [
    (1, False, {}), (2, True, {"is_causal": True}), (4, False, {"key_padding_mask": np.array([[0, 0, 0, 1]] * 2,
                                                                                               bool)})], ids=str)
def test_attention_gradients(heads, batch_first, masks):
    layer = nn.MultiheadAttention(8, heads, batch_first=batch_first, rng=0, dtype=np.float64)
    _assert_gradients(layer, _x((2, 4, 8) if batch_first else (4, 2, 8)), **masks)


def test_negative_control_attention_without_the_softmax_jacobian_is_caught():
    class Broken(nn.MultiheadAttention):  # softmax backward without its "- sum(d_attn * attn)" term
        def _softmax_backward(self, d_attn):
            return d_attn * self.attn

    errors = check_layer(Broken(8, 2, rng=0, dtype=np.float64), _x((3, 2, 8)))
    assert errors["input"] > 1e-2, errors


@pytest.mark.parametrize("norm_first,activation,batch_first", [(False, "relu", False), (True, "gelu", True)])
def test_encoder_layer_gradients(norm_first, activation, batch_first):
    layer = nn.TransformerEncoderLayer(8, 2, 12, dropout=0.0, activation=activation, batch_first=batch_first,
                                       norm_first=norm_first, rng=0, dtype=np.float64)
    _assert_gradients(layer, _x((2, 3, 8)))


def _pair(cls, args, kwargs, torch):
    ours = getattr(nn, cls)(*args, **kwargs, rng=1, dtype=np.float64)
    ref = getattr(torch.nn, cls)(*args, **kwargs, dtype=torch.float64)
    assert sorted(ref.state_dict()) == sorted(ours.params)  # torch's names: in_proj_weight, out_proj.weight, ...
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.params.items()})
    ours.needs_input_grad = True
    return ours, ref


def _compare(ours, ref, x, run_ref, torch, **kwargs):
    xt = torch.tensor(x, requires_grad=True)
    out = run_ref(xt)
    g = _x(out.shape, 9)
    out.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.forward(x, **kwargs), out.detach().numpy(), atol=TOL, rtol=0)
    np.testing.assert_allclose(ours.backward(g), xt.grad.numpy(), atol=TOL, rtol=0)
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(ours.grads[name], p.grad.numpy(), atol=TOL, rtol=0, err_msg=name)


MASKS = ["none", "bool", "float", "causal", "padding"]


@pytest.mark.parametrize("length,batch,heads,batch_first", [(1, 1, 1, False), (5, 3, 2, True), (7, 2, 4, False)])
@pytest.mark.parametrize("mask", MASKS)
def test_attention_equals_torch(length, batch, heads, batch_first, mask):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    ours, ref = _pair("MultiheadAttention", (8, heads), {"batch_first": batch_first}, torch)
    rng = np.random.default_rng(length)
    kw, tkw = {}, {}
    if mask == "bool":
        m = rng.random((length, length)) < 0.3
        np.fill_diagonal(m, False)  # every query keeps one key: a fully masked row is NaN in torch too
        kw, tkw = {"attn_mask": m}, {"attn_mask": torch.from_numpy(m)}
    elif mask == "float":
        m = rng.standard_normal((batch * heads, length, length))
        kw, tkw = {"attn_mask": m}, {"attn_mask": torch.from_numpy(m)}
    elif mask == "causal":
        kw, tkw = {"is_causal": True}, {"attn_mask": torch.from_numpy(causal_mask(length)), "is_causal": True}
    elif mask == "padding":
        m = np.zeros((batch, length), bool)
        m[0, 1:] = True
        kw, tkw = {"key_padding_mask": m}, {"key_padding_mask": torch.from_numpy(m)}
    shape = (batch, length, 8) if batch_first else (length, batch, 8)
    _compare(ours, ref, _x(shape), lambda t: ref(t, t, t, **tkw)[0], torch, **kw)
    _, weights = ref(*[torch.from_numpy(_x(shape))] * 3, **tkw)
    ours.forward(_x(shape), **kw)
    np.testing.assert_allclose(ours.attn_weights, weights.detach().numpy(), atol=TOL, rtol=0)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first,shape,mask", [(True, (1, 6, 8), None), (False, (4, 3, 8), "causal"),
                                                    (True, (2, 9, 8), "padding")])
def test_encoder_layer_equals_torch(norm_first, activation, batch_first, shape, mask):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    kwargs = {"dim_feedforward": 16, "dropout": 0.0, "activation": activation, "batch_first": batch_first,
              "norm_first": norm_first}
    ours, ref = _pair("TransformerEncoderLayer", (8, 2), kwargs, torch)
    length = shape[1] if batch_first else shape[0]
    kw, tkw = {}, {}
    if mask == "causal":
        kw, tkw = {"is_causal": True}, {"src_mask": torch.from_numpy(causal_mask(length)), "is_causal": True}
    elif mask == "padding":
        m = np.zeros((shape[0], length), bool)
        m[1, -3:] = True
        kw, tkw = {"src_key_padding_mask": m}, {"src_key_padding_mask": torch.from_numpy(m)}
    ref.train()  # torch's inference fast path is another code path; dropout is 0, so train mode is deterministic
    _compare(ours, ref, _x(shape), lambda t: ref(t, **tkw), torch, **kw)


def test_attention_init_matches_torchs_scheme():
    layer = nn.MultiheadAttention(64, 4, rng=0)
    bound = np.sqrt(6 / (64 + 192))
    assert np.abs(layer.params["in_proj_weight"]).max() <= bound
    assert not layer.params["in_proj_bias"].any() and not layer.params["out_proj.bias"].any()
    assert layer.params["out_proj.weight"].shape == (64, 64) and layer.params["in_proj_weight"].dtype == np.float32


def test_attention_refuses_heads_that_do_not_divide():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
