"""The console script's entry point: Ctrl-C while the application is still importing is a quiet exit 130."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
# A real SIGINT delivered while the application module is being imported, as a Ctrl-C in the first 0.4 s is.
# The child first restores Python's own SIGINT handler: run in the background or under nohup, the tests inherit
# an ignored SIGINT, Python then installs no handler, and the kill would do nothing (issue 21.11).
CTRL_C_DURING_IMPORT = """
import builtins, os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
real = builtins.__import__
def interrupted_import(name, *args, **kwargs):
    if name.startswith("numpynn.app"):
        builtins.__import__ = real
        os.kill(os.getpid(), signal.SIGINT)
    return real(name, *args, **kwargs)
builtins.__import__ = interrupted_import
{start}
"""


def run(start: str, ignore_sigint: bool = False) -> subprocess.CompletedProcess:
    """The child, started as a background job starts it (SIGINT ignored) when ignore_sigint."""
    code = CTRL_C_DURING_IMPORT.format(start=start)
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          preexec_fn=ignore)


@pytest.mark.parametrize("ignore_sigint", [False, True], ids=["foreground", "sigint-ignored-by-the-parent"])
def test_ctrl_c_during_the_imports_exits_130_without_a_traceback(ignore_sigint):
    """Issue 17 item 11: a Ctrl-C in the first ~0.4 s printed a KeyboardInterrupt traceback."""
    done = run("import numpynn_launcher; sys.exit(numpynn_launcher.main(['--version']))", ignore_sigint)
    assert done.returncode == 130 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr == "numpynn: error: interrupted.\n"


@pytest.mark.parametrize("ignore_sigint", [False, True], ids=["foreground", "sigint-ignored-by-the-parent"])
def test_negative_control_an_entry_point_inside_the_package_cannot_catch_it(ignore_sigint):
    """What the old entry point (numpynn.cli.parser:main) met: the interrupt lands before main can run."""
    done = run("from numpynn.app.commands.parser import main; sys.exit(main(['--version']))", ignore_sigint)
    assert done.returncode != 130 and "KeyboardInterrupt" in done.stderr


def test_the_console_script_is_the_launcher_and_runs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["numpynn"] == "numpynn_launcher:main"
    assert "numpynn_launcher" in project["tool"]["setuptools"]["py-modules"]
    done = subprocess.run([sys.executable, "-m", "numpynn_launcher", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("numpynn ")
