"""The floors: the library never imports the application (numpynn.cli), and no module grows past ~300 lines."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "numpynn"
APPLICATION = "numpynn.cli"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports by absolute name, at any depth (functions included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import; numpynn uses absolute imports"
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def library_files():
    return [p for p in PACKAGE.rglob("*.py")
            if "cli" not in p.relative_to(PACKAGE).parts]


def test_no_library_module_imports_the_application():
    offenders = {str(p.relative_to(PACKAGE)): sorted(m for m in imported_modules(p) if m.startswith(APPLICATION))
                 for p in library_files()}
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(library_files()) > 20  # the walk found the library


def test_the_import_check_catches_an_offender(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from numpynn.cli.train import train\n")
    assert "numpynn.cli.train" in imported_modules(bad)


def test_import_numpynn_loads_no_application_module():
    code = "import sys, numpynn, numpynn.datasets; print(sorted(m for m in sys.modules if m.startswith('numpynn.cli')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_modules_stay_readable_in_one_sitting():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 320}
    assert long == {}
