"""Layers: each forward keeps on self only what its backward needs, and the backward math sits right under it."""

import numpy as np

from numpynn.nn import functional as F
from numpynn.nn.init import INITS


class Layer:
    """Base class: `params` and `grads` share keys (`weight`, `bias`); `backward` fills grads, returns d/d input."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}  # state that is saved but not trained (BatchNorm's running stats)
        self.training = True
        self.needs_input_grad = True  # Sequential turns this off for its first layer: nobody reads d/dx there
        self.frozen: set[str] = set()  # keys of params no optimizer changes (requires_grad_); optimizers hold it

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

    def requires_grad_(self, requires_grad: bool = True, *keys: str) -> "Layer":
        """Train (True) or freeze (False) this layer's parameters, or only those named ("bias"), as torch's
        `module.requires_grad_`: an optimizer leaves a frozen parameter, and its state, exactly as they are."""
        unknown = set(keys) - set(self.params)
        if unknown:
            raise ValueError(f"{type(self).__name__} has no parameter {sorted(unknown)[0]!r}; its parameters are "
                             f"{sorted(self.params) or 'none'}.")
        chosen = set(keys or self.params)
        if requires_grad:
            self.frozen -= chosen  # in place: optimizers built earlier see the change at their next step
        else:
            self.frozen |= chosen
        return self

    @property
    def requires_grad(self) -> bool:
        """False when every parameter of the layer is frozen (a layer without parameters has nothing to train)."""
        return bool(set(self.params) - self.frozen)

    def config(self) -> dict:
        """The constructor arguments that rebuild this layer (saved in checkpoint metadata)."""
        return {"type": type(self).__name__}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Linear(Layer):
    """y = x @ weight.T + bias, with weight (out_features, in_features) as in torch.nn.Linear.

    init: a name in INITS, or "zeros" for a layer whose weights are loaded next (never trained from zeros).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 init: str = "pytorch", rng: np.random.Generator | int | None = None, dtype=np.float32):
        super().__init__()
        if init not in INITS and init != "zeros":
            raise ValueError(f"Unknown init {init!r}; choose one of {', '.join(sorted(INITS))}.")
        self.in_features, self.out_features, self.init = int(in_features), int(out_features), init
        if self.in_features < 1 or self.out_features < 1:  # a 0-wide layer: init divides by fan_in, nothing to learn
            raise ValueError(f"Linear needs in_features >= 1 and out_features >= 1, got Linear({in_features}, "
                             f"{out_features}); a layer needs inputs and outputs.")
        if init == "zeros":  # weights loaded next (from_config): allocated in the layout below, no temporaries
            weight, b = np.zeros((self.in_features, self.out_features), dtype).T, np.zeros(self.out_features, dtype)
        else:
            weight, b = INITS[init]((self.out_features, self.in_features), np.random.default_rng(rng), np.dtype(dtype))
        # weight is (out, in) as in torch, but laid out in memory as its transpose, an (in, out) C-order array:
        # backward's x.T @ grad_out then writes a C-order result, which 2-thread OpenBLAS computes ~1.4x faster
        # than grad_out.T @ x for 784x256 at batch 64 (-10 % an epoch). Values, shape and names are unchanged;
        # zeros_like keeps the layout, so grads (and optimizer state) match it and updates stay contiguous.
        self.params["weight"] = np.ascontiguousarray(weight.T).T
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
        # Computed as its transpose, x.T @ grad_out, into the (in, out) C-order memory (see __init__).
        np.matmul(self.x.T, grad_out, out=self.grads["weight"].T)
        if "bias" in self.params:
            grad_out.sum(axis=0, out=self.grads["bias"])  # the method skips np.sum's Python wrapper: -2 us
        return grad_out @ self.params["weight"] if self.needs_input_grad else None

    def config(self):
        return {"type": "Linear", "in_features": self.in_features, "out_features": self.out_features,
                "bias": "bias" in self.params}


class ReLU(Layer):
    """max(0, x)."""

    mask = None  # (x > 0) in x's dtype; only backward reads it, so forward may overwrite it step after step

    def forward(self, x):
        # A float mask, not a bool one: multiplying by it needs no cast (backward ~2x faster, -3 us a step at
        # batch 64), and its buffer is reused while the shape stays the same (no allocation per step).
        if self.mask is None or self.mask.shape != x.shape or self.mask.dtype != x.dtype:
            self.mask = np.empty_like(x)
        np.greater(x, 0, out=self.mask)
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

    def output_shape(self, shape: tuple) -> tuple:
        return shape[0], int(np.prod(shape[1:]))

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(len(x), -1)  # a copy in NCHW order from a channels-last Conv2d output, as torch flattens

    def backward(self, grad_out):
        return grad_out.reshape(self.shape)


_SQRT_2_OVER_PI = float(np.sqrt(2 / np.pi))
# Terms of erf's series (below |x| = 2.5) and continued fraction (above) that reach each dtype's round-off.
_ERF_TERMS = {np.dtype(np.float64): (36, 32), np.dtype(np.float32): (22, 14)}


def _erf(x: np.ndarray) -> np.ndarray:
    """Error function in x's dtype (float64: ~1e-15, float32: ~5e-7 absolute; tests check against math.erf).

    erf(x) = 2/sqrt(pi) exp(-x^2) sum_n (2x^2)^n x / (1*3*...*(2n+1))   for |x| < 2.5 (Abramowitz & Stegun 7.1.6)
    erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))   otherwise (A&S 7.1.14)
    NumPy has no erf, and a Python loop over math.erf is several times slower than these array passes.
    """
    dt = x.dtype
    n_series, n_fraction = _ERF_TERMS.get(dt, _ERF_TERMS[np.dtype(np.float64)])
    z = np.abs(x)
    out = np.empty_like(z)
    small = z < 2.5
    zs = z[small]
    coef = np.cumprod([1.0] + [1 / (2 * n + 1) for n in range(1, n_series)])  # 1 / (2n+1)!!
    w, s = 2 * zs * zs, np.full_like(zs, coef[-1])
    for a in coef[-2::-1]:  # Horner in w = 2x^2
        s *= w
        s += dt.type(a)
    out[small] = dt.type(2 / np.sqrt(np.pi)) * zs * np.exp(-zs * zs) * s
    zl = np.minimum(z[~small], dt.type(9.0))  # erfc(9) < 1e-36: capping keeps exp() from underflow warnings
    t = zl.copy()
    for k in range(n_fraction, 0, -1):
        t = zl + dt.type(k / 2) / t
    out[~small] = 1 - np.exp(-zl * zl) / dt.type(np.sqrt(np.pi)) / t
    return np.copysign(out, x)


class GELU(Layer):
    """x * Phi(x), Phi the standard normal CDF (torch.nn.GELU); approximate="tanh" uses torch's tanh formula.

    Exact: Phi(x) = (1 + erf(x / sqrt 2)) / 2, with erf from `_erf`, computed in x's dtype.
    Tanh: Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2.
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU approximate must be 'none' or 'tanh', got {approximate!r}.")
        self.approximate = approximate

    def forward(self, x):
        self.x = x
        if self.approximate == "tanh":
            self.t = np.tanh(x.dtype.type(_SQRT_2_OVER_PI) * (x + x.dtype.type(0.044715) * x * x * x))
            return x * (1 + self.t) / 2
        self.cdf = (1 + _erf(x * x.dtype.type(1 / np.sqrt(2)))) / 2
        return x * self.cdf

    def backward(self, grad_out):
        x = self.x
        if self.approximate == "tanh":
            du = x.dtype.type(_SQRT_2_OVER_PI) * (1 + x.dtype.type(3 * 0.044715) * x * x)
            return grad_out * ((1 + self.t) / 2 + x * (1 - self.t * self.t) * du / 2)
        pdf = np.exp(-x * x / 2) * x.dtype.type(1 / np.sqrt(2 * np.pi))
        return grad_out * (self.cdf + x * pdf)

    def config(self):
        return {"type": "GELU", "approximate": self.approximate}


class Softmax(Layer):
    """exp(x) / sum(exp(x)) along `dim`: probabilities out of a model (CrossEntropyLoss takes the logits before it)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = int(dim)

    def forward(self, x):
        if not -x.ndim <= self.dim < x.ndim:  # numpy's AxisError would not say which layer, or what fits
            raise ValueError(f"Softmax(dim={self.dim}) got {x.ndim}-D input of shape {x.shape}; dim must be in "
                             f"{-x.ndim}..{x.ndim - 1} (dim=-1 for a batch of logits).")
        self.out = F.softmax(x, axis=self.dim)
        return self.out

    def backward(self, grad_out):
        # Jacobian-vector product of softmax: out * (g - sum(g * out)), never the (C, C) Jacobian itself.
        dot = np.sum(grad_out * self.out, axis=self.dim, keepdims=True)
        return self.out * (grad_out - dot)

    def config(self):
        return {"type": "Softmax", "dim": self.dim}


# Name -> class, so a config (checkpoint metadata, CLI flag) becomes a layer without getattr tricks.
LAYERS = {cls.__name__: cls for cls in (Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Flatten, GELU, Softmax)}
ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid, "tanh": Tanh, "gelu": GELU}
