"""The user's own digits, saved from the page: an NPZ (x (N, 28, 28) uint8, y (N,) uint8) that `numpynn train
--dataset` reads, appended one digit at a time without ever losing the digits saved before."""

import io
import threading
from pathlib import Path

import numpy as np
from filelock import FileLock

from numpynn.data.images import FIELD
from numpynn.data.userdata import load_npz
from numpynn.errors import DataError
from numpynn.io.atomic import atomic_write_bytes

FILE_NAME = "drawings.npz"


class Drawings:
    """Appends labelled 28x28 digits to one NPZ: read, validate, write a temp file, os.replace, under a lock."""

    def __init__(self, path: str | Path, num_classes: int = 10):
        self.path, self.num_classes = Path(path), num_classes
        self._lock = threading.Lock()

    def count(self) -> int:
        """How many digits the file holds (0 when it does not exist yet)."""
        with self._lock:
            return len(self._read()[1])

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
            x = np.concatenate([x, pixels[None]])
            y = np.concatenate([y, np.array([label], dtype=np.uint8)])
            buffer = io.BytesIO()
            np.savez(buffer, x=x, y=y)
            atomic_write_bytes(self.path, buffer.getvalue())
            return len(y)

    def _read(self):
        if not self.path.exists():
            return np.zeros((0, FIELD, FIELD), np.uint8), np.zeros(0, np.uint8)
        # A file that is not what we wrote is refused, never overwritten: it may hold digits the user wants.
        x, y = load_npz(self.path, num_classes=self.num_classes, sample_shape=(FIELD, FIELD))
        if x.dtype != np.uint8:
            raise DataError(f"{self.path} holds {x.dtype} pixels, not the uint8 digits this page saves; "
                            "move it away so a new file can be started.")
        return x, y.astype(np.uint8)

    def _file_lock(self) -> FileLock:
        """Keeps two servers on one run folder from interleaving their appends (the threading lock: one server's)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(self.path.with_name(f".{self.path.name}.lock"))
