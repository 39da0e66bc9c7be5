"""One writer per run folder: an exclusive lock on RUN/.lock (filelock), whose file also says who holds it.

Two `numpynn train --name same` started together, or two `--resume` of one run, would otherwise both
write the folder (one deleting the other's temp files, one run's results silently lost). filelock takes an
OS lock (flock on POSIX) on an open file: the OS drops it when its process ends, however it ends, so a killed
run never leaves a folder locked; a stale .lock file (a dead holder's) is simply locked again and rewritten.
"""

import json
import os
import re
import socket
import sys
import time
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_NAME = ".lock"
PASSWORD_IN_URL = re.compile(r"(://[^/@\s]*?:)[^@\s]*@")  # scheme://user:PASSWORD@host


class RunFolderBusy(ValueError):
    """Another process holds the run folder's lock."""


class RunLock:
    """`with RunLock(run):` or acquire()/release(); acquire raises RunFolderBusy naming the holder."""

    def __init__(self, run: Path):
        self.run, self.path = Path(run), Path(run) / LOCK_NAME
        self._lock: FileLock | None = None

    def acquire(self) -> "RunLock":
        lock = FileLock(self.path, blocking=False, on_acquired=_write_holder)  # the holder's name, once it holds
        try:
            lock.acquire()
        except Timeout:
            holder = _read(self.path)
            raise RunFolderBusy(f"Run folder {self.run} is in use by {holder or 'another process'}; wait for "
                                "it to finish or stop it (Ctrl-C), or choose another --name.") from None
        except OSError as exc:  # a full disk while writing the holder's record (released again): name the file,
            # which os.write cannot; 0.2.0 said "No space left on device (no file)" on --resume (issue 26.13)
            if exc.filename is not None:
                raise
            raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(self.path)) from exc
        self._lock = lock
        return self

    def release(self) -> None:
        if self._lock is None:
            return
        # Unlinked while still held: an opener waiting on this file finds it gone and locks a new one (filelock
        # retries an inode unlinked under it), and a finished run leaves no .lock behind.
        self.path.unlink(missing_ok=True)
        self._lock.release()
        self._lock = None

    def __enter__(self) -> "RunLock":
        return self.acquire() if self._lock is None else self

    def __exit__(self, *exc) -> None:
        self.release()


def _write_holder(fd: int) -> None:
    """Who holds the lock, written into the lock file itself right after the OS lock is taken."""
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S"),
              "command": " ".join(["numpynn", *map(without_password, sys.argv[1:])])}
    os.ftruncate(fd, 0)  # a dead holder's record goes
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, (json.dumps(holder) + "\n").encode())


def without_password(arg: str) -> str:
    """An argument fit to write down: the password of a URL in it (--storage postgresql://u:pw@host/db) is ***."""
    return PASSWORD_IN_URL.sub(r"\1***@", arg)


def _read(path: Path) -> str:
    """'pid 123 on host (numpynn train --name x, since ...)' from the holder's lock file, or ''."""
    try:
        info = json.loads(path.read_bytes()[:4096])
        return f"pid {info['pid']} on {info['host']} ({info['command']}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""
