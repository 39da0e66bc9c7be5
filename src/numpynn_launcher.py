"""Where the application is started: the `numpynn` script, `python -m numpynn` and `python -m numpynn.article`.

It sits outside the numpynn package so that the library never imports its application (numpynn.cli): the
package's two `-m` entry modules delegate here. Ctrl-C while NumPy loads is a quiet exit 130.

Importing numpynn takes ~0.4 s (NumPy, matplotlib). The script pip writes imports its entry point before
calling it, so an entry point inside the numpynn package could not catch an interrupt during those imports;
this module imports nothing heavy itself and does the import inside its try.
"""

import importlib
import sys


def main(argv: list[str] | None = None, app: str = "numpynn.cli.parser") -> int:
    """Run `app`'s main(argv): the numpynn command by default, the article runner for numpynn.article."""
    try:
        return importlib.import_module(app).main(argv)
    except KeyboardInterrupt:  # the app's main catches it once running; this is the window before it runs
        print("numpynn: error: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
