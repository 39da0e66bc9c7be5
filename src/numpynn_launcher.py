"""Where the application is started: the `numpynn` script, `python -m numpynn` and `python -m numpynn.article`.

It sits outside the numpynn package so that the library never imports its application (numpynn.app): the
package's two `-m` entry modules (numpynn/__main__.py, numpynn/article.py) only call this module, and the
layout test names them as the two exemptions. Ctrl-C while NumPy loads is a quiet exit 130.

Importing numpynn takes ~0.4 s (NumPy, matplotlib). The script pip writes imports its entry point before
calling it, so an entry point inside the numpynn package could not catch an interrupt during those imports;
this module imports nothing heavy itself and imports the application inside its try.
"""

import sys


def main(argv: list[str] | None = None) -> int:
    """The numpynn command (numpynn.app.commands.parser.main): the script and `python -m numpynn`."""
    try:
        from numpynn.app.commands.parser import main as command

        return command(argv)
    except KeyboardInterrupt:  # the command catches it once running; this is the window before it runs
        return _interrupted()


def article(argv: list[str] | None = None) -> int:
    """The article runner (numpynn.app.commands.article.main): `python -m numpynn.article SCRIPT.py`."""
    try:
        from numpynn.app.commands.article import main as runner

        return runner(argv)
    except KeyboardInterrupt:
        return _interrupted()


def _interrupted() -> int:
    print("numpynn: error: interrupted.", file=sys.stderr)
    return 130


if __name__ == "__main__":
    raise SystemExit(main())
