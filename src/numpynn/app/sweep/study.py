"""The Optuna side of a sweep: the storage, the study, its claim lock, and the retry of dead workers' trials.

Storage: a journal file in the sweep folder (several processes on this machine share it), or a database URL
(postgresql://, mysql://, sqlite:///) that workers on any number of machines share. Every claim of a trial
(count the finished and running ones, then ask for one more) happens under one lock, so a study ends with
exactly N finished trials however many workers race. A trial whose worker died is marked failed and queued
again with the same options: on a database by Optuna's heartbeats, on a journal file by the dead worker's
released file lock.
"""

import contextlib
import os
import socket
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from numpynn.app.sweep.journal import check_journal
from numpynn.app.sweep.space import SweepSpec

INSTALL = "numpynn sweep needs Optuna; install it with: pip install 'numpynn[sweep]' (or pip install optuna)."
FINISHED = ("COMPLETE", "PRUNED")


def import_optuna():
    """Optuna, imported on demand (an optional extra), quiet: the sweep prints its own line per trial."""
    try:
        import optuna
    except ImportError:
        raise ValueError(INSTALL) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def is_database(url: str) -> bool:
    return "://" in url


class Study:
    """An Optuna study in its storage, plus the lock that makes claiming a trial atomic."""

    def __init__(self, url: str, name: str, spec: SweepSpec, *, seed_index: int = 0, create: bool = False):
        optuna = self.optuna = import_optuna()
        self.url, self.name, self.spec = url, name, spec
        self.rdb = None
        check_storage(url)
        if is_database(url):
            try:
                self.rdb = _database(optuna, url, spec.heartbeat)
            except ImportError:
                raise ValueError(f"--storage {url.split('://')[0]}:// needs its database driver; install it (pip "
                                 "install psycopg2-binary for PostgreSQL, pymysql for mysql+pymysql://).") from None
            storage = self.rdb
        else:
            repaired = check_journal(url)
            if repaired:
                print(repaired, file=sys.stderr)
            storage = optuna.storages.JournalStorage(_journal_backend(optuna, url))
        sampler = _sampler(optuna, spec, [spec.seed, seed_index])
        pruner = _pruner(optuna, spec)
        if create:
            self.study = optuna.create_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner,
                                             direction="maximize", load_if_exists=True)
        else:
            self.study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        self.retry = _retry_callback(optuna)
        self.reseed(seed_index)

    # --- the claim lock: a PostgreSQL/MySQL advisory lock, or a file lock (filelock) beside the journal or SQLite file
    @contextlib.contextmanager
    def lock(self):
        if self.rdb is not None and self.rdb.engine.dialect.name in ("postgresql", "mysql"):
            key = zlib.crc32(self.name.encode())  # one lock per study name
            pg = self.rdb.engine.dialect.name == "postgresql"
            import sqlalchemy
            with self.rdb.engine.connect() as conn:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)" if pg else "SELECT GET_LOCK(:k, -1)"),
                             {"k": key if pg else f"numpynn-{self.name}"})
                try:
                    yield
                finally:
                    conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)" if pg else "SELECT RELEASE_LOCK(:k)"),
                                 {"k": key if pg else f"numpynn-{self.name}"})
                    conn.commit()
            return
        path = self.url if not is_database(self.url) else self.rdb.engine.url.database or "numpynn-sweep"
        with FileLock(f"{path}.claim-lock"):  # not .lock: Optuna's journal lock has that name
            yield

    def trials(self, states=None):
        trials = self.study.get_trials(deepcopy=False)
        return trials if states is None else [t for t in trials if t.state.name in states]

    def fail_stale(self, workers_dir: Path) -> list[int]:
        """Mark the running trials of dead workers failed and queue each again; returns their numbers.

        Called under the claim lock, in which every claim also names its worker: a running trial seen there
        without a worker lost its claimer mid-claim.
        """
        if self.rdb is not None:
            before = {t.number for t in self.trials(("RUNNING",))}
            self.optuna.storages.fail_stale_trials(self.study)  # heartbeats; its callback queues the retry
            stale = [t for t in self.trials(("FAIL",)) if t.number in before]
        else:
            stale = []
        for t in self.trials(("RUNNING",)):
            worker = t.user_attrs.get("worker")
            # A journal's lock files say nothing about another machine's workers: judge only this machine's.
            local = worker is not None and worker.startswith(f"{socket.gethostname()}-")
            if worker is None or (self.rdb is None and local and _is_dead(workers_dir / f"{worker}.lock")):
                self.study.tell(t.number, state=self.optuna.trial.TrialState.FAIL)
                self.retry(self.study, self.frozen(t.number))
                (workers_dir / f"{worker}.lock").unlink(missing_ok=True)
                stale.append(t)
        return sorted(t.number for t in stale)

    def frozen(self, number: int):
        return next(t for t in self.study.get_trials(deepcopy=False) if t.number == number)

    def reseed(self, index: int) -> None:
        """Each worker its own sampler stream: two workers seeded alike would propose the same first options."""
        entropy = [self.spec.seed, index, len(self.trials())] + ([os.getpid()] if self.rdb is not None else [])
        self.study.sampler = _sampler(self.optuna, self.spec, entropy)


def _is_dead(lock_path: Path) -> bool:
    """A live worker holds an exclusive lock on its file for its whole life; the OS drops it at death."""
    try:
        with FileLock(lock_path, blocking=False):
            return True
    except Timeout:
        return False


def _database(optuna, url: str, heartbeat: int, attempts: int = 5):
    """RDBStorage; workers starting together on a fresh database race to create its tables, so retry a few times."""
    import sqlalchemy.exc
    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(_with_driver(url), **_heartbeat_kwargs(optuna, heartbeat))
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(1 + attempt)
        except sqlalchemy.exc.OperationalError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else "no answer"
            raise ValueError(f"Cannot open the database {masked_url(url)} ({reason}); check --storage and that the "
                             "server runs.") from None


class StudyStorageLost(RuntimeError):
    """The study's database or journal failed mid-sweep (a stopped server, a lost connection): exit 1, not 2."""


def check_storage(url: str) -> None:
    """A database URL SQLAlchemy can use, or a usable journal path; else one sentence, before anything is written."""
    if not is_database(url):
        if Path(url).is_dir():
            raise ValueError(f"--storage {url} is a folder; give a journal file path, or leave --storage out to use "
                             "DIR/study.journal.")
        return
    import sqlalchemy.exc
    from sqlalchemy.engine import make_url
    scheme = url.split("://")[0] or "(empty)"
    try:
        make_url(url).get_dialect()
    except sqlalchemy.exc.NoSuchModuleError:
        raise ValueError(f"--storage {scheme}:// is not a database SQLAlchemy knows; use postgresql://, "
                         "mysql+pymysql:// or sqlite:///FILE, or a journal file path.") from None
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:  # not echoed back: the URL may hold a password
        reason = str(exc).splitlines()[0] if str(exc).strip() else "unreadable"
        raise ValueError(f"--storage is not a database URL ({reason}); write it as "
                         "postgresql://user:password@host:5432/dbname, or give a journal file path.") from None


@contextlib.contextmanager
def storage_errors(url: str):
    """Within this block, the storage failing (a database server stopped mid-sweep) is a StudyStorageLost sentence."""
    optuna = import_optuna()
    import sqlalchemy.exc
    try:
        yield
    except (optuna.exceptions.StorageInternalError, sqlalchemy.exc.DBAPIError) as exc:
        cause = getattr(exc, "orig", None) or exc.__cause__ or exc
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise StudyStorageLost(f"Lost the study's storage {masked_url(url)} mid-sweep ({reason}); the finished trials "
                               "are kept there: rerun the same command once it is back.") from None


def masked_url(url: str) -> str:
    """A storage URL fit to print or write down: a database password becomes ***."""
    if not is_database(url):
        return url
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    return parsed.render_as_string(hide_password=True) if parsed.password else url


def _with_driver(url: str) -> str:
    """postgresql:// with psycopg2 when psycopg (3), SQLAlchemy 2.1's default driver, is not installed."""
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError:
            return parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    return url


def _journal_backend(optuna, path: str):
    try:
        from optuna.storages.journal import JournalFileBackend
    except ImportError:  # Optuna < 4
        from optuna.storages import JournalFileStorage as JournalFileBackend
    return JournalFileBackend(path)


def _retry_callback(optuna):
    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)  # Optuna >= 4.9
    return (retry or optuna.storages.RetryFailedTrialCallback)(max_retry=None)


def _heartbeat_kwargs(optuna, interval: int) -> dict:
    import inspect
    params = inspect.signature(optuna.storages.RDBStorage).parameters
    key = "heartbeat_stale_trial_callback" if "heartbeat_stale_trial_callback" in params else "failed_trial_callback"
    return {"heartbeat_interval": interval, "grace_period": 3 * interval, key: _retry_callback(optuna)}


def _sampler(optuna, spec: SweepSpec, entropy: list[int]):
    seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
    if spec.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)  # grid trials are queued up front, so no sampling is left


def _pruner(optuna, spec: SweepSpec):
    if spec.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5)
    if spec.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource="auto", reduction_factor=3)
    return optuna.pruners.NopPruner()
