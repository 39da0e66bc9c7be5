"""numpynn.sklearn.MLPRegressor: scikit-learn's MLPRegressor interface over a numpynn network."""

import numpy as np
from numpy.typing import ArrayLike, DTypeLike
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d

from numpynn.interop.sklearn_base import NumpynnMLP
from numpynn.interop.sklearn_losses import REGRESSION_LOSSES
from numpynn.interop.sklearn_network import raw_output


class MLPRegressor(RegressorMixin, NumpynnMLP):
    """Multi-layer perceptron regressor on a numpynn network: half squared error, or half Poisson deviance.

    Parameters and fitted attributes are scikit-learn's (see sklearn.neural_network.MLPRegressor): loss
    "squared_error" or "poisson" (an exponential output, for counts y >= 0), solver "adam", "sgd" or "lbfgs"
    (SciPy's L-BFGS-B, limited by max_iter and max_fun), learning_rate "constant", "invscaling" (with power_t)
    or "adaptive", n_iter_no_change=np.inf to never stop early, fit/partial_fit's sample_weight, sparse X.
    Plus numpynn's conv, dropout and dtype (None: the input's float dtype, as scikit-learn; predictions come in
    it). y may be (N,) or (N, n_outputs). model_ is the trained numpynn Sequential; save(path) /
    MLPRegressor.load(path) use numpynn's model files.
    """

    def __init__(self, loss: str = "squared_error", hidden_layer_sizes: int | tuple[int, ...] = (100,),
                 activation: str = "relu", *, solver: str = "adam", alpha: float = 0.0001,
                 batch_size: int | str = "auto", learning_rate: str = "constant", learning_rate_init: float = 0.001,
                 power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
                 random_state: int | np.random.RandomState | np.random.Generator | None = None, tol: float = 1e-4,
                 verbose: bool = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False, validation_fraction: float = 0.1,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8, n_iter_no_change: int = 10,
                 max_fun: int = 15000, conv: int | tuple[int, ...] | None = None, dropout: float = 0.0,
                 dtype: DTypeLike | None = None):
        super().__init__(hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
                         max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
                         warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
                         early_stopping=early_stopping, validation_fraction=validation_fraction, beta_1=beta_1,
                         beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
                         conv=conv, dropout=dropout, dtype=dtype)
        self.loss = loss

    @available_if(NumpynnMLP._check_solver)
    def partial_fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "MLPRegressor":
        """One epoch over (X, y) from the current weights."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predictions (N,), or (N, n_outputs) when fitted on 2-D targets."""
        z = self._network_output(X)  # first: it raises NotFittedError before fit
        out = self._loss_fn.activation(z)
        return out[:, 0] if self._y_1d else out

    @property
    def out_activation_(self) -> str:
        """The output activation's scikit-learn name."""
        return "exp" if self.loss == "poisson" else "identity"

    # --- hooks of NumpynnMLP --------------------------------------------------------------------------------

    def _validate_targets(self, y, first, incremental, classes=None):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be (n_samples,) or (n_samples, n_outputs), got shape {y.shape}.")
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("loss='poisson' needs y >= 0 (counts or rates); use loss='squared_error' otherwise.")
        outputs = 1 if y.ndim == 1 else y.shape[1]
        if first:
            self._y_1d, self._n_outputs = y.ndim == 1, outputs
        elif outputs != self._n_outputs:
            raise ValueError(f"y has {outputs} outputs but the estimator was fitted with {self._n_outputs}; "
                             "fit it anew (warm_start=False) for other targets.")
        return y.reshape(len(y), outputs).astype(np.float64)

    def _make_loss(self):
        return REGRESSION_LOSSES[self.loss]()

    def _score_rows(self, X, Y, sample_weight) -> float:
        pred = self._loss_fn.activation(raw_output(self.model_, X, checked=False))
        if not np.isfinite(pred).all():
            return np.nan
        return float(r2_score(Y, pred, sample_weight=sample_weight))

    def _fitted_metadata(self):
        return {"n_outputs_": int(self._n_outputs), "y_1d": bool(self._y_1d)}

    def _restore_fitted(self, fitted):
        self._n_outputs, self._y_1d = int(fitted["n_outputs_"]), bool(fitted["y_1d"])
