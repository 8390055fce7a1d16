# ogimpact — two commands for a fresh machine:  make demo  ·  make test
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml | $(PYTHON) -c "import hashlib,sys;print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:12])")
export OPENBLAS_NUM_THREADS ?= 1
export MPLBACKEND = Agg

.PHONY: demo test install bench manifest clean reference lab validity

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## the main job on the bundled data: the Chile x rti_law country report
demo: install
	$(VENV)/bin/ogimpact data verify
	$(VENV)/bin/ogimpact report country CHL --intervention rti_law

## the test suite
test: install
	$(PY) -m pytest -q -n 2 --dist loadfile

## the published reference cases through the command line, as acceptance runs them
reference: install
	$(PY) tests/reference/check_reference.py tests/reference --ogimpact "$(VENV)/bin/ogimpact"

## ogimpact against its Python peers -> docs/benchmarks.md; the peers (pyproject's bench extra) go in
## a separate venv .venv-bench that benchmarks/run.py creates, so .venv stays lean
bench: install
	$(PY) benchmarks/run.py

## coverage and size of every design's intervals and tests -> docs/validity.md (about 20 min on 2 cores)
validity: install
	$(PY) benchmarks/validity.py --workers 2

manifest:
	$(PYTHON) scripts/make_manifest.py

## JupyterLab on notebooks/: make lab [LAB_HOST=127.0.0.1] [LAB_PORT=8888] [LAB_BROWSER=no]; as root
## (containers) it adds --allow-root, which Jupyter otherwise refuses to start without
LAB_HOST    ?= 127.0.0.1
LAB_PORT    ?= 8888
LAB_BROWSER ?= yes
LAB_FLAGS    = --ip=$(LAB_HOST) --port=$(LAB_PORT) $(if $(filter no,$(LAB_BROWSER)),--no-browser) \
               $(if $(filter 0,$(shell id -u)),--allow-root)
lab: install
	$(PIP) install --quiet -e ".[lab]"
	@echo "JupyterLab on http://$(LAB_HOST):$(LAB_PORT)/ (stop with Ctrl-C)$(if $(filter 0,$(shell id -u)), - running as root: --allow-root)"
	$(VENV)/bin/jupyter lab notebooks/ $(LAB_FLAGS)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
