"""What a run leaves behind and how commands read it back: the folder, metrics.csv, model.safetensors.

A model is only usable with the input scaling it was trained with, so `numpynn train` saves that scaling
(method, and per-feature mean/std as extra tensors) in model.safetensors, and every command that reads a
model gets it back through open_model.
"""

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numpynn.app.runs.lock import LOCK_NAME, RunLock
from numpynn.app.runs.train_config import SCALES, TrainConfig
from numpynn.datasets import Scaler
from numpynn.errors import CheckpointError, DataError
from numpynn.io.atomic import atomic_write_text
from numpynn.io.checkpoint import load_model, read_checkpoint
from numpynn.io.user_files import check_user_file, read_user_file
from numpynn.nn.sequential import Sequential
from numpynn.training.fit import Callback
from numpynn.validation import expected_features, first_conv

MODEL_HELP = "a model.safetensors file, or a run folder holding one"


# What a run that failed before its first epoch leaves: such a folder may be claimed again (issue 17.5).
NOT_RESULTS = {"config.json", LOCK_NAME}


def claim_run_dir(config: TrainConfig) -> tuple[Path, RunLock]:
    """<out>/<name>/ created or claimed under its lock (held by the caller until the run ends).

    A named folder that holds results (an earlier run's) is refused; one that holds only the config.json
    of a run that failed before its first epoch is claimed again. Two processes racing for one name
    cannot both win: the folder's lock decides, and the loser is told who holds it.
    """
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; pass a folder to hold the run folders.")
    out.mkdir(parents=True, exist_ok=True)
    if config.name is not None:
        if Path(config.name).name != config.name or config.name.strip() in ("", ".", ".."):
            raise ValueError(f"--name {config.name!r} must be a plain folder name such as lr0.1, without slashes.")
        run = out / config.name
        run.mkdir(exist_ok=True)
        lock = RunLock(run).acquire()
        if any(p.name not in NOT_RESULTS for p in run.iterdir()):
            lock.release()
            raise ValueError(f"Run folder {run} already exists; choose another --name or delete that folder.")
        return run, lock
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run, k = out / stamp, 1
    while True:
        try:
            run.mkdir()  # exclusive: of two runs started in the same second, each gets its own folder
            return run, RunLock(run).acquire()
        except FileExistsError:
            k += 1
            run = out / f"{stamp}-{k}"


# The held-out rows are named for what they are: `test_*` for a test set, `val_*` for rows held out of the
# training data (--val-split, --preset article), in metrics.csv, figures and every report.
def metric_columns(split: str = "test") -> list[str]:
    """The leading columns of metrics.csv; split: "test" or "val"."""
    return ["epoch", "train_loss", "train_acc", f"{split}_loss", f"{split}_acc", "seconds"]


METRIC_COLUMNS = metric_columns("test")


def write_metrics(path: Path, rows: list[dict]) -> Path:
    """One row per epoch, the metric columns first, then any others (lr, ...); written atomically."""
    split = "val" if "val_loss" in rows[0] else "test"
    leading = metric_columns(split)
    columns = leading + [k for k in rows[0] if k not in leading]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else repr(v)) for k, v in row.items()} for row in rows)
    return atomic_write_text(path, out.getvalue())


METRICS_BYTES = 64 * 1024**2  # a metrics.csv is ~100 bytes an epoch: this is far past any real run


def read_metrics(path: Path) -> list[dict]:
    """Rows of a metrics.csv as {column: float or None}, refusing a file that is not one."""
    # A folder, FIFO or device in its place is named for what it is, and never read without end (issue 26.11).
    data = read_user_file(path, "Metrics file", "a run's metrics.csv", METRICS_BYTES,
                          hint="pass a run folder written by `numpynn train`")
    with io.StringIO(data.decode("utf-8", errors="replace"), newline="") as f:
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


class MetricsCSV(Callback):
    """Rewrites metrics.csv after every epoch, so an interrupted run keeps the epochs it finished."""

    def __init__(self, path: Path, split: str = "test"):
        self.path, self.rows, self.split = path, [], split

    def on_epoch_end(self, epoch, record, model, optimizer):
        # fit calls the held-out rows validation data (val_*); a test set's are test_* in the run folder.
        row = {(self.split + k[3:] if k.startswith("val_") else k): v for k, v in record.items()}
        self.rows.append({**{k: row.get(k) for k in metric_columns(self.split)}, **row})
        write_metrics(self.path, self.rows)


@dataclass
class TrainedModel:
    """A model file's network, its preprocessing, and (if `numpynn train` wrote it) the run's config."""

    path: Path
    model: Sequential
    preprocess: Scaler
    config: TrainConfig | None
    metadata: dict
    class_names: list[str]

    input_shape: tuple[int, ...] | None = None  # (C, H, W) for a convolutional model, None for an MLP

    @property
    def in_features(self) -> int:
        """Values per input row: the first Linear's width, or C * H * W for a CNN."""
        return expected_features(self.model) if self.input_shape is None else int(np.prod(self.input_shape))

    def as_input(self, rows: np.ndarray) -> np.ndarray:
        """(N, D) scaled rows -> what the model takes: the rows themselves, or (N, C, H, W) images for a CNN."""
        return rows if self.input_shape is None else rows.reshape(len(rows), *self.input_shape)

    @property
    def network(self) -> str:
        """The network in one phrase: 'MLP 784-256-10', 'CNN 1x28x28, conv 32,64, then 128-10', 'LSTM 784 inputs as
        steps of 28, hidden 128, then 10' or 'ViT 1x28x28, 4 encoder layers of 64, then 10'."""
        layers = self.model.config()
        sizes = "-".join(str(layer["out_features"]) for layer in layers if layer["type"] == "Linear")
        types = [layer["type"] for layer in layers]
        for layer in layers:
            if layer["type"] in ("RNN", "LSTM", "GRU"):
                return f"{layer['type']} {self.in_features} inputs as steps of {layer['input_size']}, hidden " \
                       f"{layer['hidden_size']}, then {sizes}"
        if "TransformerEncoderLayer" in types:
            width = next(layer["d_model"] for layer in layers if layer["type"] == "TransformerEncoderLayer")
            return f"ViT {'x'.join(map(str, self.input_shape))}, {types.count('TransformerEncoderLayer')} encoder " \
                   f"layers of {width}, then {sizes}"
        if self.input_shape is None:
            return f"MLP {self.in_features}-{sizes}"
        convs = ",".join(str(layer["out_channels"]) for layer in layers if layer["type"] == "Conv2d")
        return f"CNN {'x'.join(map(str, self.input_shape))}, conv {convs}, then {sizes}"


def open_model(path: str | Path, door: str | None = None) -> TrainedModel:
    """Load and validate a model.safetensors (or a run folder holding one) with everything inference needs.

    door: the command that will read class scores from it (predict, evaluate, serve, export); a scikit-learn
    regressor's or multilabel classifier's file is refused there in one sentence (`info` passes none)."""
    trained = _open_model(path)
    if door is not None:
        _class_scores_only(trained, door)
    return trained


def _class_scores_only(trained: TrainedModel, door: str) -> None:
    """numpynn's doors read one class score per output (softmax); say so where a file's outputs are not that."""
    info = trained.metadata.get("sklearn")
    if not isinstance(info, dict):
        return
    fitted = info.get("fitted") if isinstance(info.get("fitted"), dict) else {}
    if info.get("estimator") == "MLPRegressor":
        what, cls = "a scikit-learn MLPRegressor, whose outputs are regression values, not class scores", "MLPRegressor"
    elif fitted.get("multilabel"):
        what, cls = ("a multilabel MLPClassifier, whose outputs are one yes/no per label, not one class per input",
                     "MLPClassifier")
    else:
        return
    raise CheckpointError(f"{trained.path} holds {what}, so `numpynn {door}` cannot use it; load it in Python with "
                          f"numpynn.sklearn.{cls}.load(path) and call its predict.")


def _open_model(path: str | Path) -> TrainedModel:
    path = Path(path)
    if path.is_dir():
        path = path / "model.safetensors"
    if path.name == "model.safetensors" and not path.exists() and (path.parent / "checkpoint.safetensors").is_file():
        from numpynn.app.runs.interrupted import open_checkpoint  # a stopped run: its last checkpoint, said so
        return open_checkpoint(path.parent)
    where = "a model.safetensors or a run folder"  # a FIFO or device in its place is said to be one (issue 26.11)
    check_user_file(path, "Model", where, hint=f"pass {where}")
    model, meta = load_model(path)
    prep = meta.get("preprocessing")
    if not isinstance(prep, dict) or prep.get("method") not in SCALES:
        raise CheckpointError(f"{path} records no input preprocessing, so its inputs cannot be scaled as in "
                              "training; use a model written by `numpynn train`.")
    input_shape, n_in = _input_shape(path, model, prep)
    preprocess = _preprocess(path, model, prep, n_in)
    config = _config(path, meta)
    blank = np.zeros((1, n_in), model.dtype)
    try:  # one row of zeros through the network: a model that cannot run is refused here, naming the file
        out_features = model.predict_logits(blank if input_shape is None else blank.reshape(1, *input_shape)).shape[1]
    except ValueError as exc:  # DataError included: e.g. an input_shape that does not reach the first Linear
        raise CheckpointError(f"{path} holds a model that cannot predict: {str(exc).rstrip('.')}.") from None
    names = meta.get("classes")
    if not (isinstance(names, list) and len(names) == out_features and all(isinstance(n, str) for n in names)):
        names = [str(i) for i in range(out_features)]
    return TrainedModel(path, model, preprocess, config, meta, names, input_shape)


def _input_shape(path: Path, model, prep: dict) -> tuple[tuple[int, ...] | None, int]:
    """(the (C, H, W) a CNN takes or None, the input width) from the model and its preprocessing metadata."""
    input_shape = None
    if first_conv(model) is not None:
        shape = prep.get("input_shape")
        if not (isinstance(shape, list) and len(shape) == 3 and all(type(v) is int and 0 < v <= 2**16 for v in shape)
                and shape[0] == first_conv(model).in_channels):
            raise CheckpointError(f"{path} is a convolutional model without a valid input_shape [C, H, W] in its "
                                  "preprocessing metadata; use a model written by `numpynn train --conv`.")
        input_shape = tuple(shape)
        n_in = int(np.prod(input_shape))
    else:
        n_in = expected_features(model)
        if n_in is None:
            raise CheckpointError(f"{path} holds a model without a Linear layer, so its input width is unknown; "
                                  "numpynn's commands need a model that starts with Linear or Conv2d (as `numpynn "
                                  "train` writes).")
        shape = prep.get("input_shape")
        if shape is not None and not (isinstance(shape, list) and shape
                                      and all(type(d) is int and d > 0 for d in shape)
                                      and int(np.prod(shape, dtype=object)) == n_in):
            raise CheckpointError(f"{path} records input_shape {str(shape)[:60]}, which is not a list of sizes "
                                  f"whose product is the model's {n_in} input features; the metadata is corrupt.")
    return input_shape, n_in


def _preprocess(path: Path, model, prep: dict, n_in: int) -> Scaler:
    """The input scaling training used, its z-score statistics (n_in,) read from the file and checked."""
    if prep["method"] != "zscore":
        return Scaler(prep["method"], model.dtype)
    tensors, _ = read_checkpoint(path)
    mean, std = tensors.get("preprocess.mean"), tensors.get("preprocess.std")
    if mean is None or std is None or mean.shape != (n_in,) or std.shape != (n_in,) or not np.all(std > 0):
        raise CheckpointError(f"{path} lacks valid z-score statistics (preprocess.mean/std of {n_in} "
                              "positive values); it is corrupt, re-train the model.")
    return Scaler("zscore", model.dtype, mean.astype(model.dtype), std.astype(model.dtype))


def _config(path: Path, meta: dict) -> TrainConfig | None:
    """The TrainConfig the model was trained with, or None when its metadata holds none this numpynn reads."""
    if isinstance(meta.get("config"), dict):
        try:
            return TrainConfig.from_dict(meta["config"], f"{path}'s metadata")
        except ValueError:
            # Saved by a newer numpynn with more settings, say: the network still works, and
            # `evaluate` then asks for --dataset instead of guessing the training data.
            return None
    return None


def check_width(trained, width: int, what: str) -> None:
    if trained.in_features != width:
        raise DataError(f"{trained.path} takes {trained.in_features} input features but {what} have {width}; "
                        "use a model trained on data of that shape.")
