"""save() / load() for numpynn's scikit-learn estimators: numpynn's safetensors model files, never pickle."""

import math
import numbers
import os
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from numpynn.errors import CheckpointError
from numpynn.interop.sklearn_network import generator
from numpynn.interop.sklearn_params import check_params
from numpynn.io.checkpoint import load_model, save_model
from numpynn.validation import expected_features, output_size


def _json_params(est) -> dict:
    """get_params() as JSON values: tuples as lists, np.inf as "inf", a Generator or RandomState as None."""
    params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in est.get_params().items()}
    seed = params["random_state"]
    params["random_state"] = int(seed) if isinstance(seed, numbers.Integral) else None
    if params["n_iter_no_change"] == math.inf:
        params["n_iter_no_change"] = "inf"
    if params["dtype"] is not None:
        params["dtype"] = str(np.dtype(params["dtype"]))
    return params


def _python_params(params: dict) -> dict:
    """The inverse of _json_params, for the estimator's constructor."""
    for key in ("hidden_layer_sizes", "conv"):
        if isinstance(params.get(key), list):
            params[key] = tuple(tuple(v) if isinstance(v, list) else v for v in params[key])
    if params.get("n_iter_no_change") == "inf":
        params["n_iter_no_change"] = math.inf
    return params


class ModelFiles:
    """save(path) and cls.load(path) for a fitted estimator (the network plus JSON metadata)."""

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted estimator as a numpynn model file (safetensors + JSON metadata), atomically."""
        check_is_fitted(self)
        fitted = {"n_features_in_": int(self.n_features_in_), "n_iter_": int(self.n_iter_), "t_": int(self.t_),
                  "loss_curve_": [float(v) for v in self.loss_curve_], "loss_": float(self.loss_),
                  "best_loss_": None if self.best_loss_ is None else float(self.best_loss_),
                  "validation_scores_": None if self.validation_scores_ is None else
                  [float(v) for v in self.validation_scores_],
                  "feature_names_in_": getattr(self, "feature_names_in_", np.array([])).tolist(),
                  **self._fitted_metadata()}
        meta = {"sklearn": {"estimator": type(self).__name__, "params": _json_params(self), "fitted": fitted},
                "preprocessing": {"method": "none", "input_shape": [int(self.n_features_in_)]}}
        if hasattr(self, "classes_"):
            meta["classes"] = [str(c) for c in self.classes_]  # the names `numpynn predict` and export show
        return save_model(path, self.model_, metadata=meta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ModelFiles":
        """A fitted estimator from a file written by save(); partial_fit then starts a fresh optimizer."""
        model, meta = load_model(path)
        info = meta.get("sklearn")
        if not isinstance(info, dict) or info.get("estimator") != cls.__name__:
            raise CheckpointError(f"{path} holds no numpynn {cls.__name__}; write one with "
                                  f"{cls.__name__}(...).fit(X, y).save(path).")
        try:
            params, fitted = _python_params(dict(info["params"])), dict(info["fitted"])
            unknown = set(params) - set(cls._get_param_names())
            if unknown:
                raise ValueError(f"unknown parameters {sorted(unknown)}")
            est = cls(**params)
            check_params(est)
            est.model_ = model
            est._restore_common(fitted)
            est._restore_fitted(fitted)
            est._loss_fn = est._make_loss()
            width_in = est.n_features_in_ if not est.conv else expected_features(model)  # conv: pooled size
            if output_size(model) != est._n_outputs or expected_features(model) != width_in:
                raise ValueError("the network's input or output width does not match n_features_in_ or the classes")
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path} has malformed scikit-learn metadata ({exc}); "
                                  "re-save the estimator.") from None
        return est

    def _restore_common(self, fitted: dict) -> None:
        self.n_features_in_, self.n_iter_, self.t_ = (int(fitted[k]) for k in ("n_features_in_", "n_iter_", "t_"))
        self.loss_curve_ = [float(v) for v in fitted["loss_curve_"]]
        self.loss_ = float(fitted.get("loss_", self.loss_curve_[-1] if self.loss_curve_ else math.nan))
        self.best_loss_ = None if fitted["best_loss_"] is None else float(fitted["best_loss_"])
        scores = fitted["validation_scores_"]
        self.validation_scores_ = None if scores is None else [float(v) for v in scores]
        self.best_validation_score_ = None if scores is None else max(self.validation_scores_, default=-np.inf)
        if fitted["feature_names_in_"]:
            self.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
        self._no_improvement_count = 0
        self._rng = generator(self.random_state)

    def _fitted_metadata(self) -> dict:
        return {}

    def _restore_fitted(self, fitted: dict) -> None: ...
