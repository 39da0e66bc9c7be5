"""Fuzzing the checkpoint loader (hypothesis): whatever the bytes, only CheckpointError may escape.

Three generators: random damage to a real file; random JSON headers; and crafted files with a *valid* checksum
but random architectures, tensors and training states, which reach the semantic checks behind the checksum.
Cases that once broke the loader live in tests/fuzz_corpus/checkpoint/ and are replayed on every run.
Longer campaigns: NUMPYNN_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz_checkpoint.py
"""

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numpynn as nn
from numpynn.errors import CheckpointError
from numpynn.io.checkpoint import load_training_checkpoint, read_checkpoint, save_training_checkpoint
from numpynn.io.container import encode

CORPUS = Path(__file__).parent / "fuzz_corpus" / "checkpoint"
# The default run is derandomized (the same examples every time, so CI is stable); a campaign explores anew.
CAMPAIGN = "NUMPYNN_FUZZ_EXAMPLES" in os.environ
FUZZ = settings(max_examples=int(os.environ.get("NUMPYNN_FUZZ_EXAMPLES", 150)), deadline=None,
                derandomize=not CAMPAIGN, database=None if not CAMPAIGN else settings.default.database,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A real model file and a real training checkpoint (bytes), and a scratch path to write variants to."""
    folder = tmp_path_factory.mktemp("fuzz")
    model = nn.mlp([3, 4, 2], seed=0)
    opt = nn.SGD(model, lr=0.1, momentum=0.9)
    states = []
    x = np.random.default_rng(0).standard_normal((8, 3))
    nn.fit(model, nn.CrossEntropyLoss(), opt, x, np.arange(8) % 2, batch_size=4, verbose=0, on_checkpoint=states.append)
    model_bytes = nn.save_model(folder / "m.safetensors", model).read_bytes()
    train_bytes = save_training_checkpoint(folder / "t.safetensors", model, opt, states[-1]).read_bytes()
    return {"model": model_bytes, "training": train_bytes, "scratch": folder / "x.safetensors"}


def _load_all_ways(path: Path, data: bytes) -> None:
    """Every public reader on these bytes: success is fine, CheckpointError is fine, nothing else is."""
    path.write_bytes(data)
    for load in (nn.load_model, read_checkpoint, _resume):
        try:
            load(path)
        except CheckpointError as exc:
            assert str(path) in str(exc) or "Tensor" in str(exc) or "Optimizer" in str(exc)


def _resume(path):
    model = nn.mlp([3, 4, 2], seed=1)
    return load_training_checkpoint(path, model, nn.SGD(model, lr=0.1, momentum=0.9))


# --- random damage to real files -------------------------------------------------------------------------

damage = st.lists(st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 7)),
    st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 64)),
), min_size=1, max_size=4)


def _apply(data: bytes, ops) -> bytes:
    data = bytearray(data)
    for op, pos, arg in ops:
        pos = pos % (len(data) + 1)
        if op == "flip" and pos < len(data):
            data[pos] ^= 1 << arg
        elif op == "set" and pos < len(data):
            data[pos] = arg
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = arg
        elif op == "delete":
            del data[pos:pos + arg]
    return bytes(data)


@FUZZ
@given(kind=st.sampled_from(["model", "training"]), ops=damage)
def test_damaged_files_are_refused_or_unchanged(files, kind, ops):
    data = _apply(files[kind], ops)
    if data != files[kind]:
        with pytest.raises(CheckpointError):
            nn.load_model(_write(files["scratch"], data))
    _load_all_ways(files["scratch"], data)


def _write(path, data):
    path.write_bytes(data)
    return path


# --- random headers --------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
tensor_info = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F64", "I64", "F16", "U8", "BOOL", "", None]),
    "shape": st.lists(st.integers(-1, 2**40), max_size=3) | json_values,
    "data_offsets": st.lists(st.integers(-8, 64), min_size=0, max_size=3) | json_values,
})
headers = st.dictionaries(st.sampled_from(["0.weight", "0.bias", "2.weight", "optimizer.lr", "x"]),
                          tensor_info | json_values, max_size=4)
metadata = st.dictionaries(st.sampled_from(["format", "format_version", "architecture", "checksum", "kind"]),
                           st.sampled_from(["numpynn", "1", "[]", "model", "training"]) | st.text(max_size=10),
                           max_size=5) | json_values


@FUZZ
@given(header=headers, meta=metadata, body=st.binary(max_size=96), lie=st.integers(-16, 16))
def test_random_headers_are_refused(files, header, meta, body, lie):
    raw = json.dumps({"__metadata__": meta, **header}).encode()
    data = struct.pack("<Q", max(0, len(raw) + lie)) + raw + body
    _load_all_ways(files["scratch"], data)


# --- crafted files with a valid checksum ----------------------------------------------------------------

widths = st.integers(-1, 5) | st.integers(2**15, 2**26)
layer_specs = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(nn.LAYERS) + ["Lambda", "eval"])},
    # Widths up to 2**26 as well as tiny ones: a header declaring Linear(40000, 40000) beside 2x2 tensors must be
    # refused before 6.4 GB are allocated (issue 21, item 9).
    optional={"in_features": widths | json_values, "out_features": widths | json_values,
              "in_channels": widths, "out_channels": widths, "kernel_size": st.integers(-1, 5) | widths,
              "bias": st.booleans() | json_values, "negative_slope": st.floats(), "p": st.floats(),
              "num_features": st.integers(-1, 2**40), "approximate": st.text(max_size=5), "dim": st.integers(-3, 3),
              "rng": json_values, "init": st.sampled_from(["he", "normal", "evil"])})
arrays = st.builds(lambda shape, dtype, fill: np.full(shape, fill, dtype),
                   st.lists(st.integers(0, 5), max_size=2), st.sampled_from([np.float32, np.float64, np.int64]),
                   st.sampled_from([0, 1, -1, 2**31]))


@FUZZ
@given(base=st.sampled_from(["model", "training"]),
       architecture=st.lists(layer_specs, max_size=4) | json_values,
       extra=st.dictionaries(st.sampled_from(["0.weight", "0.bias", "2.weight", "2.bias", "optimizer.lr",
                                              "optimizer.step_count", "optimizer.0.weight.momentum_buffer", "z"]),
                             arrays, max_size=3),
       drop=st.lists(st.sampled_from(["0.weight", "2.bias", "optimizer.lr"]), max_size=2),
       changes=st.dictionaries(st.sampled_from(["dtype", "extra_tensors", "kind", "optimizer", "scheduler",
                                                "train_state", "format_version"]),
                               st.text(max_size=12) | json_values.map(json.dumps), max_size=3))
def test_crafted_files_with_a_valid_checksum_are_refused_or_consistent(files, base, architecture, extra, drop,
                                                                        changes):
    path = _write(files["scratch"], files[base])
    tensors, meta = read_checkpoint(path)
    if architecture:
        meta["architecture"] = json.dumps(architecture)
    for name in drop:
        tensors.pop(name, None)
    tensors.update(extra)
    meta.update(changes)
    _load_all_ways(path, encode(tensors, meta))


@FUZZ
@given(state=st.dictionaries(st.sampled_from(["epoch", "step", "global_step", "epoch_rng_state", "rng_state",
                                              "loss_sum", "correct", "seconds", "num_samples", "batch_size",
                                              "shuffle", "layer_rng_states", "records"]), json_values),
       keep=st.booleans())
def test_crafted_training_states_are_refused_or_valid(files, state, keep):
    path = _write(files["scratch"], files["training"])
    tensors, meta = read_checkpoint(path)
    if keep:  # start from the real state and change some fields, so later fields get checked too
        state = {**json.loads(meta["train_state"]), **state}
    meta["train_state"] = json.dumps(state)
    _load_all_ways(path, encode(tensors, meta))


# --- the corpus: every case that once escaped, replayed ----------------------------------------------------

@pytest.mark.parametrize("case", sorted(p.name for p in CORPUS.iterdir()), ids=str)
def test_corpus_case_is_refused(files, case):
    """read_checkpoint checks the container only; the loaders that interpret it must refuse every case."""
    path = _write(files["scratch"], (CORPUS / case).read_bytes())
    for load in (nn.load_model, _resume):
        with pytest.raises(CheckpointError):
            load(path)
    _load_all_ways(path, path.read_bytes())
