"""Write tests/fuzz_corpus/checkpoint/: files that broke (or would have broken) the checkpoint loader.

Each one is replayed by tests/test_fuzz_checkpoint.py and must be refused with a CheckpointError. Files are
kept as bytes, not regenerated per run, so a format change cannot quietly turn a case into a harmless one.
Run `python tests/fuzz_corpus/make_checkpoint_corpus.py` only to add a case.
"""

import io
import json
import pickle
import struct
from pathlib import Path

import numpy as np

import numpynn as nn
from numpynn.io.checkpoint import read_checkpoint, save_training_checkpoint
from numpynn.io.container import encode

OUT = Path(__file__).parent / "checkpoint"


class _Payload:
    """Harmless if ever unpickled (it only prints), but shaped like an attack: pickle would call a function."""

    def __reduce__(self):
        return print, ("numpynn corpus: a pickle payload ran; the loader must never unpickle",)


def _raw(header: dict, body: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def _base(tmp: Path):
    model = nn.mlp([3, 4, 2], seed=0)
    opt = nn.SGD(model, lr=0.1, momentum=0.9)
    states = []
    x = np.random.default_rng(0).standard_normal((8, 3))
    nn.fit(model, nn.CrossEntropyLoss(), opt, x, np.arange(8) % 2, batch_size=4, verbose=0, on_checkpoint=states.append)
    return read_checkpoint(save_training_checkpoint(tmp / "t.safetensors", model, opt, states[-1]))


def cases(tmp: Path) -> dict[str, bytes]:
    tensors, meta = _base(tmp)

    def crafted(tensor_changes=None, **meta_changes):  # a valid checksum: only the semantic checks can refuse it
        return encode({**tensors, **(tensor_changes or {})}, {**meta, **meta_changes})

    state = json.loads(meta["train_state"])
    npz = io.BytesIO()
    np.savez(npz, **{"0.weight": np.array([{"a": 1}], dtype=object)})
    return {
        # Found by hypothesis: a list inside extra_tensors reached set() and raised TypeError.
        "extra_tensors_nested_list.safetensors": crafted(extra_tensors="[[]]"),
        # Found in review: json raises RecursionError (not a ValueError) on deep nesting.
        "header_nested_5000.safetensors": struct.pack("<Q", 5000) + b"[" * 5000,
        "architecture_nested_5000.safetensors": crafted(architecture="[" * 5000 + "]" * 5000),
        # Python refuses ints over 4300 digits with a plain ValueError, which JSONDecodeError handlers miss.
        "header_int_5000_digits.safetensors": struct.pack("<Q", 5013) + b'{"a":[' + b"9" * 5000 + b"]}     ",
        # bool is an int in Python: shape [true, 2] must not pass as [1, 2].
        "shape_with_bool.safetensors": _raw({"__metadata__": {"format": "numpynn"},
                                             "a": {"dtype": "F32", "shape": [True, 2], "data_offsets": [0, 8]}},
                                            bytes(8)),
        "overlapping_offsets.safetensors": _raw({"__metadata__": {"format": "numpynn"},
                                                 "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}},
                                                bytes(16)),
        "huge_shape.safetensors": _raw({"__metadata__": {"format": "numpynn"},
                                        "a": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 16]}},
                                       bytes(16)),
        "header_is_a_list.safetensors": _raw([1, 2, 3]),  # type: ignore[arg-type]
        "metadata_not_strings.safetensors": _raw({"__metadata__": {"format": 1}}),
        # Would have allocated 4e18 bytes building Linear(1e9, 1e9) before looking at the tensors.
        "architecture_linear_1e9.safetensors": crafted(architecture=json.dumps(
            [{"type": "Linear", "in_features": 10**9, "out_features": 10**9, "bias": True}])),
        "architecture_batchnorm_2e40.safetensors": crafted(architecture=json.dumps(
            [{"type": "BatchNorm1d", "num_features": 2**40}])),
        "architecture_nan_slope.safetensors": crafted(architecture=json.dumps(
            [{"type": "Linear", "in_features": 3, "out_features": 4, "bias": True},
             {"type": "LeakyReLU", "negative_slope": float("nan")},
             {"type": "Linear", "in_features": 4, "out_features": 2, "bias": True}])),
        "optimizer_buffer_wrong_shape.safetensors": crafted(
            {"optimizer.0.weight.momentum_buffer": np.zeros((7, 7), np.float32)}),
        "optimizer_lr_negative.safetensors": crafted({"optimizer.lr": np.array(-0.1)}),
        "train_state_rng_80_digit_int.safetensors": crafted(train_state=json.dumps(
            {**state, "rng_state": {**state["rng_state"], "state": {"state": "9" * 81, "inc": "1"}}})),
        "train_state_step_past_epoch.safetensors": crafted(train_state=json.dumps({**state, "step": 10**6})),
        "pickle_payload.pkl": pickle.dumps(_Payload()),
        "npz_object_array.npz": npz.getvalue(),
    }


if __name__ == "__main__":
    import tempfile
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in cases(Path(tmp)).items():
            (OUT / name).write_bytes(data)
            print(f"{name}: {len(data)} bytes")
