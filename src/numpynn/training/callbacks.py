"""Callbacks for fit(): early stopping on a validation metric, and per-layer gradient tracking."""

import math
import warnings

import numpy as np

from numpynn.training.fit import Callback


class EarlyStopping(Callback):
    """Stop once `monitor` has gone `patience` epochs without improving by more than min_delta (Keras' rule).

    With restore_best_weights, the model ends training with the weights of its best epoch.
    mode "auto" minimises names containing "loss" and maximises the rest (e.g. val_acc).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, mode: str = "auto",
                 restore_best_weights: bool = True):
        if int(patience) < 0 or min_delta < 0:
            raise ValueError(f"EarlyStopping needs patience >= 0 and min_delta >= 0, got {patience} and {min_delta}.")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping mode must be auto, min or max, got {mode!r}.")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.mode = mode if mode != "auto" else ("min" if "loss" in monitor else "max")
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, model, optimizer):
        self.best, self.best_epoch, self.best_state, self.wait = None, 0, None, 0
        self.stop_training, self.stopped_epoch = False, 0

    def on_epoch_end(self, epoch, record, model, optimizer):
        value = record.get(self.monitor)
        if value is None:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which fit did not record; pass "
                             "validation_data to fit (on the CLI: --val-split 0.1).")
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = model.state_dict()  # copies: later updates cannot touch them
        else:
            self.wait += 1
            if self.wait >= self.patience:  # Keras' rule: patience 2 stops at the 2nd epoch without improvement
                self.stop_training, self.stopped_epoch = True, epoch

    def on_train_end(self, model, history):
        if self.restore_best_weights and self.best_state is not None:
            model.load_state_dict(self.best_state)

    def _improved(self, value) -> bool:
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class ChanceLevelWarning(Callback):
    """Warns (once each) when training learns nothing, saying why: a too-high learning rate or vanishing gradients.

    Two signs, judged after each epoch:
    - the training loss blew up: an epoch's mean loss above `blowup` times the first step's (SGD lr 50 on MNIST
      climbs to 60,000 and settles at 15 without a non-finite value, so the divergence guard never fires);
    - the training accuracy is about that of always answering the commonest class (within `margin` of the way
      from chance to perfect), once `min_steps` steps had time to learn. Then the weights' gradient norms
      (sampled every `every` steps) tell the cause: a layer whose gradient is `vanishing` times smaller than
      the largest one's is starved (vanishing gradients: a lower lr would make it worse); otherwise, with the
      loss never below where it started, the steps overshoot (lr too high) or the inputs are unscaled.
    y: the training labels (class indices or one-hot). `warn(message)` defaults to warnings.warn.
    """

    def __init__(self, y: np.ndarray, warn=None, margin: float = 0.1, min_steps: int = 100, blowup: float = 10.0,
                 vanishing: float = 1e-3, every: int = 10):
        y = np.asarray(y)
        counts = np.bincount((y.argmax(axis=1) if y.ndim == 2 else y).astype(np.int64).ravel())
        self.chance = float(counts.max() / counts.sum()) if counts.size else 0.0
        self.limit = self.chance + margin * (1 - self.chance)
        self.warn = warn or (lambda message: warnings.warn(message, RuntimeWarning, stacklevel=2))
        self.warned, self.min_steps, self.steps = False, int(min_steps), 0
        self.blowup, self.vanishing, self.every = float(blowup), float(vanishing), max(1, int(every))
        self.first_loss, self.blew_up, self.model, self.norms = None, False, None, {}

    def on_train_begin(self, model, optimizer):
        self.model = model

    def on_batch_end(self, step, loss):
        self.steps = step
        if self.first_loss is None and math.isfinite(loss):
            self.first_loss = float(loss)
        if self.model is not None and step % self.every == 0:  # a weight matrix's gradient, summed over samples
            for name, grad in self.model.grads().items():
                if name.endswith("weight") and grad.ndim >= 2:
                    total, n = self.norms.get(name, (0.0, 0))
                    self.norms[name] = (total + float(np.linalg.norm(grad)), n + 1)

    def on_epoch_end(self, epoch, record, model, optimizer):
        loss = record.get("train_loss")
        if not self.blew_up and self.first_loss and loss is not None and loss > self.blowup * self.first_loss:
            self.blew_up = True
            self.warn(f"the training loss rose to {loss:,.4g} in epoch {epoch}, from {self.first_loss:.4g} at the "
                      f"first step: the steps overshoot. A learning rate of {optimizer.lr:g} is too high (try "
                      f"{optimizer.lr / 10:g}).")
        acc = record.get("train_acc")
        if self.warned or acc is None or acc > self.limit or self.steps < self.min_steps:
            return
        self.warned = True
        self.warn(f"training accuracy after epoch {epoch} is {acc:.4f}, about what always answering the most "
                  f"common class gets ({self.chance:.4f}): so far the network has learned nothing. "
                  + self._cause(optimizer.lr))

    def _cause(self, lr: float) -> str:
        norms = {name: total / n for name, (total, n) in self.norms.items() if n}
        if len(norms) > 1 and not self.blew_up:
            weakest = min(norms, key=norms.get)
            largest = max(norms.values())
            if largest > 0 and norms[weakest] < self.vanishing * largest:
                times = math.log10(largest / max(norms[weakest], 1e-300))
                return (f"The gradient reaching {weakest} is about 10^{times:.0f} times smaller than the largest "
                        "layer's: vanishing gradients, which a lower learning rate "
                        "would not cure; try ReLU (--activation relu), He initialisation (--init he), fewer "
                        "layers or --batch-norm.")
        if self.blew_up:
            return f"The loss blew up first: a learning rate of {lr:g} is too high (try {lr / 10:g})."
        return f"A learning rate of {lr:g} may be too high (try {lr / 10:g}), or the inputs unscaled."


class GradientTracker(Callback):
    """Adds `grad_norm.<param>` and `update_ratio.<param>` columns to each epoch record, for every weight matrix.

    grad_norm is the L2 norm of the weight's gradient; update_ratio is ||param after - param before|| /
    ||param before|| for one step (healthy training sits near 1e-3). Both are means over steps sampled
    every `every` steps (and the epoch's last step when none was sampled), so tracking stays cheap.
    A layer whose grad_norm is orders of magnitude below the others is starving: vanishing gradients.
    """

    def __init__(self, every: int = 10, params: str = "weight"):
        if int(every) < 1:
            raise ValueError(f"GradientTracker needs every >= 1, got {every}.")
        self.every, self.params = int(every), params

    def on_train_begin(self, model, optimizer):
        self.model = model
        # Optimizers update parameters in place, so these references stay current.
        # Weight matrices only: BatchNorm's per-feature scale is also called "weight" but is not a layer's weights.
        self.tracked = {name: p for name, p in model.named_parameters()
                        if name.rpartition(".")[2] == self.params and p.ndim >= 2}
        self.before = None
        self._reset()

    def _reset(self):
        self.sums = {name: [0.0, 0.0, 0, 0] for name in self.tracked}  # grad-norm sum, ratio sum, their counts

    def on_batch_end(self, step, loss):
        if step % self.every == 0:
            self._sample(with_ratio=self.before is not None)
            self.before = None
        if (step + 1) % self.every == 0:
            self.before = {name: p.copy() for name, p in self.tracked.items()}  # the weights before the next step

    def on_epoch_end(self, epoch, record, model, optimizer):
        if all(s[2] == 0 for s in self.sums.values()):
            self._sample(with_ratio=False)  # an epoch shorter than `every` steps: use its last gradients
        for name, (g, r, ng, nr) in self.sums.items():
            record[f"grad_norm.{name}"] = g / ng
            record[f"update_ratio.{name}"] = r / nr if nr else float("nan")
        self._reset()

    def state_dict(self) -> dict:
        """The epoch's running sums, and whether the next step's ratio is due (its `before` is then the weights
        at this safe point, so it is rebuilt on resume instead of saved)."""
        return {"sums": {name: list(s) for name, s in self.sums.items()}, "ratio_due": self.before is not None}

    def load_state_dict(self, state: dict) -> None:
        sums = state.get("sums")
        if not (isinstance(sums, dict) and set(sums) == set(self.tracked) and all(
                isinstance(v, list) and len(v) == 4 and all(type(x) in (int, float) for x in v)
                for v in sums.values())):
            raise ValueError("This checkpoint's gradient-tracking state does not fit the model's weights; resume "
                             "with the architecture it was saved from.")
        self.sums = {name: [float(g), float(r), int(ng), int(nr)] for name, (g, r, ng, nr) in sums.items()}
        self.before = {name: p.copy() for name, p in self.tracked.items()} if state.get("ratio_due") else None

    def _sample(self, with_ratio):
        grads = self.model.grads()
        for name, param in self.tracked.items():
            s = self.sums[name]
            s[0] += float(np.linalg.norm(grads[name]))
            s[2] += 1
            if with_ratio:
                before = self.before[name]
                s[1] += float(np.linalg.norm(param - before) / max(np.linalg.norm(before), 1e-12))
                s[3] += 1
