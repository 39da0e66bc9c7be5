"""The user's own digits, saved from the page: an NPZ (x (N, 28, 28) uint8, y (N,) uint8) that `numpynn train
--dataset` reads, appended one digit at a time without ever losing the digits saved before.

The file is capped at MAX_DRAWINGS digits (about 8 MB) and kept in memory between appends: an append reads
the file again only when another process changed it, so it costs one write of the file, not a read and a
validation too. Whatever goes wrong (a damaged file, a folder in its place, a read-only run folder, a full
disk) is a DrawingsUnavailable with one sentence and an HTTP status, and the old file is left as it was.
"""

import contextlib
import errno
import io
import os
import shlex
import threading
from pathlib import Path

import numpy as np
from filelock import FileLock

from numpynn.data.images import FIELD
from numpynn.data.userdata import load_npz
from numpynn.errors import DataError
from numpynn.io.atomic import atomic_write_bytes

FILE_NAME = "drawings.npz"
MAX_DRAWINGS = 10_000  # ~8 MB of 28x28 digits: more than anyone draws, small enough to rewrite per append
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class DrawingsUnavailable(DataError):
    """The drawings file cannot be read or written; `status` is the HTTP status a server answers with."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


FINETUNE_MNIST_ROWS = 2000  # MNIST rows beside your digits, so the fine-tuned model does not forget MNIST


def finetune_command(run: str | Path) -> tuple[str, str]:
    """The one command that fine-tunes the model of run folder `run` on its drawings, and where to type it.

    The command names the run relative to where `numpynn serve` started when it lies below that folder, else
    by its own name (typed in the folder holding it): a server never hands out its host's absolute paths.
    """
    run = Path(run)
    try:
        shown, where = run.resolve().relative_to(Path.cwd().resolve()), "where you started numpynn serve"
    except ValueError:
        shown, where = Path(run.name), f"in the folder that holds {run.name}"
    command = (f"numpynn train --init-from {shlex.quote(str(shown))} --dataset {shlex.quote(str(shown / FILE_NAME))} "
               f"--mix-mnist {FINETUNE_MNIST_ROWS} --epochs 5 --lr 0.01 --name {shlex.quote(run.name + '-mine')}")
    return command, where


class Drawings:
    """Appends labelled 28x28 digits to one NPZ: validate, write a temp file, os.replace, under a lock."""

    def __init__(self, path: str | Path, num_classes: int = 10, max_drawings: int = MAX_DRAWINGS):
        self.path, self.num_classes, self.max_drawings = Path(path), num_classes, max_drawings
        self._lock = threading.Lock()
        self._cached: tuple[tuple, np.ndarray, np.ndarray] | None = None  # (file signature, x, y)

    def count(self) -> int:
        """How many digits the file holds (0 when it does not exist yet)."""
        with self._lock:
            return len(self._read()[1])

    def summary(self) -> dict:
        """{"count": N}, or {"count": None, "error": sentence} when the file cannot be read (for GET /api/model)."""
        try:
            return {"count": self.count()}
        except DrawingsUnavailable as exc:
            return {"count": None, "error": str(exc)}

    def append(self, pixels: np.ndarray, label: int) -> int:
        """Add one (28, 28) uint8 digit with its label; returns the file's new digit count."""
        pixels = np.asarray(pixels)
        if pixels.shape != (FIELD, FIELD) or pixels.dtype != np.uint8:
            raise DataError(f"A saved digit must be a ({FIELD}, {FIELD}) uint8 image, got {pixels.shape} "
                            f"{pixels.dtype}.")
        if not 0 <= label < self.num_classes:
            raise DataError(f"Label {label} is outside 0..{self.num_classes - 1}; pick one of the model's classes.")
        with self._lock, self._file_lock():
            x, y = self._read()
            if len(y) >= self.max_drawings:
                raise DrawingsUnavailable(f"{self.path.name} already holds {len(y)} digits, its cap; train on it "
                                          f"(numpynn train --dataset {self.path.name}) and move it away to start "
                                          "a new one.", 507)
            x = np.concatenate([x, pixels[None]])
            y = np.concatenate([y, np.array([label], dtype=np.uint8)])
            buffer = io.BytesIO()
            np.savez(buffer, x=x, y=y)
            self._write(buffer.getvalue())
            self._cached = (_signature(self.path), x, y)
            return len(y)

    def _read(self) -> tuple[np.ndarray, np.ndarray]:
        """The digits on disk: from memory when the file is the one this object last read or wrote."""
        signature = _signature(self.path)
        if signature is None:
            return np.zeros((0, FIELD, FIELD), np.uint8), np.zeros(0, np.uint8)
        if self._cached is not None and self._cached[0] == signature:
            return self._cached[1], self._cached[2]
        # A file that is not what we wrote is refused, never overwritten: it may hold digits the user wants.
        if not self.path.is_file():
            raise DrawingsUnavailable(f"{self.path.name} in {self.path.parent.name or '.'} is not a file (a folder?);"
                                      " move it away so a new drawings file can be started.", 409)
        try:
            x, y = load_npz(self.path, num_classes=self.num_classes, sample_shape=(FIELD, FIELD))
        except DataError as exc:
            raise DrawingsUnavailable(f"{self.path.name} cannot be read ({_reason(exc)}); move it away so a new "
                                      "one can be started. Nothing was changed.", 409) from None
        except OSError as exc:
            raise DrawingsUnavailable(f"{self.path.name} cannot be read ({exc.strerror or exc}); check the run "
                                      "folder's permissions.", 500) from None
        if x.dtype != np.uint8:
            raise DrawingsUnavailable(f"{self.path.name} holds {x.dtype} pixels, not the uint8 digits this page "
                                      "saves; move it away so a new file can be started.", 409)
        self._cached = (signature, x, y.astype(np.uint8))
        return self._cached[1], self._cached[2]

    def _write(self, data: bytes) -> None:
        try:
            atomic_write_bytes(self.path, data)
        except OSError as exc:
            if exc.errno in NO_SPACE:
                raise DrawingsUnavailable(f"The disk holding {self.path.name} is full; the digit was not saved and "
                                          "the digits saved before are kept.", 507) from None
            raise DrawingsUnavailable(f"The server cannot write {self.path.name} ({exc.strerror or exc}); the digit "
                                      "was not saved and the digits saved before are kept.", 500) from None

    @contextlib.contextmanager
    def _file_lock(self):
        """Keeps two servers on one run folder from interleaving their appends (the threading lock: one server's)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(self.path.with_name(f".{self.path.name}.lock"))
            lock.acquire()
        except OSError as exc:
            raise DrawingsUnavailable(f"The server cannot write beside {self.path.name} ({exc.strerror or exc}); "
                                      "the digit was not saved.", 507 if exc.errno in NO_SPACE else 500) from None
        try:
            yield
        finally:
            lock.release()


def _signature(path: Path) -> tuple | None:
    """What identifies one version of the file: a change by another process changes it (None: no file)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError:
        return ("unreadable",)
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode)


def _reason(exc: Exception) -> str:
    """A loader's sentence without its leading path and trailing full stop, to nest in ours."""
    text = str(exc).rstrip(".")
    return text.split(": ", 1)[1] if ": " in text and text.split(": ", 1)[0].endswith(".npz") else text
