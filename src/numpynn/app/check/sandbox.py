"""The parent side of `numpynn check`: run the learner's file in a child process with a time limit per function.

The child (worker.py) reports as it goes; when the learner's code hangs, the child is killed after the time
limit and the function it was in is reported as not finishing; when it dies (os._exit, a segfault), the
function is reported as crashing. Either way a fresh child grades the functions that are left.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpynn
from numpynn.app.check.cases import NAMES
from numpynn.errors import NumpynnError

POLL_S = 0.02
STARTUP_S = 120.0  # a child's own start (Python, NumPy, numpynn) on a loaded machine; the limit counts after it


@dataclass
class Report:
    """What the check found: per function (in the series' order) whether it passed and the hint, and the rest."""

    file: str
    results: dict[str, tuple[bool, str | None]] = field(default_factory=dict)
    not_found: list[str] = field(default_factory=list)


def check_file(path: str, only: list[str] | None = None, timeout: float = 10.0) -> Report:
    """Grade the series' functions in the learner's file at `path` (those in `only`, when given).

    Raises NumpynnError (bad input: exit 2) when the file is missing, does not compile, fails on import or defines
    none of the functions asked for.
    """
    _compile(path)
    with tempfile.TemporaryDirectory(prefix="numpynn-check-") as folder:
        events = Path(folder) / "events.jsonl"
        found, results, status = _run(path, events, [], timeout)
        if found is None:
            raise NumpynnError(_import_failure(path, status, timeout))
        wanted = [n for n in found if only is None or n in only]
        if not wanted:
            asked = f"the function {', '.join(only)}" if only else "any of the series' 21 functions"
            raise NumpynnError(f"{path} does not define {asked}; name your functions as the series does "
                               f"(normalize, softmax, backward_mlp, ...).")
        while len(results) < len(wanted):
            left = [n for n in wanted if n not in results]
            _, done, status = _run(path, events, left, timeout)
            results.update(done or {n: (False, _import_failure(path, status, timeout)) for n in left})
    report = Report(path, {n: results[n] for n in wanted})
    report.not_found = [n for n in NAMES if n not in found and (only is None or n in only)]
    return report


def _compile(path: str) -> None:
    if not path.endswith(".py"):
        raise NumpynnError(f"{path} is not a Python file; pass your neural_network.py (a .py file).")
    if not os.path.isfile(path):
        raise NumpynnError(f"{path} does not exist; pass the path of your neural_network.py.")
    source = Path(path).read_bytes()
    try:
        compile(source, path, "exec")
    except SyntaxError as exc:
        raise NumpynnError(f"{path} line {exc.lineno}: {exc.msg}; fix the syntax and run the check again.") from None
    except ValueError as exc:  # null bytes: not a Python source file
        raise NumpynnError(f"{path} is not a Python source file ({exc}).") from None


def _run(path: str, events: Path, names: list[str], timeout: float):
    """One child over `names`: (names found or None, {name: (passed, hint)}, how it ended)."""
    events.write_text("")
    src = str(Path(numpynn.__file__).resolve().parents[1])  # where numpynn and neural_network are importable from
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p),
           "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    # The child starts in the (empty) events folder: `python -m` puts its working folder first on sys.path, and a
    # learner's own neural_network.py there must not stand in for numpynn's as the reference.
    child = subprocess.Popen([sys.executable, "-m", "numpynn.app.check.worker", os.path.abspath(path), str(events),
                              *names], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=env, cwd=events.parent)
    found, results, current, seen, last, ready = None, {}, None, 0, time.monotonic(), False
    try:
        while True:
            ended = child.poll() is not None
            lines = events.read_text(encoding="utf-8").splitlines()
            for event in map(json.loads, (line for line in lines[seen:] if line.endswith("}"))):
                seen, last, ready = seen + 1, time.monotonic(), True
                found, current = _apply(event, found, results, current)
            if ended:
                status = current if isinstance(current, tuple) else ("died", child.returncode)
                return found, _fail(results, current, _death(child.returncode)), status
            if time.monotonic() - last > (timeout if ready else STARTUP_S):
                child.kill()
                child.wait()
                return found, _fail(results, current, f"did not finish within {timeout:g} s (an endless loop?)"), (
                    "timeout", None)
            time.sleep(POLL_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _apply(event: dict, found, results: dict, current):
    kind = event["event"]
    if kind == "ready":
        return found, current
    if kind == "found":
        return event["names"], None
    if kind == "import_error":
        return None, ("import_error", event["message"])
    if kind == "start":
        return found, event["name"]
    results[event["name"]] = (event["passed"], event["hint"])
    return found, None


def _fail(results: dict, current, hint: str) -> dict:
    if isinstance(current, str):  # the child stopped inside this function
        results[current] = (False, hint)
    return results


def _death(code: int) -> str:
    if code is not None and code < 0:
        try:
            return f"crashed the Python process ({signal.Signals(-code).name})"
        except ValueError:
            return f"crashed the Python process (signal {-code})"
    return f"ended the Python process (exit code {code}, os._exit?)"


def _import_failure(path: str, status, timeout: float) -> str:
    kind, detail = status
    if kind == "timeout":
        return f"importing {path} did not finish within {timeout:g} s; move long-running code under " \
               f"`if __name__ == '__main__':` and run the check again."
    if kind == "died":
        return f"importing {path} {_death(detail)}; fix the code that runs on import and run the check again."
    return f"importing {path} {detail}; fix it and run the check again."
