"""fit(): one readable training loop (shuffle, forward, backward, update, evaluate, log) returning a History."""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from numpynn import threads as thread_policy
from numpynn.errors import TrainingInterrupted
from numpynn.nn.losses import Loss
from numpynn.nn.sequential import Sequential
from numpynn.optim.optimizers import Optimizer
from numpynn.optim.schedules import LRScheduler
from numpynn.training.divergence import check_loss, check_weights
from numpynn.training.state import TrainState, layer_generators
from numpynn.validation import check_batch_size, check_features, check_targets


@dataclass
class History:
    """One record per epoch: epoch, train_loss, train_acc, val_loss, val_acc, lr, seconds (and any extras)."""

    records: list[dict] = field(default_factory=list)

    def __getitem__(self, column: str) -> list:
        return [r.get(column) for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    @property
    def last(self) -> dict:
        """The last epoch's record ({} before the first epoch)."""
        return self.records[-1] if self.records else {}


class Callback:
    """Hooks into fit(); set `stop_training = True` to end after the current epoch.

    A callback that accumulates over an epoch returns that progress from state_dict() (JSON-able values):
    fit saves it in every checkpoint and hands it back to load_state_dict() on resume, after on_train_begin,
    so an epoch interrupted and resumed records what an unbroken one does.
    """

    stop_training = False

    def on_train_begin(self, model: Sequential, optimizer: Optimizer) -> None: """Once, before the first step."""
    def on_batch_end(self, step: int, loss: float) -> None: """After each step (counted from 1), its batch loss."""
    def on_epoch_end(self, epoch: int, record: dict, model: Sequential, optimizer: Optimizer) -> None:
        """After each epoch (from 1); `record` is its History row, which the callback may add columns to."""
    def on_train_end(self, model: Sequential, history: History) -> None: """Once, after the last epoch."""
    def state_dict(self) -> dict | None: """Progress to checkpoint mid-epoch (JSON-able), or None."""
    def load_state_dict(self, state: dict) -> None: """Take back state_dict()'s progress, on resume."""


@thread_policy.policy
def evaluate(model: Sequential, loss_fn: Loss, x: np.ndarray, y: np.ndarray, batch_size: int = 4096,
             preprocess: Callable | None = None, threads: int | None = None) -> tuple[float, float | None]:
    """(mean loss, accuracy or None) over x in eval mode, in chunks to bound memory (preprocess, threads: as fit)."""
    x = check_features(model, x, cast=preprocess is None)
    y = check_targets(y, len(x), model, loss_fn)
    batch_size = check_batch_size(batch_size)
    if hasattr(model, "inference_batch_size"):
        batch_size = model.inference_batch_size(batch_size)  # smaller chunks for convolutions' im2col columns
    was_training = model.training
    model.eval()
    try:
        total_loss, correct = 0.0, 0
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size]
            logits = model.forward(xb if preprocess is None else preprocess(xb))
            total_loss += loss_fn(logits, y[i:i + batch_size]) * len(logits)
            c = loss_fn.count_correct(logits, y[i:i + batch_size])
            correct = None if c is None or correct is None else correct + c
    finally:
        model.train(was_training)
    return total_loss / len(x), (None if correct is None else correct / len(x))


@thread_policy.policy
def fit(model: Sequential, loss_fn: Loss, optimizer: Optimizer, x: np.ndarray, y: np.ndarray, *, epochs: int = 1,
        batch_size: int = 64, validation_data: tuple[np.ndarray, np.ndarray] | None = None, seed: int = 0,
        rng: np.random.Generator | None = None, shuffle: bool = True, scheduler: LRScheduler | None = None,
        preprocess: Callable | None = None, transform: Callable | None = None, callbacks: Sequence[Callback] = (),
        verbose: int = 1, progress: bool = False, state: TrainState | None = None,
        on_checkpoint: Callable[[TrainState], None] | None = None, should_stop: Callable[[], bool] | None = None,
        validation_name: str = "Test", threads: int | None = None) -> History:
    """Train `model` with mini-batches of (x, y) for `epochs` epochs; returns the per-epoch History.

    x: (N, D) features (any numeric dtype; cast once to the model's dtype); y: (N,) labels or (N, C) targets.
    preprocess(xb, out=None), when given, turns each gathered batch (and validation chunk) of raw x into model
    input, and x keeps its own dtype: uint8 MNIST is 47 instead of 188 MB, and the random-row gather moves a
    quarter of the bytes (datasets.Scaler is such a step: fit(..., x_uint8, y, preprocess=Scaler("255"))).
    transform(xb, rng) then changes each training batch (augmentation, e.g. RandomShift).
    Randomness (shuffling, transforms) comes only from `rng`, or a Generator built from `seed`.
    verbose=1 prints the article's line per epoch, calling validation_data `validation_name` ("Test" as the
    article does; "Validation" for rows held out of the training data); progress=True shows a tqdm bar per epoch.
    Resume: `state` (from load_training_checkpoint) continues a run bit-identically, mid-epoch included.
    `on_checkpoint(state)` gets a TrainState at every epoch's end and at an interruption; `should_stop()` is
    polled between steps, and when it turns true fit raises TrainingInterrupted (see numpynn.training.signals).
    A non-finite loss or weight raises TrainingDiverged at once, carrying `.epoch`, `.step`, `.lr`, `.history`.
    threads: how many cores (numpynn.threads: default $NUMPYNN_THREADS, else 1; an enclosing threads.limit() wins).
    """
    x, y, validation_data = _checked(model, loss_fn, x, y, validation_data, epochs, batch_size, preprocess)
    rng = rng if rng is not None else np.random.default_rng(seed)
    n = len(x)
    batch_buf = np.empty((min(batch_size, n),) + x.shape[1:], dtype=x.dtype)  # reused for every batch
    input_buf = None if preprocess is None else np.empty(batch_buf.shape, dtype=model.dtype)  # and its scaling
    history = History()
    step, done = _restore(state, model, rng, history, n, batch_size, shuffle)  # (0, 0) for a fresh start
    _begin(callbacks, model, optimizer, state)

    def snapshot(epoch_done: int, batches: int, tally: _Tally, seconds: float) -> TrainState:
        """Where training is, for a checkpoint: enough to continue bit-identically."""
        return TrainState(epoch_done, batches, step, tally.rng_state, rng.bit_generator.state, tally.loss_sum,
                          tally.correct, seconds, n, batch_size, shuffle, _layer_states(model),
                          [dict(r) for r in history.records], _callback_states(callbacks))

    for epoch in range(done + 1, epochs + 1):
        model.train()
        # --- shuffle: one permutation per epoch; batches are gathered from it, the data is never copied whole
        tally, order = _shuffle(rng, n, shuffle, state if epoch == done + 1 else None)
        bar = _progress_bar(n, tally.first * batch_size, epoch, epochs) if progress else None
        for batch, start in enumerate(range(tally.first * batch_size, n, batch_size), start=tally.first):
            if should_stop is not None and should_stop():  # a safe point: the last step is fully applied
                interrupted = snapshot(epoch - 1, batch, tally, time.perf_counter() - tally.t0)
                _stop(bar, interrupted, on_checkpoint, epoch, batch, history)
            # --- gather the batch (into reused buffers), scale it, augment it
            idx = order[start:start + batch_size]
            xb = x.take(idx, axis=0, out=batch_buf[:len(idx)])  # the method skips np.take's wrapper: -1 us
            yb = y[idx]
            xb = _prepare(xb, input_buf, preprocess, transform, rng)
            # --- forward
            logits = model.forward(xb)
            loss = loss_fn(logits, yb)
            check_loss(loss, epoch, batch + 1, optimizer.lr, history, xb)  # a non-finite loss stops the run
            c = loss_fn.count_correct(logits, yb)
            # --- backward, then update
            model.backward(loss_fn.backward())
            optimizer.step()
            step += 1
            # --- bookkeeping (running means over the epoch, as PyTorch and Keras report them)
            tally.add(loss, len(idx), c)
            for cb in callbacks:
                cb.on_batch_end(step, loss)
            _show(bar, len(idx), tally.loss_sum / min(start + batch_size, n))
        _close(bar)
        check_weights(model, epoch, batch + 1, optimizer.lr, history, xb)  # the last step may have overflowed
        # --- schedule, evaluate, log
        record = _record(epoch, tally, n, optimizer.lr)  # the lr this epoch trained with, before the step
        if scheduler is not None:
            scheduler.step()
        if validation_data is not None:
            record["val_loss"], record["val_acc"] = evaluate(model, loss_fn, *validation_data, preprocess=preprocess)
        record["seconds"] = time.perf_counter() - tally.t0
        history.records.append(record)
        if verbose:
            print(format_epoch(record, epochs, validation_name), flush=True)
        # --- callbacks, checkpoint, early stop
        _epoch_end(callbacks, epoch, record, model, optimizer)
        if on_checkpoint is not None:
            on_checkpoint(snapshot(epoch, 0, _Tally(rng.bit_generator.state, 0.0), 0.0))
        if any(cb.stop_training for cb in callbacks):
            break
    for cb in callbacks:
        cb.on_train_end(model, history)
    return history


@dataclass
class _Tally:
    """One epoch's running sums (what a mid-epoch checkpoint saves): where its permutation came from, when it began."""

    rng_state: dict
    t0: float
    loss_sum: float = 0.0
    correct: int | None = 0
    first: int = 0  # the batch it starts at: 0, or where an interrupted epoch stopped

    def add(self, loss: float, rows: int, correct: int | None) -> None:
        self.loss_sum += loss * rows
        self.correct = None if correct is None or self.correct is None else self.correct + correct

    def resume(self, state: TrainState, rng: np.random.Generator) -> None:
        """Continue the interrupted epoch: its sums, its clock, the Generator where it stopped."""
        rng.bit_generator.state = state.rng_state
        self.loss_sum, self.correct, self.first, self.t0 = state.loss_sum, state.correct, state.step, \
            self.t0 - state.seconds


def _shuffle(rng: np.random.Generator, n: int, shuffle: bool, state: TrainState | None) -> tuple[_Tally, np.ndarray]:
    """The epoch's order of rows and its fresh tally; `state` (the resumed epoch) continues an interrupted one."""
    tally = _Tally(rng.bit_generator.state, time.perf_counter())  # a resumed run redraws the permutation
    order = rng.permutation(n) if shuffle else np.arange(n)
    if state is not None and state.step:  # mid-epoch: skip the batches already trained on
        tally.resume(state, rng)
    return tally, order


def _checked(model, loss_fn, x, y, validation_data, epochs: int, batch_size: int, preprocess):
    """fit's arguments checked: x cast once to the model dtype (none per batch), targets of the right shape."""
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got epochs={epochs}, batch_size={batch_size}.")
    x = check_features(model, x, cast=preprocess is None)
    y = check_targets(y, len(x), model, loss_fn)
    if validation_data is not None:
        vx, vy = validation_data
        vx = check_features(model, vx, cast=preprocess is None)
        validation_data = (vx, check_targets(vy, len(vx), model, loss_fn))
    return x, y, validation_data


def _restore(state: TrainState | None, model, rng: np.random.Generator, history: History, n: int, batch_size: int,
             shuffle: bool) -> tuple[int, int]:
    """Put a saved run back (history, Generators); returns (global step, epochs done), (0, 0) without a state.

    The Generator goes back to the start of the interrupted epoch, so it redraws that epoch's permutation.
    """
    if state is None:
        return 0, 0
    state.check_compatible(n, batch_size, shuffle)
    history.records = [dict(r) for r in state.records]
    rng.bit_generator.state = state.epoch_rng_state
    layer_rngs = layer_generators(model)
    if set(layer_rngs) != set(state.layer_rng_states):
        raise ValueError("This training state does not fit the model's random layers (Dropout); resume with "
                         "the architecture it was saved from.")
    for i, gen in layer_rngs.items():
        gen.bit_generator.state = state.layer_rng_states[i]
    return state.global_step, state.epoch


def _begin(callbacks, model, optimizer, state: TrainState | None) -> None:
    """on_train_begin, then (on resume) each callback's saved progress back."""
    for i, cb in enumerate(callbacks):
        cb.on_train_begin(model, optimizer)
        if state is not None and str(i) in state.callback_states:
            cb.load_state_dict(state.callback_states[str(i)])


def _layer_states(model) -> dict:
    return {i: gen.bit_generator.state for i, gen in layer_generators(model).items()}


def _callback_states(callbacks) -> dict:
    return {str(i): cb.state_dict() for i, cb in enumerate(callbacks) if cb.state_dict() is not None}


def _prepare(xb: np.ndarray, input_buf, preprocess, transform, rng: np.random.Generator) -> np.ndarray:
    """The gathered raw batch as model input: preprocess (into input_buf), then the random transform."""
    if preprocess is not None:
        xb = preprocess(xb, out=input_buf[:len(xb)])
    if transform is not None:
        xb = transform(xb, rng)
    return xb


def _record(epoch: int, tally: _Tally, n: int, lr: float) -> dict:
    return {"epoch": epoch, "train_loss": tally.loss_sum / n,
            "train_acc": None if tally.correct is None else tally.correct / n, "lr": lr}


def _epoch_end(callbacks, epoch: int, record: dict, model, optimizer) -> None:
    for cb in callbacks:
        cb.on_epoch_end(epoch, record, model, optimizer)


def _close(bar) -> None:
    if bar is not None:
        bar.close()


def _show(bar, rows: int, running_loss: float) -> None:
    if bar is not None:
        bar.update(rows)
        bar.set_postfix(loss=f"{running_loss:.4f}", refresh=False)


def _progress_bar(n: int, initial: int, epoch: int, epochs: int):
    return tqdm(total=n, initial=min(initial, n), desc=f"Epoch {epoch}/{epochs}", unit="img", leave=False,
                dynamic_ncols=True)


def _stop(bar, interrupted: TrainState, on_checkpoint, epoch: int, batch: int, history: History):
    """should_stop() turned true: save where training is, then raise TrainingInterrupted."""
    _close(bar)
    if on_checkpoint is not None:
        on_checkpoint(interrupted)
    raise TrainingInterrupted(f"Training stopped at epoch {epoch}, step {batch} on request.", interrupted, history)


def format_epoch(record: dict, epochs: int, validation_name: str = "Test") -> str:
    """The article's line: `Epoch 3/20, Loss: 0.1234, Test Accuracy: 0.9650`, plus seconds."""
    line = f"Epoch {record['epoch']}/{epochs}, Loss: {record['train_loss']:.4f}"
    acc = record.get("val_acc", record.get("train_acc"))
    if acc is not None:
        line += f", {validation_name if 'val_acc' in record else 'Train'} Accuracy: {acc:.4f}"
    return line + f" ({record['seconds']:.2f}s)"
