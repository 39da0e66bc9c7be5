"""numpynn's docstrings are plain text (one line, then shapes and notes), not reStructuredText: render them so.

`x: (N, D)`, `|x|`, `2 * lambda_` and indented examples mean what they say in a terminal's help(); this hook
escapes the characters reST would read as markup and turns each indented block into a literal block, so the
API pages show the docstrings as written and the build stays free of warnings. Members that a class inherits
from another library (scikit-learn's set_*_request) are left out.
"""

import inspect
import re

_MARKUP = re.compile(r"([*|])")
_TRAILING_UNDERSCORE = re.compile(r"(\w)_(?=\W|$)")
_LEADING_UNDERSCORE = re.compile(r"(?<![\w\\])_(?=\w)")
_RULE = re.compile(r"^(\s*)([-=~^\"'`#+<>:.])\2{2,}\s*$")  # reST would read it as a section title's underline


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _escape(line: str) -> str:
    if _RULE.match(line):
        return _RULE.sub(lambda m: m.group(1) + "\\" + m.group(0).lstrip(), line)
    # Backquoted spans stay as they are (`x`, ``code``): reST shows them as code or emphasis, never an error.
    parts = re.split(r"(``.*?``|`[^`]*`)", line)
    for i in range(0, len(parts), 2):
        text = _MARKUP.sub(r"\\\1", parts[i])
        text = _TRAILING_UNDERSCORE.sub(r"\1\\_", text)
        parts[i] = _LEADING_UNDERSCORE.sub(r"\\_", text)
    return "".join(parts)


def plain_text(lines: list[str], threshold: int | None = None) -> list[str]:
    """The docstring's lines as reST that renders them as written: text escaped, indented blocks literal.

    A line indented more than `threshold` (default: the first line's indentation) belongs to a literal block;
    the first line, the summary, never does.
    """
    out, base, in_literal = [], threshold, False
    for i, line in enumerate(lines):
        if not line.strip():
            out.append(line)
            continue
        if base is None:
            base = _indent(line)
        literal = i > 0 and _indent(line) > base
        if in_literal and not literal:
            if out and out[-1].strip():
                out.append("")
            in_literal = False
        if literal and not in_literal:
            out.extend(["", "::", ""] if out and out[-1].strip() else ["::", ""])
            in_literal = True
        out.append("    " + line if in_literal else _escape(line))
    return out


def body_threshold(what: str, obj: object, lines: list[str]) -> int | None:
    """How far (after inspect.cleandoc) a line of obj's own docstring may be indented and still be prose.

    cleandoc strips the common indentation of the lines after the summary, so a docstring whose only later
    lines are a code block (SGD's update rule) would lose the block's indentation: measure it against the
    body of the class or function in the source instead. None where the docstring is not obj's own.
    """
    doc = getattr(obj, "__doc__", None)
    if what not in ("class", "exception", "function", "method") or not isinstance(doc, str):
        return None
    own = inspect.cleandoc(doc).splitlines()
    if own != lines[:len(own)]:
        return None  # an inherited or processed docstring: keep the default
    rest = [line for line in doc.expandtabs().splitlines()[1:] if line.strip()]
    try:
        source_line = inspect.getsourcelines(obj)[0][0]
    except (OSError, TypeError):
        return None
    if not rest:
        return None
    return _indent(source_line) + 4 - min(_indent(line) for line in rest)


def process_docstring(app, what, name, obj, options, lines):
    lines[:] = plain_text(lines, body_threshold(what, obj, lines))


def skip_foreign(app, what, name, obj, skip, options):
    """Skip members defined by another library (scikit-learn's generated set_*_request methods)."""
    module = getattr(obj, "__module__", None) or ""
    if callable(obj) and module and not module.startswith(("numpynn", "neural_network")):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", process_docstring)
    app.connect("autodoc-skip-member", skip_foreign)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
