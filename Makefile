# crossdiff: two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow bench bench-full clean venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	mkdir -p demo-output
	$(VENV)/bin/crossdiff run keller-segel-logistic --grid 128x128 --t-end 20 --save-every 1 --out demo-output/demo.nc
	$(VENV)/bin/crossdiff plot demo-output/demo.nc --out demo-output/demo.png
	@echo "wrote demo-output/demo.nc and demo-output/demo.png"

test: $(STAMP)
	$(PY) -m pytest -q

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

clean:
	rm -rf $(VENV) demo-output .pytest_cache
