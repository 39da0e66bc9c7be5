"""From a TrainConfig to objects: the model, optimizer, loss, schedule, augmentation and callbacks.

Registries turn names into classes, so a new layer or optimizer needs no code here beyond its registry entry.
"""

import numpy as np

from numpynn.cli.run_data import Data
from numpynn.cli.train_config import TrainConfig
from numpynn.data.augment import RandomShift
from numpynn.datasets import one_hot
from numpynn.nn.losses import LOSSES
from numpynn.nn.sequential import mlp
from numpynn.optim.optimizers import OPTIMIZERS
from numpynn.optim.schedules import build_scheduler
from numpynn.training.callbacks import EarlyStopping, GradientTracker

# Which TrainConfig fields each optimizer takes besides lr; a value given to one that ignores it is refused.
OPTIMIZER_ARGS = {"sgd": ("momentum", "nesterov", "weight_decay"), "adam": ("weight_decay",),
                  "adamw": ("weight_decay",), "rmsprop": ("momentum", "weight_decay")}
DEFAULT_LR = {"sgd": 0.1}  # the article's; the other optimizers keep torch's default lr when --lr is unset


def build_model(config: TrainConfig, in_features: int, num_classes: int, rng: np.random.Generator):
    """The MLP in_features -> hidden... -> num_classes that `config` describes."""
    sizes = [in_features, *config.hidden, num_classes]
    return mlp(sizes, activation=config.activation, init=config.init, seed=rng, dtype=np.dtype(config.dtype),
               dropout=config.dropout, batch_norm=config.batch_norm)


def build_optimizer(config: TrainConfig, model):
    """OPTIMIZERS[config.optimizer] with lr and the options that optimizer takes."""
    takes = OPTIMIZER_ARGS.get(config.optimizer, ())
    defaults = TrainConfig()
    for option in sorted({a for args in OPTIMIZER_ARGS.values() for a in args} - set(takes)):
        if getattr(config, option) != getattr(defaults, option):
            raise ValueError(f"--{option.replace('_', '-')} does not apply to --optimizer {config.optimizer}; "
                             "drop it or choose an optimizer that takes it.")
    # Unset (None) values are left out, so the optimizer's own (torch) default applies.
    kwargs = {a: getattr(config, a) for a in ("lr", *takes) if getattr(config, a) is not None}
    if "lr" not in kwargs and config.optimizer in DEFAULT_LR:
        kwargs["lr"] = DEFAULT_LR[config.optimizer]
    return OPTIMIZERS[config.optimizer](model, **kwargs)


def build_extras(config: TrainConfig, optimizer, data: Data) -> tuple:
    """(scheduler, transform, callbacks) for the schedule, augmentation, early-stopping and gradient options."""
    scheduler = build_scheduler(config.lr_schedule, optimizer, config.epochs, config.warmup_epochs)
    transform = None
    if config.augment_shift:
        if data.image_shape is None or len(data.image_shape) != 2:
            raise ValueError("--augment-shift needs square images (such as MNIST's 28x28); drop it for this dataset.")
        transform = RandomShift(config.augment_shift, image_shape=tuple(data.image_shape))
    callbacks = []
    if config.track_gradients:
        callbacks.append(GradientTracker())  # before MetricsCSV, so its columns reach metrics.csv
    if config.early_stopping is not None:
        callbacks.append(EarlyStopping(patience=config.early_stopping))
    return scheduler, transform, callbacks


def build_loss(config: TrainConfig):
    return LOSSES[config.loss]()


def targets_for(config: TrainConfig, y: np.ndarray, num_classes: int) -> np.ndarray:
    """Class indices for cross-entropy; one-hot rows for losses that compare whole vectors (MSE, BCE)."""
    return y if config.loss == "cross_entropy" else one_hot(y, num_classes)
