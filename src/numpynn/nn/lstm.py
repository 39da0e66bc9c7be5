"""LSTM (torch.nn.LSTM): gates i, f, g, o in torch's order; its time loop and backpropagation through time.

Per step, with the input projection already in xw_t (see nn/recurrent.py):
    i, f, g, o = split(xw_t + h_{t-1} @ W_hh.T)          sigmoid on i, f, o; tanh on g
    c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)
"""

import numpy as np

from numpynn.nn.layers import LAYERS
from numpynn.nn.recurrent import RNNBase


def _sigmoid_(a: np.ndarray) -> None:
    """In place: sigmoid(a) = (1 + tanh(a / 2)) / 2, which never overflows (exp(-a) would for a << 0)."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5


class LSTM(RNNBase):
    """Long short-term memory: x (T, N, input_size) -> output (T, N, D * hidden_size); keeps h_n and c_n."""

    gates = 4
    mode = "LSTM"

    def _scan(self, xw, weight_hh, bias_hh):
        t, n, four_h = xw.shape
        h = four_h // 4
        hs = np.zeros((t + 1, n, h), xw.dtype)
        cs = np.zeros((t + 1, n, h), xw.dtype)
        tanh_c = np.empty((t, n, h), xw.dtype)
        acts = xw                                    # the gates are activated in place, step by step
        for s in range(t):
            a = acts[s]
            a += hs[s] @ weight_hh.T
            _sigmoid_(a[:, :2 * h])                   # i, f
            np.tanh(a[:, 2 * h:3 * h], out=a[:, 2 * h:3 * h])  # g
            _sigmoid_(a[:, 3 * h:])                   # o
            i, f, g, o = a[:, :h], a[:, h:2 * h], a[:, 2 * h:3 * h], a[:, 3 * h:]
            np.multiply(f, cs[s], out=cs[s + 1])
            cs[s + 1] += i * g
            np.tanh(cs[s + 1], out=tanh_c[s])
            np.multiply(o, tanh_c[s], out=hs[s + 1])
        return hs, (acts, cs, tanh_c)

    def _scan_backward(self, d_hs, weight_hh, hs, cache):
        acts, cs, tanh_c = cache
        h = d_hs.shape[2]
        d_gates = np.empty_like(acts)                # pre-activation gradients (T, N, 4H), one row block per step
        dh = np.zeros_like(d_hs[0])
        dc = np.zeros_like(d_hs[0])
        tmp = np.empty_like(dh)
        for s in reversed(range(len(d_hs))):
            dh += d_hs[s]
            a, d = acts[s], d_gates[s]
            i, f, g, o = a[:, :h], a[:, h:2 * h], a[:, 2 * h:3 * h], a[:, 3 * h:]
            di, df, dg, do = d[:, :h], d[:, h:2 * h], d[:, 2 * h:3 * h], d[:, 3 * h:]
            # h = o * tanh(c): do = dh * tanh(c); dc += dh * o * (1 - tanh(c)^2)
            np.multiply(dh, tanh_c[s], out=do)
            np.multiply(tanh_c[s], tanh_c[s], out=tmp)
            np.subtract(1, tmp, out=tmp)
            tmp *= o
            tmp *= dh
            dc += tmp
            # c = f * c_prev + i * g
            np.multiply(dc, g, out=di)
            np.multiply(dc, cs[s], out=df)
            np.multiply(dc, i, out=dg)
            dc *= f                                  # the carry to step s - 1
            # through the activations: sigmoid' = y (1 - y), tanh' = 1 - y^2
            d[:, :2 * h] *= a[:, :2 * h] * (1 - a[:, :2 * h])
            dg *= 1 - g * g
            do *= o * (1 - o)
            dh = d @ weight_hh
        return d_gates, d_gates


LAYERS.update(LSTM=LSTM)
