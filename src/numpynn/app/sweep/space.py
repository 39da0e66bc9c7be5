"""What a sweep searches: the sweep TOML (fixed train options, [search], [sweep]) or `--grid KEY=V1,V2` -> SweepSpec.

A sweep file is a `numpynn train --config` file plus two tables:

    [sweep]                     # all optional
    trials = 20                 # finished (complete or pruned) trials to reach; --trials wins
    sampler = "tpe"             # tpe, random, grid (every combination of the [search] lists, once)
    pruner = "median"           # median, hyperband, none: stops a trial whose validation accuracy lags
    seed = 0                    # the sampler's seed (each trial trains with the file's own seed)
    heartbeat = 60              # seconds between a database worker's heartbeats (--storage postgresql://...)

    [search]
    lr = {low = 1e-3, high = 1.0, log = true}      # a range: float, or int for integer options (step = ...)
    hidden = [[256], [512, 256]]                   # a list: the choices
"""

import difflib
import itertools
import math
import typing
from dataclasses import dataclass, fields
from pathlib import Path

from numpynn.app.runs.config_file import check_settings, read_toml
from numpynn.app.runs.train_config import TrainConfig, resolve_config

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
SWEEP_KEYS = {"trials": int, "sampler": str, "pruner": str, "seed": int, "heartbeat": int}
# Every trial must be measured on the same rows with the same split, and the sweep decides where runs go.
NOT_SEARCHABLE = ("dataset", "subset", "val_split", "seed", "preset", "out", "name", "quiet", "plots")
NOT_FIXED = ("out", "name")


@dataclass(frozen=True)
class Param:
    """One searched option: a range (kind float or int) or a list of choices (kind choice)."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple = ()

    def suggest(self, trial):
        """Ask the Optuna trial for this option's value (choices travel as labels; see decode)."""
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log, step=int(self.step or 1))
        return trial.suggest_categorical(self.name, self.labels())

    def labels(self) -> list:
        """Optuna stores None/bool/int/float/str only: a hidden choice (512, 256) travels as '512,256'."""
        return [label_of(c) for c in self.choices]

    def decode(self, stored):
        """The option's value from what Optuna stored."""
        if self.kind != "choice":
            return int(stored) if self.kind == "int" else float(stored)
        return dict(zip(self.labels(), self.choices))[stored]

    def to_dict(self) -> dict:
        d = {"name": self.name, "kind": self.kind, "low": self.low, "high": self.high, "log": self.log,
             "step": self.step, "choices": [list(c) if isinstance(c, tuple) else c for c in self.choices]}
        return {k: v for k, v in d.items() if v is not None}


def label_of(value):
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return value


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: the fixed train options (`base`), the searched ones, and how to search."""

    base: TrainConfig
    params: tuple[Param, ...]
    sampler: str = "tpe"
    pruner: str = "median"
    seed: int = 0
    heartbeat: int = 60
    trials: int | None = None  # from the file; --trials wins

    def config_for(self, stored: dict, **changes) -> TrainConfig:
        """The TrainConfig of a trial whose Optuna params are `stored`."""
        values = {p.name: p.decode(stored[p.name]) for p in self.params if p.name in stored}
        return self.base.replace(**values, **changes)

    def grid(self) -> list[dict]:
        """Every combination of the choices, as Optuna params (labels), in file order."""
        names = [p.name for p in self.params]
        return [dict(zip(names, combo)) for combo in itertools.product(*(p.labels() for p in self.params))]

    def to_dict(self) -> dict:
        """What identifies the sweep: a resumed study must have been started with exactly this."""
        base = {k: v for k, v in self.base.to_dict().items() if k not in ("out", "name", "quiet", "plots")}
        return {"base": base, "params": [p.to_dict() for p in self.params], "sampler": self.sampler,
                "pruner": self.pruner}

    @classmethod
    def from_dict(cls, d: dict, base: TrainConfig) -> "SweepSpec":
        params = tuple(Param(**{**p, "choices": tuple(tuple(c) if isinstance(c, list) else c
                                                      for c in p.get("choices", ()))}) for p in d["params"])
        return cls(base, params, d["sampler"], d["pruner"], d.get("seed", 0), d.get("heartbeat", 60))


def read_sweep_file(path, flags: dict) -> SweepSpec:
    """The SweepSpec in a sweep TOML; `flags` (train options given on the command line) win over its values."""
    fixed, search, sweep = read_sweep_toml(path)
    base = _base_config(fixed, flags, str(path))
    params = tuple(_param(key.replace("-", "_"), value, base, path) for key, value in search.items())
    return _spec(base, params, _sweep_options(sweep, path), str(path))


def read_sweep_toml(path) -> tuple[dict, dict, dict]:
    """(fixed train options, the [search] table, the [sweep] table) of a sweep file (or bundled recipe name)."""
    path, raw = read_toml(path, "Sweep file", "pass a .toml file with a [search] table")
    search, sweep = raw.pop("search", {}), raw.pop("sweep", {})
    for table, value in (("search", search), ("sweep", sweep)):
        if not isinstance(value, dict):
            raise ValueError(f"Sweep file {path}: {table} must be a [{table}] table, not a single value.")
    return _flatten(raw, path), search, sweep


def grid_spec(entries: list[str], flags: dict, file_values: dict | None = None, source: str = "--grid") -> SweepSpec:
    """`--grid lr=0.1,1.0 --grid hidden=256/512,256`: a plain grid over the given values."""
    base = _base_config(file_values or {}, flags, source)
    params = []
    for entry in entries:
        key, sep, values = entry.partition("=")
        name = key.strip().replace("-", "_")
        if not sep or not values.strip():
            raise ValueError(f"--grid takes KEY=V1,V2 such as lr=0.1,1.0, got {entry!r}.")
        # hidden and conv sizes are themselves comma-separated, so their choices are separated by slashes.
        texts = values.split("/" if _is_list_option(name) else ",")
        params.append(_param(name, [_parse_text(name, t.strip(), entry) for t in texts], base, "--grid"))
    if len({p.name for p in params}) < len(params):
        raise ValueError("--grid names an option twice; give each option once with all its values.")
    return _spec(base, tuple(params), {"sampler": "grid"}, source)


def _spec(base: TrainConfig, params: tuple, options: dict, source: str) -> SweepSpec:
    if not params:
        raise ValueError(f"{source} searches nothing; add a [search] table such as lr = {{low = 0.01, high = 1.0, "
                         "log = true}, or use --grid lr=0.1,1.0.")
    if base.val_split <= 0:
        raise ValueError("A sweep ranks trials by accuracy on held-out training rows, never the test set; set "
                         "val_split (e.g. val_split = 0.1 in the file, or --val-split 0.1).")
    spec = SweepSpec(base, params, **options)
    if spec.sampler == "grid":
        ranges = [p.name for p in params if p.kind != "choice"]
        if ranges:
            raise ValueError(f"sampler = \"grid\" needs a list of values for every [search] option; write "
                             f"{ranges[0]} as a list such as {ranges[0]} = [0.01, 0.1, 1.0].")
    # Fail now, not in trial 7: the extremes of every option must each make a valid run.
    for p in params:
        for value in ((p.low, p.high) if p.kind != "choice" else p.choices):
            value = int(value) if p.kind == "int" else value
            try:
                base.replace(**{p.name: value})
            except ValueError as exc:
                raise ValueError(f"[search] {p.name} = {label_of(value)!r} makes an invalid run: {exc}") from None
    return spec


def _base_config(file_values: dict, flags: dict, source: str) -> TrainConfig:
    for key in NOT_FIXED:
        if key in file_values:
            raise ValueError(f"{source} sets {key!r}, but a sweep names its trial folders itself; drop it and "
                             "pass --out DIR for the sweep folder.")
    return resolve_config(flags, check_settings(file_values, source), source=source)


def _flatten(raw: dict, path: Path) -> dict:
    """Train options at the top level or under one level of [section] headers, as in `train --config` files."""
    flat = {}
    for key, value in raw.items():
        for k, v in (value.items() if isinstance(value, dict) else [(key, value)]):
            if isinstance(v, dict):
                raise ValueError(f"Sweep file {path} nests a table in [{key}]; ranges belong in [search].")
            name = k.replace("-", "_")
            if name in flat:
                raise ValueError(f"Sweep file {path} sets {name!r} twice; keep one of them.")
            flat[name] = v
    return flat


def _sweep_options(sweep: dict, path: Path) -> dict:
    options = {}
    for key, value in sweep.items():
        if key not in SWEEP_KEYS:
            near = difflib.get_close_matches(key, SWEEP_KEYS, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(SWEEP_KEYS)}"
            raise ValueError(f"Unknown [sweep] setting {key!r} in {path} ({hint}).")
        wanted = SWEEP_KEYS[key]
        if not isinstance(value, wanted) or isinstance(value, bool):
            raise ValueError(f"[sweep] {key} in {path} must be {'an integer' if wanted is int else 'a string'}, "
                             f"got {value!r}.")
        options[key] = value
    for key, allowed in (("sampler", SAMPLERS), ("pruner", PRUNERS)):
        if options.get(key, allowed[0]) not in allowed:
            raise ValueError(f"Unknown {key} {options[key]!r} in {path}; choose one of {', '.join(allowed)}.")
    for key in ("trials", "heartbeat"):
        if key in options and options[key] < 1:
            raise ValueError(f"[sweep] {key} in {path} must be at least 1, got {options[key]}.")
    return options


def _is_list_option(name: str) -> bool:
    return name in typing.get_type_hints(TrainConfig) and typing.get_origin(_field_type(name)) is tuple


def _field_type(name: str):
    tp = typing.get_type_hints(TrainConfig)[name]
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if args and typing.get_origin(tp) is not tuple else tp


def _param(name: str, value, base: TrainConfig, source) -> Param:
    known = {f.name for f in fields(TrainConfig)}
    if name not in known:
        near = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(f"[search] names {name!r}, which is not a train option{hint}.")
    if name in NOT_SEARCHABLE:
        raise ValueError(f"[search] cannot vary {name!r}: trials are compared on the same data, split and seed, "
                         "in folders the sweep names; fix it outside [search] instead.")
    tp = _field_type(name)
    if isinstance(value, list):
        if not value:
            raise ValueError(f"[search] {name} is an empty list; give at least one value.")
        choices = tuple(check_settings({name: v}, f"[search] {name}")[name] for v in value)
        if len(set(map(label_of, choices))) < len(choices):
            raise ValueError(f"[search] {name} lists a value twice; give each choice once.")
        return Param(name, "choice", choices=choices)
    if not isinstance(value, dict):
        raise ValueError(f"[search] {name} must be a list of choices or a range such as "
                         f"{name} = {{low = 0.01, high = 1.0}}, got {value!r}.")
    return _range_param(name, value, tp)


def _range_param(name: str, value: dict, tp) -> Param:
    """`name = {low, high, log, step}`: a numeric range, checked."""
    if tp not in (int, float):
        raise ValueError(f"[search] {name} takes {typing.get_type_hints(TrainConfig)[name]} values, which have no "
                         f"range; list the choices instead, e.g. {name} = [...].")
    unknown = sorted(set(value) - {"low", "high", "log", "step"})
    if unknown or not {"low", "high"} <= set(value):
        raise ValueError(f"[search] {name} = {{...}} takes low, high and optionally log and step, got "
                         f"{', '.join(sorted(value))}.")
    low, high, log, step = value["low"], value["high"], value.get("log", False), value.get("step")
    numbers = [v for v in (low, high, step) if v is not None]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in numbers):
        raise ValueError(f"[search] {name}: low, high and step must be finite numbers.")
    if tp is int and not all(isinstance(v, int) for v in numbers):
        raise ValueError(f"[search] {name} is an integer option; give integer low, high and step.")
    if not isinstance(log, bool):
        raise ValueError(f"[search] {name}: log must be true or false, got {log!r}.")
    if not low < high:
        raise ValueError(f"[search] {name}: low ({low}) must be less than high ({high}).")
    if log and low <= 0:
        raise ValueError(f"[search] {name}: a log range needs low > 0, got {low}; try low = 1e-4.")
    if step is not None and (step <= 0 or log):
        raise ValueError(f"[search] {name}: step must be positive, and a log range takes no step.")
    kind = "int" if tp is int else "float"
    return Param(name, kind, float(low) if kind == "float" else low, float(high) if kind == "float" else high,
                 log, step)


def _parse_text(name: str, text: str, entry: str):
    """A --grid value as its option's type (the value's own checks come from TrainConfig)."""
    known = {f.name for f in fields(TrainConfig)}
    if name not in known:
        near = difflib.get_close_matches(name, known, n=1)
        raise ValueError(f"--grid names {name!r}, which is not a train option"
                         f"{f' (did you mean {near[0]!r}?)' if near else ''}.")
    tp = _field_type(name)
    try:
        if typing.get_origin(tp) is tuple:
            return list(next(f for f in fields(TrainConfig) if f.name == name).metadata["parse"](text))
        if tp is bool:
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        return tp(text)
    except ValueError:
        raise ValueError(f"--grid {entry!r}: {text!r} is not a valid {name} value.") from None
