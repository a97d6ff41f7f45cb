# Two commands on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast test-browser notebooks bench lint check-java install clean

# The notebooks run under nbval in `make test`; outputs that vary are sanitised, not skipped.
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval-sanitize.cfg
# Two test processes (one Spark session each), a file at a time: a notebook's cells stay in
# order in one kernel, and a module's session fixtures are built once. `make test WORKERS=`
# runs everything in one process. Native tracebacks: under xdist on Python 3.11.7, pytest's
# own (AST-based) formatting of a failure can crash a worker and hide the report. No output
# capture in the workers (-s): a worker's capture file was found closed mid-run (as in
# pytest-xdist#1019), after which every later test in that worker errors at set-up. Failures
# still report their log records; a worker's own output goes to .pytest_cache/workers/.
WORKERS ?= -n 2 --dist loadfile --tb=native -s
NOTEBOOKS = $(shell find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "collab needs Python 3.11 ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# the wheel maps labext/install.json to the built extension's folder, where an earlier
	@# build left its own copy: hatchling refuses a second file at one path
	rm -f collab/labextension/install.json
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

check-java:
	@command -v java >/dev/null 2>&1 || { echo "Spark needs Java 17 or 21 on the PATH: apt-get install openjdk-17-jre-headless (or conda install openjdk=17)"; exit 1; }

demo: install check-java
	$(BIN)/python -m collab demo

test: install check-java
	$(BIN)/python -m pytest tests notebooks $(NBVAL) $(WORKERS) --durations=15

test-fast: install
	$(BIN)/python -m pytest -m "not http and not slow"

# JupyterLab in headless Chromium (/usr/bin/chromium; `make test` runs it too)
test-browser: install check-java
	$(BIN)/python -m pytest tests/browser

# Re-run every notebook and store its outputs. Spark's JVM writes start-up notices straight
# to the kernel's file descriptors, which kernels under nbval never show: keep them out here too.
notebooks: install check-java
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 \
		--ExecutePreprocessor.extra_arguments="['--IPKernelApp.capture_fd_output=False']" \
		$(NOTEBOOKS)

bench: install check-java
	$(BIN)/python -m benchmarks

lint: install
	$(BIN)/ruff check collab tests benchmarks
	$(BIN)/python -m pytest -q tests/test_layers.py tests/test_docs.py -p no:cacheprovider --noconftest

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info

# The JupyterLab extension (labext/): built into collab/labextension, linked into the venv
# (sys-prefix, never the user's own Jupyter dirs), and its jest tests. Node.js 20 is needed
# where it is built; `make test` runs both.
.PHONY: labext test-labext
JLPM := PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/jlpm
LABEXT_SOURCES = $(shell find labext/src labext/style -type f) labext/package.json \
	labext/yarn.lock labext/tsconfig.json
LABEXT_BUILD := collab/labextension/package.json

$(LABEXT_BUILD): $(LABEXT_SOURCES) | $(STAMP)
	cd labext && $(JLPM) install && $(JLPM) build:prod
	touch $@

labext: $(LABEXT_BUILD)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter-builder develop --overwrite .

test-labext: labext
	cd labext && $(JLPM) test

test: labext test-labext
