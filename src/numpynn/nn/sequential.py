"""Sequential: a stack of layers with forward, backward, PyTorch-named parameters and state_dict."""

import inspect
from collections.abc import Iterator

import numpy as np
from numpy.typing import DTypeLike

from numpynn import threads
from numpynn.nn import functional as F
from numpynn.nn.layers import LAYERS, Layer
from numpynn.validation import check_batch_size, check_features


class Sequential:
    """Layers applied in order; parameter names are `<index>.<key>` as in torch.nn.Sequential (`0.weight`)."""

    def __init__(self, *layers: Layer):
        if not layers:
            raise ValueError("Sequential needs at least one layer, e.g. Sequential(Linear(784, 10)).")
        self.layers = list(layers)
        self.layers[0].needs_input_grad = False  # d/d(input) is never used in training: skip that matmul
        self.training = True

    # --- forward and backward -------------------------------------------------------------------

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, in_features) or images (N, C, H, W) -> (N, out_features) logits; cast to the model's dtype."""
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, grad_out: np.ndarray, input_grad: bool = False) -> np.ndarray | None:
        """Backpropagate d loss / d output through every layer, filling each layer's grads.

        Returns d loss / d input only when input_grad=True (it costs one more matmul). Without it, backward
        stops at the first layer with a parameter to train: below it every layer is frozen (fine-tuning).
        """
        stop = 0 if input_grad else self._first_trainable()
        if stop == len(self.layers):
            return None
        first = self.layers[stop]
        keep, first.needs_input_grad = first.needs_input_grad, input_grad
        try:
            for layer in reversed(self.layers[stop:]):
                grad_out = layer.backward(grad_out)
        finally:
            first.needs_input_grad = keep if stop else False
        return grad_out

    def _first_trainable(self) -> int:
        for i, layer in enumerate(self.layers):
            if layer.params and (not layer.frozen or layer.requires_grad):
                return i
        return len(self.layers)

    # --- parameters --------------------------------------------------------------------------------

    def parameter_slots(self) -> Iterator[tuple[str, dict, dict, str, set]]:
        """(name, params dict, grads dict, key, the layer's frozen keys) per parameter: what optimizers update in
        place, skipping a key while it is in the frozen set (a live set, so freezing later takes effect)."""
        for i, layer in enumerate(self.layers):
            for key in layer.params:
                yield f"{i}.{key}", layer.params, layer.grads, key, layer.frozen

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        """(name, array) of every parameter, named as torch's state_dict names it ("0.weight")."""
        for name, params, _, key, _ in self.parameter_slots():
            yield name, params[key]

    def requires_grad_(self, requires_grad: bool = True, names: list[str] | None = None) -> "Sequential":
        """Train (True) or freeze (False) every parameter, or those named ("0.weight"), as torch's requires_grad_.

        A frozen parameter gets no update from any optimizer (no step, no weight decay, its momentum kept as it
        is). A BatchNorm layer whose weight and bias are both frozen also keeps its running statistics and
        normalises with them in training, as in eval: frozen, the layer is a fixed function (torch would go on
        updating them unless the layer is also put in eval mode).
        """
        own = dict(self.named_parameters())
        unknown = [name for name in names or () if name not in own]
        if unknown:
            raise ValueError(f"The model has no parameter {unknown[0]!r}; its parameters are {', '.join(own)}.")
        for i, layer in enumerate(self.layers):
            keys = [name.partition(".")[2] for name in names if name.startswith(f"{i}.")] if names else []
            if names is None or keys:
                layer.requires_grad_(requires_grad, *keys)
        return self

    def freeze(self, n: int) -> "Sequential":
        """Freeze the first n weight layers (Linear, Conv2d) and every layer before the next one (BatchNorm)."""
        weighted = [i for i, layer in enumerate(self.layers) if layer.params and "running_mean" not in layer.buffers]
        if not 0 <= n < len(weighted):
            raise ValueError(f"Cannot freeze {n} layers of a model with {len(weighted)} weight layers; freeze "
                             f"0 to {len(weighted) - 1} so at least one layer is left to train.")
        for layer in self.layers[:weighted[n]]:
            layer.requires_grad_(False)
        return self

    def num_trainable_parameters(self) -> int:
        """Weights an optimizer will change: num_parameters() less the frozen ones."""
        return sum(p[k].size for _, p, _, k, frozen in self.parameter_slots() if k not in frozen)

    def parameters(self) -> list[np.ndarray]:
        """Every parameter array, in named_parameters' order."""
        return [p for _, p in self.named_parameters()]

    def grads(self) -> dict[str, np.ndarray]:
        """Gradients from the last backward, under the parameters' names."""
        return {name: grads[key] for name, _, grads, key, _ in self.parameter_slots()}

    def num_parameters(self) -> int:
        """How many numbers the parameters hold in all."""
        return sum(p.size for p in self.parameters())

    @property
    def dtype(self) -> np.dtype:
        """The parameters' dtype (float32 or float64), the dtype forward casts its input to."""
        # The first parameter's dtype, found by a plain loop: forward asks every step, parameters() costs ~2 us.
        for layer in self.layers:
            for p in layer.params.values():
                return p.dtype
        return np.dtype(np.float32)

    # --- modes and state ---------------------------------------------------------------------------

    def train(self, mode: bool = True) -> "Sequential":
        """Training mode (True) or evaluation mode (False) for every layer; returns self."""
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self) -> "Sequential":
        """Evaluation mode, as train(False); returns self."""
        return self.train(False)

    def state_dict(self, keep_vars: bool = False) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, named and shaped as torch.nn.Sequential's state_dict
        (keep_vars=True: the model's own arrays, as torch's keep_vars gives its tensors undetached)."""
        state = {}
        for i, layer in enumerate(self.layers):
            for key, value in {**layer.params, **layer.buffers}.items():
                state[f"{i}.{key}"] = value if keep_vars else value.copy()
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays in place after checking that names, shapes and finiteness all fit this model."""
        own = self.state_dict(keep_vars=True)
        missing, unexpected = sorted(own.keys() - state.keys()), sorted(state.keys() - own.keys())
        if missing or unexpected:
            raise ValueError(f"State dict does not fit this model (missing {missing}, unexpected {unexpected}); "
                             "load it into the architecture it was saved from.")
        cast = {}
        for name, target in own.items():
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ValueError(f"State dict entry {name!r} has shape {value.shape} but the model expects "
                                 f"{target.shape}; load it into the architecture it was saved from.")
            if value.dtype.kind not in "fiu":
                raise ValueError(f"State dict entry {name!r} is {value.dtype}, not numbers; the file is corrupt.")
            # Checked after the cast to the model's dtype (loading never changes it): 1e300 is finite in
            # float64 but inf in a float32 model. No copy where the dtypes agree: a large model is held once.
            with np.errstate(over="ignore", invalid="ignore"):
                cast[name] = value.astype(target.dtype, copy=False)
            if not np.all(np.isfinite(cast[name])) or (value.dtype.kind == "f" and not np.all(np.isfinite(value))):
                raise ValueError(f"State dict entry {name!r} is not finite numbers in the model's {target.dtype} "
                                 "(NaN, infinity, or too large for it); the file is corrupt.")
        for name, target in own.items():
            target[...] = cast[name]

    def config(self) -> list[dict]:
        """Each layer's constructor arguments: enough to rebuild the architecture."""
        return [layer.config() for layer in self.layers]

    @classmethod
    def from_config(cls, config: list[dict], dtype: DTypeLike = np.float32, init: str = "pytorch") -> "Sequential":
        """Rebuild a model from `config()`; init="zeros" when its weights are loaded next (load_state_dict)."""
        layers = []
        for spec in config:
            spec = dict(spec)
            name = spec.pop("type", None)
            if name not in LAYERS:
                raise ValueError(f"Unknown layer type {name!r}; known: {', '.join(sorted(LAYERS))}.")
            if "dtype" in inspect.signature(LAYERS[name]).parameters:  # the layers that own float arrays
                spec["dtype"] = dtype
            if name in ("Linear", "Conv2d"):
                spec["init"] = init
            if name in ("Dropout", "TransformerEncoderLayer"):  # a Generator seeded with the layer's index, never OS
                # entropy (set layer.rng)
                spec.setdefault("rng", len(layers))
            layers.append(LAYERS[name](**spec))
        return cls(*layers)

    # --- inference ---------------------------------------------------------------------------------

    def predict_proba(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Softmax probabilities (N, C), computed in eval mode and in chunks to bound memory."""
        return F.softmax(self.predict_logits(x, batch_size), axis=1)

    def predict(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Predicted class per row (N,): the argmax of the logits."""
        return np.argmax(self.predict_logits(x, batch_size), axis=1)

    def inference_batch_size(self, batch_size: int) -> int:
        """Rows per inference chunk: batch_size, or at most 256 images for a model with convolutions, whose im2col
        columns hold kh*kw copies of every pixel (4,096 MNIST images through a 32->64 conv would take 0.6 GB)."""
        has_conv = any(hasattr(layer, "in_channels") for layer in self.layers)
        return min(batch_size, 256) if has_conv else batch_size

    def predict_logits(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """x: (N, ...) -> (N, out_features) logits in eval mode, batch_size rows at a time."""
        x = check_features(self, x)  # NaN, empty or wrongly sized input: one clear ValueError, not a matmul error
        batch_size = self.inference_batch_size(check_batch_size(batch_size))
        was_training = self.training
        self.eval()
        try:
            # Overflow shows up as inf/NaN logits, refused below in one sentence instead of a RuntimeWarning.
            # threads.limit(): the thread policy (default 1, NUMPYNN_THREADS), unless a caller's limit is open.
            with threads.limit(), np.errstate(over="ignore", invalid="ignore"):
                logits = np.concatenate([self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
        finally:
            self.train(was_training)
        bad = np.count_nonzero(~np.isfinite(logits).all(axis=tuple(range(1, logits.ndim))))
        if bad:  # finite weights can still overflow; a NaN answer must never pass for a prediction
            largest = max((float(np.abs(p).max()) for p in self.parameters() if p.size), default=0.0)
            raise ValueError(f"The model's outputs are NaN or infinite for {bad} of {len(x)} rows: its weights "
                             f"(largest |w| = {largest:.3g}) overflow on this input; re-train the model or check "
                             "the input scaling.")
        return logits

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"

