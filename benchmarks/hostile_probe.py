"""Hostile-input probe for issue 26: run each bad input through the real `numpynn` command and judge the outcome.

    python benchmarks/hostile_probe.py [--keep] [--root CHECKOUT] | tee benchmarks/results/hostile_probe.txt

A case is handled well when the command ends (no hang) with the expected exit code, a refusal is one line
`numpynn: error: ...` (no traceback, no raw "[Errno N]", no "(no file)"), and nothing was lost (the case's own
check: a file kept whole, a run still resumable). Every command runs under a 3 GiB address-space cap and a time
limit, so "asks for all memory" and "waits forever" show as failures instead of taking the machine down.
Prints one line per case and the total; benchmarks/results/hostile_probe.txt keeps a recorded run.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

CAP = 3 * 1024**3
ROOT = Path(__file__).resolve().parents[1]
if "--root" in sys.argv:  # another checkout (e.g. 0.2.0's) to probe: --root PATH
    ROOT = Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
OK, BAD = [], []


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def numpynn(work, *argv, timeout=60, code=None):
    """(exit code, stdout, stderr) of `python -m numpynn ARGV` (or of python -c CODE with ARGV) in `work`."""
    cmd = [sys.executable, "-c", code, *map(str, argv)] if code else [sys.executable, "-m", "numpynn", *map(str, argv)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NUMPYNN_THREADS": "1"}
    try:
        done = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout, env=env,
                              preexec_fn=limit_memory, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "", f"hung for more than {timeout} s"
    return done.returncode, done.stdout, done.stderr


def judge(name, result, expect, check=None, needle=None):
    """Record one case: right exit code, one clear line on failure, the case's own check."""
    rc, out, err = result
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("numpynn: note:")]
    problem = None
    if rc is None:
        problem = err
    elif "Traceback" in err or "[Errno" in err or "(no file)" in err:
        problem = f"raw error text: {err.strip().splitlines()[-1][:160]}"
    elif rc != expect:
        problem = f"exit {rc}, expected {expect}: {(err.strip() or out.strip())[-160:]}"
    elif expect != 0 and (len(lines) != 1 or not lines[0].startswith("numpynn: error: ")):
        problem = f"not one sentence: {err.strip()[:160]!r}"
    elif needle and needle not in err + out:
        problem = f"does not say {needle!r}: {(err.strip() or out.strip())[-160:]}"
    elif check:
        problem = check()
    (BAD if problem else OK).append(name)
    first = (lines[0] if lines else out.strip().splitlines()[-1] if out.strip() else "")[:110]
    print(f"{'ok ' if not problem else 'BAD'}  {name:<52} {problem or first}", flush=True)


def setup(work: Path):
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (60, 28, 28), dtype=np.uint8), np.arange(60) % 3
    np.savez(work / "tiny.npz", x=x, y=y, x_test=x[:20], y_test=y[:20])
    rgb = rng.integers(0, 256, (60, 8, 8, 3), dtype=np.uint8)
    np.savez(work / "rgb_last.npz", x=rgb, y=y, x_test=rgb[:20], y_test=y[:20])
    np.savez(work / "cube.npz", x=rng.integers(0, 256, (60, 9, 9, 9), dtype=np.uint8), y=y)
    rc, _, err = numpynn(work, "train", "--dataset", "tiny.npz", "--epochs", "2", "--name", "base", "--no-plots",
                         "--quiet")
    assert rc == 0, err
    (work / "afile").write_text("a file")
    (work / "some_folder.onnx").mkdir()
    (work / "folder.toml").mkdir()
    (work / "folder.npz").mkdir()
    os.mkfifo(work / "pipe.toml")
    os.mkfifo(work / "pipe.npz")


def resigned(work, name, epochs):
    """A copy of the base run, interrupted (no model.safetensors), whose checkpoint claims `epochs` finished epochs,
    with a valid checksum: what anyone can craft."""
    sys.path.insert(0, str(ROOT / "src"))
    from numpynn.io.checkpoint import read_checkpoint
    from numpynn.io.container import encode
    run = work / "runs" / name
    run.mkdir(parents=True)
    for f in ("config.json", "metrics.csv", "checkpoint.safetensors"):
        (run / f).write_bytes((work / "runs/base" / f).read_bytes())
    tensors, meta = read_checkpoint(run / "checkpoint.safetensors")
    state = json.loads(meta["train_state"])
    state["epoch"] = epochs
    meta["train_state"] = json.dumps(state)
    (run / "checkpoint.safetensors").write_bytes(encode(tensors, meta))
    return run


def deep_files(work):
    cases = {"arrays": "hidden = " + "[" * 3000 + "]" * 3000,
             "inline tables": "lr = " + "{a = " * 1500 + "1" + "}" * 1500,
             "dotted keys": "a." + ".".join(["b"] * 2000) + " = 1",
             "headers": "[" + ".".join(["t"] * 400) + "]\nx = 1"}
    for name, text in cases.items():
        (work / f"deep {name}.toml").write_text(text)
    return cases


def probe_files(work):
    for what, flag in (("config", "--config"), ("dataset", "--dataset")):
        ext = "toml" if what == "config" else "npz"
        for kind, path, say in ((f"folder.{ext}", work / f"folder.{ext}", "is a folder"),
                                (f"pipe.{ext}", work / f"pipe.{ext}", "named pipe"),
                                ("/dev/zero", "/dev/zero", "character device")):
            judge(f"11 train {flag} {kind}", numpynn(work, "train", flag, path, "--no-plots", timeout=30), 2,
                  needle=say)
    os.mkfifo(work / "pipe.safetensors")
    (work / "runs/fiforun").mkdir(parents=True)
    os.mkfifo(work / "runs/fiforun/metrics.csv")
    judge("11 info of a FIFO as the model", numpynn(work, "info", "pipe.safetensors", timeout=30), 2,
          needle="named pipe")
    judge("11 plot of a run whose metrics.csv is a FIFO", numpynn(work, "plot", "runs/fiforun", timeout=30), 2,
          needle="named pipe")
    judge("11 train --config afile/x.toml (through a file)", numpynn(work, "train", "--config", "afile/x.toml"), 2,
          needle="does not exist")
    judge("11 evaluate --dataset pipe.npz", numpynn(work, "evaluate", "runs/base", "--dataset", "pipe.npz",
                                                     "--no-plots", timeout=30), 2, needle="named pipe")
    judge("12 train --out afile/x", numpynn(work, "train", "--dataset", "tiny.npz", "--out", "afile/x",
                                             "--epochs", "1", "--no-plots", "--quiet"), 2, needle="afile")
    judge("12 export -o some_folder.onnx", numpynn(work, "export", "runs/base", "-o", "some_folder.onnx"), 2,
          needle="some_folder.onnx")
    judge("12 train --out runs --name afile-under", numpynn(work, "train", "--dataset", "tiny.npz", "--out",
                                                             "afile", "--name", "x", "--epochs", "1", "--quiet",
                                                             "--no-plots"), 2, needle="afile")


def probe_text(work):
    for name in deep_files(work):
        judge(f"7 train --config deep {name}", numpynn(work, "train", "--config", f"deep {name}.toml"), 2,
              needle="levels deep")
        judge(f"7 sweep --config deep {name}", numpynn(work, "sweep", "--config", f"deep {name}.toml"), 2,
              needle="levels deep")
    run = resigned(work, "deepjson", 2)
    (run / "config.json").write_text("[" * 100000 + "]" * 100000)
    judge("7 train --resume with a deep config.json", numpynn(work, "train", "--resume", run), 2,
          needle="levels deep")
    (work / "bom.toml").write_text('dataset = "tiny.npz"\nepochs = 1\nplots = false\nquiet = true\n',
                                   encoding="utf-8-sig")
    judge("14 train --config with a UTF-8 BOM", numpynn(work, "train", "--config", "bom.toml", "--name", "bom"), 0,
          check=lambda: None if (work / "runs/bom/model.safetensors").exists() else "no model written")
    (work / "bom-sweep.toml").write_text('[data]\ndataset = "tiny.npz"\nval_split = 0.2\n[optim]\nepochs = 1\n'
                                         '[search]\nlr = [0.1, 0.2]\n', encoding="utf-8-sig")
    rc, out, err = numpynn(work, "sweep", "--config", "bom-sweep.toml", "--trials", "1", "--out", "sweeps/bom",
                           timeout=120)
    judge("14 sweep --config with a UTF-8 BOM", (rc, out, err), 0 if "Invalid statement" not in err else -1)


def probe_checkpoints(work):
    for epochs in (10**9, 2**53 - 1):
        run = resigned(work, f"epochs{epochs}", epochs)
        ckpt = run / "checkpoint.safetensors"
        for command in (["info", ckpt], ["evaluate", ckpt, "--no-plots"], ["train", "--resume", run]):
            judge(f"1 {command[0]} of a checkpoint claiming {epochs:.0e} epochs", numpynn(work, *command), 2,
                  needle="corrupt")


def probe_data(work):
    judge("8 (N,8,8,3) channels-last images train a CNN", numpynn(
        work, "train", "--dataset", "rgb_last.npz", "--conv", "2", "--pool", "1", "--hidden", "", "--epochs", "1",
        "--name", "rgb", "--no-plots"), 0, needle="3x8x8")
    judge("8 (N,9,9,9) images refused naming the shape", numpynn(
        work, "train", "--dataset", "cube.npz", "--val-split", "0.2", "--conv", "2", "--epochs", "1",
        "--no-plots"), 2, needle="(60, 9, 9, 9)")


def probe_export(work):
    for opset in ("99", "16", "0", "-3", "29"):
        judge(f"9 export --opset {opset}", numpynn(work, "export", "runs/base", "-o", f"o{opset}.onnx", "--opset",
                                                    opset), 2,
              check=lambda o=opset: None if not (work / f"o{o}.onnx").exists() else "a file was written")


def probe_serve(work):
    judge("10 serve --host that does not resolve", numpynn(work, "serve", "runs/base", "--host",
                                                            "no-such-host.invalid", timeout=30), 2, needle="host")
    judge("10 serve --host with a space", numpynn(work, "serve", "runs/base", "--host", "not a host", timeout=30), 2,
          needle="host")
    code = ("import sys, threading, time, urllib.request, signal, os\n"
            "from numpynn_launcher import main\n"
            "def poke():\n"
            "    for _ in range(100):\n"
            "        time.sleep(0.2)\n"
            "        try:\n"
            "            urllib.request.urlopen('http://127.0.0.1:8765/api/model', timeout=2).read(); print('SERVED')\n"
            "            break\n"
            "        except OSError: pass\n"
            "    os.kill(os.getpid(), signal.SIGINT)\n"
            "threading.Thread(target=poke, daemon=True).start()\n"
            "sys.exit(main(sys.argv[1:]))\n")
    rc, out, err = numpynn(work, "serve", "runs/base", "--host", "0.0.0.0", "--port", "8765", code=code, timeout=60)
    judge("also serve --host 0.0.0.0 answers on 127.0.0.1", (0 if "SERVED" in out else rc, out, err), 0,
          needle="SERVED")


def probe_plot(work):
    cases = {"empty": "", "binary": "\x00\xff garbage", "header only": "epoch,train_loss\n",
             "nan and huge": "epoch,train_loss,test_accuracy\n1,nan,1e308\n2,inf,-1e308\n",
             "ragged": "epoch,train_loss\n1,0.5,9,9\n2\n", "text values": "epoch,train_loss\none,two\n"}
    for name, text in cases.items():
        run = work / "runs" / f"plot-{name.replace(' ', '-')}"
        run.mkdir(parents=True)
        (run / "metrics.csv").write_text(text, errors="surrogateescape")
        rc, out, err = numpynn(work, "plot", run)
        judge(f"also plot on a metrics.csv: {name}", (rc, out, err), 0 if rc == 0 else 2)


def probe_disk_and_storage(work):
    code = ("import errno, os, sys\n"
            "from numpynn_launcher import main\n"
            "real = os.write\n"
            "def full(fd, data):\n"
            "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
            "os.write = full\n"
            "os.fsync = lambda fd: full(fd, b'')\n"
            "sys.exit(main(sys.argv[1:]))\n")
    (work / "plain-sweep.toml").write_text('[data]\ndataset = "tiny.npz"\nval_split = 0.2\n[optim]\nepochs = 1\n'
                                           '[search]\nlr = [0.1, 0.2]\n')
    run = resigned(work, "fulldisk", 2)
    judge("13 full disk during --resume names the file", numpynn(work, "train", "--resume", run, code=code), 1,
          needle=str(Path("runs/fulldisk")))
    judge("also sweep --storage mysql:// without its driver", numpynn(
        work, "sweep", "--config", "plain-sweep.toml", "--storage", "mysql://u:secret@127.0.0.1/db", "--trials", "1",
        "--out", "sweeps/mysql", timeout=60), 2, check=lambda: None)


def probe_writers(work):
    code = ("import sys\nfrom numpynn.io.atomic import atomic_write_bytes\nbad = 0\n"
            "for i in range(200):\n"
            "    try:\n        atomic_write_bytes(sys.argv[1], sys.argv[2].encode() * 4096)\n"
            "    except OSError:\n        bad += 1\n"
            "print(bad)\nsys.exit(1 if bad else 0)\n")
    results = [None] * 3
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, numpynn(work, "shared.json", "abc"[i],
                                                                                    code=code)))
               for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = sum(int(r[1].strip() or 200) for r in results)
    judge("2 three processes writing one file, 200 writes each", (0 if not failed else 1, "", f"{failed} failed"), 0,
          check=lambda: None if len(set((work / "shared.json").read_text())) == 1 else "a mixed file")


def main():
    keep = "--keep" in sys.argv
    work = Path(tempfile.mkdtemp(prefix="hostile-"))
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"hostile probe of {ROOT} at {commit}, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    setup(work)
    for probe in (probe_checkpoints, probe_writers, probe_text, probe_data, probe_export, probe_serve, probe_files,
                  probe_plot, probe_disk_and_storage):
        probe(work)
    total = len(OK) + len(BAD)
    print(f"\n{len(OK)} of {total} hostile cases handled well (one sentence, right exit code, nothing lost)"
          + (f"; badly: {', '.join(BAD)}" if BAD else "."))
    if keep:
        print(f"work folder kept: {work}")
    return 0 if not BAD else 1


if __name__ == "__main__":
    sys.exit(main())
