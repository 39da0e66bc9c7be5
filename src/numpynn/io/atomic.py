"""Atomic file writes: a temp file in the same folder, fsync, then os.replace, so a crash never leaves half a file.

Every file numpynn writes goes through `atomic_open` (or `atomic_write_bytes` on it), which is also the one
place that names the file when writing fails: a full disk reads "No space left on device (runs/x/model.safetensors)".
"""

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file for writing `path`: readers see the old file until the block ends, then the whole new one.

    If the block raises, the temp file is removed and `path` is left as it was. An OSError (a full disk, a
    read-only folder) comes out with `filename` set to `path`, whichever step failed.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _naming(exc, path) from exc
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a saved model should read like any new file
        with os.fdopen(fd, "wb") as f:
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


def remove_leftovers(path: str | os.PathLike) -> list[Path]:
    """Delete `.<name>.*.tmp` files that a killed writer of `path` left (SIGKILL or power loss skip cleanup).

    Run before each write of the same path; writing one file from two processes at once is not supported.
    """
    path = Path(path)
    removed = []
    # mkstemp's random part is 8 characters: matching exactly that spares temp files of `<name>.other`.
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.{'?' * 8}.tmp"):
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _naming(exc: OSError, path: Path) -> OSError:
    """The same error, naming the file being written: its temp file's name, or none, would tell a user nothing."""
    args = (exc.errno, exc.strerror or str(exc), os.fspath(path))
    try:
        return type(exc)(*args)
    except TypeError:  # an OSError subclass with its own constructor
        return OSError(*args)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open a folder, and NTFS journals renames."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
