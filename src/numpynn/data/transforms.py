"""Array helpers between loading and training: flatten, scale, one-hot, seeded split and subset."""

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from numpynn.errors import DataError

# The MNIST training set's pixel mean and std after /255 (torchvision's Normalize((0.1307,), (0.3081,))).
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
SCALE_METHODS = ("none", "255", "zscore", "global")
XY = tuple[np.ndarray, np.ndarray]  # (x, y): features (N, ...) and targets (N, ...)


def flatten(x: np.ndarray) -> np.ndarray:
    """(N, ...) -> (N, D): one row of features per sample, e.g. (N, 28, 28) -> (N, 784)."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise DataError(f"flatten needs a batch of samples (N, ...), got shape {x.shape}; add the batch axis first.")
    return x.reshape(len(x), -1)


def scale(x: np.ndarray, method: str = "255", dtype: DTypeLike = np.float32,
          out: np.ndarray | None = None) -> np.ndarray:
    """Pixels as `dtype` (float32 by default; float64 only when asked), scaled by `method`, into `out` if given.

    "none": values unchanged; "255": x / 255 into [0, 1]; "global": (x / 255 - 0.1307) / 0.3081, MNIST's
    dataset-wide mean and std; "zscore": per feature (pixel) to mean 0, std 1 using x's own statistics
    (for held-out data fit a StandardScaler on the training set instead).
    """
    dtype = _float_dtype(dtype if out is None else out.dtype)
    x = _numeric(x, "scale")
    if method not in SCALE_METHODS:
        raise DataError(f"Unknown scaling method {method!r}; use one of {', '.join(map(repr, SCALE_METHODS))}.")
    if method == "zscore":
        return StandardScaler(dtype).fit(x).transform(x, out=out)
    out = np.empty(x.shape, dtype) if out is None else out
    if method == "none":
        np.copyto(out, x, casting="unsafe")
        return out
    np.divide(_cast_into(x, out), dtype.type(255), out=out)
    if method == "global":
        out -= dtype.type(MNIST_MEAN)
        out /= dtype.type(MNIST_STD)
    return out


def _cast_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """x ready for a ufunc into `out` with the roundings of x.astype(out.dtype): x itself where NumPy computes in
    out's dtype anyway (uint8 pixels into float32: cast and arithmetic in one pass), else x cast into out.

    So a batch scaled on its own (fit's preprocess) is bit-identical to the whole array scaled at once.
    """
    if np.result_type(x.dtype, out.dtype) == out.dtype:
        return x
    np.copyto(out, x, casting="unsafe")
    return out


class StandardScaler:
    """Per-feature z-score as scikit-learn's: (x - mean) / std, with zero-std features only centred."""

    def __init__(self, dtype: DTypeLike = np.float32):
        self.dtype = _float_dtype(dtype)
        self.mean = None
        self.scale = None

    def fit(self, x: np.ndarray) -> "StandardScaler":
        """Learn mean and std per feature from x: (N, ...); statistics are accumulated in float64."""
        x = _numeric(x, "StandardScaler.fit")
        if len(x) == 0:
            raise DataError("StandardScaler.fit got 0 samples; pass at least one row.")
        mean = x.mean(axis=0, dtype=np.float64)
        std = x.std(axis=0, dtype=np.float64)
        # Constant pixels (MNIST's borders) would divide by zero, or by round-off in their std; found
        # exactly by min == max, they are only centred (to exactly 0), as scikit-learn does.
        constant = x.min(axis=0) == x.max(axis=0)
        mean[constant], std[constant] = x[0][constant], 1.0
        self.mean, self.scale = mean.astype(self.dtype), std.astype(self.dtype)
        return self

    def transform(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(x - mean) / std in the scaler's dtype, into `out` when given; x must have the fitted feature shape."""
        if self.mean is None:
            raise DataError("This StandardScaler is not fitted yet; call fit(x_train) first.")
        x = _numeric(x, "StandardScaler.transform")
        if x.shape[1:] != self.mean.shape:
            raise DataError(f"StandardScaler was fitted on features of shape {self.mean.shape}, got {x.shape[1:]}; "
                            "transform data shaped like the training set.")
        out = np.empty(x.shape, self.dtype) if out is None else out
        np.subtract(_cast_into(x, out), self.mean, out=out)
        out /= self.scale
        return out

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        """fit(x) then transform(x)."""
        return self.fit(x).transform(x)


class Scaler:
    """One of scale()'s methods as an object, learned on the training rows and applied to any batch the same way.

        scaler = Scaler.fit("zscore", x_train)         # "zscore" learns per-feature mean/std; others learn nothing
        fit(model, ..., x_train, y, preprocess=scaler)  # x_train stays raw (uint8); each batch is scaled as gathered
        model.predict(scaler(x_test))

    scaler(x, out=None) gives bit-identical values to scale(x, method) on the whole array.
    """

    def __init__(self, method: str = "255", dtype: DTypeLike = np.float32, mean: np.ndarray | None = None,
                 std: np.ndarray | None = None):
        if method not in SCALE_METHODS:
            raise DataError(f"Unknown scaling method {method!r}; use one of {', '.join(map(repr, SCALE_METHODS))}.")
        if method == "zscore" and (mean is None or std is None):
            raise DataError("A zscore Scaler needs the training set's mean and std; build it with "
                            "Scaler.fit('zscore', x_train).")
        self.method, self.dtype, self.mean, self.std = method, _float_dtype(dtype), mean, std
        self._standard = None
        if method == "zscore":
            self._standard = StandardScaler(dtype)
            self._standard.mean, self._standard.scale = mean, std

    @classmethod
    def fit(cls, method: str, x_train: np.ndarray, dtype: DTypeLike = np.float32) -> "Scaler":
        """Statistics come from the training rows only, so no test-set information leaks into training."""
        if method != "zscore":
            return cls(method, dtype)
        standard = StandardScaler(dtype).fit(x_train)
        return cls(method, dtype, standard.mean, standard.scale)

    def __call__(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """x: (N, D) raw values -> (N, D) in the scaler's dtype, into `out` when given."""
        if self.method != "zscore":
            return scale(x, self.method, self.dtype, out=out)
        return self._standard.transform(x, out=out)  # which refuses data of another width

    def tensors(self) -> dict[str, np.ndarray]:
        """What a model file keeps beside the weights: a zscore's (D,) preprocess.mean and preprocess.std."""
        return {} if self.method != "zscore" else {"preprocess.mean": self.mean, "preprocess.std": self.std}

    def __repr__(self) -> str:
        return f"Scaler({self.method!r}, dtype={self.dtype.name})"


def one_hot(y: np.ndarray, num_classes: int = 10, dtype: DTypeLike = np.float32) -> np.ndarray:
    """y: (N,) integer labels -> (N, num_classes) with a single 1 per row."""
    y = check_labels(y, num_classes)
    out = np.zeros((len(y), num_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


def check_labels(y: ArrayLike, num_classes: int = 10, name: str = "labels") -> np.ndarray:
    """y as a 1-D integer array with every value in [0, num_classes), or a DataError saying what is wrong."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"{name} must be 1-D (N,), got shape {y.shape}; pass class indices, not one-hot rows.")
    if y.dtype.kind not in "iu":
        raise DataError(f"{name} must be integers, got dtype {y.dtype}; convert them, e.g. y.astype(int).")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise DataError(f"{name} range over {y.min()}..{y.max()}, outside 0..{num_classes - 1}; "
                        "fix the labels or pass the right num_classes.")
    return y


def train_val_split(x: np.ndarray, y: np.ndarray, val_fraction: float = 0.1,
                    seed: int | np.random.Generator = 0) -> tuple[XY, XY]:
    """((x_train, y_train), (x_val, y_val)): a shuffled split, reproducible from `seed` (never global np.random)."""
    x, y = _same_length(x, y)
    if not 0 < val_fraction < 1:
        raise DataError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}.")
    n_val = int(round(len(x) * val_fraction))
    if not 0 < n_val < len(x):
        raise DataError(f"Splitting {len(x)} samples with val_fraction={val_fraction} leaves a part empty; "
                        "use more samples or another fraction.")
    order = _rng(seed).permutation(len(x))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def subset(x: np.ndarray, y: np.ndarray, n: int,
           seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x[:n], y[:n]) when seed is None, else n samples drawn without replacement from `seed`."""
    x, y = _same_length(x, y)
    if not 0 < n <= len(x):
        raise DataError(f"subset size must be 1..{len(x)}, got {n}.")
    if seed is None:
        return x[:n], y[:n]
    index = _rng(seed).permutation(len(x))[:n]
    return x[index], y[index]


def _rng(seed):
    # An explicit Generator keeps runs reproducible without touching (or depending on) global np.random.
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(f"seed must be an int or a numpy.random.Generator, got {type(seed).__name__}; "
                    "e.g. seed=0 or seed=np.random.default_rng(0).")


def _same_length(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise DataError(f"x and y must hold one sample each per row, got shapes {x.shape} and {y.shape}.")
    return x, y


def _numeric(x, who):
    x = np.asarray(x)
    if x.dtype.kind not in "uif":
        raise DataError(f"{who} needs numeric pixels, got dtype {x.dtype}; convert with np.asarray(x, float).")
    if x.ndim < 1:
        raise DataError(f"{who} needs a batch of samples (N, ...), got a scalar.")
    return x


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise DataError(f"dtype must be a float type such as np.float32 or np.float64, got {dtype}.")
    return dtype
