"""What a run trains on: load_data(config) -> Data (raw rows, labels, class names)."""

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from numpynn import datasets
from numpynn.app.runs.train_config import TrainConfig
from numpynn.data.userdata import npz_names
from numpynn.errors import DataError
from numpynn.io.user_files import check_user_file

DIGITS = [str(i) for i in range(10)]
DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
CLASS_NAMES = {
    "mnist": DIGITS,
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
}


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
    channels: int = 1  # C of (N, C, H, W) images; a row is then C * H * W values, channel by channel
    split: str = "test"  # what the evaluation rows are: "test" (a test set) or "val" (held out of the training rows)
    summary: str = ""    # what was read, in one line: the first thing `train` prints
    notes: list[str] = field(default_factory=list)  # options that the data made moot (--subset beyond the rows)

    @property
    def split_name(self) -> str:
        """'Test' or 'Validation', for console lines, figure legends and reports."""
        return SPLIT_NAMES[self.split]

    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image, what a convolutional model takes; a clear error when rows are no images."""
        if self.image_shape is None:
            raise DataError("--conv needs images: (N, H, W) or (N, C, H, W) arrays, or rows of a square image "
                            "size such as 784 = 28x28; train an MLP (without --conv) on this data.")
        return (self.channels, *self.image_shape)


SPLIT_NAMES = {"test": "Test", "val": "Validation"}
DRAWINGS_FILE = "drawings.npz"  # what `numpynn serve` saves: digits 0-9 (serve/drawings.py writes this name)


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
    image_shape, channels = _image_shape(x_train)
    read = len(x_train) + (0 if x_test is None else len(x_test))
    notes = []
    if config.subset is not None:
        if config.subset > len(x_train):
            notes.append(f"--subset {config.subset:,} is more than the {len(x_train):,} training rows; using all "
                         "of them.")
        # The first N rows, as the article takes X_full[:5000]: a subset is the same rows on every machine.
        x_train, y_train = datasets.subset(x_train, y_train, min(config.subset, len(x_train)))
    split = "test"
    if config.val_split > 0:
        (x_train, y_train), (x_test, y_test) = datasets.train_val_split(x_train, y_train, config.val_split,
                                                                         config.seed)
        test_name, split = f"a held-out {config.val_split:.0%} of the training rows", "val"
    if config.mix_mnist:
        (x_train, y_train), (x_test, y_test), test_name, mixed = _mix_mnist(config, (x_train, y_train),
                                                                              (x_test, y_test), test_name)
        notes.append(mixed)
    elif x_test is None:
        raise DataError(f"{name} holds no test rows (x_test, y_test); pass --val-split 0.2 to hold some out.")
    y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
    # A drawings file (the page's) always means the digits 0-9, however few of them were drawn.
    digits = config.mix_mnist or Path(name).name == DRAWINGS_FILE
    class_names = DIGITS if digits else CLASS_NAMES.get(name) or _classes_of(name, y_train, y_test)
    if config.batch_size > len(x_train):
        notes.append(f"--batch-size {config.batch_size:,} is more than the {len(x_train):,} training rows; each "
                     "epoch is one step over all of them.")
    x_train, x_test = datasets.flatten(x_train), datasets.flatten(x_test)
    summary = (f"Read {DATASET_NAMES.get(name, name)}: {read:,} rows of {x_train.shape[1]:,} features, "
               f"{len(class_names)} classes ({_names(class_names)}); training on {len(x_train):,} rows, "
               f"evaluating on {len(x_test):,}: {test_name}.")
    return Data(x_train, y_train, x_test, y_test, test_name, class_names, image_shape, channels, split,
                summary, notes)


def _mix_mnist(config: TrainConfig, train, test, test_name):
    """Your training rows, repeated to weigh as much as config.mix_mnist seeded MNIST training rows, plus those
    rows; the test rows stay yours, or are MNIST's test set when you have none. Returns a note on the mix too."""
    (x, y), (x_test, y_test) = train, test
    if x[0].size != 784 or not np.isin(y, np.arange(10)).all():
        raise DataError(f"--mix-mnist adds MNIST's 28x28 digits 0-9, but {config.dataset} holds rows of "
                        f"{x[0].size} values or labels outside 0..9; drop --mix-mnist for this dataset.")
    (mx, my), (mx_test, my_test) = datasets.load_mnist()
    pick = np.random.default_rng(config.seed).permutation(len(mx))[:config.mix_mnist]
    repeat = max(1, round(len(pick) / len(x)))
    x = np.concatenate([np.repeat(datasets.flatten(x), repeat, axis=0), datasets.flatten(mx[pick])])
    y = np.concatenate([np.repeat(y, repeat), my[pick]])
    if x_test is None:
        x_test, y_test, test_name = mx_test, my_test, "the mnist test set (does it still read MNIST?)"
    note = (f"training on your {len(train[1]):,} rows, each {repeat} times, and {len(pick):,} MNIST rows "
            "(--mix-mnist).")
    return (x, y), (datasets.flatten(x_test), y_test), test_name, note


def _classes_of(name: str, y_train: np.ndarray, y_test: np.ndarray) -> list[str]:
    """Own data's classes: the label indices 0..max seen (the model gets one output each); one class is refused.

    A CSV without a label column is read with its first pixel as the label: usually 0 on every row, which
    this refuses instead of training a "classifier" that is always right.
    """
    present = np.unique(y_train)
    if len(present) < 2:
        hint = (" If the file has no label column, add one: each row is `label, pixels...`."
                if Path(name).suffix == ".csv" else "")
        raise DataError(f"Every training row of {name} has label {present[0]}; a classifier needs at least two "
                        f"classes to tell apart.{hint}")
    return [str(i) for i in range(int(max(present.max(), y_test.max(initial=0))) + 1)]


def _names(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 10 else f"{', '.join(names[:3])}, ..., {names[-1]}"


def load_test_data(name: str) -> Data:
    """Rows to evaluate a model on: a named dataset's test set, or a file's test rows (all its rows if none)."""
    if name in ("mnist", "fashion-mnist"):
        return load_data(TrainConfig(dataset=name))
    (x, y), test = _load_user_data(Path(name))
    described = f"the test rows of {Path(name).name}" if test is not None else f"all rows of {Path(name).name}"
    x, y = test if test is not None else (x, y)
    shape, channels = _image_shape(x)
    x, y = datasets.flatten(x), y.astype(np.int64)
    return Data(x[:0], y[:0], x, y, described, DIGITS, shape, channels,
                summary=f"{len(x):,} rows of {x.shape[1]:,} features ({described})")


def _load_user_data(path: Path):
    # A folder, FIFO or device is named for what it is (0.2.0 said "does not exist"), and never read.
    check_user_file(path, "Dataset", "mnist, fashion-mnist or the path of a .npz or .csv file",
                    hint="use mnist, fashion-mnist or a .npz/.csv path")
    if path.suffix == ".csv":
        return datasets.load_csv(path, num_features=None), None
    if path.suffix != ".npz":
        raise DataError(f"Dataset {path} is neither .npz nor .csv; save one with np.savez(path, x=x, y=y).")
    has_test = {"x_test", "y_test"} <= set(npz_names(path))  # also refuses what is not an .npz, in one sentence
    test = datasets.load_npz(path, x_key="x_test", y_key="y_test") if has_test else None
    return datasets.load_npz(path), test


def _image_shape(x) -> tuple[tuple[int, int] | None, int]:
    """((H, W), C) of (N, H, W) or (N, C, H, W) images, or of square rows (N, H*W); (None, 1) otherwise."""
    if x.ndim == 3:
        return tuple(x.shape[1:]), 1
    if x.ndim == 4:
        return tuple(x.shape[2:]), int(x.shape[1])
    return _square(x[0].size), 1


def _square(size):
    side = math.isqrt(size)
    return (side, side) if side * side == size else None


# A run's input scaling is a datasets.Scaler (one concept, one name); Preprocess is its former name here.
Preprocess = datasets.Scaler
