"""The core both scikit-learn estimators share: parameters, scikit-learn's solvers on a numpynn network.

The network is numpynn's Sequential (numpynn's Linear, activations, conv blocks); the solvers are
scikit-learn's: "sgd" / "adam" run scikit-learn's epoch loop with numpynn's SGD or Adam (sklearn_sgd),
"lbfgs" runs SciPy's L-BFGS-B on the network's flat parameters (sklearn_lbfgs). What this module adds is
scikit-learn's meaning of the parameters and its fitted attributes (loss_curve_, n_iter_, t_, coefs_, ...):
input validation (dense or sparse X, sample_weight), dtype, warm_start and partial_fit.
"""

import warnings

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike, DTypeLike
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from numpynn import threads as thread_policy
from numpynn.interop.sklearn_conv import as_images, build_cnn
from numpynn.interop.sklearn_files import ModelFiles
from numpynn.interop.sklearn_lbfgs import fit_lbfgs, loss_grad, penalised_mask
from numpynn.interop.sklearn_network import activation_name, build_mlp, generator, raw_output, writeable_copies
from numpynn.interop.sklearn_params import check_params, dtype_name, hidden_sizes
from numpynn.interop.sklearn_sgd import fit_stochastic

try:
    from sklearn.utils.validation import validate_data  # scikit-learn >= 1.6
except ImportError:  # older releases: the method that function replaced
    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

AUTO_BATCH = 200  # batch_size="auto" is min(200, n_samples), as in scikit-learn
SPARSE = ["csr", "csc"]  # sparse X scikit-learn's MLPs take (CSC becomes CSR: batches are rows)
NON_FINITE = ("Solver produced non-finite parameter weights. The input data may contain large values and need to "
              "be preprocessed.")


class NumpynnMLP(ModelFiles, BaseEstimator):
    """Parameters as scikit-learn's MLPClassifier / MLPRegressor, plus numpynn's conv, dropout and dtype."""

    def __init__(self, hidden_layer_sizes: int | tuple[int, ...] = (100,), activation: str = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001, batch_size: int | str = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 0.001, power_t: float = 0.5,
                 max_iter: int = 200, shuffle: bool = True,
                 random_state: int | np.random.RandomState | np.random.Generator | None = None, tol: float = 1e-4,
                 verbose: bool = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False, validation_fraction: float = 0.1,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8, n_iter_no_change: int = 10,
                 max_fun: int = 15000, conv: int | tuple[int, ...] | None = None, dropout: float = 0.0,
                 dtype: DTypeLike | None = None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.conv = conv
        self.dropout = dropout
        self.dtype = dtype

    # --- what subclasses provide -----------------------------------------------------------------------------

    def _validate_targets(self, y, first: bool, incremental: bool, classes=None) -> np.ndarray:
        """2-D float targets (N, n_outputs) for the loss; sets _n_outputs on the first call."""

    def _make_loss(self): ...
    def _score_rows(self, X, Y, sample_weight) -> float: ...

    def _stratify_labels(self, Y):
        return None

    # --- training ---------------------------------------------------------------------------------------

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "NumpynnMLP":
        """Train on X (N, n_features), dense or sparse, and y (from the current weights when warm_start)."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_solver(self) -> bool:
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. {self.solver} is not "
                                 "stochastic.")
        return True

    @thread_policy.policy  # numpynn's thread policy (numpynn.threads): 1 thread, or NUMPYNN_THREADS
    def _fit(self, X, y, sample_weight, incremental: bool, classes=None):
        check_params(self)
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True; set early_stopping=False.")
        first = not hasattr(self, "model_") or not (incremental or self.warm_start)
        X, y = validate_data(self, X, y, reset=first, accept_sparse=SPARSE, dtype=self._input_dtype(first),
                             multi_output=True, y_numeric=not is_classifier(self))
        if scipy.sparse.issparse(X):
            X = X.tocsr()
        Y = self._validate_targets(y, first, incremental, classes)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if first or not incremental:  # every fit draws afresh from random_state, as scikit-learn's; partial_fit goes on
            self._rng = generator(self.random_state)
        if first:
            self._initialize(X.shape[1], X.dtype)
        if self.early_stopping and self.validation_scores_ is None:  # a warm start that turned it on
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
        Y = Y.astype(self.model_.dtype, copy=False)
        if self.solver == "lbfgs":
            fit_lbfgs(self, self._network_input(X), Y, sample_weight)
        else:
            fit_stochastic(self, self._network_input(X), Y, sample_weight, incremental)
        if not all(np.isfinite(p).all() for p in self.model_.parameters()):
            raise ValueError(NON_FINITE)
        return self

    def _input_dtype(self, first: bool):
        """The float dtype X is validated to: the network's once it exists, else dtype or the input's own."""
        if not first:
            return self.model_.dtype
        if self.dtype is not None:
            return np.dtype(dtype_name(self.dtype))
        return [np.float64, np.float32]  # float32 stays float32, anything else becomes float64 (scikit-learn's)

    def _initialize(self, n_features: int, dtype) -> None:
        activation = activation_name(self.activation)
        if self.conv:
            self.model_ = build_cnn(n_features, self.conv, hidden_sizes(self), self._n_outputs, activation,
                                    self._rng, dtype, self.dropout)
        else:
            self.model_ = build_mlp(n_features, hidden_sizes(self), self._n_outputs, activation, self._rng, dtype,
                                    self.dropout)
        self._loss_fn = self._make_loss()
        self.n_iter_, self.t_, self.loss_curve_, self.loss_ = 0, 0, [], np.nan
        self._no_improvement_count = 0
        self.best_loss_ = None if self.early_stopping else np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        if hasattr(self, "_optimizer"):
            del self._optimizer

    def _network_input(self, X):
        """Rows (N, n_features) as the network takes them: as they are, or as images for a network with conv."""
        if not self.conv:
            return X
        return as_images(X.toarray() if scipy.sparse.issparse(X) else X)

    def _batch_size(self, n: int) -> int:
        if self.batch_size == "auto":
            return min(AUTO_BATCH, n)
        if self.batch_size > n:
            warnings.warn(f"Got `batch_size` larger than sample size ({n}); it is clipped to {n}.", stacklevel=4)
        return min(self.batch_size, n)

    def _loss_grad_lbfgs(self, packed, X, Y, sample_weight=None, *buffers):
        """scikit-learn's private objective for solver="lbfgs": (loss, gradient) at the flat parameters packed.

        The buffers scikit-learn passes (activations, deltas, gradients) are not needed: the network keeps its own.
        Binary targets may come as one column (scikit-learn's single logistic unit); they become two here.
        """
        Y = np.asarray(Y, dtype=self.model_.dtype)
        if Y.ndim == 1:
            Y = Y[:, None]
        if Y.shape[1] == 1 and self._n_outputs == 2:
            Y = np.hstack([1 - Y, Y])
        self._penalised = penalised_mask(self.model_)
        return loss_grad(np.asarray(packed, dtype=np.float64), self, np.asarray(X, dtype=self.model_.dtype), Y,
                         sample_weight)

    def __setstate__(self, state):
        super().__setstate__(state)
        if "model_" in state:  # a joblib worker may hand arrays back read-only (memory-mapped)
            optimizer = getattr(self, "_optimizer", None)
            writeable_copies(self.model_, None if optimizer is None else optimizer.optimizer)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # --- fitted attributes in scikit-learn's terms ---------------------------------------------------------

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Each Linear layer's weight as scikit-learn orients it, (in, out): views, not copies."""
        return [layer.params["weight"].T for layer in self.model_.layers if type(layer).__name__ == "Linear"]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Each Linear layer's bias (out,): views, not copies."""
        return [layer.params["bias"] for layer in self.model_.layers if type(layer).__name__ == "Linear"]

    @property
    def n_layers_(self) -> int:
        """Layers as scikit-learn counts them: input, hidden and output."""
        return len(self.coefs_) + 1

    @property
    def n_outputs_(self) -> int:
        """The network's output units (classes, labels or regression targets)."""
        return self._n_outputs

    def _network_output(self, X) -> np.ndarray:
        """The network's raw output z (N, n_outputs) for rows X (dense or sparse), validated as at fit."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=SPARSE, dtype=self.model_.dtype)
        if scipy.sparse.issparse(X):
            X = X.tocsr()
        return raw_output(self.model_, self._network_input(X))
