"""One writer per run folder: an exclusive OS lock on RUN/.lock, which also says who holds it.

Two `numpynn train --name same` started together, or two `--resume` of one run, would otherwise both
write the folder (one deleting the other's temp files, one run's results silently lost). The lock is an
flock (POSIX) or msvcrt lock (Windows) on an open file: the OS drops it when its process ends, however it
ends, so a killed run never leaves a folder locked; a stale .lock file is simply locked again.
"""

import json
import os
import socket
import sys
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None
    import msvcrt

LOCK_NAME = ".lock"


class RunFolderBusy(ValueError):
    """Another process holds the run folder's lock."""


class RunLock:
    """`with RunLock(run):` or acquire()/release(); acquire raises RunFolderBusy naming the holder."""

    def __init__(self, run: Path):
        self.run, self.path, self.fd = Path(run), Path(run) / LOCK_NAME, None

    def acquire(self) -> "RunLock":
        for _ in range(10):  # the holder may delete the file between our open and our lock: then lock the new one
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                holder = _read(fd)
                os.close(fd)
                raise RunFolderBusy(f"Run folder {self.run} is in use by {holder or 'another process'}; wait for "
                                    "it to finish or stop it (Ctrl-C), or choose another --name.")
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        else:  # pragma: no cover - ten releases in a row while we tried
            raise RunFolderBusy(f"Run folder {self.run} keeps changing hands; try again.")
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S"),
                  "command": " ".join(["numpynn", *sys.argv[1:]])}
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps(holder) + "\n").encode())
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        if fcntl is not None:  # unlink while still holding it: a waiting opener then sees a new file, not ours
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
        os.close(self.fd)  # closing drops the lock
        self.fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire() if self.fd is None else self

    def __exit__(self, *exc) -> None:
        self.release()


def _try_lock(fd) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover - Windows
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _read(fd) -> str:
    """'pid 123 on host (numpynn train --name x, since ...)' from the holder's lock file, or ''."""
    try:
        info = json.loads(os.pread(fd, 4096, 0) if hasattr(os, "pread") else b"")
        return f"pid {info['pid']} on {info['host']} ({info['command']}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""
