# crossdiff: two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow lint bench bench-full clean venv docs docs-check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	mkdir -p demo-output
	$(VENV)/bin/crossdiff run keller-segel-logistic --grid 128x128 --t-end 20 --save-every 1 --out demo-output/demo.nc --overwrite
	$(VENV)/bin/crossdiff plot demo-output/demo.nc --out demo-output/demo.png --overwrite
	@echo "wrote demo-output/demo.nc and demo-output/demo.png"

# lint, format check and type check first (seconds), then the test suite
test: $(STAMP)
	$(PY) -m ruff check crossdiff tests bench docs
	$(PY) -m ruff format --check crossdiff tests bench docs
	$(PY) -m mypy
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check --fix crossdiff tests bench docs
	$(PY) -m ruff format crossdiff tests bench docs

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

$(VENV)/.bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(VENV)/.bench

# quick comparison with py-pde (64², a few minutes); `make bench-full` runs the whole study (hours)
bench: $(VENV)/.bench
	$(PY) bench/bench_macro.py --quick

bench-full: $(VENV)/.bench
	mkdir -p bench-output
	$(PY) bench/bench_macro.py --json bench-output/macro.json
	$(PY) bench/work_precision.py --pypde bench-output/macro.json --grids 64,96,128,256 --json bench-output/work-precision.json
	$(PY) bench/bandwidth.py
	$(PY) bench/memory.py

$(VENV)/.docs: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,docs]'
	touch $(VENV)/.docs

# the manual (docs/manual.md): Sphinx + MyST, every warning an error, the gallery drawn by the code
docs: $(VENV)/.docs
	cd docs && $(CURDIR)/$(PY) -m sphinx -b html -W --keep-going . _build/html
	@echo "built docs/_build/html/index.html"

# every built page opened in headless Chromium: links that do not load, images that do not show
# (needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver)
docs-check: docs
	$(PY) docs/check_site.py docs/_build/html --browser

clean:
	rm -rf $(VENV) demo-output .pytest_cache docs/_build docs/_generated
