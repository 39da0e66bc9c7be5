# Two commands for a fresh clone: `make run` (train on the bundled MNIST) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean

TEST_STAMP := $(VENV)/.installed-test
DOCS_STAMP := $(VENV)/.installed-docs

# `make run` installs only what the main job needs; `make test` adds the test tools and the optional extras.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,docs]'
	touch $(TEST_STAMP)

# The docs extra: Sphinx and its extensions, and what executes the notebooks (jupytext, nbclient, ipykernel).
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

run: $(STAMP)
	$(VENV)/bin/numpynn train

test: $(TEST_STAMP)
	$(PY) -m pytest -q

# Every notebook in notebooks/ executed top to bottom, offline, on small sizes (NUMPYNN_NOTEBOOK_SMALL=0 for the
# series' own); the executed copies land in docs/notebooks/, where the documentation site renders them.
.PHONY: notebooks docs clean-docs
NUMPYNN_NOTEBOOK_SMALL ?= 1
export NUMPYNN_NOTEBOOK_SMALL
notebooks: $(DOCS_STAMP)
	$(PY) tools/run_notebooks.py

# The documentation site, offline, warnings as errors, into docs/_build/html (open docs/_build/html/index.html).
docs: $(DOCS_STAMP)
	$(PY) tools/build_docs.py

clean-docs:
	rm -rf docs/_build docs/auto_gallery docs/notebooks

lint: $(TEST_STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	-$(PY) -m pip install --quiet 'torch==2.13.0' || echo "PyTorch 2.13.0 not installable here: its column is skipped."
	$(PY) benchmarks/run.py --mode as-set $(BENCH_ARGS)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/run.py --mode unset $(BENCH_ARGS)
	$(PY) benchmarks/report.py --readme
	$(PY) benchmarks/conv.py $(CONV_BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
