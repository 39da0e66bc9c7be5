"""Ctrl-C in the second epoch, then `--resume`: the CLI test modules' shared run (test_cli_cnn, test_cli_sequence)."""

import os
import signal
import subprocess
import sys

from numpynn.io.checkpoint import read_checkpoint

ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def _train(*args, cwd):
    return subprocess.run([sys.executable, "-m", "numpynn", "train", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=300)


def interrupt_and_resume(tmp_path, flags: list[str]) -> tuple[dict, dict]:
    """Train `flags` (two epochs) once unbroken ("ref") and once stopped by a real SIGINT in epoch 2 and resumed
    ("cut"); checks each step's exit code and returns both final models' tensors."""
    ref = _train(*flags, "--name", "ref", "--quiet", cwd=tmp_path)
    assert ref.returncode == 0, ref.stderr
    cut = subprocess.Popen([sys.executable, "-m", "numpynn", "train", *flags, "--name", "cut"], cwd=tmp_path,
                           env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while not cut.stdout.readline().startswith("Epoch 1/2"):  # epoch 1 is done: now in epoch 2
            assert cut.poll() is None, cut.stderr.read()
        cut.send_signal(signal.SIGINT)
        _, err = cut.communicate(timeout=120)
    finally:
        cut.kill()
    assert cut.returncode == 130, err
    resumed = _train("--resume", "runs/cut", "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    a, _ = read_checkpoint(tmp_path / "runs" / "ref" / "model.safetensors")
    b, _ = read_checkpoint(tmp_path / "runs" / "cut" / "model.safetensors")
    return a, b
