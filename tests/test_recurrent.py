"""RNN, LSTM, GRU: float64 gradient checks (with a negative control) and equality with torch, outputs,
input gradients, parameter gradients and final states, over layers, directions, lengths and both layouts."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.gradcheck import check_layer

TOL = 1e-6
KINDS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _x(shape, seed=5):  # a draw whose smallest gradients stay well above central differences' round-off
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers,bidirectional,batch_first", [(1, False, False), (2, True, True)])
def test_recurrent_gradients(kind, num_layers, bidirectional, batch_first):
    layer = KINDS[kind](3, 4, num_layers, batch_first=batch_first, bidirectional=bidirectional, rng=0,
                        dtype=np.float64)
    errors = check_layer(layer, _x((2, 4, 3)))
    assert max(errors.values()) < TOL, errors


def test_rnn_relu_gradients():
    layer = nn.RNN(3, 4, nonlinearity="relu", rng=1, dtype=np.float64)
    assert max(check_layer(layer, _x((5, 2, 3))).values()) < TOL


def test_negative_control_truncated_backpropagation_through_time_is_caught():
    class Truncated(nn.LSTM):  # forgets the recurrent gradient: each step sees only its own output's gradient
        def _scan_backward(self, d_hs, weight_hh, hs, cache):
            steps = [super(Truncated, self)._scan_backward(d_hs[s:s + 1], weight_hh, hs[s:s + 2],
                                                           tuple(c[s:s + 2] for c in cache))[0][:1]
                     for s in range(len(d_hs))]
            d = np.concatenate(steps)
            return d, d

    errors = check_layer(Truncated(3, 4, rng=0, dtype=np.float64), _x((4, 2, 3)))
    assert errors["input"] > 1e-2, errors


def _torch_pair(kind, num_layers, bidirectional, batch_first, torch):
    ours = KINDS[kind](5, 6, num_layers, batch_first=batch_first, bidirectional=bidirectional, rng=4,
                       dtype=np.float64)
    ref = getattr(torch.nn, kind.upper())(5, 6, num_layers, batch_first=batch_first, bidirectional=bidirectional,
                                          dtype=torch.float64)
    assert list(dict(ref.named_parameters())) == list(ours.params)  # torch's names, in torch's order
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.params.items()})
    return ours, ref


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape,num_layers,bidirectional,batch_first", [
    ((1, 1, 5), 1, False, False), ((7, 1, 5), 2, False, False), ((3, 9, 5), 1, True, True),
    ((2, 4, 5), 3, True, False), ((1, 12, 5), 2, False, True)], ids=str)
def test_recurrent_equals_torch(kind, shape, num_layers, bidirectional, batch_first):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    ours, ref = _torch_pair(kind, num_layers, bidirectional, batch_first, torch)
    ours.needs_input_grad = True
    x, xt = _x(shape), torch.tensor(_x(shape), requires_grad=True)
    out, states = ref(xt)
    g = _x(out.shape, 5)
    out.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.forward(x), out.detach().numpy(), atol=TOL, rtol=0)
    np.testing.assert_allclose(ours.backward(g), xt.grad.numpy(), atol=TOL, rtol=0)
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(ours.grads[name], p.grad.numpy(), atol=TOL, rtol=0, err_msg=name)
    h_n, c_n = states if kind == "lstm" else (states, None)
    np.testing.assert_allclose(ours.h_n, h_n.detach().numpy(), atol=TOL, rtol=0)
    if c_n is not None:
        np.testing.assert_allclose(ours.c_n, c_n.detach().numpy(), atol=TOL, rtol=0)


def test_recurrent_initialisation_is_torchs_uniform_bound():
    layer = nn.LSTM(10, 25, rng=0)
    bound = 1 / np.sqrt(25)
    for name, p in layer.params.items():
        assert p.dtype == np.float32
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.9 * bound, name
    assert layer.params["weight_ih_l0"].shape == (100, 10) and layer.params["weight_hh_l0"].shape == (100, 25)


def test_recurrent_refuses_wrong_input_in_one_sentence():
    with pytest.raises(ValueError, match="expects input \\(N, T, input_size\\) with input_size=3"):
        nn.GRU(3, 4, batch_first=True).forward(np.zeros((2, 5, 4), np.float32))
    with pytest.raises(ValueError, match="Dropout layer after it"):
        nn.LSTM(3, 4, dropout=0.2)
