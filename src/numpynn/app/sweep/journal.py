"""The sweep's journal file, checked before Optuna reads it, and repaired when a power cut tore its last record.

Optuna appends one JSON record a line, under its own lock, with fsync. A write cut short leaves a last line
without its newline; a later run would append after it, and from then on every read of the study fails. So
before a study is opened its journal is read under Optuna's lock: a torn last record (or a torn record that
0.2.0 appended after) is cut away, the file as it was kept beside it, and the user told; any other damage is
one sentence naming the line, and nothing is changed.
"""

import json
import time
from pathlib import Path

from numpynn.io.atomic import atomic_write_bytes

RECORD_START = b'{"op_code":'  # how Optuna writes every record (json.dumps with compact separators)


def check_journal(path: str | Path) -> str | None:
    """Make `path` readable for Optuna: returns a sentence saying what was repaired, or None when it was whole."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"The sweep's journal {path} is a folder; give --storage a file path (or leave it out to use "
                         "DIR/study.journal).")
    if not path.exists():
        return None
    if not path.is_file():
        raise ValueError(f"The sweep's journal {path} is not a regular file; give --storage a file path.")
    from optuna.storages.journal import JournalFileSymlinkLock
    lock = JournalFileSymlinkLock(str(path))  # the lock Optuna appends under: no record is half-written now
    lock.acquire()
    try:
        return _repair(path)
    finally:
        lock.release()


def _repair(path: Path) -> str | None:
    data = path.read_bytes()
    *lines, tail = data.split(b"\n")  # tail: what follows the last newline, b"" when the file is whole
    kept, salvaged = [], 0
    for number, line in enumerate(lines, 1):
        record = _record(line)
        if record is None:
            raise ValueError(f"The sweep's journal {path} is damaged at line {number} (not one of Optuna's records); "
                             "restore it from a copy, or start the sweep again with another --out folder.")
        salvaged += record is not line
        kept.append(record)
    if tail and _is_record(tail):  # only the newline was lost: the record itself is whole
        kept.append(tail)
    if not tail and not salvaged:
        return None
    backup = path.with_name(f"{path.name}.torn-{time.strftime('%Y%m%d-%H%M%S')}")
    atomic_write_bytes(backup, data)
    atomic_write_bytes(path, b"".join(record + b"\n" for record in kept))
    return (f"{path.name} ended in a record cut short (an interrupted write); kept a copy as {backup.name} and cut "
            f"it back to its last complete record ({len(kept)} records), so the study goes on.")


def _record(line: bytes) -> bytes | None:
    """The line if it is an Optuna record; else the record a torn write left glued behind its start; else None."""
    if _is_record(line):
        return line
    start = line.rfind(RECORD_START)
    return line[start:] if start > 0 and _is_record(line[start:]) else None


def _is_record(line: bytes) -> bool:
    try:
        record = json.loads(line)
    except ValueError:  # not JSON, or not UTF-8
        return False
    return isinstance(record, dict) and isinstance(record.get("op_code"), int) and "worker_id" in record
