"""numpynn.sklearn.MLPRegressor: scikit-learn's MLPRegressor interface over a numpynn network."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import column_or_1d

from numpynn.interop.sklearn_base import NumpynnMLP
from numpynn.interop.sklearn_network import HalfSquaredError


class MLPRegressor(RegressorMixin, NumpynnMLP):
    """Multi-layer perceptron regressor trained by numpynn's fit (squared error / 2, SGD or Adam).

    Parameters and fitted attributes are scikit-learn's (see sklearn.neural_network.MLPRegressor), plus
    numpynn's conv, dropout and dtype ("float32" by default: predictions are float32 then). y may be (N,)
    or (N, n_outputs). model_ is the trained numpynn Sequential; save(path) / MLPRegressor.load(path) use
    numpynn's model files.
    """

    def partial_fit(self, X, y):
        """One epoch over (X, y) from the current weights."""
        return self._fit(X, y, incremental=True)

    def predict(self, X) -> np.ndarray:
        """Predictions (N,), or (N, n_outputs) when fitted on 2-D targets."""
        out = self._network_output(X)
        return out[:, 0] if self._y_1d else out

    # --- hooks of NumpynnMLP --------------------------------------------------------------------------------

    def _validate_targets(self, y, first, classes=None):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be (n_samples,) or (n_samples, n_outputs), got shape {y.shape}.")
        outputs = 1 if y.ndim == 1 else y.shape[1]
        if first:
            self._y_1d, self._n_outputs = y.ndim == 1, outputs
        elif outputs != self._n_outputs:
            raise ValueError(f"y has {outputs} outputs but the estimator was fitted with {self._n_outputs}; "
                             "fit it anew (warm_start=False) for other targets.")
        return y.reshape(len(y), outputs).astype(np.dtype(self.dtype))

    def _loss(self):
        return HalfSquaredError()

    def _score_network(self, X, y) -> float:
        pred = self.model_.predict_logits(X)
        return float(r2_score(y, pred))

    def _fitted_metadata(self):
        return {"n_outputs_": int(self._n_outputs), "y_1d": bool(self._y_1d)}

    def _restore_fitted(self, fitted):
        self._n_outputs, self._y_1d = int(fitted["n_outputs_"]), bool(fitted["y_1d"])
