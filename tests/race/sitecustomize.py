"""Python imports this at start-up in the sweep race tests (tests/test_sweep_race.py puts this folder first
on PYTHONPATH and sets NUMPYNN_RACE_DIR); it is inert everywhere else.

It holds every worker inside the claim, between counting the trials and asking Optuna for one, until all the
expected workers have reached the claim and a grace period has passed. Under the claim lock only one worker is
ever inside, so the others wait at the lock and exactly --trials trials are asked for; with the lock made a
no-op (NUMPYNN_RACE_NO_LOCK=1) every worker counts the same trials and asks, and the study gets too many. The
files left in the race folder prove which happened: at-lock-PID (a worker waited for the study's lock), asked-PID
(it asked Optuna for a trial; its text: how many workers were at the claim when it did).
"""

import os

if os.environ.get("NUMPYNN_RACE_DIR"):
    import contextlib
    import sys
    import time
    from pathlib import Path

    import optuna

    from numpynn.app.sweep import study as study_module

    FOLDER, PID = Path(os.environ["NUMPYNN_RACE_DIR"]), os.getpid()
    EXPECTED = int(os.environ.get("NUMPYNN_RACE_WORKERS", "2"))
    # With --jobs, the command's own process takes the lock once before it starts its workers: only workers count.
    COUNTS = not os.environ.get("NUMPYNN_RACE_WORKERS_ONLY") or "--worker" in sys.argv
    NO_LOCK = bool(os.environ.get("NUMPYNN_RACE_NO_LOCK"))
    real_lock, real_ask = study_module.Study.lock, optuna.study.Study.ask

    def count(pattern):
        return len(list(FOLDER.glob(pattern)))

    def lock(self):
        """Every wait for the study's lock is seen (a second machine may wait in its start-up, not its claim)."""
        if COUNTS:
            (FOLDER / f"at-lock-{PID}").touch()
        return contextlib.nullcontext() if NO_LOCK else real_lock(self)

    def ask(self, *args, **kwargs):
        deadline = time.monotonic() + 180
        while count("at-lock-*") < EXPECTED and time.monotonic() < deadline:  # the others are claiming too
            time.sleep(0.05)
        (FOLDER / f"asked-{PID}").write_text(str(count("at-lock-*")))
        grace = time.monotonic() + 3
        while count("asked-*") < EXPECTED and time.monotonic() < grace:  # can another get in beside us?
            time.sleep(0.05)
        return real_ask(self, *args, **kwargs)

    study_module.Study.lock, optuna.study.Study.ask = lock, ask
