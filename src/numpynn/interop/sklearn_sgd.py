"""The stochastic solvers ("sgd", "adam") of numpynn's scikit-learn estimators: scikit-learn's epoch loop.

Epochs of shuffled mini-batches through the estimator's numpynn network (forward, loss, backward, alpha's
L2 term, numpynn's SGD or Adam step), with scikit-learn's bookkeeping: sample weights per batch, the
learning-rate schedules ("constant", "invscaling", "adaptive"), the tol / n_iter_no_change rule, early
stopping on a held-out split, and divergence reported as scikit-learn reports it (a ConvergenceWarning, then
fit's ValueError when the weights are not finite).
"""

import warnings
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from numpynn.interop.sklearn_network import dense_rows, weight_decay
from numpynn.interop.sklearn_stopping import end_epoch
from numpynn.nn.sequential import Sequential
from numpynn.optim.optimizers import SGD, Adam

if TYPE_CHECKING:  # for the hints only
    from numpynn.interop.sklearn_base import NumpynnMLP


class StochasticSolver:
    """numpynn's SGD or Adam with scikit-learn's learning-rate schedule on top (the estimator's `_optimizer`).

    invscaling: learning_rate = learning_rate_init / (t + 1) ** power_t after each epoch (t: samples seen);
    adaptive: when the stopping rule fires, divide it by 5 instead of stopping, until it is below 1e-6.
    """

    def __init__(self, est: "NumpynnMLP", network: Sequential):
        self.schedule = est.learning_rate if est.solver == "sgd" else "constant"
        self.learning_rate_init, self.power_t = float(est.learning_rate_init), float(est.power_t)
        if est.solver == "sgd":
            self.optimizer = SGD(network, lr=est.learning_rate_init, momentum=est.momentum,
                                 nesterov=bool(est.nesterovs_momentum and est.momentum > 0))
        else:
            self.optimizer = Adam(network, lr=est.learning_rate_init, betas=(est.beta_1, est.beta_2),
                                  eps=est.epsilon)
        self.adaptive = est.solver == "sgd" and est.learning_rate == "adaptive"

    @property
    def learning_rate(self) -> float:
        """The optimizer's current learning rate."""
        return self.optimizer.lr

    def iteration_ends(self, time_step: int) -> None:
        """After an epoch: invscaling's new rate from the number of samples seen."""
        if self.schedule == "invscaling":
            self.optimizer.lr = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, message: str, verbose: bool) -> bool:
        """True to stop; adaptive lowers the rate instead while it is above 1e-6."""
        if not self.adaptive or self.optimizer.lr <= 1e-6:
            if verbose:
                print(message + " Stopping.")
            return True
        self.optimizer.lr /= 5.0
        if verbose:
            print(message + f" Setting learning rate to {self.optimizer.lr:f}")
        return False


def split_validation(est: "NumpynnMLP", X: ArrayLike, Y: np.ndarray, sample_weight: np.ndarray | None) -> tuple:
    """early_stopping's held-out rows: (X, Y, weights) to train on and the same three to score."""
    arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
    parts = train_test_split(*arrays, test_size=est.validation_fraction, stratify=est._stratify_labels(Y),
                             random_state=int(est._rng.integers(2**31 - 1)))
    if parts[1].shape[0] < 2:
        raise ValueError("The validation set is too small. Increase 'validation_fraction' or the size of your "
                         "dataset.")
    train, held = parts[0::2], parts[1::2]
    if sample_weight is None:
        train, held = (*train, None), (*held, None)
    return train, held


def train_step(est: "NumpynnMLP", xb: np.ndarray, yb: np.ndarray, wb: np.ndarray | None) -> float:
    """One mini-batch: forward, weighted loss, backward, alpha's L2 term, optimizer step; returns the loss."""
    model, loss_fn = est.model_, est._loss_fn
    total = len(xb) if wb is None else float(wb.sum())
    if total <= 0:  # every row of the batch has weight 0: nothing to learn from it (and no mean to take)
        return 0.0
    loss = loss_fn.forward(model.forward(xb), yb, wb)
    model.backward(loss_fn.backward())
    loss += weight_decay(model, est.alpha, total)
    est._optimizer.optimizer.step()
    return loss


def fit_stochastic(est: "NumpynnMLP", X: ArrayLike, Y: np.ndarray, sample_weight: np.ndarray | None,
                   incremental: bool) -> None:
    """scikit-learn's _fit_stochastic: up to max_iter epochs (one for partial_fit) of mini-batch steps."""
    if not incremental or not hasattr(est, "_optimizer"):  # partial_fit keeps its optimizer's moments
        est._optimizer = StochasticSolver(est, est.model_)
    validation = None
    if est.early_stopping:
        (X, Y, sample_weight), validation = split_validation(est, X, Y, sample_weight)
    n, dtype = X.shape[0], est.model_.dtype
    batch_size = est._batch_size(n)
    best_state = None
    est.n_iter_ = 0  # epochs of this call, as scikit-learn >= 1.7 counts them (t_ keeps counting samples)
    est.model_.train()
    for _ in range(1 if incremental else est.max_iter):
        # --- shuffle, then one step per mini-batch
        order = est._rng.permutation(n) if est.shuffle else np.arange(n)
        loss_sum = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            wb = None if sample_weight is None else sample_weight[idx]
            loss_sum += train_step(est, dense_rows(X, idx, dtype), Y[idx], wb) * len(idx)
        # --- scikit-learn's bookkeeping: loss curve, validation score, stopping rule, schedule
        stop, improved = end_epoch(est, loss_sum / n, validation, n)
        if improved:
            best_state = est.model_.state_dict()
        if not all(np.isfinite(p).all() for p in est.model_.parameters()):
            warnings.warn(f"Training diverged at epoch {est.n_iter_}: the weights are no longer finite (loss "
                          f"{est.loss_curve_[-1]}); scale the inputs or lower learning_rate_init.",
                          ConvergenceWarning, stacklevel=4)
            break
        if stop or incremental:
            break
        if est.n_iter_ == est.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and the "
                          "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=4)
    if validation is not None and best_state is not None:  # keep the best-scoring weights
        est.model_.load_state_dict(best_state)
