"""The contenders timed side by side: each trains the same 784-256-10 MLP on the same MNIST, one epoch a call.

Every contender has `epoch()` (one pass over the 60,000 training images, updating its weights) and
`predict(x)` (class per row). Same data, same batch size, SGD lr 0.1, plain cross-entropy, all on 2 threads.
"""

import importlib
import os
import time

import article_baseline as article
import numpy as np

import numpynn as nn
from numpynn import datasets

SIZES = (784, 256, 10)
LR = 0.1


def flops_per_sample(sizes=SIZES) -> int:
    """Multiply-adds x2 of one training step per sample: forward, weight gradients, input gradients.

    The first layer's input gradient is never computed (nobody reads it), so 784-256-10 costs
    2 * (2 * 784*256 + 3 * 256*10) = 818,176 FLOP a sample, 49.1 GFLOP an epoch of 60,000.
    """
    mats = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 2 * (2 * sum(mats) + sum(mats[1:]))


class Data:
    """MNIST scaled to [0, 1]: float32 for numpynn, PyTorch and scikit-learn; float64 + one-hot for the article."""

    def __init__(self, rows: int = 60000):
        (x, y), (xt, yt) = datasets.load_mnist()
        x, y = x[:rows], y[:rows]  # run.py --rows: a shorter epoch on a busy machine (ratios, not seconds)
        self.x_train_uint8 = datasets.flatten(x)  # what `numpynn train` keeps, scaling each batch as it goes
        self.x_train = datasets.scale(self.x_train_uint8, "255")
        self.x_test = datasets.scale(datasets.flatten(xt), "255")
        self.y_train, self.y_test = y.astype(np.int64), yt.astype(np.int64)
        assert self.x_train.dtype == np.float32 and self.x_train.shape == (len(x), 784)
        self._article = None

    def article(self):
        """(x float64, y one-hot float64, x_test float64), built once: the article's own data types."""
        if self._article is None:
            onehot = np.zeros((len(self.y_train), 10))
            onehot[np.arange(len(self.y_train)), self.y_train] = 1
            self._article = (self.x_train.astype(np.float64), onehot, self.x_test.astype(np.float64))
        return self._article


class Numpynn:
    """numpynn's own `fit`, timed from the first to the last batch of the epoch (via the Callback hooks).

    By default it trains as `numpynn train` does: the uint8 rows, each gathered batch scaled by /255 into a
    reused float32 buffer (fit's `preprocess`; the same values as scaling the whole array first).
    float32_input=True hands fit the pre-scaled float32 array instead, as the other contenders get it.
    fit validates its input once per call (~40 ms for float32); a 20-epoch run pays that once, so the epoch
    is timed from on_train_begin to on_epoch_end, both inside fit.
    """

    name = "numpynn"

    def __init__(self, data: Data, batch_size: int, seed: int = 0, package=nn, name: str | None = None,
                 float32_input: bool = False):
        self.nn, self.data, self.batch_size = package, data, batch_size  # package: another numpynn version
        self.name = name or (self.name + " (float32 input)" if float32_input else self.name)
        self.x, self.preprocess = data.x_train, None
        if not float32_input:
            self.x, self.preprocess = data.x_train_uint8, datasets.Scaler("255", np.float32)
        self.model = package.mlp(list(SIZES), seed=seed)
        self.loss_fn, self.optimizer = package.CrossEntropyLoss(), package.SGD(self.model, lr=LR)
        self.rng = np.random.default_rng(seed)
        self.timer = _EpochTimer()

    def epoch(self) -> float:
        extra = {} if self.preprocess is None else {"preprocess": self.preprocess}  # older numpynn: no preprocess
        self.nn.fit(self.model, self.loss_fn, self.optimizer, self.x, self.data.y_train, epochs=1,
                    batch_size=self.batch_size, rng=self.rng, verbose=0, callbacks=[self.timer], **extra)
        return self.timer.seconds

    def predict(self, x):
        return self.model.predict(x)


class _EpochTimer:  # a duck-typed Callback, so it also serves other numpynn versions' fit
    stop_training = False

    def on_batch_end(self, step, loss):
        pass

    def on_train_end(self, model, history):
        pass

    def on_train_begin(self, model, optimizer):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, record, model, optimizer):
        self.seconds = time.perf_counter() - self.t0


class Article:
    """The article's code as written: float64, X @ W layout, one-hot targets, Z1 recomputed."""

    name = "article"

    def __init__(self, data: Data, batch_size: int, seed: int = 0):
        self.x, self.onehot, self.x_test = data.article()
        self.batch_size, self.rng = batch_size, np.random.default_rng(seed)
        self.params = article.init_params(np.random.default_rng(seed))

    def epoch(self) -> None:
        article.train_epoch(self.x, self.onehot, self.params, self.rng, LR, self.batch_size)

    def predict(self, x):
        return article.predict(self.x_test if x.shape == self.x_test.shape else x.astype(np.float64), self.params)


class GemmFloor:
    """Only the five matrix products numpynn's Linear layers make per step, with the same shapes and memory
    layouts (the arrays of a real numpynn model), into out= buffers, on a pre-shuffled contiguous copy of x:
    what the epoch would cost if everything else were free."""

    name = "GEMM floor"

    def __init__(self, data: Data, batch_size: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.x = np.ascontiguousarray(data.x_train[rng.permutation(len(data.x_train))])
        self.batch_size = b = batch_size
        first, second = nn.mlp(list(SIZES), seed=seed)[0::2]
        self.w1, self.w2 = first.params["weight"], second.params["weight"]
        self.gw1, self.gw2 = first.grads["weight"], second.grads["weight"]
        self.h, self.logits = np.empty((b, 256), np.float32), np.empty((b, 10), np.float32)
        self.gh, self.glogits = np.empty((b, 256), np.float32), rng.standard_normal((b, 10), dtype=np.float32)

    def epoch(self) -> None:
        x, b = self.x, self.batch_size
        for start in range(0, len(x), b):
            xb = x[start:start + b]
            m = len(xb)
            h, logits, gh, gl = self.h[:m], self.logits[:m], self.gh[:m], self.glogits[:m]
            np.matmul(xb, self.w1.T, out=h)            # layer 0 forward, as Linear.forward
            np.matmul(h, self.w2.T, out=logits)        # layer 2 forward
            np.matmul(h.T, gl, out=self.gw2.T)         # layer 2 weight gradient, as Linear.backward
            np.matmul(gl, self.w2, out=gh)             # layer 2 input gradient
            np.matmul(xb.T, gh, out=self.gw1.T)        # layer 0 weight gradient (its input gradient is skipped)

    def predict(self, x):
        return None


class Torch:
    """PyTorch CPU: the usual loop (gather a batch by index, zero_grad, forward, loss, backward, step), keeping
    fit's bookkeeping (loss.item() and the correct count every batch). Starts from numpynn's initial weights."""

    name = "PyTorch"

    def __init__(self, data: Data, batch_size: int, seed: int = 0, bookkeeping: bool = True):
        import torch

        self.torch, self.batch_size, self.bookkeeping = torch, batch_size, bookkeeping
        torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))  # run.py sets it from --threads
        torch.manual_seed(seed)
        self.model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
        start = nn.mlp(list(SIZES), seed=seed).state_dict()  # same init scale (He) as numpynn's mlp
        self.model.load_state_dict({k: torch.from_numpy(v) for k, v in start.items()})
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.x, self.y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
        self.rng = np.random.default_rng(seed)
        if not bookkeeping:
            self.name = "PyTorch (no per-batch .item())"

    def epoch(self) -> None:
        torch, b = self.torch, self.batch_size
        order = torch.from_numpy(self.rng.permutation(len(self.x)))
        loss_sum, correct = 0.0, 0
        for start in range(0, len(self.x), b):
            idx = order[start:start + b]
            xb, yb = self.x[idx], self.y[idx]
            logits = self.model(xb)
            loss = self.loss_fn(logits, yb)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            if self.bookkeeping:
                loss_sum += loss.item() * len(idx)
                correct += int((logits.argmax(1) == yb).sum())

    def predict(self, x):
        with self.torch.inference_mode():
            return self.model(self.torch.from_numpy(x)).argmax(1).numpy()


class Sklearn:
    """scikit-learn's MLPClassifier, one `partial_fit` per epoch: sgd, lr 0.1, no momentum, no L2, same batch."""

    name = "scikit-learn"

    def __init__(self, data: Data, batch_size: int, seed: int = 0):
        from sklearn.neural_network import MLPClassifier

        self.data = data
        self.clf = MLPClassifier(hidden_layer_sizes=(256,), activation="relu", solver="sgd", learning_rate_init=LR,
                                 momentum=0.0, nesterovs_momentum=False, alpha=0.0, batch_size=batch_size,
                                 shuffle=True, random_state=seed)

    def epoch(self) -> None:
        self.clf.partial_fit(self.data.x_train, self.data.y_train, classes=np.arange(10))

    def predict(self, x):
        return self.clf.predict(x)


def available() -> dict[str, str | None]:
    """Optional contenders -> None if importable, else the message to print instead of their rows."""
    missing = {}
    for name, module, hint in (("PyTorch", "torch", "pip install torch==2.13.0  (or: pip install -e '.[torch]')"),
                               ("scikit-learn", "sklearn.neural_network", "pip install scikit-learn")):
        try:
            importlib.import_module(module)
            missing[name] = None
        except ImportError:
            missing[name] = f"{name} is not installed: its rows are skipped ({hint})."
    return missing
