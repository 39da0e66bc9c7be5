"""What numpynn's scikit-learn estimators train: the network their parameters describe, and scikit-learn's alpha."""

import numbers

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from numpynn import threads as thread_policy
from numpynn.nn.layers import ACTIVATIONS, Linear
from numpynn.nn.models import mlp
from numpynn.nn.sequential import Sequential
from numpynn.optim.optimizers import Optimizer

# scikit-learn's activation names -> numpynn's (None: no activation layer at all).
SKLEARN_ACTIVATIONS = {"identity": None, "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
# Weights that alpha shrinks: scikit-learn penalises coefs_, never intercepts_ (nor BatchNorm's scale).
PENALISED = ("Linear", "Conv2d")


def activation_name(name: str) -> str | None:
    """numpynn's activation for scikit-learn's (or numpynn's own) name."""
    if name in SKLEARN_ACTIVATIONS:
        return SKLEARN_ACTIVATIONS[name]
    if name in ACTIVATIONS:
        return name
    raise ValueError(f"activation={name!r} is not available; choose one of "
                     f"{', '.join(sorted(set(SKLEARN_ACTIVATIONS) | set(ACTIVATIONS)))}.")


def generator(random_state: int | np.random.Generator | np.random.RandomState | None) -> np.random.Generator:
    """A Generator from scikit-learn's random_state: an int seed, a Generator, a RandomState (one seed is drawn
    from it) or None (fresh entropy from the OS, never the global np.random).

    An int seed gives the stream scikit-learn's check_random_state(seed) gives (MT19937, seeded the legacy way),
    so the same random_state starts from the same weights as scikit-learn's MLP.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        random_state = random_state.randint(2**31 - 1)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) \
            and 0 <= random_state < 2**32:
        bits = np.random.MT19937(int(random_state))  # its SeedSequence seeds spawned streams (Dropout) reproducibly
        bits.state = {"bit_generator": "MT19937", "state": {"key": legacy_mt19937_key(int(random_state)), "pos": 624}}
        return np.random.Generator(bits)
    raise ValueError(f"random_state must be None, an int in [0, 2**32), a numpy Generator or RandomState, got "
                     f"{random_state!r}.")


def legacy_mt19937_key(seed: int) -> np.ndarray:
    """MT19937's state for an int seed as RandomState(seed) sets it (Matsumoto-Nishimura init_genrand): (624,)."""
    key = np.empty(624, dtype=np.uint32)
    key[0] = value = seed
    for i in range(1, 624):
        value = (1812433253 * (value ^ (value >> 30)) + i) & 0xFFFFFFFF
        key[i] = value
    return key


def build_mlp(n_features: int, hidden: tuple[int, ...], n_outputs: int, activation: str | None,
              rng: np.random.Generator, dtype: DTypeLike, dropout: float) -> Sequential:
    """n_features -> hidden... -> n_outputs, initialised as scikit-learn initialises its MLP (see sklearn_init)."""
    sizes = [n_features, *hidden, n_outputs]
    layers_rng = rng.spawn(1)[0]  # builds the layers (and Dropout's stream); rng itself is left for the weights
    if activation is not None:
        model = mlp(sizes, activation, init="xavier", seed=layers_rng, dtype=dtype, dropout=dropout)
    else:  # identity: a stack of Linear layers (mlp always puts an activation between them)
        model = Sequential(*[Linear(a, b, init="xavier", rng=layers_rng, dtype=dtype)
                             for a, b in zip(sizes[:-1], sizes[1:])])
    sklearn_init(model, activation, rng)
    return model


def sklearn_init(model: Sequential, activation: str | None, rng: np.random.Generator) -> None:
    """scikit-learn's _init_coef for every Linear: weight and bias ~ U(-b, b), b = sqrt(6 / (fan_in + fan_out))
    (2 instead of 6 for the logistic activation), drawn in float64 so float32 and float64 start alike."""
    factor = 2.0 if activation == "sigmoid" else 6.0
    for layer in model.layers:
        if isinstance(layer, Linear):
            bound = np.sqrt(factor / (layer.in_features + layer.out_features))
            layer.params["weight"][...] = rng.uniform(-bound, bound, (layer.in_features, layer.out_features)).T
            layer.params["bias"][...] = rng.uniform(-bound, bound, layer.out_features)


def weight_decay(model: Sequential, alpha: float, total: float) -> float:
    """Add scikit-learn's L2 term to the weights' gradients after a backward; returns its loss share.

    scikit-learn's loss is mean(loss) + alpha / 2 * sum(||W||^2) / total (total: the batch's row count, or its
    sample weights' sum), so each weight's gradient gains alpha * W / total. Biases are never penalised.
    """
    if not alpha:
        return 0.0
    penalty = 0.0
    for layer in model.layers:
        if type(layer).__name__ in PENALISED and "weight" in layer.params:
            w = layer.params["weight"]
            penalty += float(np.vdot(w, w))
            layer.grads["weight"] += w.dtype.type(alpha / total) * w  # in place: the optimizer holds these arrays
    return 0.5 * alpha * penalty / total


def writeable_copies(model: Sequential, optimizer: Optimizer) -> None:
    """Replace read-only arrays (joblib's memory-mapped unpickling makes them) by private copies, in place.

    Training writes into the parameters, gradients and optimizer state, and layers reuse their forward
    buffers (ReLU's mask): each must be writeable. Containers are kept, so shared references stay shared.
    """
    def fix(mapping):
        for key, value in mapping.items():
            if isinstance(value, np.ndarray) and not value.flags.writeable:
                mapping[key] = np.array(value, order="K")  # keeps Linear's (in, out) memory layout
    for layer in model.layers:
        for mapping in (layer.params, layer.grads, layer.buffers, layer.__dict__):
            fix(mapping)
    if optimizer is not None:
        for mapping in (*optimizer.state.values(), optimizer._scratch_buffers):
            fix(mapping)


def dense_rows(X: ArrayLike, idx: np.ndarray | slice, dtype: DTypeLike) -> np.ndarray:
    """Rows idx (an index array or a slice) of X, dense or scipy.sparse CSR, as a dense array of dtype."""
    rows = X[idx]
    if hasattr(rows, "toarray"):  # sparse: only this batch is densified
        rows = rows.toarray()
    return np.asarray(rows, dtype=dtype)


@thread_policy.policy  # numpynn's thread policy (numpynn.threads): 1 thread, or NUMPYNN_THREADS
def raw_output(model: Sequential, X: ArrayLike, checked: bool = True, chunk: int = 4096) -> np.ndarray:
    """The network's raw output z (N, n_outputs) for validated rows X (dense or sparse), in eval mode.

    checked: refuse NaN or infinite outputs as numpynn's predict_logits does; unchecked, they come back as
    they are (a diverged network's validation score is NaN, as scikit-learn records it).
    """
    if checked and not hasattr(X, "toarray"):
        return model.predict_logits(X)
    chunk = model.inference_batch_size(chunk)
    was_training = model.training
    model.eval()
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            parts = [model.forward(dense_rows(X, slice(i, i + chunk), model.dtype))
                     for i in range(0, X.shape[0], chunk)]
    finally:
        model.train(was_training)
    out = np.concatenate(parts) if parts else np.empty((0, output_width(model)), dtype=model.dtype)
    if checked and not np.isfinite(out).all():
        raise ValueError("The model's outputs are NaN or infinite for some rows: its weights overflow on this "
                         "input; re-train the model or check the input scaling.")
    return out


def output_width(model: Sequential) -> int:
    """The number of outputs of the network's last Linear layer."""
    return [layer for layer in model.layers if isinstance(layer, Linear)][-1].out_features
