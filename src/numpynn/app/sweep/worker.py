"""A sweep worker: claim a trial under the study's lock, train it as a run folder, tell Optuna the result, repeat.

Each worker holds an exclusive file lock on workers/<id>.lock for its whole life (the OS drops it when the
process dies, which is how a journal study tells a dead worker's trial from a live one); on a database it
also beats Optuna's heartbeat while a trial runs.
"""

import contextlib
import io
import os
import socket
import threading
import time
import uuid
from pathlib import Path

import numpy as np
from filelock import FileLock

from numpynn.app.sweep.study import FINISHED, Study
from numpynn.errors import TrainingDiverged
from numpynn.training.fit import Callback


class PruningCallback(Callback):
    """Reports each epoch's held-out accuracy to the trial and stops training (gracefully) when it is pruned."""

    def __init__(self, trial):
        self.trial, self.pruned_at = trial, None

    def on_epoch_end(self, epoch, record, model, optimizer):
        value = held_out_accuracy(record)
        if value is None or not np.isfinite(value):
            return
        self.trial.report(float(value), epoch)
        if self.trial.should_prune():
            self.pruned_at, self.stop_training = epoch, True


def held_out_accuracy(record: dict):
    """The held-out rows' accuracy under whichever name it is recorded (val_acc from fit, test_acc in a run)."""
    return next((record[k] for k in ("val_acc", "test_acc") if record.get(k) is not None), None)


class Worker:
    """One process's share of a sweep: claim a trial, train it as a run folder, tell the result, repeat."""

    def __init__(self, study: Study, out: Path, target: int, on_trial=None):
        self.study, self.out, self.target, self.on_trial = study, out, target, on_trial
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.workers_dir = out / "workers"
        # How often an idle worker looks again while others finish: a database is asked at most every 5 s.
        self.heartbeat_wait = min(study.spec.heartbeat, 5) if study.rdb is not None else 1

    def run(self) -> int:
        """Run trials until the study has `target` finished ones; returns how many this worker finished."""
        self.workers_dir.mkdir(parents=True, exist_ok=True)
        done = 0
        with FileLock(self.workers_dir / f"{self.id}.lock"):  # released by the OS if this process dies
            try:
                while True:
                    trial, running = self._claim()
                    if trial is None and not running:
                        return done
                    if trial is None:  # others still run trials that may yet fail and need a retry
                        time.sleep(self.heartbeat_wait)
                        continue
                    self._run_trial(trial)
                    done += 1
                    if self.on_trial is not None:
                        self.on_trial()
            finally:
                (self.workers_dir / f"{self.id}.lock").unlink(missing_ok=True)

    def _claim(self):
        with self.study.lock():
            self.study.fail_stale(self.workers_dir)
            counted = self.study.trials((*FINISHED, "RUNNING"))
            if len(counted) >= self.target:
                return None, len(self.study.trials(FINISHED)) < self.target
            trial = self.study.study.ask()
            trial.set_user_attr("worker", self.id)
            trial.set_user_attr("pid", os.getpid())
            if self.study.rdb is not None:
                self.study.rdb.record_heartbeat(trial._trial_id)  # stale from here on if this process dies
            return trial, True

    def _run_trial(self, trial):
        from numpynn.app.runs.training import train
        optuna, spec = self.study.optuna, self.study.spec
        TrialState = optuna.trial.TrialState
        run = self.out / f"trial-{trial.number:04d}"
        trial.set_user_attr("run", str(run.resolve()))
        stop = threading.Event()
        heartbeat = None
        if self.study.rdb is not None:  # ask/tell runs no heartbeat thread of its own, so beat here
            heartbeat = threading.Thread(target=_beat, args=(self.study.rdb, trial._trial_id, spec.heartbeat, stop),
                                         daemon=True)
            heartbeat.start()
        try:
            config = spec.config_for({p.name: p.suggest(trial) for p in spec.params},
                                     out=str(self.out), name=run.name, quiet=True, plots=False)
            pruning, outcome = PruningCallback(trial), {}
            with contextlib.redirect_stdout(io.StringIO()):  # a trial's own summary lines are not the sweep's
                code = train(config, callbacks=[pruning], outcome=outcome)
            if code != 0:  # Ctrl-C or SIGTERM: train saved a checkpoint; the trial runs again next time
                raise KeyboardInterrupt
        except TrainingDiverged as exc:  # a too-large lr is an answer too: stopped early, like a pruned trial
            trial.set_user_attr("diverged", str(exc))
            trial.set_user_attr("diverged_epoch", int(getattr(exc, "epoch", 0) or 0) or None)
            self.study.study.tell(trial, state=TrialState.PRUNED)
        except (KeyboardInterrupt, SystemExit):
            self.study.study.tell(trial, state=TrialState.FAIL)
            self.study.retry(self.study.study, self.study.frozen(trial.number))
            raise
        except BaseException:  # a bug or an impossible combination of options: stop, do not loop on it
            self.study.study.tell(trial, state=TrialState.FAIL)
            raise
        else:
            if pruning.pruned_at is not None:
                self.study.study.tell(trial, state=TrialState.PRUNED)
            else:
                self.study.study.tell(trial, outcome["accuracy"])
        finally:
            stop.set()
            if heartbeat is not None:
                heartbeat.join()


def _beat(storage, trial_id: int, interval: int, stop: threading.Event):
    while True:
        storage.record_heartbeat(trial_id)
        if stop.wait(interval):
            return
