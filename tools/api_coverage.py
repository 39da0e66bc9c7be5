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


def modules(src: Path = SRC) -> list[Path]:
    files = [src / "neural_network.py", *sorted((src / "numpynn").rglob("*.py"))]
    return [p for p in files if not any(part.startswith("_") and part != "__init__.py"
                                        for part in p.relative_to(src).parts)]


def public_functions(tree: ast.Module, documented_methods: dict[str, set[str]]):
    """(qualified name, node, documented) of every public function and public class's public method.

    A constructor counts as documented when its class has a docstring (which documents the arguments), and a
    method without one when a base class of the package documents it: help() and the API pages show that one.
    """
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(node.name):
            yield node.name, node, ast.get_docstring(node) is not None
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            inherited = set().union(*(documented_methods.get(b, set()) for b in _ancestors(node, documented_methods)))
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(item.name):
                    documented = ast.get_docstring(item) is not None or item.name in inherited or (
                        item.name == "__init__" and ast.get_docstring(node) is not None)
                    yield f"{node.name}.{item.name}", item, documented


def _ancestors(node: ast.ClassDef, documented_methods: dict) -> list[str]:
    """The package's base classes of `node`, by name, transitively (bases found in no module are left out)."""
    found, todo = [], [b.id for b in node.bases if isinstance(b, ast.Name)]
    while todo:
        name = todo.pop()
        if name in documented_methods and name not in found:
            found.append(name)
            todo.extend(documented_methods[f"{name}.__bases__"])
    return found


def documented_methods_by_class(trees: list[ast.Module]) -> dict:
    """{class name: names of its methods with a docstring, "<class>.__bases__": its base names}, package-wide."""
    table = {}
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                table[node.name] = {i.name for i in node.body if isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef))
                                    and ast.get_docstring(i) is not None}
                table[f"{node.name}.__bases__"] = [b.id for b in node.bases if isinstance(b, ast.Name)]
    return table


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


def survey(src: Path = SRC) -> list[dict]:
    rows, paths = [], modules(src)
    trees = [ast.parse(path.read_text(), str(path)) for path in paths]
    table = documented_methods_by_class(trees)
    for path, tree in zip(paths, trees):
        rel = path.relative_to(src).as_posix()
        for name, node, documented in public_functions(tree, table):
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
    parser.add_argument("--src", type=Path, default=SRC, help="the src/ folder to survey (default: this checkout's)")
    args = parser.parse_args(argv)
    rows = survey(args.src)
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
