# Two commands for a fresh clone: `make run` (train on the bundled MNIST) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean

TEST_STAMP := $(VENV)/.installed-test

# `make run` installs only what the main job needs; `make test` adds the test tools and the optional extras.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

run: $(STAMP)
	$(VENV)/bin/numpynn train

test: $(TEST_STAMP)
	$(PY) -m pytest -q

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
