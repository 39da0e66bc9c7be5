"""fit(): one readable training loop (shuffle, forward, backward, update, evaluate, log) returning a History."""

import math
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from numpynn.errors import TrainingDiverged, TrainingInterrupted
from numpynn.training.state import TrainState, layer_generators
from numpynn.validation import check_batch_size, check_features, check_targets

# Weights this large have exploded: float32 resolves them to ~10 units and no sane model needs them (scale
# inputs and targets instead). Checked once per epoch, before the epoch's checkpoint, so it costs nothing.
MAX_ABS_WEIGHT = 1e8


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
        return self.records[-1] if self.records else {}


class Callback:
    """Hooks into fit(); set `stop_training = True` to end after the current epoch.

    A callback that accumulates over an epoch returns that progress from state_dict() (JSON-able values):
    fit saves it in every checkpoint and hands it back to load_state_dict() on resume, after on_train_begin,
    so an epoch interrupted and resumed records what an unbroken one does.
    """

    stop_training = False

    def on_train_begin(self, model, optimizer): ...
    def on_batch_end(self, step: int, loss: float): ...
    def on_epoch_end(self, epoch: int, record: dict, model, optimizer): ...
    def on_train_end(self, model, history): ...
    def state_dict(self) -> dict | None: return None
    def load_state_dict(self, state: dict) -> None: ...


def evaluate(model, loss_fn, x: np.ndarray, y: np.ndarray, batch_size: int = 4096,
             preprocess=None) -> tuple[float, float | None]:
    """(mean loss, accuracy or None) over x in eval mode, in chunks to bound memory (preprocess: as in fit)."""
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


def fit(model, loss_fn, optimizer, x: np.ndarray, y: np.ndarray, *, epochs: int = 1, batch_size: int = 64,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None, seed: int = 0,
        rng: np.random.Generator | None = None, shuffle: bool = True, scheduler=None, preprocess=None, transform=None,
        callbacks=(), verbose: int = 1, progress: bool = False, state: TrainState | None = None,
        on_checkpoint=None, should_stop=None, validation_name: str = "Test") -> History:
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
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got epochs={epochs}, batch_size={batch_size}.")
    x = check_features(model, x, cast=preprocess is None)  # one cast to the model dtype here, none per batch
    y = check_targets(y, len(x), model, loss_fn)
    if validation_data is not None:
        vx, vy = validation_data
        vx = check_features(model, vx, cast=preprocess is None)
        validation_data = (vx, check_targets(vy, len(vx), model, loss_fn))
    rng = rng if rng is not None else np.random.default_rng(seed)
    n = len(x)
    batch_buf = np.empty((min(batch_size, n),) + x.shape[1:], dtype=x.dtype)  # reused for every batch
    input_buf = None if preprocess is None else np.empty(batch_buf.shape, dtype=model.dtype)  # and its scaling
    history = History()
    step, done, resume_step = 0, 0, 0
    if state is not None:  # continue: the Generator goes back to the start of the interrupted epoch
        state.check_compatible(n, batch_size, shuffle)
        history.records = [dict(r) for r in state.records]
        step, done, resume_step = state.global_step, state.epoch, state.step
        rng.bit_generator.state = state.epoch_rng_state
        layer_rngs = layer_generators(model)
        if set(layer_rngs) != set(state.layer_rng_states):
            raise ValueError("This training state does not fit the model's random layers (Dropout); resume with "
                             "the architecture it was saved from.")
        for i, gen in layer_rngs.items():
            gen.bit_generator.state = state.layer_rng_states[i]
    for i, cb in enumerate(callbacks):
        cb.on_train_begin(model, optimizer)
        if state is not None and str(i) in state.callback_states:
            cb.load_state_dict(state.callback_states[str(i)])

    def snapshot(epoch_done, batches, epoch_rng_state, loss_sum, correct, seconds):
        layer_rngs = {i: gen.bit_generator.state for i, gen in layer_generators(model).items()}
        callback_states = {str(i): cb.state_dict() for i, cb in enumerate(callbacks) if cb.state_dict() is not None}
        return TrainState(epoch_done, batches, step, epoch_rng_state, rng.bit_generator.state, loss_sum, correct,
                          seconds, n, batch_size, shuffle, layer_rngs, [dict(r) for r in history.records],
                          callback_states)

    for epoch in range(done + 1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        # --- shuffle: one permutation per epoch; batches are gathered from it, the data is never copied whole
        epoch_rng_state = rng.bit_generator.state  # a resumed run redraws the same permutation from it
        order = rng.permutation(n) if shuffle else np.arange(n)
        loss_sum, correct, first, bar = 0.0, 0, 0, None
        if resume_step and epoch == done + 1:  # mid-epoch resume: skip the batches already trained on
            rng.bit_generator.state = state.rng_state
            loss_sum, correct, first, t0 = state.loss_sum, state.correct, resume_step, t0 - state.seconds
        if progress:
            bar = tqdm(total=n, initial=min(first * batch_size, n), desc=f"Epoch {epoch}/{epochs}", unit="img",
                       leave=False, dynamic_ncols=True)
        for batch, start in enumerate(range(first * batch_size, n, batch_size), start=first):
            if should_stop is not None and should_stop():  # a safe point: the last step is fully applied
                if bar is not None:
                    bar.close()
                interrupted = snapshot(epoch - 1, batch, epoch_rng_state, loss_sum, correct,
                                       time.perf_counter() - t0)
                if on_checkpoint is not None:
                    on_checkpoint(interrupted)
                raise TrainingInterrupted(f"Training stopped at epoch {epoch}, step {batch} on request.",
                                          interrupted, history)
            idx = order[start:start + batch_size]
            xb = x.take(idx, axis=0, out=batch_buf[:len(idx)])  # the method skips np.take's wrapper: -1 us
            yb = y[idx]
            if preprocess is not None:
                xb = preprocess(xb, out=input_buf[:len(idx)])
            if transform is not None:
                xb = transform(xb, rng)
            # --- forward
            logits = model.forward(xb)
            loss = loss_fn(logits, yb)
            if not math.isfinite(loss):
                raise _diverged(f"the loss became {loss}", epoch, batch + 1, optimizer.lr, history, xb)
            c = loss_fn.count_correct(logits, yb)
            # --- backward, then update
            model.backward(loss_fn.backward())
            optimizer.step()
            step += 1
            # --- bookkeeping (running means over the epoch, as PyTorch and Keras report them)
            loss_sum += loss * len(idx)
            correct = None if c is None or correct is None else correct + c
            for cb in callbacks:
                cb.on_batch_end(step, loss)
            if bar is not None:
                bar.update(len(idx))
                bar.set_postfix(loss=f"{loss_sum / min(start + batch_size, n):.4f}", refresh=False)
        if bar is not None:
            bar.close()
        if not all(np.isfinite(p).all() for p in model.parameters()):  # the last step may have overflowed
            raise _diverged("the weights stopped being finite", epoch, batch + 1, optimizer.lr, history, xb)
        largest = max((float(np.abs(p).max()) for p in model.parameters() if p.size), default=0.0)
        if largest > MAX_ABS_WEIGHT:
            raise _diverged(f"the weights exploded (largest |w| = {largest:.2g})", epoch, batch + 1, optimizer.lr,
                            history, xb)
        record = {"epoch": epoch, "train_loss": loss_sum / n,
                  "train_acc": None if correct is None else correct / n, "lr": optimizer.lr}
        # --- schedule, evaluate, log
        if scheduler is not None:
            scheduler.step()
        if validation_data is not None:
            record["val_loss"], record["val_acc"] = evaluate(model, loss_fn, *validation_data, preprocess=preprocess)
        record["seconds"] = time.perf_counter() - t0
        history.records.append(record)
        if verbose:
            print(format_epoch(record, epochs, validation_name), flush=True)
        for cb in callbacks:
            cb.on_epoch_end(epoch, record, model, optimizer)
        if on_checkpoint is not None:
            on_checkpoint(snapshot(epoch, 0, rng.bit_generator.state, 0.0, 0, 0.0))
        if any(cb.stop_training for cb in callbacks):
            break
    for cb in callbacks:
        cb.on_train_end(model, history)
    return history


# Inputs whose root-mean-square is above this are unscaled (raw 0..255 pixels: ~80; x/255: ~0.3; z-scores: ~1).
LARGE_INPUT_RMS = 10.0


def _diverged(what: str, epoch: int, step: int, lr: float, history: History, xb: np.ndarray) -> TrainingDiverged:
    """The error for a run that blew up, with advice: the input scale when inputs are large, else the lr."""
    rms = float(np.sqrt(np.mean(np.square(xb, dtype=np.float64)))) if xb.size else 0.0
    if math.isfinite(rms) and rms > LARGE_INPUT_RMS:
        advice = (f"the inputs are large (root-mean-square {rms:.3g}, up to |x| = {float(np.abs(xb).max()):.3g}): "
                  "scale them to about unit size first (e.g. x / 255, or a z-score), then try a smaller learning "
                  f"rate (e.g. lr={lr / 10:g}) if it still diverges")
    else:
        advice = f"try a smaller learning rate (e.g. lr={lr / 10:g})"
    err = TrainingDiverged(f"Training diverged at epoch {epoch}, step {step}: {what} with lr={lr:g}; {advice}.")
    err.epoch, err.step, err.lr, err.history, err.input_rms = epoch, step, lr, history, rms
    return err


def format_epoch(record: dict, epochs: int, validation_name: str = "Test") -> str:
    """The article's line: `Epoch 3/20, Loss: 0.1234, Test Accuracy: 0.9650`, plus seconds."""
    line = f"Epoch {record['epoch']}/{epochs}, Loss: {record['train_loss']:.4f}"
    acc = record.get("val_acc", record.get("train_acc"))
    if acc is not None:
        line += f", {validation_name if 'val_acc' in record else 'Train'} Accuracy: {acc:.4f}"
    return line + f" ({record['seconds']:.2f}s)"
