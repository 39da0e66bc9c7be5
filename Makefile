# Two commands for a fresh clone: `make run` (train on the bundled MNIST) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench bench-recipes clean

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

# Two workers, a test file each at a time (--dist loadfile: a file's module fixtures are built once).
test: $(TEST_STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile

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

# `make bench` rewrites every results file under benchmarks/results/ (see benchmarks/README.md); on a shared
# machine it takes an hour or more. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: each timing runs as set, and again
# with both unset when either is set (run.py always runs both).
UNSET := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
BLAS_VARS_SET := $(strip $(OPENBLAS_CORETYPE)$(OPENBLAS_L2_SIZE))
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	-$(PY) -m pip install --quiet 'torch==2.13.0' || echo "PyTorch 2.13.0 not installable here: its column is skipped."
	$(PY) benchmarks/run.py --mode as-set --threads 1 $(BENCH_ARGS)
	$(PY) benchmarks/run.py --mode as-set --threads 2 --no-train-run $(BENCH_ARGS)
	$(UNSET) $(PY) benchmarks/run.py --mode unset --threads 1 --no-train-run $(BENCH_ARGS)
	$(PY) benchmarks/report.py --readme
	$(PY) benchmarks/conv.py --threads 1 $(CONV_BENCH_ARGS)
	$(PY) benchmarks/conv.py --threads 2 --no-rss --no-layer $(CONV_BENCH_ARGS)
	$(if $(BLAS_VARS_SET),$(UNSET) $(PY) benchmarks/conv.py --threads 1 --no-rss --label unset $(CONV_BENCH_ARGS))
	$(PY) benchmarks/conv_layout.py
	$(PY) benchmarks/threads_entry.py --quiet-too
	$(PY) benchmarks/threads_busy.py
	$(PY) benchmarks/interop.py --out benchmarks/results/interop.md
	$(PY) benchmarks/serve_load.py
	$(PY) benchmarks/record_recipes.py --previous mnist-99 mnist-cnn lenet5 sweep mnist-lstm mnist-vit

# The long recipe rows too (mnist-99, mnist-cnn, LeNet-5, the sweep, mnist-lstm, mnist-vit): about an hour on an
# idle 2-core machine, several on a busy one.
bench-recipes: $(STAMP)
	$(PY) benchmarks/record_recipes.py train-default train-preset-article article-script series-4.1 series-4.4 \
		series-4.5 mnist-99 mnist-cnn lenet5 sweep mnist-lstm mnist-vit

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
