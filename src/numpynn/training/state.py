"""TrainState: where fit() stands at a safe point (between steps), enough to continue bit-identically.

A resumed run redraws the interrupted epoch's permutation from the Generator state saved at the epoch's
start, then jumps to the state after the last finished batch, so batches, transforms and the running
loss/accuracy sums all continue exactly as the uninterrupted run would have.
"""

import json
import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np

# Bit generators whose state is a JSON-able dict of ints (PCG64 is what np.random.default_rng builds).
BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM, "SFC64": np.random.SFC64,
                  "Philox": np.random.Philox}
_INT = re.compile(r"-?[0-9]{1,80}")  # PCG64's 128-bit ints are 39 digits; refuse anything absurd before int()


@dataclass
class TrainState:
    """Progress of a run: `epoch` epochs done, `step` batches done in the next one (0 at an epoch's end)."""

    epoch: int
    step: int
    global_step: int
    epoch_rng_state: dict          # Generator state before the current epoch's permutation was drawn
    rng_state: dict                # Generator state after `step` batches (transforms draw from it too)
    loss_sum: float = 0.0          # running sums of the partial epoch, so its record matches an unbroken run
    correct: int | None = 0
    seconds: float = 0.0
    num_samples: int = 0           # what the run was trained on: a resume must use the same data and batches
    batch_size: int = 0
    shuffle: bool = True
    layer_rng_states: dict[str, dict] = field(default_factory=dict)  # layer index -> its own Generator (Dropout)
    records: list[dict] = field(default_factory=list)
    callback_states: dict[str, dict] = field(default_factory=dict)  # callback index -> its state_dict()

    def check_compatible(self, num_samples: int, batch_size: int, shuffle: bool) -> None:
        """Refuse to resume on other data or batches: the result would silently differ from the original run."""
        saved = (self.num_samples, self.batch_size, self.shuffle)
        if saved != (num_samples, batch_size, shuffle):
            raise ValueError(f"This checkpoint was trained on {self.num_samples} samples with batch_size="
                             f"{self.batch_size}, shuffle={self.shuffle}, but the resumed run has {num_samples}, "
                             f"{batch_size}, {shuffle}; resume with the original data and settings.")
        if self.step * batch_size >= num_samples:
            raise ValueError(f"This checkpoint is at step {self.step} of an epoch that has only "
                             f"{-(-num_samples // batch_size)} steps; it is corrupt.")

    def to_json(self) -> str:
        state = asdict(self)
        state["epoch_rng_state"] = _encode(self.epoch_rng_state)
        state["rng_state"] = _encode(self.rng_state)
        state["layer_rng_states"] = _encode(self.layer_rng_states)
        return json.dumps(state)

    @classmethod
    def from_json(cls, text: str) -> "TrainState":
        """Parse and validate; raises ValueError (with the reason) on anything malformed."""
        raw = json.loads(text)
        if isinstance(raw, dict):
            raw.setdefault("callback_states", {})  # checkpoints written before callbacks kept state
        if not isinstance(raw, dict) or set(raw) != set(cls.__dataclass_fields__):
            raise ValueError("training state has missing or unknown fields")
        _check_counters(raw)
        if type(raw["shuffle"]) is not bool:
            raise ValueError("training state `shuffle` must be true or false")
        if not isinstance(raw["records"], list) or not all(_is_record(r) for r in raw["records"]):
            raise ValueError("training state records must be a list of flat {name: number} objects")
        # One record per finished epoch, in order: resume rewrites metrics.csv from them, epoch by epoch. The
        # count is checked against the records the file holds before anything is built from it: a re-signed
        # file claiming 10**9 epochs must not make a list of 10**9 numbers (issue 26.1).
        records = raw["records"]
        if len(records) != raw["epoch"] or any(r.get("epoch") != i for i, r in enumerate(records, start=1)):
            raise ValueError(f"training state has {len(records)} epoch records for {raw['epoch']} finished "
                             "epochs; each finished epoch needs its record, numbered 1, 2, ...")
        if not isinstance(raw["callback_states"], dict) or not all(
                k.isdigit() and isinstance(v, dict) for k, v in raw["callback_states"].items()):
            raise ValueError("training state `callback_states` must map callback indices to objects")
        raw["epoch_rng_state"] = _decode_rng(raw["epoch_rng_state"])
        raw["rng_state"] = _decode_rng(raw["rng_state"])
        if not isinstance(raw["layer_rng_states"], dict) or not all(k.isdigit() for k in raw["layer_rng_states"]):
            raise ValueError("training state `layer_rng_states` must map layer indices to generator states")
        raw["layer_rng_states"] = {k: _decode_rng(v) for k, v in raw["layer_rng_states"].items()}
        return cls(**raw)


def _check_counters(raw: dict) -> None:
    """The state's counters and running sums: integers and finite numbers, the step inside its epoch."""
    ints = ("epoch", "step", "global_step", "num_samples", "batch_size")
    if not all(type(raw[k]) is int and 0 <= raw[k] < 2**53 for k in ints):
        raise ValueError("training state counters must be non-negative integers")
    if raw["correct"] is not None and not (type(raw["correct"]) is int and raw["correct"] >= 0):
        raise ValueError("training state `correct` must be a non-negative integer or null")
    for key in ("loss_sum", "seconds"):
        if type(raw[key]) not in (int, float) or not math.isfinite(raw[key]):
            raise ValueError(f"training state `{key}` must be a finite number")
    if raw["batch_size"] < 1 or raw["step"] * raw["batch_size"] >= max(raw["num_samples"], 1):
        raise ValueError("training state step lies past the end of its epoch")


def layer_generators(model) -> dict[str, np.random.Generator]:
    """The Generators that layers own (Dropout's mask), by layer index: part of a run's random state."""
    return {str(i): layer.rng for i, layer in enumerate(getattr(model, "layers", []))
            if isinstance(getattr(layer, "rng", None), np.random.Generator)}


def make_generator(state: dict) -> np.random.Generator:
    """A Generator of the saved kind, set to the saved state."""
    gen = np.random.Generator(BIT_GENERATORS[state["bit_generator"]]())
    gen.bit_generator.state = state
    return gen


def _is_record(record) -> bool:
    return isinstance(record, dict) and all(
        isinstance(k, str) and (v is None or type(v) in (int, float, str, bool)) for k, v in record.items())


def _encode(value):
    """Ints as decimal strings: JSON readers elsewhere (JavaScript, jq) would round 128-bit ints."""
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_encode(v) for v in value]
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    return value


def _decode(value):
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, str) and _INT.fullmatch(value):
        return int(value)
    return value


def _decode_rng(raw) -> dict:
    if not isinstance(raw, dict) or raw.get("bit_generator") not in BIT_GENERATORS:
        raise ValueError(f"unsupported random generator; numpynn saves {', '.join(BIT_GENERATORS)}")
    state = _decode(raw)
    try:  # the bit generator validates its own state; a throwaway one keeps a bad state from going further
        make_generator(state)
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"invalid random generator state ({exc})") from None
    return state
