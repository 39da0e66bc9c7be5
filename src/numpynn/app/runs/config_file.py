"""TOML run files for `numpynn train --config FILE`: read, type-check against TrainConfig, resolve with the flags.

A file holds TrainConfig settings as `key = value` lines, at the top level or under the [section] that
SECTIONS gives each setting (`[optim] lr = 0.1` is the same as `lr = 0.1`). An unknown section or a setting
under another section is refused: `[trainng]` or `[model] lr = 0.1` would otherwise be silently accepted.
Dashes and underscores in keys are the same (`batch-size`, `batch_size`), as on the command line.
"""

import dataclasses
import difflib
import sys
import types
import typing
from pathlib import Path

from numpynn.app.runs.train_config import TrainConfig, resolve_config
from numpynn.io.user_files import parse_nested, read_user_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML with the tomli backport declared in pyproject
    import tomli as tomllib

MAX_BYTES = 1024 * 1024  # a run file is a few hundred bytes; anything near this cap is not one

# Each TrainConfig field in exactly one section (tests/test_configfile.py checks that a new field gets one).
SECTIONS = {
    "data": ("dataset", "subset", "val_split", "scale", "mix_mnist"),
    "model": ("kind", "hidden", "conv", "kernel_size", "pool", "num_layers", "patch_size", "embed_dim", "depth",
              "heads", "mlp_dim", "activation", "init", "loss", "dtype", "init_from", "freeze"),
    "optim": ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "lr_schedule", "warmup_epochs", "epochs",
              "batch_size", "seed"),
    "regularisation": ("dropout", "batch_norm", "augment_shift", "early_stopping", "track_gradients"),
    "run": ("out", "name", "quiet", "plots", "preset", "threads"),
}
SECTION_OF = {name: section for section, names in SECTIONS.items() for name in names}
# Both spellings name one section: the module and the README say regularization, the recipes regularisation.
SECTION_ALIASES = {"regularization": "regularisation"}


# The recipes ship inside the package (a wheel has no recipes/ folder); recipes/ in a clone links here.
RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def bundled_recipe(name) -> Path | None:
    """A bundled recipe for `--config mnist-99` (or recipes/mnist-99.toml where no such file exists here)."""
    if Path(name).is_file():
        return None
    stem = Path(name).name.removesuffix(".toml")
    candidate = RECIPES / f"{stem}.toml"
    return candidate if stem and candidate.is_file() else None


def read_toml(path, what: str, missing_hint: str) -> tuple[Path, dict]:
    """(path, table) of a TOML run or sweep file, or of a bundled recipe named by `path`.

    The library's user-file reader says what a folder, FIFO or device is, caps the size, accepts a UTF-8
    byte-order mark (Notepad writes one), and refuses nesting deeper than any numpynn file has (issue 26).
    """
    path = bundled_recipe(path) or Path(path)
    try:
        text = read_user_text(path, what, "a TOML file", MAX_BYTES, hint=missing_hint)
    except FileNotFoundError as exc:  # a ValueError, as read_config_file has always raised for a missing file
        raise ValueError(str(exc)) from None
    try:
        return path, parse_nested(tomllib.loads, text, f"{what} {path}")
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{what} {path} is not valid TOML ({exc}); fix that line.") from None


def read_config_file(path) -> dict:
    """The settings in a TOML file as {field name: value}, each checked against TrainConfig's field types."""
    recipes = ", ".join(sorted(p.stem for p in RECIPES.glob("*.toml")))
    path, raw = read_toml(path, "Config file", f"pass the path of a .toml file or the name of a bundled recipe "
                                               f"({recipes})")
    return check_settings(_flatten(raw, path), source=str(path))


def load_train_config(path, cli: dict | None = None) -> TrainConfig:
    """TrainConfig from defaults < preset < the file < command-line flags (`cli`: only the flags given)."""
    return resolve_config(dict(cli or {}), read_config_file(path), source=str(path))


def check_settings(values: dict, source: str = "the config file") -> dict:
    """Refuse unknown keys and wrongly typed values with one sentence naming the key; returns parsed values."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    hints = typing.get_type_hints(TrainConfig)
    out = {}
    for key, value in values.items():
        if key not in fields:
            near = difflib.get_close_matches(key, fields, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else f"; known settings: {', '.join(sorted(fields))}"
            raise ValueError(f"Unknown setting {key!r} in {source}{hint}.")
        out[key] = _check_value(key, value, hints[key], fields[key].metadata.get("parse"), source)
    return out


def _flatten(raw: dict, path: Path) -> dict:
    flat = {}
    known = ", ".join(f"[{s}]" for s in SECTIONS)
    for key, value in raw.items():
        section = SECTION_ALIASES.get(key, key) if isinstance(value, dict) else None
        if section is not None and section not in SECTIONS:
            near = difflib.get_close_matches(section, SECTIONS, n=1)
            hint = f" (did you mean [{near[0]}]?)" if near else ""
            raise ValueError(f"Config file {path} has an unknown section [{section}]{hint}; known sections: {known}.")
        items = value.items() if section is not None else [(key, value)]
        for k, v in items:
            if isinstance(v, dict):
                raise ValueError(f"Config file {path} nests a table in [{key}]; use one level of [section] headers.")
            name = k.replace("-", "_")
            home = SECTION_OF.get(name)
            if section is not None and home is not None and home != section:
                raise ValueError(f"Config file {path} sets {name!r} under [{key}], but it belongs under "
                                 f"[{home}] (or at the top); known sections: {known}.")
            if name in flat:  # also [regularisation] and [regularization] both setting it
                raise ValueError(f"Config file {path} sets {name!r} twice; keep one of them.")
            flat[name] = v
    return flat


def _check_value(key, value, tp, parse, source):
    """value if it fits type tp (ints are accepted for floats; a list setting may also be the flag's string)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):  # `int | None`: TOML has no null, so the int
        tp = next(a for a in args if a is not type(None))
        args = typing.get_args(tp)
    if isinstance(value, str) and typing.get_origin(tp) is tuple and parse is not None:  # hidden = "512,256"
        try:
            return parse(value)
        except ValueError as exc:
            raise ValueError(f"Setting {key!r} in {source}: {exc}") from None
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif tp is str:
        ok = isinstance(value, str)
    elif typing.get_origin(tp) is tuple:
        elem = args[0] if args else object
        ok = isinstance(value, list) and all(isinstance(v, elem) and not isinstance(v, bool) for v in value)
        value = tuple(value) if ok else value
    else:
        ok = True
    if not ok:
        raise ValueError(f"Setting {key!r} in {source} must be {_describe(tp)}, got {value!r} "
                         f"({type(value).__name__}); e.g. {key} = {_example(tp)}.")
    return value


def _describe(tp) -> str:
    if typing.get_origin(tp) is tuple:
        return "a list of " + {int: "integers", float: "numbers", str: "strings"}.get(typing.get_args(tp)[0], "values")
    return {bool: "true or false", int: "an integer", float: "a number", str: "a quoted string"}.get(tp, str(tp))


def _example(tp) -> str:
    if typing.get_origin(tp) is tuple:
        return "[512, 256]"
    return {bool: "true", int: "10", float: "0.1", str: '"text"'}.get(tp, "...")
