"""The divergence guard of fit: a non-finite loss or weight, or an exploded weight, stops training at once.

The error carries `.epoch`, `.step`, `.lr`, `.history` and `.input_rms`, and advises on the input scale when the
inputs are large (the usual cause), else on the learning rate.
"""

import math
from typing import TYPE_CHECKING

import numpy as np

from numpynn.errors import TrainingDiverged

if TYPE_CHECKING:  # for the hints only
    from numpynn.nn.sequential import Sequential
    from numpynn.training.fit import History

# Weights this large have exploded: float32 resolves them to ~10 units and no sane model needs them (scale
# inputs and targets instead). Checked once per epoch, before the epoch's checkpoint, so it costs nothing.
MAX_ABS_WEIGHT = 1e8
# Inputs whose root-mean-square is above this are unscaled (raw 0..255 pixels: ~80; x/255: ~0.3; z-scores: ~1).
LARGE_INPUT_RMS = 10.0


def check_loss(loss: float, epoch: int, step: int, lr: float, history: "History", xb: np.ndarray) -> None:
    """TrainingDiverged when the batch's loss (a float) is not finite; xb: (B, ...) the batch it came from."""
    if not math.isfinite(loss):
        raise _diverged(f"the loss became {loss}", epoch, step, lr, history, xb)


def check_weights(model: "Sequential", epoch: int, step: int, lr: float, history: "History", xb: np.ndarray) -> None:
    """TrainingDiverged when a weight is non-finite or has exploded past MAX_ABS_WEIGHT."""
    if not all(np.isfinite(p).all() for p in model.parameters()):
        raise _diverged("the weights stopped being finite", epoch, step, lr, history, xb)
    largest = max((float(np.abs(p).max()) for p in model.parameters() if p.size), default=0.0)
    if largest > MAX_ABS_WEIGHT:
        raise _diverged(f"the weights exploded (largest |w| = {largest:.2g})", epoch, step, lr, history, xb)


def _diverged(what: str, epoch: int, step: int, lr: float, history, xb: np.ndarray) -> TrainingDiverged:
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
