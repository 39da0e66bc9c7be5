"""Recurrent layers: the shared machinery of RNN, LSTM and GRU (torch.nn.RNNBase), and the plain RNN itself.

Shapes are torch's: x (T, N, input_size), or (N, T, input_size) with batch_first=True; forward returns torch's
`output`, (T, N, D * hidden_size) with D = 2 when bidirectional, and keeps the final states as `h_n` (and `c_n`
for an LSTM), (num_layers * D, N, hidden_size). Parameters carry torch's names (`weight_ih_l0`, `bias_hh_l1`,
`weight_ih_l0_reverse`, ...) and gate order, and torch's initialisation U(-1/sqrt(hidden), 1/sqrt(hidden)).

Per layer and direction, the input projection x @ weight_ih.T is ONE matmul for all time steps; the time loop
(`_scan`, in each cell's class) then adds h @ weight_hh.T and applies the gates. Backpropagation through time
(`_scan_backward`) walks the steps in reverse and returns the gradients of the gate pre-activations for every
step, so the weight gradients are again one matmul each over all steps. A reverse direction runs the same
scan on the time-flipped sequence.
"""

import math

import numpy as np
from numpy.typing import DTypeLike

from numpynn.nn.layers import LAYERS, Layer


class RNNBase(Layer):
    """Layers x directions of one recurrent cell kind; subclasses give `gates`, `_scan` and `_scan_backward`."""

    gates = 1
    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, *,
                 rng: np.random.Generator | int | None = None, dtype: DTypeLike = np.float32):
        super().__init__()
        name = type(self).__name__
        if min(int(input_size), int(hidden_size), int(num_layers)) < 1:
            raise ValueError(f"{name} needs input_size, hidden_size and num_layers >= 1, got {input_size}, "
                             f"{hidden_size}, {num_layers}; e.g. {name}(28, 128).")
        if dropout:
            raise ValueError(f"{name}(dropout={dropout}) is not supported; put a Dropout layer after it instead.")
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        rng, bound = np.random.default_rng(rng), 1 / math.sqrt(self.hidden_size)
        rows = self.gates * self.hidden_size
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            for suffix in self._suffixes(layer):
                shapes = {"weight_ih": (rows, width), "weight_hh": (rows, self.hidden_size)}
                if self.bias:
                    shapes.update(bias_ih=(rows,), bias_hh=(rows,))
                for key, shape in shapes.items():  # torch's order and distribution: every tensor U(-b, b)
                    self.params[key + suffix] = rng.uniform(-bound, bound, shape).astype(dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.h_n = self.c_n = None

    @property
    def num_directions(self) -> int:
        """2 when bidirectional, else 1: the output's last axis is num_directions * hidden_size."""
        return 2 if self.bidirectional else 1

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][:self.num_directions]

    def output_shape(self, shape: tuple) -> tuple:
        """(T, N, input_size) -> (T, N, num_directions * hidden_size); (N, T, ...) likewise with batch_first."""
        return (*shape[:2], self.hidden_size * self.num_directions)

    # --- forward ---------------------------------------------------------------------------------------

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (T, N, input_size) -> each step's hidden state (T, N, num_directions * hidden_size); keeps h_n."""
        if x.ndim != 3 or x.shape[2] != self.input_size:
            order = "(N, T, input_size)" if self.batch_first else "(T, N, input_size)"
            raise ValueError(f"{type(self).__name__}({self.input_size}, ...) expects input {order} with "
                             f"input_size={self.input_size}, got shape {x.shape}.")
        seq = x.transpose(1, 0, 2) if self.batch_first else x    # time-major: each step's rows are contiguous
        self.caches, finals = [], []
        for layer in range(self.num_layers):
            outs = []
            for d, suffix in enumerate(self._suffixes(layer)):
                xin = np.ascontiguousarray(seq[::-1] if d else seq)   # a reverse direction reads time backwards
                hs, cache = self._run(xin, suffix)
                outs.append(hs[1:][::-1] if d else hs[1:])
                self.caches.append((xin, hs, cache))
                finals.append((hs[-1], cache))
            seq = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=2)
        self.h_n = np.stack([h for h, _ in finals])
        if self.mode == "LSTM":
            self.c_n = np.stack([cache[1][-1] for _, cache in finals])
        return seq.transpose(1, 0, 2) if self.batch_first else seq

    def _run(self, xin, suffix):
        """One layer and direction over the whole sequence: (T, N, I) -> hidden states hs (T + 1, N, H)."""
        t, n, width = xin.shape
        p = self.params
        xw = (xin.reshape(t * n, width) @ p["weight_ih" + suffix].T).reshape(t, n, -1)  # all steps in one GEMM
        if self.bias:
            xw += p["bias_ih" + suffix]
            if self.mode != "GRU":  # GRU keeps bias_hh inside its reset gate; the others can add it once here
                xw += p["bias_hh" + suffix]
        return self._scan(xw, p["weight_hh" + suffix], p.get("bias_hh" + suffix))

    def _scan(self, xw, weight_hh, bias_hh):
        raise NotImplementedError

    def _scan_backward(self, d_hs, weight_hh, hs, cache):
        raise NotImplementedError

    # --- backward (through time) -------------------------------------------------------------------------

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """grad_out: shaped like forward's output -> fills grads; returns d loss / d x, shaped like x."""
        g = grad_out.transpose(1, 0, 2) if self.batch_first else grad_out
        h = self.hidden_size
        for layer in reversed(range(self.num_layers)):
            dx = None
            for d, suffix in enumerate(self._suffixes(layer)):
                xin, hs, cache = self.caches[layer * self.num_directions + d]
                gd = g[:, :, d * h:(d + 1) * h]
                d_ih, d_hh = self._scan_backward(np.ascontiguousarray(gd[::-1] if d else gd), self.params[
                    "weight_hh" + suffix], hs, cache)
                dxd = self._weight_grads(suffix, xin, hs, d_ih, d_hh, need_dx=layer > 0 or self.needs_input_grad)
                if dxd is not None:
                    dxd = dxd[::-1] if d else dxd
                    dx = dxd if dx is None else dx + dxd
            g = dx
        if g is None:
            return None
        return g.transpose(1, 0, 2) if self.batch_first else g

    def _weight_grads(self, suffix, xin, hs, d_ih, d_hh, need_dx):
        """Weight and bias gradients of one layer and direction as one GEMM each over all steps; returns dx."""
        t, n, width = xin.shape
        rows = d_ih.shape[2]
        d_ih2, d_hh2 = d_ih.reshape(t * n, rows), d_hh.reshape(t * n, rows)
        np.matmul(d_ih2.T, xin.reshape(t * n, width), out=self.grads["weight_ih" + suffix])
        np.matmul(d_hh2.T, hs[:-1].reshape(t * n, -1), out=self.grads["weight_hh" + suffix])
        if self.bias:
            d_ih2.sum(axis=0, out=self.grads["bias_ih" + suffix])
            d_hh2.sum(axis=0, out=self.grads["bias_hh" + suffix])
        if not need_dx:
            return None
        return (d_ih2 @ self.params["weight_ih" + suffix]).reshape(t, n, width)

    def config(self) -> dict:
        return {"type": type(self).__name__, "input_size": self.input_size, "hidden_size": self.hidden_size,
                "num_layers": self.num_layers, "bias": self.bias, "batch_first": self.batch_first,
                "bidirectional": self.bidirectional}


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh) (or relu), as torch.nn.RNN."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 *, rng: np.random.Generator | int | None = None, dtype: DTypeLike = np.float32):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}.")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, rng=rng,
                         dtype=dtype)

    def _scan(self, xw, weight_hh, bias_hh):
        t, n, h = xw.shape
        hs = np.zeros((t + 1, n, h), xw.dtype)
        for s in range(t):
            a = np.matmul(hs[s], weight_hh.T, out=hs[s + 1])
            a += xw[s]
            if self.nonlinearity == "tanh":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0, out=a)
        return hs, None

    def _scan_backward(self, d_hs, weight_hh, hs, cache):
        # da_t = (dh_t from above + dh_t from step t + 1) * f'(a_t); dh_{t-1} = da_t @ W_hh
        da = np.empty_like(d_hs)
        dh = np.zeros_like(d_hs[0])
        for s in reversed(range(len(d_hs))):
            dh += d_hs[s]
            h = hs[s + 1]
            if self.nonlinearity == "tanh":
                np.multiply(dh, 1 - h * h, out=da[s])
            else:
                np.multiply(dh, h > 0, out=da[s])
            dh = da[s] @ weight_hh
        return da, da

    def config(self) -> dict:
        return {**super().config(), "nonlinearity": self.nonlinearity}


LAYERS.update(RNN=RNN)
