"""Atomic file writes: a temp file in the same folder, fsync, then os.replace, so a crash never leaves half a file.

Every file numpynn writes goes through `atomic_open` (or `atomic_write_bytes` on it), which is also the one
place that names the file when writing fails: a full disk reads "No space left on device (runs/x/model.safetensors)".
Several writers of one path (threads, processes) each write their own temp file and the last rename wins: a
writer holds an flock on its temp file while it writes, so a temp file whose lock can be taken was left by a
dead writer (SIGKILL, power loss) and is the only kind `remove_leftovers` deletes.
"""

import contextlib
import errno
import glob
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows, where an open file cannot be deleted anyway
    fcntl = None


def _read_umask() -> int:
    """The process umask, read once at import: setting it to read it would race with other threads' new files."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as f:  # Linux: readable without changing anything
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere, once, while importing (before a server or sweep starts its threads)
    os.umask(mask)
    return mask


UMASK = _read_umask()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file for writing `path`: readers see the old file until the block ends, then the whole new one.

    If the block raises, the temp file is removed and `path` is left as it was. An OSError (a full disk, a
    read-only folder, a folder where the file should go) comes out with `filename` set to `path`, whichever
    step failed. Other writers of `path` at the same time are left alone: the last one to finish wins.
    """
    path = Path(path)
    try:
        check_writable_path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(path)
        fd, tmp = _locked_temp(path)
    except OSError as exc:
        raise _naming(exc, path) from exc
    try:
        # mkstemp makes 0600; a saved model should read like any new file (the umask as read at import)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~UMASK)
        else:  # pragma: no cover - Windows
            os.chmod(tmp, 0o666 & ~UMASK)
        with os.fdopen(fd, "wb") as f:  # closing it after the rename drops the lock
            yield f
            f.flush()
            os.fsync(f.fileno())
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _naming(exc, path) from exc
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` so readers see either the old file or the whole new one, never a torn one."""
    with atomic_open(path) as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def check_writable_path(path: str | os.PathLike) -> None:
    """Raise IsADirectoryError / NotADirectoryError, in words, if `path` is a folder or lies under a file.

    Said before anything is written: the OS would say "[Errno 21] Is a directory" only after the whole file was.
    The error's strerror reads as a sentence after its filename (`f"{exc.filename} {exc.strerror}"`).
    """
    problem = path_problem(path)
    if problem is None:
        return
    if problem.startswith("is a folder"):
        raise IsADirectoryError(errno.EISDIR, problem, os.fspath(path))
    raise NotADirectoryError(errno.ENOTDIR, problem, os.fspath(path))


def path_problem(path: str | os.PathLike) -> str | None:
    """Why no file can be written at `path`, as the rest of a sentence that starts with the path; None if none.

    "is a folder, so ..." or "cannot be written: runs is a file, not a folder, ..."; the one wording for both
    atomic writes and the OS's own ENOTDIR / EISDIR (a run folder made under a file).
    """
    path = Path(path)
    if path.is_dir():
        return "is a folder, so no file can be written there; give the path of a file (or a new name)"
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            if parent.is_dir():
                return None
            return f"cannot be written: {parent} is a file, not a folder; choose a path under a folder"
    return None


def remove_leftovers(path: str | os.PathLike) -> list[Path]:
    """Delete the `.<name>.*.tmp` files that dead writers of `path` left (SIGKILL or power loss skip cleanup).

    A live writer's temp file is locked, so it is kept; run before each write of the same path.
    """
    path = Path(path)
    removed = []
    # mkstemp's random part is 8 characters: matching exactly that spares temp files of `<name>.other`.
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.{'?' * 8}.tmp"):
        with contextlib.suppress(OSError):
            if _remove_if_abandoned(tmp):
                removed.append(tmp)
    return removed


def _locked_temp(path: Path) -> tuple[int, str]:
    """A new temp file beside `path`, locked: (fd, name). A cleaner that took it in the instant before our lock
    (and deleted it) makes us start again with a new one."""
    for _ in range(100):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        if fcntl is None:
            return fd, tmp
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits out a cleaner that holds it for a moment
        with contextlib.suppress(FileNotFoundError):
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                return fd, tmp
        os.close(fd)
    raise OSError(errno.EAGAIN, "temp files kept vanishing while writing")  # pragma: no cover


def _remove_if_abandoned(tmp: Path) -> bool:
    """Delete `tmp` if no live writer holds it: we can lock it (POSIX), or delete it at all (Windows)."""
    if fcntl is None:  # pragma: no cover - Windows refuses to delete a file another process has open
        tmp.unlink()
        return True
    # O_NONBLOCK: a FIFO named like a temp file must not block us; O_NOFOLLOW: nor a link lead us elsewhere.
    fd = os.open(tmp, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live writer's
        if os.stat(tmp).st_ino != os.fstat(fd).st_ino:
            return False  # renamed into place and replaced meanwhile
        os.unlink(tmp)
        return True
    finally:
        os.close(fd)


def _naming(exc: OSError, path: Path) -> OSError:
    """The same error, naming the file being written: its temp file's name, or none, would tell a user nothing."""
    args = (exc.errno, exc.strerror or str(exc), os.fspath(path))
    try:
        return type(exc)(*args)
    except TypeError:  # an OSError subclass with its own constructor
        return OSError(*args)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open a folder, and NTFS journals renames."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
