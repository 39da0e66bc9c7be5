"""GRU (torch.nn.GRU): gates r, z, n in torch's order; its time loop and backpropagation through time.

Per step, with the input projection (and bias_ih) already in xw_t = [x_r, x_z, x_n] (see nn/recurrent.py):
    [h_r, h_z, h_n] = h_{t-1} @ W_hh.T + b_hh
    r = sigmoid(x_r + h_r);  z = sigmoid(x_z + h_z);  n = tanh(x_n + r * h_n)
    h_t = (1 - z) * n + z * h_{t-1}
"""

import numpy as np

from numpynn.nn.layers import LAYERS
from numpynn.nn.lstm import _sigmoid_
from numpynn.nn.recurrent import RNNBase


class GRU(RNNBase):
    """Gated recurrent unit: x (T, N, input_size) -> output (T, N, D * hidden_size); keeps h_n."""

    gates = 3
    mode = "GRU"

    def _scan(self, xw, weight_hh, bias_hh):
        t, n, three_h = xw.shape
        h = three_h // 3
        hs = np.zeros((t + 1, n, h), xw.dtype)
        hw = np.empty((t, n, three_h), xw.dtype)     # h_{t-1} @ W_hh.T + b_hh per step; backward needs its n part
        acts = xw                                    # becomes [r, z, n] in place
        for s in range(t):
            np.matmul(hs[s], weight_hh.T, out=hw[s])
            if bias_hh is not None:
                hw[s] += bias_hh
            a = acts[s]
            a[:, :2 * h] += hw[s, :, :2 * h]
            _sigmoid_(a[:, :2 * h])                   # r, z
            r, z, nn = a[:, :h], a[:, h:2 * h], a[:, 2 * h:]
            nn += r * hw[s, :, 2 * h:]
            np.tanh(nn, out=nn)
            # h_t = n + z * (h_{t-1} - n)
            np.subtract(hs[s], nn, out=hs[s + 1])
            hs[s + 1] *= z
            hs[s + 1] += nn
        return hs, (acts, hw)

    def _scan_backward(self, d_hs, weight_hh, hs, cache):
        acts, hw = cache
        h = d_hs.shape[2]
        d_ih = np.empty_like(acts)                   # d/d(x_r, x_z, x_n)
        d_hh = np.empty_like(acts)                   # d/d(h_r, h_z, h_n): r and z as above, n scaled by r
        dh = np.zeros_like(d_hs[0])
        for s in reversed(range(len(d_hs))):
            dh += d_hs[s]
            r, z, nn = acts[s, :, :h], acts[s, :, h:2 * h], acts[s, :, 2 * h:]
            dr, dz, dn = d_ih[s, :, :h], d_ih[s, :, h:2 * h], d_ih[s, :, 2 * h:]
            np.multiply(dh, 1 - z, out=dn)
            dn *= 1 - nn * nn                        # through tanh: d(x_n + r * h_n)
            np.multiply(dn, hw[s, :, 2 * h:], out=dr)
            dr *= r * (1 - r)
            np.multiply(dh, hs[s] - nn, out=dz)
            dz *= z * (1 - z)
            d_hh[s, :, :2 * h] = d_ih[s, :, :2 * h]
            np.multiply(dn, r, out=d_hh[s, :, 2 * h:])
            dh = dh * z + d_hh[s] @ weight_hh
        return d_ih, d_hh


LAYERS.update(GRU=GRU)
