"""From a TrainConfig to objects: the model, optimizer, loss, schedule, augmentation and callbacks.

Registries turn names into classes, so a new layer or optimizer needs no code here beyond its registry entry.
"""

import os
import sys

import numpy as np

from numpynn.app.runs.data import Data
from numpynn.app.runs.train_config import TrainConfig
from numpynn.data.augment import RandomShift
from numpynn.datasets import one_hot
from numpynn.nn.losses import LOSSES
from numpynn.nn.models import cnn, mlp, rnn_classifier, vit
from numpynn.optim.optimizers import OPTIMIZERS
from numpynn.optim.schedules import build_scheduler
from numpynn.training.callbacks import ChanceLevelWarning, EarlyStopping, GradientTracker

# Which TrainConfig fields each optimizer takes besides lr; a value given to one that ignores it is refused.
OPTIMIZER_ARGS = {"sgd": ("momentum", "nesterov", "weight_decay"), "adam": ("weight_decay",),
                  "adamw": ("weight_decay",), "rmsprop": ("momentum", "weight_decay")}
DEFAULT_LR = {"sgd": 0.1}  # the article's; the other optimizers keep torch's default lr when --lr is unset


# Copies of the parameters training keeps: weights, gradients, one scratch buffer, and the optimizer's state.
OPTIMIZER_BUFFERS = {"sgd": 1, "adam": 2, "adamw": 2, "rmsprop": 3}


def build_model(config: TrainConfig, in_features: int, num_classes: int, rng: np.random.Generator,
                input_shape: tuple[int, int, int] | None = None):
    """The MLP in_features -> hidden... -> num_classes that `config` describes, or with --conv its CNN on
    images of input_shape (C, H, W), or the --kind lstm/gru/rnn/vit network on those images."""
    if config.kind != "mlp":
        return build_sequence_model(config, input_shape, num_classes, rng)
    if config.conv:
        return build_cnn(config, input_shape, num_classes, rng)
    sizes = [in_features, *config.hidden, num_classes]
    parameters = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    check_fits_in_memory(config, parameters, activations=sum(sizes[1:]))
    return mlp(sizes, activation=config.activation, init=config.init, seed=rng, dtype=np.dtype(config.dtype),
               dropout=config.dropout, batch_norm=config.batch_norm)


def build_cnn(config: TrainConfig, input_shape, num_classes: int, rng: np.random.Generator):
    """config.conv's conv blocks on (C, H, W) images, then Flatten and the --hidden layers (nn.models.cnn)."""
    c, h, w = input_shape
    parameters, activations, size = 0, 0, (h, w)
    for c_out in config.conv:  # the sizes cnn() will allocate, estimated before any of it is
        k = config.kernel_size
        size = (size[0] - k + 1, size[1] - k + 1)
        parameters += c_out * c * k * k + c_out
        pixels = max(size[0], 0) * max(size[1], 0)
        activations += (4 * c_out + c * k * k) * pixels  # the block's outputs, and the conv's im2col columns
        size, c = (size[0] // config.pool, size[1] // config.pool), c_out
    sizes = [c * max(size[0], 0) * max(size[1], 0), *config.hidden, num_classes]
    parameters += sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    check_fits_in_memory(config, parameters, activations=activations + sum(sizes))
    return cnn(input_shape, list(config.conv), list(config.hidden), num_classes, kernel_size=config.kernel_size,
               pool=config.pool, activation=config.activation, init=config.init, seed=rng,
               dtype=np.dtype(config.dtype), dropout=config.dropout, batch_norm=config.batch_norm)


def build_sequence_model(config: TrainConfig, input_shape, num_classes: int, rng: np.random.Generator):
    """--kind lstm/gru/rnn: each (1, H, W) image as H steps of W pixels; --kind vit: a Vision Transformer."""
    c, h, w = input_shape
    dtype = np.dtype(config.dtype)
    if config.kind == "vit":
        if h % config.patch_size or w % config.patch_size:
            raise ValueError(f"--patch-size {config.patch_size} does not divide the {h}x{w} images; choose one that "
                             "does (e.g. 4 or 7 for 28x28).")
        return vit(input_shape, config.patch_size, config.embed_dim, config.depth, config.heads, config.mlp_dim,
                   num_classes, dropout=config.dropout, seed=rng, dtype=dtype)
    if c != 1:
        raise ValueError(f"--kind {config.kind} reads an image row by row and needs one channel, got {c}; use "
                         "--kind vit or --conv for images with several channels.")
    return rnn_classifier(h, w, config.hidden[0], num_classes, kind=config.kind, num_layers=config.num_layers,
                          dropout=config.dropout, seed=rng, dtype=dtype)


def check_fits_in_memory(config: TrainConfig, parameters: int, activations: int, memory: int | None = None) -> None:
    """Refuse a model whose training would not fit in this machine's memory, before allocating any of it.

    parameters: the model's parameter count; activations: the values one input row produces in all layers.
    Estimate: (3 + optimizer buffers) copies of the parameters, plus ~3 copies of a batch's activations
    (outputs, cached inputs, gradients). A MemoryError traceback halfway through allocation says none of this.
    """
    itemsize = np.dtype(config.dtype).itemsize
    copies = 3 + OPTIMIZER_BUFFERS.get(config.optimizer, 2)
    need = itemsize * (parameters * copies + 3 * config.batch_size * activations)
    memory = physical_memory() if memory is None else memory
    if memory is not None and need > memory:
        raise ValueError(f"This model has {parameters:,} parameters ({_size(parameters * itemsize)} as "
                         f"{config.dtype}); "
                         f"training it needs about {_size(need)}, more than this machine's {_size(memory)} of memory. "
                         "Choose smaller --hidden sizes (e.g. 256 or 1024,1024) or a smaller --batch-size.")


def physical_memory() -> int | None:
    """Bytes of RAM, or None where the OS does not say (then nothing is refused)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _size(nbytes: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if nbytes < 1000 or unit == "PB":
            return f"{nbytes:,.0f} {unit}" if unit == "bytes" else f"{nbytes:,.1f} {unit}"
        nbytes /= 1000


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


def resolved_config(config: TrainConfig, optimizer) -> TrainConfig:
    """`config` with the lr and weight decay `optimizer` actually uses in place of "unset": what config.json,
    the model file, plot legends and `info` then show (lr=0.001, not lr=default)."""
    return config.replace(lr=optimizer.lr, weight_decay=getattr(optimizer, "weight_decay", config.weight_decay))


def build_extras(config: TrainConfig, optimizer, data: Data) -> tuple:
    """(scheduler, transform, callbacks) for the schedule, augmentation, early-stopping and gradient options."""
    scheduler = build_scheduler(config.lr_schedule, optimizer, config.epochs, config.warmup_epochs)
    transform = None
    if config.augment_shift:
        if data.image_shape is None or len(data.image_shape) != 2:  # also the (H, W) of (C, H, W) images
            raise ValueError("--augment-shift needs square images (such as MNIST's 28x28); drop it for this dataset.")
        if data.channels > 1 and not config.conv:
            raise ValueError("--augment-shift on multi-channel images needs --conv (an MLP sees their channels "
                             "as one flat row); add --conv or drop --augment-shift.")
        try:
            transform = RandomShift(config.augment_shift, image_shape=tuple(data.image_shape))
        except ValueError as exc:
            raise ValueError(f"--augment-shift {config.augment_shift}: {exc}") from None
    callbacks = [ChanceLevelWarning(data.y_train, warn=lambda message: print(f"numpynn: warning: {message}",
                                                                             file=sys.stderr, flush=True))]
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
