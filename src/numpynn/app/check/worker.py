"""The child process of `numpynn check`: import the learner's file, grade the functions asked for, one line each.

`python -m numpynn.app.check.worker FILE EVENTS NAME...` appends JSON lines to EVENTS, flushed one by one, so
the parent knows how far it got when the learner's code hangs or kills the process:
{"event": "ready"} once numpynn is imported, {"event": "found", "names": [...]} or
{"event": "import_error", "message": ...} after the learner's import, then
{"event": "start", "name": ...} and {"event": "result", "name": ..., "passed": ..., "hint": ...} per function.
"""

import contextlib
import importlib.util
import io
import json
import os
import sys
import traceback
from types import ModuleType

from numpynn.app.check.cases import NAMES

# grading imports numpynn's neural_network now, before the learner's folder (maybe with its own) is on the path
from numpynn.app.check.grading import grade


def load(path: str) -> ModuleType:
    """The learner's file as a module named `learner` (its own folder first on sys.path, as `python FILE` has it)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location("learner", path)
    module = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(module)
    return module


def found(module: ModuleType) -> list[str]:
    """The series' functions the module defines (callables under the series' names), in the series' order."""
    return [name for name in NAMES if callable(getattr(module, name, None))]


# The learner's process may reserve this much memory (address space): a runaway allocation (np.ones((n, n))
# with a misplaced n) fails inside it as a MemoryError, reported for that function, instead of filling the
# machine. numpy, numpynn and the graded cases need ~0.3 GiB of it.
MEMORY_LIMIT = 4 * 2**30


def limit_memory(limit: int = MEMORY_LIMIT) -> None:
    """Cap this process's address space at `limit` bytes where the platform allows it (not on Windows or macOS)."""
    try:
        import resource
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    except (ImportError, ValueError, OSError):  # no resource module, or a lower cap already set: the time limit holds
        pass


def main(argv: list[str]) -> int:
    path, events, names = argv[0], argv[1], argv[2:]
    limit_memory()
    with open(events, "a", encoding="utf-8") as out:
        def emit(**event):
            out.write(json.dumps(event) + "\n")
            out.flush()
        emit(event="ready")  # numpynn is imported: from here on the time limit counts
        try:
            module = load(path)
        except BaseException as exc:  # SystemExit too: a script that exits on import is reported, not obeyed
            emit(event="import_error", message=_describe(exc, path))
            return 0
        emit(event="found", names=found(module))
        for name in names:
            emit(event="start", name=name)
            try:
                passed, hint = grade(name, getattr(module, name), module)
            except BaseException as exc:  # sys.exit() inside the learner's function, or a case it broke
                passed, hint = False, _describe(exc, path)
            emit(event="result", name=name, passed=passed, hint=hint)
    return 0


def _describe(exc: BaseException, path: str) -> str:
    if isinstance(exc, SystemExit):
        return f"calls sys.exit({exc.code})"
    mine = os.path.abspath(path)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) == mine]
    where = f" (line {frames[-1].lineno})" if frames else ""
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"raises {type(exc).__name__}{where}: {message}".rstrip(": ")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
