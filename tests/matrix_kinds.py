"""The model kinds of the model-by-door matrix (README, "Model-by-door matrix"): one tiny run per kind, shared.

A kind is one entry of KINDS: the `numpynn train` flags that make it and what every door must read back from
it (classes, dtype, scaling, layer types). `Matrix.run(name)` trains a kind once per test session, in
process (the CLI's own main), and every door's test (tests/test_matrix_*.py) takes that run folder.
A new model kind is one more Kind here; a door that cannot take it names why in `not_for`.
"""

import contextlib
import functools
import gzip
import http.server
import io
import json
import os
import shutil
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

DIGITS = [str(i) for i in range(10)]
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
OWN = [str(i) for i in range(9)]  # labels 3, 5 and 8 give a model of classes 0..8 (issue 17: classes from labels)
TINY = ["--epochs", "1", "--batch-size", "32", "--seed", "0"]  # every kind: one epoch, seeded


@dataclass(frozen=True)
class Kind:
    """A model kind: how to train it tiny, and what every door must find in it."""

    name: str
    flags: tuple[str, ...]        # train/sweep flags; {data} is the matrix's data folder
    classes: list[str]
    layers: frozenset[str]        # layer types its architecture must hold
    scale: str = "255"
    dtype: str = "float32"
    rows: str = "mnist"           # where its test images come from: mnist, own, fashion
    sklearn: dict | None = None   # MLPClassifier parameters of the same network (with not_for["sklearn"]: the
    #                               parameters it would need, which the estimator must refuse naming them)
    not_for: dict = field(default_factory=dict)  # door -> the one sentence why it cannot apply
    pending: dict = field(default_factory=dict)  # door -> the issue-21 change it waits for (a strict xfail)


MLP = frozenset({"Linear", "ReLU"})
CNN = frozenset({"Conv2d", "MaxPool2d", "Flatten", "Linear"})
KINDS = [
    Kind("mlp", ("--subset", "300", "--hidden", "32"), DIGITS, MLP, sklearn={"hidden_layer_sizes": (32,)}),
    Kind("article", ("--preset", "article", "--subset", "300", "--hidden", "32"), DIGITS, MLP, scale="zscore",
         sklearn={"hidden_layer_sizes": (32,)}),
    Kind("global", ("--subset", "300", "--hidden", "32", "--scale", "global"), DIGITS, MLP, scale="global",
         sklearn={"hidden_layer_sizes": (32,)}),
    Kind("deep-bn", ("--subset", "300", "--hidden", "32,16", "--batch-norm", "--dropout", "0.2"), DIGITS,
         MLP | {"BatchNorm1d", "Dropout"}, sklearn={"batch_norm": True},
         not_for={"sklearn": "The estimators take scikit-learn's MLPClassifier parameters plus conv, dropout and "
                             "dtype, and BatchNorm is none of them."}),
    Kind("cnn-bn", ("--subset", "300", "--val-split", "0.2", "--conv", "4,8", "--hidden", "16", "--batch-norm"),
         DIGITS, CNN | {"BatchNorm2d"}, sklearn={"batch_norm": True},
         not_for={"sklearn": "The estimators take scikit-learn's MLPClassifier parameters plus conv, dropout and "
                             "dtype, and BatchNorm is none of them."}),
    Kind("lenet5", ("--config", "lenet5", "--subset", "300", "--val-split", "0.2"), DIGITS, CNN, scale="global",
         sklearn={"kernel_size": 5},
         not_for={"sklearn": "The estimators build 3x3 convolutions (conv=...), not LeNet-5's 5x5 ones."}),
    Kind("float64", ("--subset", "300", "--hidden", "32", "--dtype", "float64"), DIGITS, MLP, dtype="float64",
         sklearn={"hidden_layer_sizes": (32,), "dtype": "float64"}),
    Kind("own-csv", ("--dataset", "{data}/own358.csv", "--val-split", "0.2", "--hidden", "32"), OWN, MLP,
         rows="own", sklearn={"hidden_layer_sizes": (32,)}),
    Kind("own-npz", ("--dataset", "{data}/own358.npz", "--hidden", "32"), OWN, MLP, rows="own",
         sklearn={"hidden_layer_sizes": (32,)}),
    Kind("fashion", ("--dataset", "fashion-mnist", "--subset", "300", "--hidden", "32"), FASHION, MLP,
         rows="fashion", sklearn={"hidden_layer_sizes": (32,)}),
    Kind("drawings", ("--dataset", "{data}/drawings.npz", "--val-split", "0.2", "--hidden", "32"), DIGITS, MLP,
         sklearn={"hidden_layer_sizes": (32,)}),
    Kind("lstm", ("--subset", "300", "--kind", "lstm", "--hidden", "12"), DIGITS,
         frozenset({"Unflatten", "LSTM", "SequencePool", "Linear"}), sklearn={"kind": "lstm"},
         not_for={"sklearn": "The estimators build MLPs and CNNs (MLPClassifier's parameters plus conv), not "
                             "recurrent networks."}),
    Kind("vit", ("--subset", "300", "--kind", "vit", "--embed-dim", "8", "--depth", "1", "--heads", "2",
                 "--mlp-dim", "16"), DIGITS,
         frozenset({"PatchEmbedding", "ClassToken", "PositionEmbedding", "TransformerEncoderLayer", "LayerNorm",
                    "SequencePool", "Linear"}), sklearn={"kind": "vit"},
         not_for={"sklearn": "The estimators build MLPs and CNNs (MLPClassifier's parameters plus conv), not "
                             "Vision Transformers."}),
]
BY_NAME = {k.name: k for k in KINDS}
NAMES = [k.name for k in KINDS]


def cells(door: str, pending: str | None = None) -> list:
    """The kinds as pytest parameters of one door; a cell waiting for another change is a strict xfail."""
    import pytest

    params = []
    for kind in KINDS:
        reason = pending or kind.pending.get(door)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(kind.name, marks=marks, id=kind.name))
    return params


def cli(*argv) -> tuple[int, str, str]:
    """Run `numpynn ARGV` in this process (as the script does); (exit code, stdout, stderr)."""
    from numpynn_launcher import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse: bad usage
            code = exc.code
    return code, out.getvalue(), err.getvalue()


class Matrix:
    """The session's data files, one trained run per kind (trained when first asked for), and test images."""

    def __init__(self, root: Path):
        self.root, self.data = root, root / "data"
        self.runs: dict[str, Path] = {}
        self.data.mkdir()
        self._mirror, self._restore = None, {}

    def run(self, name: str) -> Path:
        """RUN folder of kind `name`, trained once per session; asserts the train door took it."""
        if name not in self.runs:
            kind = BY_NAME[name]
            self.prepare(kind)
            code, out, err = cli("train", *self.flags(kind), "--out", self.root / "runs", "--name", name, "--quiet",
                                 "--no-plots")
            assert code == 0, f"numpynn train refused the {name} kind: {err}"
            self.runs[name] = self.root / "runs" / name
        return self.runs[name]

    def flags(self, kind: Kind) -> list[str]:
        return [f.format(data=self.data) for f in kind.flags] + TINY

    def prepare(self, kind: Kind) -> None:
        """The files a kind trains on: own CSV/NPZ rows labelled 3, 5, 8; a Fashion-MNIST mirror; drawings."""
        if kind.rows == "own" and not (self.data / "own358.npz").exists():
            x, y = mnist_rows(np.isin, 300, [3, 5, 8])
            np.savez(self.data / "own358.npz", x=x[:240], y=y[:240], x_test=x[240:], y_test=y[240:])
            rows = np.column_stack([y, x.reshape(len(x), -1)])
            np.savetxt(self.data / "own358.csv", rows, fmt="%d", delimiter=",")
        if kind.rows == "fashion" and self._mirror is None:
            self._mirror, self._restore = fashion_mirror(self.data / "fashion")
        if kind.name == "drawings" and not (self.data / "drawings.npz").exists():
            write_drawings(self.data / "drawings.npz")

    def classes(self, kind: Kind) -> list[str]:
        """The classes every door must name: the kind's, or (while its train cell waits) those its model has."""
        return info(self.run(kind.name))["classes"] if "train" in kind.pending else kind.classes

    def test_images(self, kind: Kind, n: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """(n, 28, 28) uint8 images and their labels, from the kind's own kind of data (never its training rows)."""
        self.prepare(kind)
        if kind.rows == "own":
            with np.load(self.data / "own358.npz") as f:
                return f["x_test"][:n], f["y_test"][:n]
        if kind.rows == "fashion":
            return fashion_images(n, offset=5000)
        x, y = mnist_rows(lambda a, _: np.ones(len(a), bool), n, None, test=True)
        return x, y

    def photo(self, kind: Kind, folder: Path) -> list[Path]:
        """One of the kind's test images as a dark-on-light 112x112 PNG and JPEG, as a user would photograph it."""
        x, _ = self.test_images(kind, 1)
        paper = Image.fromarray(255 - x[0]).resize((112, 112), Image.Resampling.BICUBIC)
        folder.mkdir(parents=True, exist_ok=True)
        paper.save(folder / f"{kind.name}.png")
        paper.convert("RGB").save(folder / f"{kind.name}.jpg", quality=92)
        return [folder / f"{kind.name}.png", folder / f"{kind.name}.jpg"]

    def close(self):
        """Stop the mirror and give load_fashion_mnist back its real hashes and mirrors."""
        if self._mirror is not None:
            from numpynn.data import mnist

            self._mirror.close()
            mnist.FASHION_MNIST_FILES.update(self._restore.pop("files"))
            for var, value in self._restore.items():
                os.environ.pop(var, None) if value is None else os.environ.__setitem__(var, value)


def reader():
    """The application's reader of a model file (model, scaling, input shape): the reference every door meets."""
    from numpynn.app.runs.folder import open_model

    return open_model


def reference_proba(run: Path, images: np.ndarray) -> np.ndarray:
    """Class probabilities of (N, 28, 28) raw images, through the model file as numpynn reads it."""
    trained = reader()(run)
    rows = trained.preprocess(images.reshape(len(images), -1))
    return trained.model.predict_proba(trained.as_input(rows))


def mnist_rows(select, n, labels, test=False):
    from numpynn.datasets import load_mnist

    train, held = load_mnist()
    x, y = held if test else train
    keep = np.flatnonzero(select(y, labels))[:n]
    return x[keep], y[keep]


def write_drawings(path: Path) -> None:
    """A drawings.npz as the page writes it, through the page's own writer: 60 digits of 0, 1, 2 and 7 only."""
    from numpynn.app.serve.drawings import Drawings

    x, y = mnist_rows(np.isin, 60, [0, 1, 2, 7])
    drawings = Drawings(path)
    for pixels, label in zip(x, y):
        drawings.append(pixels, int(label))


def fashion_images(n, offset=0):
    """Clothing-like stand-ins: MNIST pixels under Fashion-MNIST's ten labels (the doors only need the format)."""
    x, y = mnist_rows(lambda a, _: np.ones(len(a), bool), offset + n, None)
    return x[offset:], y[offset:]


class _Mirror:
    def __init__(self, folder: Path):
        handler = functools.partial(_Quiet, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def fashion_mirror(folder: Path) -> tuple[_Mirror, dict]:
    """A Fashion-MNIST mirror on 127.0.0.1 (600 + 200 rows) that load_fashion_mnist is pointed at, pinned by hash."""
    import hashlib

    from numpynn.data import idx, mnist

    folder.mkdir()
    x, y = fashion_images(800)
    parts = {"train-images-idx3-ubyte.gz": x[:600], "train-labels-idx1-ubyte.gz": y[:600],
             "t10k-images-idx3-ubyte.gz": x[600:], "t10k-labels-idx1-ubyte.gz": y[600:]}
    registry, restore = {}, {"files": dict(mnist.FASHION_MNIST_FILES)}
    for name, array in parts.items():
        raw = folder / name.removesuffix(".gz")
        idx.write_idx(raw, array)
        (folder / name).write_bytes(gzip.compress(raw.read_bytes(), mtime=0))
        old = mnist.FASHION_MNIST_FILES[name]
        registry[name] = (hashlib.sha256((folder / name).read_bytes()).hexdigest(), None, *old[2:])
        raw.unlink()
    mnist.FASHION_MNIST_FILES.update(registry)  # until Matrix.close puts the real hashes back
    mirror = _Mirror(folder)
    for var, value in {"NUMPYNN_FASHION_MNIST_MIRRORS": mirror.url, "NO_PROXY": "127.0.0.1,localhost"}.items():
        restore[var] = os.environ.get(var)
        os.environ[var] = value
    return mirror, restore


def layer_types(run: Path) -> set[str]:
    return {layer["type"] for layer in info(run)["architecture"]}


def info(run: Path) -> dict:
    code, out, err = cli("info", run, "--json")
    assert code == 0, err
    return json.loads(out)


def copy_run(run: Path, to: Path) -> Path:
    shutil.copytree(run, to, ignore=shutil.ignore_patterns(".lock", "*.onnx", "*.png"))
    return to


def stopped_in_second_epoch(monkeypatch, run):
    """Ctrl-C, a real SIGINT through numpynn's handler, at the first step after RUN's first epoch is written."""
    from numpynn.training.signals import StopRequest

    original = StopRequest.__call__

    def call(self):
        if self.signum is None and (run / "metrics.csv").exists():
            signal.raise_signal(signal.SIGINT)
        return original(self)
    monkeypatch.setattr(StopRequest, "__call__", call)
