"""`numpynn train --init-from RUN|MODEL [--freeze N]`: a run that starts from a trained model's weights.

The model brings its architecture, its classes and its input scaling (a z-score keeps the statistics it was
trained with); the run's config takes them over, so config.json says what was trained and `--resume` works.
A flag that contradicts the model is refused in one sentence; the optimizer always starts fresh.
"""

from dataclasses import fields
from pathlib import Path

from numpynn.app.runs.data import Data
from numpynn.app.runs.folder import TrainedModel, open_model
from numpynn.app.runs.train_config import TrainConfig

# What the model file decides: its layers (and so their sizes, activation, dtype, normalisation) and scaling.
INHERITED = ("hidden", "conv", "kernel_size", "pool", "activation", "dtype", "batch_norm", "dropout", "scale")


def open_source(config: TrainConfig) -> TrainedModel:
    """The model --init-from names, with its training config (numpynn train writes one into every model)."""
    try:
        source = open_model(config.init_from)
    except FileNotFoundError:
        raise ValueError(f"--init-from {config.init_from} is neither a run folder with a model.safetensors nor a "
                         "model file; pass what `numpynn train` wrote, e.g. runs/NAME.") from None
    if source.config is None:
        raise ValueError(f"--init-from {source.path} has no training config in its metadata; fine-tune it from "
                         "Python instead (numpynn.load_model, then numpynn.fit with a new optimizer).")
    return source


def inherit(config: TrainConfig, source: TrainedModel, explicit: set[str]) -> TrainConfig:
    """config with the source model's architecture and scaling; a setting given that contradicts them is refused.

    explicit: the settings the user gave (flags, config file, preset); one left at its default never contradicts.
    """
    defaults = TrainConfig()
    for name in INHERITED:
        mine, theirs = getattr(config, name), getattr(source.config, name)
        if mine != theirs and (name in explicit or mine != getattr(defaults, name)):
            flag = next(f for f in fields(TrainConfig) if f.name == name).metadata.get("flag") or \
                "--" + name.replace("_", "-")
            raise ValueError(f"{flag} contradicts the model in {source_name(source.path)}, trained with {name} = "
                             f"{_shown(theirs)}: fine-tuning keeps its architecture and input scaling, so drop "
                             f"{flag}.")
    return config.replace(**{name: getattr(source.config, name) for name in INHERITED})


def check_data_fits(source: TrainedModel, data: Data, config: TrainConfig) -> None:
    """The data must be what the model reads: as many input values per row, labels among its classes."""
    if data.x_train.shape[1] != source.in_features:
        raise ValueError(f"The model in {config.init_from} takes rows of {source.in_features} values, but "
                         f"{config.dataset} has {data.x_train.shape[1]}; fine-tune it on data shaped like its own.")
    if data.class_names[:len(source.class_names)] != source.class_names[:len(data.class_names)] \
            or len(data.class_names) > len(source.class_names):
        raise ValueError(f"{config.dataset} has the classes {', '.join(data.class_names[:12])}, but the model in "
                         f"{config.init_from} answers {', '.join(source.class_names[:12])}; fine-tune it on data of "
                         "its own classes.")
    data.class_names = list(source.class_names)  # labels 3, 5 and 8 still leave the model its 10 outputs


def freeze(source: TrainedModel, config: TrainConfig) -> None:
    """Keep the first config.freeze weight layers of the source model fixed (Sequential.freeze)."""
    if config.freeze:
        try:
            source.model.freeze(config.freeze)
        except ValueError as exc:
            raise ValueError(f"--freeze {config.freeze}: {exc}") from None


def _shown(value) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return str(value).lower() if isinstance(value, bool) else str(value)


def source_name(path: Path) -> str:
    """A run folder's name for a model.safetensors inside one, else the file's path."""
    return str(path.parent) if path.name == "model.safetensors" else str(path)
