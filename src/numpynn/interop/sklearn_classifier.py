"""numpynn.sklearn.MLPClassifier: scikit-learn's MLPClassifier interface over a numpynn network."""

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from numpynn.interop.sklearn_base import NumpynnMLP
from numpynn.interop.sklearn_losses import BinaryCrossEntropy, SoftmaxCrossEntropy
from numpynn.interop.sklearn_network import raw_output


class MLPClassifier(ClassifierMixin, NumpynnMLP):
    """Multi-layer perceptron classifier on a numpynn network (softmax + cross-entropy; sigmoids for multilabel).

    Parameters and fitted attributes are scikit-learn's (see sklearn.neural_network.MLPClassifier): solver
    "adam", "sgd" or "lbfgs" (SciPy's L-BFGS-B, limited by max_iter and max_fun), learning_rate "constant",
    "invscaling" (with power_t) or "adaptive", n_iter_no_change=np.inf to never stop early, fit/partial_fit's
    sample_weight, sparse X. Plus numpynn's conv (convolution blocks before the hidden layers), dropout and
    dtype: None (the default) keeps the input's float dtype as scikit-learn does (float32 stays float32,
    anything else trains float64); "float32" or "float64" forces one. Labels may be any sortable values;
    classes_ holds them sorted. y may also be a label-indicator matrix (N, n_labels): multilabel, one sigmoid
    per label. Two classes get two softmax outputs where scikit-learn uses one logistic unit, so the last of
    coefs_ is (n_hidden, 2), not (n_hidden, 1). model_ is the trained numpynn Sequential;
    save(path) / MLPClassifier.load(path) use numpynn's model files.
    """

    @available_if(NumpynnMLP._check_solver)
    def partial_fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None,
                    classes: ArrayLike | None = None) -> "MLPClassifier":
        """One epoch over (X, y) from the current weights; the first call needs every label in `classes`."""
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit, e.g. classes=np.unique(y).")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities (N, n_classes), columns in the order of classes_ (multilabel: one per label)."""
        z = self._network_output(X)  # first: it raises NotFittedError before fit
        return self._loss_fn.activation(z)

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """log of predict_proba (N, n_classes)."""
        return np.log(self.predict_proba(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most probable class of each row (N,), or the label indicators (N, n_labels) when multilabel."""
        proba = self.predict_proba(X)
        if self._multilabel:
            return (proba > 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]

    @property
    def out_activation_(self) -> str:
        """The output activation's scikit-learn name."""
        return "logistic" if self._multilabel else "softmax"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # --- hooks of NumpynnMLP --------------------------------------------------------------------------------

    def _validate_targets(self, y, first, incremental, classes=None):
        multilabel = type_of_target(y) == "multilabel-indicator"
        if not multilabel:
            y = column_or_1d(y, warn=True)
            check_classification_targets(y)
        if first:
            self._multilabel = multilabel
            self.classes_ = np.arange(y.shape[1]) if multilabel else np.unique(y if classes is None else classes)
            self._n_outputs = len(self.classes_)
        else:
            self._check_same_classes(y, multilabel, incremental, classes)
        if multilabel:
            return np.asarray(y, dtype=np.float64)
        index = np.searchsorted(self.classes_, y)
        unseen = (index >= len(self.classes_)) | (self.classes_[np.minimum(index, len(self.classes_) - 1)] != y)
        if unseen.any():
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. 'y' has "
                             f"{np.unique(y)}; pass every label in `classes` on the first call to partial_fit.")
        return np.eye(len(self.classes_))[index]

    def _check_same_classes(self, y, multilabel: bool, incremental: bool, classes) -> None:
        """A later fit (warm_start) or partial_fit must see the classes of the first."""
        if multilabel != self._multilabel or (multilabel and y.shape[1] != self._n_outputs):
            raise ValueError(f"y is {'multilabel' if multilabel else 'one label per row'} with other outputs than "
                             "at the first fit; fit anew (warm_start=False) for other targets.")
        if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes={np.unique(classes)!r} is not the same as on the last call to partial_fit, "
                             f"which was {self.classes_!r}.")
        if not incremental and not multilabel and set(np.unique(y)) != set(self.classes_):
            raise ValueError(f"warm_start can only be used where `y` has the same classes as in the previous call to "
                             f"fit. Previously got {self.classes_}, `y` has {np.unique(y)}")

    def _make_loss(self):
        return BinaryCrossEntropy() if self._multilabel else SoftmaxCrossEntropy()

    def _stratify_labels(self, Y):
        """early_stopping's split keeps class proportions (scikit-learn's binarized labels; none for multilabel)."""
        if self._multilabel:
            return None
        return Y[:, 1:] > 0.5 if Y.shape[1] == 2 else Y > 0.5

    def _score_rows(self, X, Y, sample_weight) -> float:
        z = raw_output(self.model_, X, checked=False)
        if not np.isfinite(z).all():
            return np.nan
        if self._multilabel:
            return float(accuracy_score(Y > 0.5, z > 0, sample_weight=sample_weight))
        return float(accuracy_score(Y.argmax(axis=1), z.argmax(axis=1), sample_weight=sample_weight))

    def _fitted_metadata(self):
        return {"classes_": self.classes_.tolist(), "classes_dtype": self.classes_.dtype.str,
                "multilabel": bool(self._multilabel)}

    def _restore_fitted(self, fitted):
        dtype = np.dtype(fitted["classes_dtype"])
        if dtype.kind not in "biufUO":
            raise ValueError(f"classes_ dtype {dtype} is not a label type")
        self.classes_ = np.asarray(fitted["classes_"], dtype=dtype)
        self._n_outputs = len(self.classes_)
        self._multilabel = bool(fitted.get("multilabel", False))
