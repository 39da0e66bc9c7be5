"""The core both scikit-learn estimators share: parameters, numpynn's fit() under scikit-learn's stopping rule, files.

Training is numpynn's own loop (numpynn.training.fit.fit with numpynn's SGD or Adam); what this module adds is
scikit-learn's meaning of the parameters: alpha as an L2 term on the weights, batch_size="auto", the tol /
n_iter_no_change rule on the training loss or (early_stopping) on a held-out validation score, warm_start,
partial_fit, and the fitted attributes (loss_curve_, n_iter_, t_, coefs_, ...).
"""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from numpynn.errors import CheckpointError
from numpynn.interop.sklearn_conv import as_images, build_cnn, conv_channels
from numpynn.interop.sklearn_network import WeightPenalty, activation_name, build_mlp, generator, writeable_copies
from numpynn.interop.sklearn_stopping import StoppingRule
from numpynn.io.checkpoint import load_model, save_model
from numpynn.optim.optimizers import SGD, Adam
from numpynn.training.fit import fit
from numpynn.validation import expected_features, output_size

try:
    from sklearn.utils.validation import validate_data  # scikit-learn >= 1.6
except ImportError:  # older releases: the method that function replaced
    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

AUTO_BATCH = 200  # batch_size="auto" is min(200, n_samples), as in scikit-learn
DTYPES = ("float32", "float64")


class NumpynnMLP(BaseEstimator):
    """Parameters as scikit-learn's MLPClassifier / MLPRegressor, plus numpynn's conv, dropout and dtype."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, conv=None, dropout=0.0, dtype="float32"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
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
        self.conv = conv
        self.dropout = dropout
        self.dtype = dtype

    # --- what subclasses provide: targets (setting _n_outputs), loss, validation score -------------------------

    def _validate_targets(self, y, first: bool, classes=None) -> np.ndarray: ...
    def _loss(self): ...
    def _score_network(self, X, y) -> float: ...

    # --- training ---------------------------------------------------------------------------------------

    def fit(self, X, y):
        """Train for up to max_iter epochs (from the current weights when warm_start); returns self."""
        return self._fit(X, y, incremental=False)

    def _fit(self, X, y, incremental: bool, classes=None):
        self._check_params()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True; set early_stopping=False.")
        first = not hasattr(self, "model_") or not (incremental or self.warm_start)
        X, y = validate_data(self, X, y, reset=first, dtype=np.dtype(self.dtype), multi_output=True,
                             y_numeric=not is_classifier(self))
        y = self._validate_targets(y, first, classes)
        if first or not incremental:  # every fit draws afresh from random_state, as scikit-learn's; partial_fit goes on
            self._rng = generator(self.random_state)
        if first:
            self.model_ = self._build_network(X.shape[1])
            self.n_iter_, self.t_, self.loss_curve_ = 0, 0, []
            self._no_improvement_count = 0
            self.best_loss_ = None if self.early_stopping else np.inf
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = -np.inf if self.early_stopping else None
        if self.early_stopping and self.validation_scores_ is None:  # a warm start that turned it on
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
        self.n_iter_ = 0  # epochs of this call, as scikit-learn >= 1.7 counts them (t_ keeps counting samples)
        if not incremental or not hasattr(self, "_optimizer"):  # partial_fit keeps its optimizer's moments
            self._network = WeightPenalty(self.model_, self.alpha)
            self._optimizer = self._build_optimizer(self._network)
        self._network.alpha = float(self.alpha)
        validation = None
        if self.early_stopping:
            X, X_val, y, y_val = train_test_split(X, y, test_size=self.validation_fraction,
                                                  random_state=int(self._rng.integers(2**31 - 1)),
                                                  stratify=y if is_classifier(self) else None)
            if len(X_val) < 2:
                raise ValueError(f"The validation set has {len(X_val)} sample(s); increase validation_fraction "
                                 "or pass more data for early_stopping.")
            validation = (self._network_input(X_val), y_val)
        batch_size = self._batch_size(len(X))
        rule = StoppingRule(self, validation, len(X))
        fit(self._network, self._loss(), self._optimizer, self._network_input(X), y,
            epochs=1 if incremental else self.max_iter, batch_size=batch_size, rng=self._rng, shuffle=self.shuffle,
            verbose=0, callbacks=[rule])
        if validation is not None and rule.best_state is not None:  # keep the best-scoring weights
            self.model_.load_state_dict(rule.best_state)
        if not incremental and not rule.stopped:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                          "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)
        return self

    def _build_network(self, n_features: int):
        activation = activation_name(self.activation)
        if self.conv:
            return build_cnn(n_features, self.conv, self._hidden(), self._n_outputs, activation,
                             self._rng, np.dtype(self.dtype), self.dropout)
        return build_mlp(n_features, self._hidden(), self._n_outputs, activation, self._rng,
                         np.dtype(self.dtype), self.dropout)

    def _network_input(self, X):
        """Rows (N, n_features) as the network takes them: as they are, or as images for a network with conv."""
        if not self.conv:
            return X
        return as_images(X)

    def _build_optimizer(self, network):
        if self.solver == "sgd":
            return SGD(network, lr=self.learning_rate_init, momentum=self.momentum,
                       nesterov=bool(self.nesterovs_momentum and self.momentum > 0))
        return Adam(network, lr=self.learning_rate_init, betas=(self.beta_1, self.beta_2), eps=self.epsilon)

    def _batch_size(self, n: int) -> int:
        if self.batch_size == "auto":
            return min(AUTO_BATCH, n)
        if self.batch_size > n:
            warnings.warn(f"Got `batch_size` larger than sample size ({n}); it is clipped to {n}.", stacklevel=3)
        return min(self.batch_size, n)

    def _check_params(self) -> None:
        """One sentence per wrong parameter, raised at fit (scikit-learn never validates in __init__)."""
        def bad(name, wanted):
            raise ValueError(f"{name}={getattr(self, name)!r} is invalid; it must be {wanted}.")
        if self.solver not in ("adam", "sgd"):
            bad("solver", "'adam' or 'sgd' (numpynn has no lbfgs)")
        if self.learning_rate != "constant":
            bad("learning_rate", "'constant' (numpynn's estimators keep learning_rate_init throughout)")
        activation_name(self.activation)
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, numbers.Integral) else sizes
        if isinstance(sizes, str) or not hasattr(sizes, "__iter__") or not all(
                isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            bad("hidden_layer_sizes", "a tuple of positive ints such as (100,)")
        self._check_numbers(bad)

    def _check_numbers(self, bad) -> None:
        """The numeric parameters' types and ranges; bad(name, wanted) raises the sentence."""
        for name, lo in (("alpha", 0), ("learning_rate_init", 1e-300), ("tol", 0), ("epsilon", 0)):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or not value >= lo:
                bad(name, "a number >= 0" if lo == 0 else "a positive number")
        for name, lo in (("max_iter", 1), ("n_iter_no_change", 1)):
            if not isinstance(getattr(self, name), numbers.Integral) or getattr(self, name) < lo:
                bad(name, "an int >= 1")
        if self.batch_size != "auto" and not (isinstance(self.batch_size, numbers.Integral)
                                              and self.batch_size >= 1):
            bad("batch_size", "'auto' or an int >= 1")
        for name, lo, hi in (("momentum", 0, 1), ("beta_1", 0, 1 - 1e-12), ("beta_2", 0, 1 - 1e-12),
                             ("dropout", 0, 1 - 1e-12)):
            if not isinstance(getattr(self, name), numbers.Real) or not lo <= getattr(self, name) <= hi:
                bad(name, f"a number in [{lo}, {hi if hi == 1 else 1})")
        if not isinstance(self.validation_fraction, numbers.Real) or not 0 < self.validation_fraction < 1:
            bad("validation_fraction", "a number strictly between 0 and 1")
        if str(self.dtype) not in DTYPES:
            bad("dtype", "'float32' or 'float64'")
        if self.conv is not None:
            conv_channels(self.conv)

    def _hidden(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        return (int(sizes),) if isinstance(sizes, numbers.Integral) else tuple(int(s) for s in sizes)

    def __setstate__(self, state):
        super().__setstate__(state)
        if "model_" in state:  # a joblib worker may hand arrays back read-only (memory-mapped)
            writeable_copies(self.model_, getattr(self, "_optimizer", None))

    # --- fitted attributes in scikit-learn's terms ---------------------------------------------------------

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Each Linear layer's weight as scikit-learn orients it, (in, out): views, not copies."""
        return [layer.params["weight"].T for layer in self.model_.layers if type(layer).__name__ == "Linear"]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        return [layer.params["bias"] for layer in self.model_.layers if type(layer).__name__ == "Linear"]

    @property
    def loss_(self) -> float:
        return self.loss_curve_[-1]

    @property
    def n_layers_(self) -> int:
        return len(self.coefs_) + 1

    @property
    def n_outputs_(self) -> int:
        return self._n_outputs

    @property
    def out_activation_(self) -> str:
        check_is_fitted(self)
        return "softmax" if is_classifier(self) else "identity"

    def _network_output(self, X) -> np.ndarray:
        """The network's raw output (N, n_outputs) for validated rows X."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.dtype(self.dtype))
        return self.model_.predict_logits(self._network_input(X))

    # --- files: numpynn's safetensors model files, never pickle ---------------------------------------------

    def save(self, path):
        """Write the fitted estimator as a numpynn model file (safetensors + JSON metadata), atomically."""
        check_is_fitted(self)
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()}
        seed = params["random_state"]  # a Generator or RandomState cannot be written down: None then
        params["random_state"] = int(seed) if isinstance(seed, numbers.Integral) else None
        fitted = {"n_features_in_": int(self.n_features_in_), "n_iter_": int(self.n_iter_), "t_": int(self.t_),
                  "loss_curve_": [float(v) for v in self.loss_curve_],
                  "best_loss_": None if self.best_loss_ is None else float(self.best_loss_),
                  "validation_scores_": None if self.validation_scores_ is None else
                  [float(v) for v in self.validation_scores_],
                  "feature_names_in_": getattr(self, "feature_names_in_", np.array([])).tolist(),
                  **self._fitted_metadata()}
        meta = {"sklearn": {"estimator": type(self).__name__, "params": params, "fitted": fitted},
                "preprocessing": {"method": "none", "input_shape": [int(self.n_features_in_)]}}
        if hasattr(self, "classes_"):
            meta["classes"] = [str(c) for c in self.classes_]  # the names `numpynn predict` and export show
        return save_model(path, self.model_, metadata=meta)

    @classmethod
    def load(cls, path):
        """A fitted estimator from a file written by save(); partial_fit then starts a fresh optimizer."""
        model, meta = load_model(path)
        info = meta.get("sklearn")
        if not isinstance(info, dict) or info.get("estimator") != cls.__name__:
            raise CheckpointError(f"{path} holds no numpynn {cls.__name__}; write one with "
                                  f"{cls.__name__}(...).fit(X, y).save(path).")
        try:
            params, fitted = dict(info["params"]), dict(info["fitted"])
            unknown = set(params) - set(cls._get_param_names())
            if unknown:
                raise ValueError(f"unknown parameters {sorted(unknown)}")
            for key in ("hidden_layer_sizes", "conv"):
                if isinstance(params.get(key), list):
                    params[key] = tuple(tuple(v) if isinstance(v, list) else v for v in params[key])
            est = cls(**params)
            est._check_params()
            est.model_ = model
            est.n_features_in_, est.n_iter_, est.t_ = (int(fitted[k]) for k in ("n_features_in_", "n_iter_", "t_"))
            est.loss_curve_ = [float(v) for v in fitted["loss_curve_"]]
            est.best_loss_ = None if fitted["best_loss_"] is None else float(fitted["best_loss_"])
            scores = fitted["validation_scores_"]
            est.validation_scores_ = None if scores is None else [float(v) for v in scores]
            est.best_validation_score_ = None if scores is None else max(est.validation_scores_, default=-np.inf)
            if fitted["feature_names_in_"]:
                est.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
            est._no_improvement_count = 0
            est._rng = generator(est.random_state)
            est._restore_fitted(fitted)
            width_in = est.n_features_in_ if not est.conv else expected_features(model)  # conv: pooled size
            if output_size(model) != est._n_outputs or expected_features(model) != width_in:
                raise ValueError("the network's input or output width does not match n_features_in_ or the classes")
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path} has malformed scikit-learn metadata ({exc}); "
                                  "re-save the estimator.") from None
        return est

    def _fitted_metadata(self) -> dict:
        return {}

    def _restore_fitted(self, fitted: dict) -> None: ...

