# longwatch: `make demo` and `make test` install what they need and run.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEBS := ffmpeg libimage-exiftool-perl openssl fonts-dejavu-core fonts-noto-cjk libgl1 libglib2.0-0 \
	python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly \
	chromium postgresql poppler-utils softhsm2 gettext \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig
# what only the benchmarks use (wrk drives the web benchmark's signed-in clients)
BENCH_DEBS := wrk
DEMO_DIR ?= demo-archive
PORT ?= 8000
PYTEST_WORKERS ?= auto

.PHONY: help demo test bench lint i18n docs system-deps venv clean

help:
	@echo "make demo   - install, make sample footage, archive and verify it, serve the web UI"
	@echo "make test   - install and run the whole test suite"
	@echo "make bench  - run the benchmarks (figures in docs/performance.md)"
	@echo "make lint   - ruff, mypy and the import layers (lint-imports)"

system-deps:
	@scripts/install-system-deps.sh $(DEBS)

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip >/dev/null
	$(BIN)/python -m pip install -q -e '.[all,test]'
	@touch $@

venv: $(BIN)/.installed

demo: system-deps venv
	@scripts/demo.sh "$(DEMO_DIR)" "$(PORT)"

test: system-deps venv
	$(BIN)/ruff check longwatch tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation examples/longwatch-example-connector
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider $(PYTEST_ARGS)

bench: system-deps venv
	@scripts/install-system-deps.sh $(BENCH_DEBS)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check longwatch tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

i18n: venv
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k npgettext:1c,2,3 --no-location --sort-output \
		-o longwatch/locale/longwatch.pot . >/dev/null
	$(BIN)/python scripts/gen_command_index.py
	$(BIN)/python scripts/extract_help.py
	cd scripts && ../$(BIN)/python update_catalogs.py

docs: venv
	$(BIN)/python scripts/gen_errors_doc.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
