"""The notebooks as text: each parses as a notebook, checks its exercises, stays offline, and is on the site.

`make notebooks` (CI) executes them all; here one tiny notebook goes through the same runner to show that a
failing check fails the run. The docstring filter of the documentation site is tested here too.
"""

import inspect
import json
import re
import sys
from pathlib import Path

import pytest

import numpynn

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.md") if p.name != "README.md")
PARTS = ("3_4", "4_1", "4_2", "4_3", "4_4", "4_5")
NETWORK = re.compile(r"fetch_openml|urlopen|requests\.|urllib|https?://")


def code_cells(path: Path) -> list[str]:
    jupytext = pytest.importorskip("jupytext")
    notebook = jupytext.read(path)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def test_there_is_a_notebook_per_part_and_the_two_guides():
    names = {p.stem for p in NOTEBOOKS}
    for part in PARTS:
        assert any(n.startswith(f"part{part}_") for n in names), f"no notebook for Part {part.replace('_', '.')}"
    assert {"numpynn_in_ten_minutes", "backprop_shape_by_shape"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_checks_itself_offline(path):
    cells = code_cells(path)
    code = "\n".join(cells)
    assert len(cells) >= 6, "a notebook of a part has more to run than this"
    assert code.count("assert") >= 3, "the exercises' checks are asserts"
    assert not NETWORK.search(code), f"{path.name} reaches for the network: {NETWORK.search(code).group()}"
    if path.stem.startswith("part"):
        assert "from neural_network import" in code and "import numpynn as nn" in code, \
            "a part's notebook runs the series' functions and then numpynn's API"
    text = path.read_text()
    assert "NUMPYNN_NOTEBOOK_SMALL" in text, "each notebook says what the size switch does for it"


def test_the_site_lists_every_notebook():
    toc = (ROOT / "docs" / "notebooks.md").read_text()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}\n" in toc, f"{path.stem} is not in the site's table of contents"


def test_a_failing_check_fails_the_run(tmp_path):
    pytest.importorskip("nbclient")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import run_notebooks
    finally:
        sys.path.remove(str(ROOT / "tools"))
    from nbclient.exceptions import CellExecutionError

    header = (NOTEBOOKS[0].read_text().split("---", 2)[1])
    good, bad = tmp_path / "good.md", tmp_path / "bad.md"
    cell = "```{code-cell} ipython3\n%s\n```\n"
    good.write_text(f"---{header}---\n# ok\n\n" + cell % "import numpynn\nprint(numpynn.__version__)")
    bad.write_text(f"---{header}---\n# broken\n\n" + cell % "assert 1 + 1 == 3, 'exercise failed'")
    run_notebooks.execute(good, tmp_path / "good.ipynb")
    executed = json.loads((tmp_path / "good.ipynb").read_text())
    outputs = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert "".join(outputs[0]["text"]).strip() == numpynn.__version__, "the executed copy keeps the output"
    with pytest.raises(CellExecutionError, match="exercise failed"):
        run_notebooks.execute(bad, tmp_path / "bad.ipynb")
    assert not (tmp_path / "bad.ipynb").exists()


def test_docstrings_render_as_plain_text():
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        from plain_docstrings import body_threshold, plain_text
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    lines = plain_text(["(penalty, grads): lambda_ * sum |W| of *every* array, `x_` kept.",
                        "Example:", "    model = mlp([784, 10])", "Back to text."])
    assert lines[0] == r"(penalty, grads): lambda\_ \* sum \|W\| of \*every\* array, `x_` kept."
    assert lines[1:] == ["Example:", "", "::", "", "        model = mlp([784, 10])", "", "Back to text."]
    # SGD's update rule, the only lines after its summary: cleandoc drops their indentation, the source keeps it
    sgd = inspect.cleandoc(numpynn.SGD.__doc__).splitlines()
    rendered = plain_text(sgd, body_threshold("class", numpynn.SGD, sgd))
    assert rendered[1:4] == ["", "::", ""] and rendered[4].startswith("    g = grad")
