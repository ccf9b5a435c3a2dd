# kosresearch — everything an analyst or CI runs goes through these targets.
# A fresh machine needs Python >= 3.11 and make; `make report` and `make test`
# create .venv and install the project on first use.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
LAB_INSTALLED := $(VENV)/.lab-installed
SAMPLE_SEED := 20261122
JOBS ?=
# Parallelism is by processes (report jobs, simulator regions); BLAS threads on top of
# them oversubscribe the cores and make small linear algebra erratic. Override if needed.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

.PHONY: report test lab bench golden sample clean distclean

# The venv sentinel: rebuilt whenever pyproject.toml (the single source of dependencies) changes.
$(INSTALLED): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "error: no python3.11 or python3 on PATH; install Python >= 3.11 (or: make PYTHON=/path/to/python3.11)" >&2; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "error: kosresearch needs Python >= 3.11, but $(PYTHON) is " + sys.version.split()[0] + "; install Python 3.11+ or run: make PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

## report: run every notebook for every region of data_samples/ -> reports/index.html
report: $(INSTALLED)
	$(BIN)/kosresearch run --regions all --notebooks all --out reports $(if $(JOBS),--jobs $(JOBS),)

## test: unit tests, notebook tests and nbval on the golden notebooks (exit 5 = nothing collected is not a failure)
test: $(INSTALLED)
	@$(BIN)/python -m pytest --nbval-lax --nbval-current-env; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

$(LAB_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[dev,lab]'
	$(BIN)/python -m ipykernel install --sys-prefix --name kosresearch --display-name "Python (kosresearch)"
	@touch $@

## lab: JupyterLab on a registered `kosresearch` kernel
lab: $(LAB_INSTALLED)
	$(BIN)/jupyter lab --notebook-dir=.

## bench: every benchmarks/bench_*.py; results in benchmarks/results/
bench: $(INSTALLED)
	$(BIN)/python benchmarks/run.py

## golden: regenerate the nbval golden notebooks in tests/golden/ from data_samples/
golden: $(INSTALLED)
	$(BIN)/python tests/make_golden.py

## sample: regenerate data_samples/ with the simulator and its fixed seed
sample: $(INSTALLED)
	$(BIN)/kosresearch simulate --preset sample --out data_samples --seed $(SAMPLE_SEED)

## clean: remove generated reports, benchmark results and caches (keeps .venv)
clean:
	find reports -mindepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf benchmarks/results .pytest_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

## distclean: clean, and remove .venv
distclean: clean
	rm -rf $(VENV)
