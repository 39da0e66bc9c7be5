"""numpynn.sklearn.MLPClassifier: scikit-learn's MLPClassifier interface over a numpynn network."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from numpynn.interop.sklearn_base import NumpynnMLP
from numpynn.nn.functional import softmax
from numpynn.nn.losses import CrossEntropyLoss


class MLPClassifier(ClassifierMixin, NumpynnMLP):
    """Multi-layer perceptron classifier trained by numpynn's fit (softmax + cross-entropy, SGD or Adam).

    Parameters and fitted attributes are scikit-learn's (see sklearn.neural_network.MLPClassifier), plus
    numpynn's conv (convolution blocks before the hidden layers), dropout and dtype ("float32" by default).
    Labels may be any sortable values (ints, strings); classes_ holds them sorted. Two classes get two softmax
    outputs where scikit-learn uses one logistic unit, so the last of coefs_ is (n_hidden, 2), not (n_hidden, 1).
    model_ is the trained numpynn Sequential; save(path) / MLPClassifier.load(path) use numpynn's model files.
    """

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y) from the current weights; the first call needs every label in `classes`."""
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit, e.g. classes=np.unique(y).")
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (N, n_classes), columns in the order of classes_."""
        return softmax(self._network_output(X), axis=1)

    def predict_log_proba(self, X) -> np.ndarray:
        return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row, as a label of classes_."""
        best = np.argmax(self.predict_proba(X), axis=1)  # first: it raises NotFittedError before fit
        return self.classes_[best]

    # --- hooks of NumpynnMLP --------------------------------------------------------------------------------

    def _validate_targets(self, y, first, classes=None):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first and classes is None and self.warm_start and hasattr(self, "classes_") \
                and not np.array_equal(np.unique(y), self.classes_):
            raise ValueError(f"warm_start can only be used where y has the same classes as in the previous call "
                             f"to fit; previously got {self.classes_}, y has {np.unique(y)}.")
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            if hasattr(self, "classes_") and not np.array_equal(classes, self.classes_):
                raise ValueError(f"classes={classes!r} is not the same as on the last call to partial_fit, "
                                 f"which was {self.classes_!r}.")
        if first:
            self.classes_ = np.unique(y) if classes is None else classes
            self._n_outputs = len(self.classes_)
        index = np.searchsorted(self.classes_, y)
        unseen = (index >= len(self.classes_)) | (self.classes_[np.minimum(index, len(self.classes_) - 1)] != y)
        if unseen.any():
            raise ValueError(f"y has labels {np.unique(y[unseen])[:5]} that are not in classes_ {self.classes_}; "
                             "pass every label in `classes` on the first call to partial_fit.")
        return index.astype(np.int64)

    def _loss(self):
        return CrossEntropyLoss()

    def _score_network(self, X, y) -> float:
        return float(np.mean(np.argmax(self.model_.predict_logits(X), axis=1) == y))

    def _fitted_metadata(self):
        return {"classes_": self.classes_.tolist(), "classes_dtype": self.classes_.dtype.str}

    def _restore_fitted(self, fitted):
        dtype = np.dtype(fitted["classes_dtype"])
        if dtype.kind not in "biufUO":
            raise ValueError(f"classes_ dtype {dtype} is not a label type")
        self.classes_ = np.asarray(fitted["classes_"], dtype=dtype)
        self._n_outputs = len(self.classes_)
