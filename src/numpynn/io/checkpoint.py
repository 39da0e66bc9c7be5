"""Model files and training checkpoints: safetensors + JSON metadata, written atomically, validated before use.

A file from a stranger can at worst be refused: safetensors holds only raw numbers (no pickle, no code), the
architecture is JSON mapped through the LAYERS registry, and every shape is checked against it before a
layer is built. A training checkpoint is a model file plus the optimizer's state (`optimizer.*` tensors),
the scheduler's and the TrainState (metadata), so `load_model` reads both kinds.
"""

import json
import mmap
import os
import stat
from pathlib import Path

import numpy as np

from numpynn.errors import CheckpointError
from numpynn.io.atomic import atomic_write_bytes
from numpynn.io.container import MAX_FILE_BYTES, decode, encode
from numpynn.io.extras import arrays_to_json, with_extra_arrays
from numpynn.io.user_files import kind_of
from numpynn.nn.layers import LAYERS
from numpynn.nn.sequential import Sequential
from numpynn.training.state import TrainState

FORMAT = "numpynn"
FORMAT_VERSION = 1
RESERVED = {"format", "format_version", "numpynn_version", "architecture", "dtype", "kind", "extra_tensors",
            "extra_arrays", "checksum", "optimizer", "scheduler", "train_state"}
_MAX_LAYER_ARG = 2**24  # widths of layers with no stored weights to check them against (none is this wide)


def save_model(path: str | os.PathLike, model: Sequential, metadata: dict | None = None,
               extra_tensors: dict[str, np.ndarray] | None = None) -> Path:
    """Write model weights (PyTorch state_dict names) and metadata atomically; values must be JSON-able.

    extra_tensors (a z-score's `preprocess.mean`, say) go into the metadata, not beside the weights, so the
    file's tensors are exactly the state_dict and load into the equivalent torch.nn.Sequential as they are.
    """
    return _save(path, model, metadata, extra_tensors or {}, {"kind": "model"})


def save_training_checkpoint(path: str | os.PathLike, model: Sequential, optimizer, state: TrainState,
                             scheduler=None, metadata: dict | None = None) -> Path:
    """Write everything fit() needs to continue bit-identically: weights, optimizer, scheduler, TrainState."""
    opt = {}
    for key, value in optimizer.state_dict().items():
        value = np.asarray(value)
        opt[f"optimizer.{key}"] = value.astype(np.int64) if value.dtype.kind in "iub" else value
    sched = scheduler.state_dict() if scheduler is not None and hasattr(scheduler, "state_dict") else None
    internal = {"kind": "training", "optimizer": json.dumps({"type": type(optimizer).__name__}),
                "scheduler": json.dumps(sched, default=float), "train_state": state.to_json()}
    return _save(path, model, metadata, opt, internal)


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(tensors, metadata) after checking the file's size, header, dtypes, shapes, offsets and checksum.

    The tensors are the weights, the extra arrays (`preprocess.mean`, ...) and a checkpoint's optimizer state,
    as writable copies; metadata["extra_tensors"] names the extra arrays, wherever the file keeps them.
    """
    tensors, meta = _read(path)
    return {name: np.array(value) for name, value in tensors.items()}, meta


def _read(path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """read_checkpoint's (tensors, metadata), the file's tensors as read-only views into its memory map."""
    path = Path(path)
    mode = path.stat().st_mode if path.exists() else None
    if mode is not None and not stat.S_ISREG(mode):  # a folder, FIFO or device: what it is, never read (26.11)
        raise CheckpointError(f"Model file {path} is {kind_of(mode)}, not a regular file; pass the path of a "
                              ".safetensors file.")
    if not path.is_file():
        raise CheckpointError(f"Model file {path} does not exist; train a model first (`numpynn train`, "
                              "numpynn.save_model) or pass the path of its .safetensors file.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:  # refuse before reading a byte of it
        raise CheckpointError(f"Model file {path} is {size} bytes, over the {MAX_FILE_BYTES}-byte cap; "
                              "it is not a numpynn model.")
    tensors, meta = _decode_file(path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a numpynn model file (no numpynn metadata); "
                              "save models with numpynn.save_model or `numpynn train`.")
    if meta.get("format_version") != str(FORMAT_VERSION):
        raise CheckpointError(f"{path} has format version {meta.get('format_version')!r}, but this numpynn "
                              f"reads version {FORMAT_VERSION}; upgrade numpynn or re-save the model.")
    return with_extra_arrays(tensors, meta, path), meta


def _decode_file(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """decode() over a read-only memory map of the file: its tensors are views, the weights are not copied."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size < 8:  # an empty file cannot be mapped; decode says it is truncated
            return decode(f.read(), str(path))
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return decode(data, str(path), str(path))


def load_model(path: str | os.PathLike) -> tuple[Sequential, dict]:
    """Rebuild the saved architecture and load its weights; returns (model, metadata with JSON decoded)."""
    tensors, meta = _read(path)
    model = _build(tensors, meta, path)
    return model, {k: _maybe_json(v) for k, v in meta.items()}


def load_training_checkpoint(path: str | os.PathLike, model: Sequential, optimizer,
                             scheduler=None) -> tuple[TrainState, dict]:
    """Load a training checkpoint into model, optimizer (and scheduler); returns (TrainState, metadata).

    Everything is validated before anything is changed: on error the objects are left as they were.
    """
    tensors, meta = _read(path)
    if meta.get("kind") != "training":
        raise CheckpointError(f"{path} is a model file, not a training checkpoint; it cannot resume training "
                              "(pass runs/NAME/checkpoint.safetensors).")
    if _json(meta, "architecture", path) != model.config() or meta.get("dtype") != str(model.dtype):
        raise CheckpointError(f"{path} was saved from a different model ({meta.get('architecture')}, "
                              f"{meta.get('dtype')}); resume with the architecture it was trained with.")
    saved = _build(tensors, meta, path)
    state, opt_type, opt_state, sched = _training_parts(tensors, meta, saved, path)
    if opt_type != type(optimizer).__name__:
        raise CheckpointError(f"{path} was trained with optimizer {opt_type}, not {type(optimizer).__name__}; "
                              "resume with the original optimizer.")
    if (sched is None) != (scheduler is None or not hasattr(scheduler, "load_state_dict")):
        raise CheckpointError(f"{path} was saved {'without' if sched is None else 'with'} an lr scheduler; "
                              "resume with the same --lr-schedule as the original run.")
    try:  # scheduler first: it sets optimizer.lr, which the optimizer's saved lr then overwrites exactly
        if sched is not None:
            scheduler.load_state_dict(sched)
        optimizer.load_state_dict(opt_state)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path} has a corrupt optimizer or scheduler state ({exc}).") from None
    model.load_state_dict(saved.state_dict(keep_vars=True))
    return state, {k: _maybe_json(v) for k, v in meta.items()}


# --- helpers -----------------------------------------------------------------------------------------------

def _save(path, model, metadata, extra, internal) -> Path:
    from numpynn import __version__
    clash = RESERVED & set(metadata or {})
    if clash:
        raise ValueError(f"Metadata keys {sorted(clash)} are reserved by numpynn; rename them.")
    model_state = model.state_dict()
    if set(extra) & set(model_state):
        raise ValueError(f"Extra tensor names {sorted(set(extra) & set(model_state))} collide with the model's.")
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "numpynn_version": __version__,
            "architecture": json.dumps(model.config()), "dtype": str(model.dtype), **internal}
    if internal["kind"] == "training":  # the optimizer's state: tensors, named "optimizer.*"
        meta["extra_tensors"], tensors = json.dumps(sorted(extra)), {**model_state, **extra}
    else:
        meta["extra_tensors"], tensors = "[]", model_state
        if extra:
            meta["extra_arrays"] = arrays_to_json(extra)
    for key, value in (metadata or {}).items():
        meta[key] = value if isinstance(value, str) else json.dumps(value)
    return atomic_write_bytes(path, encode(tensors, meta))


def _build(tensors: dict, meta: dict, path) -> Sequential:
    """The saved model, after checking the architecture against the tensors before any layer is allocated."""
    config = _json(meta, "architecture", path)
    dtype = {"float32": np.float32, "float64": np.float64}.get(meta.get("dtype"))
    extras = _json(meta, "extra_tensors", path)
    if (dtype is None or not isinstance(config, list) or not config
            or not isinstance(extras, list) or not all(isinstance(name, str) for name in extras)
            or not all(isinstance(spec, dict) and spec.get("type") in LAYERS and _scalars(spec) for spec in config)):
        raise CheckpointError(f"{path} does not describe a valid model (dtype {meta.get('dtype')!r}, architecture "
                              f"{str(meta.get('architecture'))[:200]}); re-save or re-train it.")
    _check_layer_sizes(config, tensors, path)
    try:
        model = Sequential.from_config(config, dtype=dtype, init="zeros")  # no random draws: the file's weights
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CheckpointError(f"{path} does not describe a valid model ({exc}); re-save or re-train it.") from None
    own = model.state_dict(keep_vars=True)
    training = {k for k in tensors if k.startswith("optimizer.")} if meta.get("kind") == "training" else set()
    names = set(tensors) - training - set(extras)
    missing, unexpected = sorted(own.keys() - names), sorted(names - own.keys())
    if missing or unexpected or not set(extras) <= set(tensors):
        raise CheckpointError(f"{path} does not fit its declared architecture (missing tensors {missing}, "
                              f"unexpected {unexpected}); the file is corrupt or was edited.")
    for name, target in own.items():
        if tensors[name].shape != target.shape or tensors[name].dtype != target.dtype:
            raise CheckpointError(f"Tensor {name!r} in {path} is {tensors[name].dtype}{list(tensors[name].shape)} "
                                  f"but the architecture needs {target.dtype}{list(target.shape)}.")
    model.load_state_dict({name: tensors[name] for name in own})
    if meta.get("kind") == "training":  # a corrupt part is a corrupt file, even if this reader skips it
        _training_parts(tensors, meta, model, path)
    return model


def _check_layer_sizes(config: list[dict], tensors: dict, path) -> None:
    """Each Linear's and Conv2d's declared sizes against its weight tensor, and no absurd size anywhere."""
    for i, spec in enumerate(config):
        if spec["type"] == "Linear":  # the one layer whose size the file's own tensors must confirm
            want = [spec.get("out_features"), spec.get("in_features")]
            got = getattr(tensors.get(f"{i}.weight"), "shape", None)
            if got is None or list(got) != want:
                raise CheckpointError(f"{path}: layer {i} is declared Linear{tuple(want[::-1])} but its weight "
                                      f"tensor has shape {got}; the architecture does not match the weights.")
        elif spec["type"] == "Conv2d":  # the same for a convolution's (out, in, kh, kw) weight
            want = [spec.get("out_channels"), spec.get("in_channels"), *_pair_or_none(spec.get("kernel_size"))]
            got = getattr(tensors.get(f"{i}.weight"), "shape", None)
            if got is None or list(got) != want:
                raise CheckpointError(f"{path}: layer {i} is declared Conv2d with weight {want} but its weight "
                                      f"tensor has shape {got}; the architecture does not match the weights.")
        if any(abs(v) > _MAX_LAYER_ARG for v in _ints(spec)):
            raise CheckpointError(f"{path}: layer {i} declares an absurd size {spec}; the file is corrupt.")


def _training_parts(tensors, meta, model, path) -> tuple[TrainState, str, dict, dict | None]:
    """(TrainState, optimizer type, optimizer state_dict, scheduler state) of a training checkpoint, each
    checked against the model: a buffer must have its parameter's shape and dtype, lr must be finite and >= 0."""
    try:
        state = TrainState.from_json(meta["train_state"])
    except (KeyError, ValueError, TypeError, RecursionError) as exc:
        raise CheckpointError(f"{path} has a corrupt training state ({exc}); resume from an earlier copy or "
                              "start the run again.") from None
    info, sched = _json(meta, "optimizer", path), _json(meta, "scheduler", path)
    if not isinstance(info, dict) or not isinstance(info.get("type"), str) or not isinstance(sched, (dict, type(None))):
        raise CheckpointError(f"{path} has a malformed optimizer or scheduler description; the file is corrupt.")
    params = dict(model.named_parameters())
    opt_state = {k[len("optimizer."):]: v for k, v in tensors.items() if k.startswith("optimizer.")}
    for key, value in opt_state.items():
        name, _, _ = key.rpartition(".")
        if key == "step_count":
            ok = value.shape == () and value.dtype == np.int64 and value >= 0
        elif key == "lr":
            # The current lr, not the one a user chose (that must be > 0): a schedule may end at 0 (cosine).
            ok = value.shape == () and value.dtype == np.float64 and np.isfinite(value) and value >= 0
        else:
            ok = name in params and value.shape == params[name].shape and value.dtype == params[name].dtype
        if not ok:
            raise CheckpointError(f"Optimizer entry {key!r} in {path} ({value.dtype}{list(value.shape)}) does not "
                                  "fit this model's parameters; the file is corrupt.")
    return state, info["type"], opt_state, sched


def _scalars(spec: dict) -> bool:
    """Layer arguments are plain JSON scalars (or pairs of ints: a kernel's height and width); a NaN slope or
    rate would load fine and predict garbage."""
    return all(isinstance(k, str) and (v is None or type(v) in (str, int, bool)
                                       or (type(v) is float and np.isfinite(v))
                                       or (type(v) is list and len(v) == 2 and all(type(e) is int for e in v)))
               for k, v in spec.items())


def _ints(spec: dict) -> list[int]:
    return [e for v in spec.values() for e in (v if type(v) is list else [v]) if type(e) is int]


def _pair_or_none(v) -> list:
    return v if type(v) is list else [v, v] if type(v) is int else [None, None]


def _json(meta: dict, key: str, path):
    try:
        return json.loads(meta[key])
    except (KeyError, ValueError, RecursionError):  # ValueError: bad JSON or an int of thousands of digits
        raise CheckpointError(f"{path} has missing or unreadable {key!r} metadata; the file is corrupt.") from None


def _maybe_json(value: str):
    try:
        return json.loads(value)
    except (ValueError, TypeError, RecursionError):
        return value
