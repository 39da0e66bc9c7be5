"""What numpynn's scikit-learn estimators train: the network their parameters describe, and scikit-learn's alpha."""

import numbers

import numpy as np

from numpynn.nn.layers import ACTIVATIONS, Linear
from numpynn.nn.losses import MSELoss
from numpynn.nn.sequential import Sequential, mlp

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


def generator(random_state) -> np.random.Generator:
    """A Generator from scikit-learn's random_state: an int seed, a Generator, a RandomState (one seed is drawn
    from it) or None (fresh entropy from the OS, never the global np.random)."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise ValueError(f"random_state must be None, an int, a numpy Generator or RandomState, got {random_state!r}.")


def build_mlp(n_features: int, hidden: tuple[int, ...], n_outputs: int, activation: str | None,
              rng: np.random.Generator, dtype, dropout: float) -> Sequential:
    """n_features -> hidden... -> n_outputs with Glorot-uniform weights, as scikit-learn initialises its MLP."""
    sizes = [n_features, *hidden, n_outputs]
    if activation is not None:
        return mlp(sizes, activation, init="xavier", seed=rng, dtype=dtype, dropout=dropout)
    # identity: a stack of Linear layers (mlp always puts an activation between them)
    return Sequential(*[Linear(a, b, init="xavier", rng=rng, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:])])


class WeightPenalty(Sequential):
    """The estimator's network with scikit-learn's `alpha`: an L2 term on the weights, not on the biases.

    scikit-learn's loss is mean(loss) + alpha / 2 * sum(||W||^2) / batch, so each backward adds
    alpha * W / batch to each weight's gradient. It shares the network's layers (and so its parameters):
    the optimizer built on it updates the estimator's model_. `penalty_sum` adds up alpha / 2 * ||W||^2
    of every batch, so the loss curve can report scikit-learn's loss.
    """

    def __init__(self, model: Sequential, alpha: float):
        super().__init__(*model.layers)
        self.alpha = float(alpha)
        self.penalty_sum = 0.0

    def backward(self, grad_out, input_grad=False):
        out = super().backward(grad_out, input_grad)
        if self.alpha:
            decay = grad_out.dtype.type(self.alpha / len(grad_out))
            for layer in self.layers:
                if type(layer).__name__ in PENALISED and "weight" in layer.params:
                    w = layer.params["weight"]
                    self.penalty_sum += 0.5 * self.alpha * float(np.vdot(w, w))
                    layer.grads["weight"] += decay * w  # in place: the optimizer holds these arrays
        return out


def writeable_copies(model: Sequential, optimizer) -> None:
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


class HalfSquaredError(MSELoss):
    """scikit-learn's regression loss, mean((pred - target)^2) / 2: MSELoss halved, gradient included.

    Halved so alpha and learning_rate_init mean what they mean in scikit-learn's MLPRegressor.
    """

    def forward(self, pred, target):
        return super().forward(pred, target) / 2

    def backward(self):
        grad = super().backward()
        grad *= grad.dtype.type(0.5)
        return grad
