"""Opening a file a user named (a dataset, a config file): what it is when it is not a file, and how big it may be.

A folder, a FIFO or a device given where a file belongs used to read as "does not exist" (a folder), block
forever (a FIFO with no writer) or stream without end (/dev/zero). Here the path is opened without blocking,
its kind read from the open descriptor (so it cannot change between the check and the read), and anything
but a regular file refused in one sentence naming what it is and what was expected; a size cap is checked
before the first byte is read, and the read itself stops one byte past the cap.
"""

import os
import stat
from pathlib import Path
from typing import BinaryIO

from numpynn.errors import UserFileError

KINDS = [(stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
         (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]


def open_user_file(path: str | os.PathLike, what: str, expected: str, hint: str = "") -> BinaryIO:
    """`path` opened for reading in binary, after checking it exists and is a regular file.

    what: how the user named it ("Dataset", "Config file"); expected: what belongs there ("a .npz or .csv
    file"); hint: how to get one, said when the path does not exist. Raises FileNotFoundError or UserFileError
    (a ValueError), each one sentence.
    """
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO with no writer would wait forever; it is refused right after.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {path} does not exist{'; ' + hint if hint else ''}.") from None
    except IsADirectoryError:  # Windows cannot open a folder at all
        raise UserFileError(f"{what} {path} is a folder, not a regular file; pass {expected}.") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UserFileError(f"{what} {path} is {kind_of(mode)}, not a regular file; pass {expected}.")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_user_file(path: str | os.PathLike, what: str, expected: str, max_bytes: int, hint: str = "") -> bytes:
    """The whole content of a regular file of at most `max_bytes` bytes (see open_user_file for the checks)."""
    with open_user_file(path, what, expected, hint) as f:
        size = os.fstat(f.fileno()).st_size
        data = f.read(max_bytes + 1) if size <= max_bytes else b""  # +1: a file that grew since is caught too
    if size > max_bytes or len(data) > max_bytes:
        raise UserFileError(f"{what} {path} is {max(size, len(data)):,} bytes, over the {max_bytes:,}-byte limit "
                            f"for {expected}; it is not one (or pass a smaller file).")
    return data


def kind_of(mode: int) -> str:
    """'a folder', 'a named pipe (FIFO)', ... for an st_mode that is not a regular file's."""
    return next((name for test, name in KINDS if test(mode)), "a special file")
