"""The floors: the library never imports the application (numpynn.app), and no module grows past 300 lines."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "numpynn"
APPLICATION = "numpynn.app"
LAUNCHER = "numpynn_launcher"  # outside the package: it starts the application
# Python runs `python -m numpynn` and `python -m numpynn.article` from inside the package, so these two entry
# modules must live in it; they do nothing but hand over to numpynn_launcher, which imports the application.
ENTRY_MODULES = {"__main__.py", "article.py"}


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
            if p.relative_to(PACKAGE).parts[0] != "app" and str(p.relative_to(PACKAGE)) not in ENTRY_MODULES]


def test_no_library_module_imports_the_application():
    offenders = {str(p.relative_to(PACKAGE)): sorted(m for m in imported_modules(p)
                                                     if m.startswith((APPLICATION, LAUNCHER)))
                 for p in library_files()}
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(library_files()) > 20  # the walk found the library


def test_the_import_check_catches_an_offender(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from numpynn.app.runs.training import train\n")
    assert "numpynn.app.runs.training" in imported_modules(bad)


def test_import_numpynn_loads_no_application_module():
    code = "import sys, numpynn, numpynn.datasets; print(sorted(m for m in sys.modules if m.startswith('numpynn.app')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_modules_stay_readable_in_one_sitting():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300}
    assert long == {}


def test_the_entry_modules_only_hand_over_to_the_launcher():
    """The two exemptions stay what their reason says: no application import of their own."""
    for name in ENTRY_MODULES:
        imported = imported_modules(PACKAGE / name)
        assert not any(m.startswith(APPLICATION) for m in imported), name
        assert any(m.startswith(LAUNCHER) for m in imported), name
