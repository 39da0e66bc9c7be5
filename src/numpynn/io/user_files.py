"""Opening a file a user named (a dataset, a config file): what it is when it is not a file, and how big it may be.

A folder, a FIFO or a device given where a file belongs used to read as "does not exist" (a folder), block
forever (a FIFO with no writer) or stream without end (/dev/zero). Here the path is opened without blocking,
its kind read from the open descriptor (so it cannot change between the check and the read), and anything
but a regular file refused in one sentence naming what it is and what was expected; a size cap is checked
before the first byte is read, and the read itself stops one byte past the cap. Text is UTF-8 with or without a
byte-order mark, and what a parser makes of it may nest only MAX_DEPTH levels (0.2.0 let RecursionError out).
"""

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from numpynn.errors import UserFileError

MAX_DEPTH = 32  # nesting levels a config or run file may have; numpynn's own use two or three
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
    except (FileNotFoundError, NotADirectoryError) as exc:  # ENOTDIR: a file where a folder of the path should be
        why = " (a part of its path is a file, not a folder)" if isinstance(exc, NotADirectoryError) else ""
        raise FileNotFoundError(f"{what} {path} does not exist{why}{'; ' + hint if hint else ''}.") from None
    except IsADirectoryError:  # Windows cannot open a folder at all
        raise UserFileError(f"{what} {path} is a folder, not a regular file; pass {expected}.") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UserFileError(f"{what} {path} is {kind_of(mode)}, not a regular file; pass {expected}.")
        if hasattr(os, "O_NONBLOCK"):  # POSIX; Windows opened it blocking in the first place
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_user_file(path: str | os.PathLike, what: str, expected: str, hint: str = "") -> Path:
    """`path`, after the checks of open_user_file (it is opened and closed, never read)."""
    open_user_file(path, what, expected, hint).close()
    return Path(path)


def read_user_file(path: str | os.PathLike, what: str, expected: str, max_bytes: int, hint: str = "") -> bytes:
    """The whole content of a regular file of at most `max_bytes` bytes (see open_user_file for the checks)."""
    with open_user_file(path, what, expected, hint) as f:
        size = os.fstat(f.fileno()).st_size
        data = f.read(max_bytes + 1) if size <= max_bytes else b""  # +1: a file that grew since is caught too
    if size > max_bytes or len(data) > max_bytes:
        raise UserFileError(f"{what} {path} is {max(size, len(data)):,} bytes, over the {max_bytes:,}-byte limit "
                            f"for {expected}; it is not one (or pass a smaller file).")
    return data


def read_user_text(path: str | os.PathLike, what: str, expected: str, max_bytes: int, hint: str = "") -> str:
    """A regular file's text, UTF-8 with or without the byte-order mark that Notepad and Excel write."""
    data = read_user_file(path, what, expected, max_bytes, hint)
    try:
        return data.decode("utf-8-sig")  # a BOM read as text would be "Invalid statement (line 1, column 1)"
    except UnicodeDecodeError as exc:
        raise UserFileError(f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as "
                            "UTF-8.") from None


def parse_nested(parse: Callable[[str], Any], text: str, where: str, max_depth: int = MAX_DEPTH) -> Any:
    """parse(text) (tomllib.loads, json.loads), refusing nesting deeper than `max_depth` in one sentence.

    The parsers recurse per level and raise RecursionError a few hundred levels down; what parses is measured
    without recursion, so no later reader (a json.dumps, a flattening) can hit the limit either.
    """
    try:
        value = parse(text)
        too_deep = nesting_depth(value, max_depth) > max_depth
    except RecursionError:
        too_deep = True
    if too_deep:
        raise UserFileError(f"{where} nests lists or tables more than {max_depth} levels deep; a numpynn file "
                            "needs two or three, so it is damaged or not one.")
    return value


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply lists and dicts nest in `value` (a scalar: 0), counted without recursion, stopping past `limit`."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, (list, tuple)) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def kind_of(mode: int) -> str:
    """'a folder', 'a named pipe (FIFO)', ... for an st_mode that is not a regular file's."""
    return next((name for test, name in KINDS if test(mode)), "a special file")
