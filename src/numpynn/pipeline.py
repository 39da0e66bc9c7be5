"""What a run trains on and leaves behind: load_data(config), Preprocess, metrics.csv, open_model(path).

A model is only usable with the input scaling it was trained with, so `numpynn train` saves that scaling
(method, and per-feature mean/std as extra tensors) in model.safetensors, and every command that reads a
model gets it back through open_model.
"""

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import datasets
from .checkpoint import load_model, read_checkpoint
from .config import SCALES, TrainConfig
from .errors import CheckpointError, DataError
from .fileio import atomic_write_text
from .model import Sequential
from .validation import expected_features

DIGITS = [str(i) for i in range(10)]
CLASS_NAMES = {
    "mnist": DIGITS,
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
}


# --- data ------------------------------------------------------------------------------------------------

@dataclass
class Data:
    """Raw (unscaled) features as (N, D) rows, integer labels, and what the evaluation rows are."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_name: str
    class_names: list[str]
    image_shape: tuple[int, ...] | None  # for drawing samples; None when rows are not square images


def load_data(config: TrainConfig) -> Data:
    """The training rows and the evaluation rows that `config` describes (subset, then split)."""
    name = config.dataset
    if name in ("mnist", "fashion-mnist"):
        loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        (x_train, y_train), (x_test, y_test) = loader()
        test_name = f"the {name} test set"
    else:
        (x_train, y_train), test = _load_user_data(Path(name))
        x_test, y_test = test if test is not None else (None, None)
        test_name = f"the test rows of {Path(name).name}"
    image_shape = x_train.shape[1:] if x_train.ndim == 3 else _square(x_train[0].size)
    if config.subset is not None:
        # The first N rows, as the article takes X_full[:5000]: a subset is the same rows on every machine.
        x_train, y_train = datasets.subset(x_train, y_train, min(config.subset, len(x_train)))
    if config.val_split > 0:
        (x_train, y_train), (x_test, y_test) = datasets.train_val_split(x_train, y_train, config.val_split,
                                                                         config.seed)
        test_name = f"a held-out {config.val_split:.0%} of the training rows"
    elif x_test is None:
        raise DataError(f"{name} holds no test rows (x_test, y_test); pass --val-split 0.2 to hold some out.")
    return Data(datasets.flatten(x_train), y_train.astype(np.int64), datasets.flatten(x_test),
                y_test.astype(np.int64), test_name, CLASS_NAMES.get(name, DIGITS), image_shape)


def load_test_data(name: str) -> Data:
    """Rows to evaluate a model on: a named dataset's test set, or a file's test rows (all its rows if none)."""
    if name in ("mnist", "fashion-mnist"):
        return load_data(TrainConfig(dataset=name))
    (x, y), test = _load_user_data(Path(name))
    described = f"the test rows of {Path(name).name}" if test is not None else f"all rows of {Path(name).name}"
    x, y = test if test is not None else (x, y)
    shape = x.shape[1:] if x.ndim == 3 else _square(x[0].size)
    x, y = datasets.flatten(x), y.astype(np.int64)
    return Data(x[:0], y[:0], x, y, described, DIGITS, shape)


def _load_user_data(path: Path):
    if not path.is_file():
        raise FileNotFoundError(f"Dataset {path} does not exist; use mnist, fashion-mnist or a .npz/.csv path.")
    if path.suffix == ".csv":
        return datasets.load_csv(path, num_features=None), None
    if path.suffix != ".npz":
        raise DataError(f"Dataset {path} is neither .npz nor .csv; save one with np.savez(path, x=x, y=y).")
    try:
        with np.load(path, allow_pickle=False) as archive:
            has_test = {"x_test", "y_test"} <= set(archive.files)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc}); save one with "
                        "np.savez(path, x=x, y=y).") from None
    test = datasets.load_npz(path, x_key="x_test", y_key="y_test") if has_test else None
    return datasets.load_npz(path), test


def _square(size):
    side = math.isqrt(size)
    return (side, side) if side * side == size else None


# --- preprocessing ---------------------------------------------------------------------------------------

class Preprocess(datasets.Scaler):
    """The input scaling of a run (a datasets.Scaler) and what a model file keeps of it."""

    def tensors(self) -> dict[str, np.ndarray]:
        """What save_model stores beside the weights (names that torch's load_state_dict must skip)."""
        return {} if self.method != "zscore" else {"preprocess.mean": self.mean, "preprocess.std": self.std}


# --- metrics.csv -----------------------------------------------------------------------------------------

METRIC_COLUMNS = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"]


def write_metrics(path: Path, rows: list[dict]) -> Path:
    """One row per epoch, METRIC_COLUMNS first, then any others (lr, ...); written atomically."""
    columns = METRIC_COLUMNS + [k for k in rows[0] if k not in METRIC_COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else repr(v)) for k, v in row.items()} for row in rows)
    return atomic_write_text(path, out.getvalue())


def read_metrics(path: Path) -> list[dict]:
    """Rows of a metrics.csv as {column: float or None}, refusing a file that is not one."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; pass a run folder written by `numpynn train`.")
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "epoch" not in reader.fieldnames:
            raise DataError(f"{path} is not a numpynn metrics.csv (it has no epoch column).")
        try:
            rows = [{k: (float(v) if v else None) for k, v in row.items() if k is not None} for row in reader]
        except (ValueError, TypeError):
            raise DataError(f"{path} holds a value that is not a number; it is corrupt.") from None
    if not rows:
        raise DataError(f"{path} has no epochs yet; wait for the run to finish its first epoch.")
    return rows


# --- a trained model file --------------------------------------------------------------------------------

@dataclass
class TrainedModel:
    """A model file's network, its preprocessing, and (if `numpynn train` wrote it) the run's config."""

    path: Path
    model: Sequential
    preprocess: Preprocess
    config: TrainConfig | None
    metadata: dict
    class_names: list[str]

    @property
    def in_features(self) -> int:
        return expected_features(self.model)


def open_model(path: str | Path) -> TrainedModel:
    """Load and validate a model.safetensors (or a run folder holding one) with everything inference needs."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"Model {path} does not exist; pass a model.safetensors or a run folder.")
    model, meta = load_model(path)
    prep = meta.get("preprocessing")
    if not isinstance(prep, dict) or prep.get("method") not in SCALES:
        raise CheckpointError(f"{path} records no input preprocessing, so its inputs cannot be scaled as in "
                              "training; use a model written by `numpynn train`.")
    n_in = expected_features(model)
    if prep["method"] != "zscore":
        preprocess = Preprocess(prep["method"], model.dtype)
    else:
        tensors, _ = read_checkpoint(path)
        mean, std = tensors.get("preprocess.mean"), tensors.get("preprocess.std")
        if mean is None or std is None or mean.shape != (n_in,) or std.shape != (n_in,) or not np.all(std > 0):
            raise CheckpointError(f"{path} lacks valid z-score statistics (preprocess.mean/std of {n_in} "
                                  "positive values); it is corrupt, re-train the model.")
        preprocess = Preprocess("zscore", model.dtype, mean.astype(model.dtype), std.astype(model.dtype))
    config = None
    if isinstance(meta.get("config"), dict):
        try:
            config = TrainConfig.from_dict(meta["config"], f"{path}'s metadata")
        except ValueError:
            # Saved by a newer numpynn with more settings, say: the network still works, and
            # `evaluate` then asks for --dataset instead of guessing the training data.
            config = None
    out_features = model.predict_logits(np.zeros((1, n_in), model.dtype)).shape[1]
    names = meta.get("classes")
    if not (isinstance(names, list) and len(names) == out_features and all(isinstance(n, str) for n in names)):
        names = [str(i) for i in range(out_features)]
    return TrainedModel(path, model, preprocess, config, meta, names)
