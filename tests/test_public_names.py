"""Every name README's "What is in it" table lists is where README says: at the top level of numpynn."""

import re
from pathlib import Path

import numpynn
from numpynn import datasets

README = Path(__file__).resolve().parents[1] / "README.md"
ROWS = ("layers", "model", "losses", "optimizers", "schedules", "training", "checking", "files", "metrics")


def _names(row: str) -> set[str]:
    line = next(line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith(f"| {row} |"))
    # `cnn(...)`, `mlp([784, ...], ...)` -> cnn, mlp; what parentheses hold (`forward`, ...) is left out
    cell, depth = "", 0
    for ch in line.split("|")[2]:
        depth += (ch == "(") - (ch == ")")
        cell += ch if depth == 0 else ""
    return {m for m in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)", cell) if not m.startswith("numpynn")}


def test_every_documented_model_name_is_at_the_top_level():
    names = set().union(*(_names(row) for row in ROWS))
    assert {"cnn", "mlp", "Sequential", "Conv2d", "fit", "load_model"} <= names  # the table was read
    assert sorted(n for n in names if not hasattr(numpynn, n)) == []
    assert numpynn.cnn is numpynn.nn.cnn  # README's `import numpynn as nn; nn.cnn(...)`, and the subpackage's


def test_every_documented_data_helper_is_in_datasets():
    names = _names("data") - {"RandomShift", "read_idx", "write_idx"}
    assert {"load_mnist", "Scaler", "load_csv"} <= names
    assert sorted(n for n in names if not hasattr(datasets, n)) == []
