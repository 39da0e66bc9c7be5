"""How much of numpynn's public API has a docstring and full type hints: prints the fractions, per module.

    python tools/api_coverage.py [--by-module] [--missing] [--json]

A public function is a module-level function or a method of a public class, whose name has no leading
underscore (dunders other than __init__ and __call__ are left out), in src/neural_network.py or any module of
src/numpynn whose path has no private part. Fully annotated: every parameter but self/cls has a type hint,
and the return has one (not asked of __init__). A constructor's docstring is its class's. The library
counts everything outside the application (numpynn/cli, numpynn/app); the totals count both.
"""

import argparse
import ast
import json
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
APPLICATION = ("numpynn/cli/", "numpynn/app/")
KEPT_DUNDERS = {"__init__", "__call__"}


def modules() -> list[Path]:
    files = [SRC / "neural_network.py", *sorted((SRC / "numpynn").rglob("*.py"))]
    return [p for p in files if not any(part.startswith("_") and part != "__init__.py"
                                        for part in p.relative_to(SRC).parts)]


def public_functions(tree: ast.Module):
    """(qualified name, node, documented) of every public function and public class's public method.

    A constructor counts as documented when its class has a docstring (which documents the arguments).
    """
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(node.name):
            yield node.name, node, ast.get_docstring(node) is not None
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(item.name):
                    documented = ast.get_docstring(item) is not None or (
                        item.name == "__init__" and ast.get_docstring(node) is not None)
                    yield f"{node.name}.{item.name}", item, documented


def _public(name: str) -> bool:
    return name in KEPT_DUNDERS or not name.startswith("_")


def fully_annotated(node: ast.FunctionDef) -> bool:
    args = node.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs, *filter(None, [args.vararg, args.kwarg])]
    if params and params[0].arg in ("self", "cls") and not _is_static(node):
        params = params[1:]
    return all(p.annotation is not None for p in params) and (node.returns is not None or node.name == "__init__")


def _is_static(node) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)


def survey() -> list[dict]:
    rows = []
    for path in modules():
        rel = path.relative_to(SRC).as_posix()
        for name, node, documented in public_functions(ast.parse(path.read_text(), str(path))):
            rows.append({"module": rel, "name": name, "annotated": fully_annotated(node), "docstring": documented,
                         "application": rel.startswith(APPLICATION)})
    return rows


def fractions(rows: list[dict]) -> dict:
    n = len(rows)
    return {"functions": n, "annotated": sum(r["annotated"] for r in rows) / n if n else 1.0,
            "docstring": sum(r["docstring"] for r in rows) / n if n else 1.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--by-module", action="store_true", help="one line per module")
    parser.add_argument("--missing", action="store_true", help="list the functions lacking hints or a docstring")
    parser.add_argument("--json", action="store_true", help="the totals as JSON")
    args = parser.parse_args(argv)
    rows = survey()
    totals = {"all": fractions(rows), "library": fractions([r for r in rows if not r["application"]])}
    if args.json:
        print(json.dumps(totals))
        return 0
    for label, t in totals.items():
        print(f"{label:8} {t['functions']:4} public functions: {t['annotated']:6.1%} fully annotated, "
              f"{t['docstring']:6.1%} with a docstring")
    if args.by_module:
        for module in sorted({r["module"] for r in rows}):
            t = fractions([r for r in rows if r["module"] == module])
            print(f"  {module:42} {t['functions']:3}  annotated {t['annotated']:6.1%}  docstring {t['docstring']:6.1%}")
    if args.missing:
        for r in rows:
            lacks = [what for what, ok in (("hints", r["annotated"]), ("docstring", r["docstring"])) if not ok]
            if lacks:
                print(f"  {r['module']}:{r['name']}: no {' and no '.join(lacks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
