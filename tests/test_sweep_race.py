"""The claim lock behind "exactly --trials finished trials", tested with two workers provably claiming at the
same moment (tests/race/sitecustomize.py holds each inside the claim until the other has reached it). With the
lock, one trial for --trials 1; with the lock made a no-op, the same race gives two: so this test can fail."""

import os
import subprocess
import sys
from pathlib import Path

import optuna
from test_sweep_postgres import postgres_url  # noqa: F401  (the fixture: a throwaway server)

from numpynn.app.runs.lock import RunLock
from numpynn.app.sweep.study import _journal_backend

RACE = Path(__file__).parent / "race"
SWEEP = """
subset = 120
val_split = 0.25
epochs = 1
batch_size = 32
[sweep]
sampler = "random"
pruner = "none"
[search]
lr = {low = 0.01, high = 1.0, log = true}
"""


def race_env(folder: Path, lock: bool) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "NUMPYNN_RACE_DIR": str(folder), "NUMPYNN_RACE_WORKERS": "2",
           "PYTHONPATH": os.pathsep.join([str(RACE), *filter(None, [os.environ.get("PYTHONPATH")])])}
    if not lock:
        env["NUMPYNN_RACE_NO_LOCK"] = "1"
    return env


def journal_race(tmp_path: Path, lock: bool):
    folder = tmp_path / "race"
    folder.mkdir()
    (tmp_path / "sweep.toml").write_text(SWEEP)
    env = {**race_env(folder, lock), "NUMPYNN_RACE_WORKERS_ONLY": "1"}
    done = subprocess.run([sys.executable, "-m", "numpynn", "sweep", "--config", "sweep.toml", "--trials", "1",
                           "--jobs", "2", "--out", "sw"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    storage = optuna.storages.JournalStorage(_journal_backend(optuna, str(tmp_path / "sw" / "study.journal")))
    return done, optuna.load_study(study_name="sw", storage=storage).get_trials(), folder


def asked(folder: Path) -> list[str]:
    return sorted(p.read_text() for p in folder.glob("asked-*"))


def test_two_workers_claiming_at_once_on_a_journal_ask_for_exactly_one_trial(tmp_path):
    done, trials, folder = journal_race(tmp_path, lock=True)
    assert done.returncode == 0, done.stderr
    assert len(list(folder.glob("at-lock-*"))) == 2  # both workers claimed...
    assert asked(folder) == ["2"]  # ...while one was inside the claim, and only that one asked
    assert len(trials) == 1 and trials[0].state.name == "COMPLETE"


def test_without_the_claim_lock_the_same_race_asks_for_two(tmp_path):
    """The negative control: the race above really happens, and only the lock prevents it."""
    done, trials, folder = journal_race(tmp_path, lock=False)
    assert asked(folder) == ["2", "2"]
    assert len(trials) == 2, done.stderr


def pg_race(tmp_path: Path, url: str, study: str, lock: bool):
    folder = tmp_path / f"race-{study}"
    folder.mkdir()
    (tmp_path / "sweep.toml").write_text(SWEEP)
    args = ["sweep", "--config", "sweep.toml", "--storage", url, "--study", study, "--trials", "1"]
    procs = [subprocess.Popen([sys.executable, "-m", "numpynn", *args, "--out", f"machine{i}-{study}"],
                              cwd=tmp_path, env=race_env(folder, lock), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    codes = [(p.communicate(timeout=600), p.returncode) for p in procs]
    from numpynn.app.sweep.study import _with_driver
    return codes, optuna.load_study(study_name=study, storage=_with_driver(url)).get_trials(), folder


def test_two_machines_claiming_at_once_on_postgresql(postgres_url, tmp_path):  # noqa: F811
    url = postgres_url.replace("postgres@", "postgres:hunter2@")  # trust auth: the password is not checked
    codes, trials, folder = pg_race(tmp_path, url, "locked", lock=True)
    assert all(code == 0 for _, code in codes), codes
    assert len(list(folder.glob("at-lock-*"))) == 2 and asked(folder) == ["2"]
    assert len(trials) == 1 and trials[0].state.name == "COMPLETE"
    # Issue 21.7: the password is written nowhere, not in sweep.json nor in the trial's run-folder .lock
    written = [p for p in tmp_path.rglob("*") if p.is_file() and b"hunter2" in p.read_bytes()]
    assert written == []
    codes, trials, folder = pg_race(tmp_path, url, "unlocked", lock=False)
    assert asked(folder) == ["2", "2"] and len(trials) == 2


def test_a_run_lock_never_records_a_password(tmp_path, monkeypatch):
    """0.2.0 wrote the sweep's whole command line, database password included, into each trial's .lock (0644)."""
    monkeypatch.setattr(sys, "argv", ["numpynn", "sweep", "--storage", "postgresql://me:s3cr:et@db/x",
                                      "--storage=mysql+pymysql://u:hunter2@h/d"])
    with RunLock(tmp_path):
        record = (tmp_path / ".lock").read_text()
    assert "s3cr" not in record and "hunter2" not in record
    assert "postgresql://me:***@db/x" in record and "mysql+pymysql://u:***@h/d" in record
