# recist: the two commands of a fresh machine are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell sha1sum pyproject.toml | cut -c1-12)
CORE_STAMP := $(VENV)/.core-$(HASH)
STAMP := $(VENV)/.test-$(HASH)
APT_PACKAGES := xvfb libxcb-icccm4 libxcb-keysyms1 dicom3tools dcmtk chromium nodejs
DEMO_OUT ?= demo_out

.PHONY: demo test lint system-packages js-packages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the core alone (what `make demo` needs)
$(CORE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.core-*
	touch $(CORE_STAMP)

# everything: the core, the napari plugin with its Qt binding, and the test tools
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[napari,test]'
	rm -f $(VENV)/.test-* $(VENV)/.core-*
	touch $(STAMP) $(CORE_STAMP)

# System packages for headless Qt (../shared/HEADLESS.md) and the DICOM validators (dciodvfy, dsrdump).
# Installed only when missing, and only when run as root (CI runs as root on a fresh machine).
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	  else echo "warning: missing system packages:$$missing (run as root or install them; GUI and DICOM-validator tests will skip)"; fi; \
	fi

# dcmjs (OHIF's DICOM library) for the SR interoperability tests, pinned by tests/js/package-lock.json and
# installed into tests/js/node_modules (gitignored); without npm the tests that need it skip with the reason.
JS_STAMP := tests/js/node_modules/.package-lock.json
js-packages: $(JS_STAMP)
$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests/js --ignore-scripts --no-audit --no-fund --loglevel=error; \
	else echo "warning: npm is missing (install node.js with npm); the dcmjs/OHIF SR tests will skip"; fi

demo: $(CORE_STAMP)
	$(BIN)/python -m recist demo $(DEMO_OUT)

lint: $(STAMP)
	$(BIN)/ruff check recist plugins tests benchmarks sample_data docs

test: system-packages js-packages $(STAMP) lint
	XDG_CONFIG_HOME=$$(mktemp -d) XDG_CACHE_HOME=$$(mktemp -d) MPLBACKEND=Agg $(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info
