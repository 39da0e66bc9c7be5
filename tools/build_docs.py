"""Build the documentation site into docs/_build/html, offline, with warnings as errors.

    python tools/build_docs.py

Runs the notebooks whose executed copies are missing or stale (tools/run_notebooks.py), then Sphinx with -W.
`make docs` runs this; so does tests/test_docs_site.py when it finds no built site.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "docs" / "_build" / "html"


def main() -> int:
    env = {**os.environ, "NUMPYNN_NOTEBOOK_SMALL": os.environ.get("NUMPYNN_NOTEBOOK_SMALL", "1"), "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    notebooks = subprocess.run([sys.executable, str(ROOT / "tools" / "run_notebooks.py"), "--stale-only"], env=env)
    if notebooks.returncode:
        return notebooks.returncode
    sphinx = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-d", str(ROOT / "docs" / "_build"
              / "doctrees"), str(ROOT / "docs"), str(HTML)]
    return subprocess.run(sphinx, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
