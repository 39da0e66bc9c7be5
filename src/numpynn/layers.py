"""Layers: each forward keeps on self only what its backward needs, and the backward math sits right under it."""

import numpy as np

from . import functional as F
from .init import INITS


class Layer:
    """Base class: `params` and `grads` share keys (`weight`, `bias`); `backward` fills grads, returns d/d input."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}  # state that is saved but not trained (BatchNorm's running stats)
        self.training = True
        self.needs_input_grad = True  # Sequential turns this off for its first layer: nobody reads d/dx there

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def train(self, mode: bool = True) -> "Layer":
        self.training = mode
        return self

    def eval(self) -> "Layer":
        return self.train(False)

    def config(self) -> dict:
        """The constructor arguments that rebuild this layer (saved in checkpoint metadata)."""
        return {"type": type(self).__name__}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Linear(Layer):
    """y = x @ weight.T + bias, with weight (out_features, in_features) as in torch.nn.Linear."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 init: str = "pytorch", rng: np.random.Generator | int | None = None, dtype=np.float32):
        super().__init__()
        if init not in INITS:
            raise ValueError(f"Unknown init {init!r}; choose one of {', '.join(sorted(INITS))}.")
        self.in_features, self.out_features, self.init = int(in_features), int(out_features), init
        weight, b = INITS[init]((self.out_features, self.in_features), np.random.default_rng(rng), np.dtype(dtype))
        self.params["weight"] = weight
        if bias:
            self.params["bias"] = b
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x):            # x: (N, in_features)
        self.x = x
        out = x @ self.params["weight"].T
        if "bias" in self.params:
            out += self.params["bias"]
        return out

    def backward(self, grad_out):    # grad_out: (N, out_features)
        # Written into the existing grad arrays: no new allocation per step, and optimizers may hold them.
        np.matmul(grad_out.T, self.x, out=self.grads["weight"])
        if "bias" in self.params:
            np.sum(grad_out, axis=0, out=self.grads["bias"])
        return grad_out @ self.params["weight"] if self.needs_input_grad else None

    def config(self):
        return {"type": "Linear", "in_features": self.in_features, "out_features": self.out_features,
                "bias": "bias" in self.params}


class ReLU(Layer):
    """max(0, x)."""

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, grad_out):
        return grad_out * self.mask


class LeakyReLU(Layer):
    """x where x > 0, negative_slope * x elsewhere."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        self.x = x
        return F.leaky_relu(x, self.negative_slope)

    def backward(self, grad_out):
        return np.where(self.x > 0, grad_out, grad_out * grad_out.dtype.type(self.negative_slope))

    def config(self):
        return {"type": "LeakyReLU", "negative_slope": self.negative_slope}


class Sigmoid(Layer):
    """1 / (1 + exp(-x)); its derivative is out * (1 - out), so forward keeps out."""

    def forward(self, x):
        self.out = F.sigmoid(x)
        return self.out

    def backward(self, grad_out):
        return grad_out * self.out * (1 - self.out)


class Tanh(Layer):
    """tanh(x); its derivative is 1 - out^2, so forward keeps out."""

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad_out):
        return grad_out * (1 - self.out * self.out)


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...), so images go straight into a Linear."""

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad_out):
        return grad_out.reshape(self.shape)


# Name -> class, so a config (checkpoint metadata, CLI flag) becomes a layer without getattr tricks.
LAYERS = {cls.__name__: cls for cls in (Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Flatten)}
ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid, "tanh": Tanh}
