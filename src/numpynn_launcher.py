"""The `numpynn` console script: starts the application, so that Ctrl-C while NumPy loads is a quiet exit 130.

Importing numpynn takes ~0.4 s (NumPy, matplotlib). The script pip writes imports its entry point before
calling it, so an entry point inside the numpynn package could not catch an interrupt during those imports;
this module imports nothing heavy itself and does the import inside its try.
"""

import importlib
import sys


def main(argv: list[str] | None = None) -> int:
    try:
        return importlib.import_module("numpynn.cli.parser").main(argv)
    except KeyboardInterrupt:  # parser.main catches it once running; this is the window before it runs
        print("numpynn: error: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
