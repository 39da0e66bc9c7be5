"""Resume: a run stopped at any step (by a flag, or by a real SIGINT/SIGTERM to a subprocess) and continued from
its checkpoint ends bit-identical to the run that was never stopped: weights, optimizer, metrics."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import numpynn as nn
from numpynn.io.checkpoint import load_training_checkpoint, read_checkpoint, save_training_checkpoint

# Shared by the test process and the subprocesses: data, a model with every source of state a resume must
# restore (momentum, lr schedule, Dropout's own Generator, a transform drawing from fit's Generator).
COMMON = """
import numpy as np
import numpynn as nn

def data():
    rng = np.random.default_rng(42)
    x = rng.standard_normal((90, 8)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)

def build():
    model = nn.Sequential(nn.Linear(8, 16, rng=1), nn.ReLU(), nn.Dropout(0.25, rng=2), nn.Linear(16, 3, rng=3))
    opt = nn.SGD(model, lr=0.2, momentum=0.9)
    return model, opt, nn.StepLR(opt, step_size=1, gamma=0.7)

def jitter(xb, rng):
    return xb + rng.standard_normal(xb.shape).astype(xb.dtype) * 0.05

FIT = dict(epochs=3, batch_size=20, seed=7, transform=jitter, verbose=0)  # 5 steps per epoch, the last one short
"""
exec(COMMON)  # noqa: S102 (our own constant: the same definitions in both processes)
STEPS = FIT["epochs"] * 5


def _train(should_stop=None, on_checkpoint=None, state=None, parts=None):
    x, y = data()
    model, opt, sched = parts or build()
    history = nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, scheduler=sched, validation_data=(x[:30], y[:30]),
                     should_stop=should_stop, on_checkpoint=on_checkpoint, state=state, **FIT)
    return model, opt, history


def _records(history):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in history.records]


@pytest.fixture(scope="module")
def reference():
    model, opt, history = _train()
    return model.state_dict(), opt.state_dict(), _records(history)


def _assert_same(model, opt, history, reference):
    weights, opt_state, records = reference
    assert model.state_dict().keys() == weights.keys()
    for name, value in model.state_dict().items():
        assert value.dtype == weights[name].dtype and np.array_equal(value, weights[name]), name
    assert all(np.array_equal(opt.state_dict()[k], v) for k, v in opt_state.items())
    assert _records(history) == records


def _stop_after(n_polls):
    polls = []
    return lambda: polls.append(1) or len(polls) > n_polls


@pytest.mark.parametrize("stop_at", range(STEPS))
def test_stopped_at_any_step_and_resumed_is_bit_identical(tmp_path, reference, stop_at):
    path = tmp_path / "checkpoint.safetensors"
    parts = build()
    save = lambda state: save_training_checkpoint(path, parts[0], parts[1], state, parts[2])  # noqa: E731
    with pytest.raises(nn.TrainingInterrupted) as info:
        _train(_stop_after(stop_at), save, parts=parts)
    assert (info.value.state.epoch * 5 + info.value.state.step) == stop_at
    fresh = build()
    state, _ = load_training_checkpoint(path, *fresh)
    model, opt, history = _train(state=state, parts=fresh)
    _assert_same(model, opt, history, reference)


def test_stopped_twice_and_resumed_twice(tmp_path, reference):
    path = tmp_path / "checkpoint.safetensors"

    def run_until(n_polls, resume):
        parts = build()
        state = load_training_checkpoint(path, *parts)[0] if resume else None
        save = lambda s: save_training_checkpoint(path, parts[0], parts[1], s, parts[2])  # noqa: E731
        with pytest.raises(nn.TrainingInterrupted):
            _train(_stop_after(n_polls), save, state=state, parts=parts)

    run_until(3, resume=False)
    run_until(4, resume=True)  # polls count from the resumed step: stops at global step 7
    parts = build()
    state, _ = load_training_checkpoint(path, *parts)
    assert state.epoch * 5 + state.step == 7
    _assert_same(*_train(state=state, parts=parts), reference)


def test_resume_refuses_other_data_or_batches(tmp_path):
    states = []
    _train(on_checkpoint=states.append)
    x, y = data()
    model, opt, _ = build()
    with pytest.raises(ValueError, match="resume with the original data and settings"):
        nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, epochs=5, batch_size=10, state=states[0], verbose=0)


def test_a_finished_run_resumed_does_nothing_more(reference):
    states = []
    _train(on_checkpoint=states.append)
    parts = build()
    model, opt, history = _train(state=states[-1], parts=parts)
    assert _records(history) == reference[2]
    assert all(np.array_equal(p, parts[0].state_dict()[k]) for k, p in model.state_dict().items())


# --- StopRequest: real signals ---------------------------------------------------------------------------

def test_stop_request_turns_signals_into_a_flag_and_restores_handlers():
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with nn.StopRequest() as stop:
        assert not stop()
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop() and stop.name == "SIGTERM"
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_a_second_ctrl_c_raises_at_once():
    with nn.StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.name == "SIGINT"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)


CHILD = COMMON + """
import json, sys, time
from numpynn.io.checkpoint import load_training_checkpoint, save_training_checkpoint
ckpt, out, mode = sys.argv[1:4]
x, y = data()
model, opt, sched = build()
state = load_training_checkpoint(ckpt, model, opt, sched)[0] if mode == "resume" else None

class Slow(nn.Callback):  # sleeping does not change any number, it only gives the signal time to land
    def on_batch_end(self, step, loss):
        time.sleep(0.02 if mode == "interrupt" else 0)

def save(s):
    save_training_checkpoint(ckpt, model, opt, s, sched)
    print("checkpoint", s.epoch, s.step, flush=True)

with nn.StopRequest() as stop:
    try:
        h = nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, scheduler=sched, validation_data=(x[:30], y[:30]),
                   callbacks=[Slow()], should_stop=stop, on_checkpoint=save, state=state, **FIT)
    except nn.TrainingInterrupted as exc:
        print(f"stopped by {stop.name} at epoch {exc.state.epoch + 1}, step {exc.state.step}", flush=True)
        sys.exit(130)
records = [{k: v for k, v in r.items() if k != "seconds"} for r in h.records]
nn.save_model(out, model, metadata={"records": records})
"""
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _child(tmp_path, mode, name):
    args = [sys.executable, "-c", CHILD, str(tmp_path / "checkpoint.safetensors"), str(tmp_path / name), mode]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_real_signal_to_a_training_process_then_resume_is_bit_identical(tmp_path, sig):
    # Reference and resumed runs both in subprocesses with the same BLAS settings, so rounding is the same.
    ref = _child(tmp_path, "reference", "reference.safetensors")
    (tmp_path / "run").mkdir()
    proc = _child(tmp_path / "run", "interrupt", "unused.safetensors")
    try:
        assert proc.stdout.readline().split()[:2] == ["checkpoint", "1"]  # epoch 1 done
        time.sleep(0.05)  # a few 20 ms steps into epoch 2: the signal lands mid-epoch
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert f"stopped by {signal.Signals(sig).name}" in out
    resumed = _child(tmp_path / "run", "resume", "final.safetensors")
    assert resumed.wait(60) == 0 and ref.wait(60) == 0, resumed.stderr.read() + ref.stderr.read()
    for p in (ref, resumed):
        p.stdout.close(), p.stderr.close()
    a, meta_a = read_checkpoint(tmp_path / "reference.safetensors")
    b, meta_b = read_checkpoint(tmp_path / "run" / "final.safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert json.loads(meta_a["records"]) == json.loads(meta_b["records"]) and len(json.loads(meta_a["records"])) == 3


# --- the command line: Ctrl-C, then `numpynn train --resume` -----------------------------------------------

def _numpynn(*args, cwd, **kw):
    return subprocess.Popen([sys.executable, "-m", "numpynn", "train", *args], cwd=cwd, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_cli_ctrl_c_then_resume_ends_bit_identical(tmp_path):
    rng = np.random.default_rng(0)  # 3,000 random "images": each epoch takes long enough to be interrupted in
    x = rng.integers(0, 256, (3000, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x=x, y=(x[:, 14, 14] > 127).astype(np.uint8), x_test=x[:200],
             y_test=(x[:200, 14, 14] > 127).astype(np.uint8))
    flags = ["--dataset", "d.npz", "--epochs", "3", "--batch-size", "16", "--no-plots", "--momentum", "0.9",
             "--lr-schedule", "cosine"]
    ref = _numpynn(*flags, "--name", "ref", "--quiet", cwd=tmp_path)
    cut = _numpynn(*flags, "--name", "cut", cwd=tmp_path)
    try:
        while not cut.stdout.readline().startswith("Epoch 1/3"):  # epoch 1 is done: now in epoch 2
            assert cut.poll() is None, cut.stderr.read()
        cut.send_signal(signal.SIGINT)
        _, err = cut.communicate(timeout=60)
    finally:
        cut.kill()
    assert cut.returncode == 130, err
    assert "Resume with: numpynn train --resume runs/cut" in err and "Traceback" not in err
    resumed = subprocess.run([sys.executable, "-m", "numpynn", "train", "--resume", "runs/cut", "--quiet"],
                             cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert ref.wait(120) == 0, ref.stderr.read()
    ref.stdout.close(), ref.stderr.close()
    a, _ = read_checkpoint(tmp_path / "runs" / "ref" / "model.safetensors")
    b, _ = read_checkpoint(tmp_path / "runs" / "cut" / "model.safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    strip = lambda p: [line.split(",")[:5] for line in p.read_text().splitlines()]  # noqa: E731 (no seconds)
    assert strip(tmp_path / "runs/ref/metrics.csv") == strip(tmp_path / "runs/cut/metrics.csv")
    assert len(strip(tmp_path / "runs/cut/metrics.csv")) == 4


def test_cli_resume_refuses_changed_settings_and_missing_checkpoints(tmp_path, monkeypatch, capsys):
    from numpynn.app import main
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "x").mkdir(parents=True)
    for extra, phrase in ((["--lr", "0.5"], "drop --lr"), ([], "has no checkpoint.safetensors")):
        assert main(["train", "--resume", "runs/x", *extra]) == 2
        assert phrase in capsys.readouterr().err


# --- callbacks that accumulate over an epoch resume too (issue 17.21) ---------------------------------------

def _tracked(should_stop=None, on_checkpoint=None, state=None, parts=None):
    x, y = data()
    model, opt, sched = parts or build()
    tracker = nn.GradientTracker(every=2)  # samples on even steps, ratios from the odd step's weights before
    history = nn.fit(model, nn.CrossEntropyLoss(), opt, x, y, scheduler=sched, callbacks=[tracker],
                     should_stop=should_stop, on_checkpoint=on_checkpoint, state=state, **FIT)
    return [{k: v for k, v in r.items() if k.startswith(("grad_norm", "update_ratio"))} for r in history.records]


@pytest.mark.parametrize("stop_at", range(1, STEPS))
def test_gradient_tracking_columns_of_an_interrupted_epoch_equal_an_unbroken_run(tmp_path, stop_at):
    unbroken = _tracked()
    path = tmp_path / "checkpoint.safetensors"
    parts = build()
    save = lambda state: save_training_checkpoint(path, parts[0], parts[1], state, parts[2])  # noqa: E731
    with pytest.raises(nn.TrainingInterrupted):
        _tracked(_stop_after(stop_at), save, parts=parts)
    parts = build()
    state = load_training_checkpoint(path, *parts)[0]
    assert _tracked(state=state, parts=parts) == unbroken  # exact: the epoch's sums travel in the checkpoint


def test_a_train_state_written_before_callback_states_still_loads():
    from numpynn.training.state import TrainState
    rng_state = np.random.default_rng(0).bit_generator.state
    raw = json.loads(TrainState(1, 0, 5, rng_state, rng_state, num_samples=90, batch_size=20,
                                records=[{"epoch": 1, "train_loss": 0.5}]).to_json())
    del raw["callback_states"]
    assert TrainState.from_json(json.dumps(raw)).callback_states == {}
    raw["callback_states"] = {"0": [1, 2]}
    with pytest.raises(ValueError, match="callback_states"):
        TrainState.from_json(json.dumps(raw))
