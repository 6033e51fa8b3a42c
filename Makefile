# moldstack: two commands on a fresh machine with only Python 3.11 and the package registries.
#   make demo   build the bundled stacked example and say where the outputs are
#   make test   lint and run the whole test suite (first installs ngspice with apt-get where it can)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
DEMO_SPEC ?= examples/pop_on_substrate.yaml
DEMO_OUT ?= out/demo

.PHONY: install install-test demo test lint format spice clean
.PHONY: viewer browser
VIEWER_JS := $(VENV)/share/moldstack/model-viewer/model-viewer-umd.min.js

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP) $@

install: $(STAMP)

install-test: $(TEST_STAMP)

demo: $(STAMP) viewer
	$(BIN)/moldstack claims $(DEMO_SPEC)
	$(BIN)/moldstack build $(DEMO_SPEC) -o $(DEMO_OUT)

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(TEST_STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# $(call apt_install,PACKAGES,CHECK,WHAT): unless the shell command CHECK succeeds, install the Debian PACKAGES with
# apt-get as root or with passwordless sudo; where that is impossible or fails, a line says so and WHAT is skipped.
define apt_install
	@$(2) || { \
	  if [ "$$(id -u)" = 0 ]; then as_root=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root="sudo -n"; \
	  else echo "$(1) missing and cannot be installed (no root, no passwordless sudo): $(3) will be skipped" >&2; exit 0; fi; \
	  command -v apt-get >/dev/null 2>&1 || { echo "$(1) missing and no apt-get to install it with: $(3) will be skipped" >&2; exit 0; }; \
	  echo "installing $(1) (apt-get) for $(3)"; \
	  { $$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	    && $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null \
	    && $(2); } \
	  || echo "$(1) install FAILED (see apt-get above): $(3) will be skipped" >&2; \
	}
endef

# ngspice runs the SPICE export's simulation tests.
spice:
	$(call apt_install,ngspice,command -v ngspice >/dev/null 2>&1,SPICE simulation tests)

# The report's interactive 3D view: @google/model-viewer (pinned, integrity-checked) from the npm registry, into
# the venv. Where the download fails, a line says so and reports show the static render instead.
viewer: $(VIEWER_JS)

$(VIEWER_JS): | $(STAMP)
	@$(BIN)/python -m moldstack.report.viewer install \
	  || echo "3D viewer not installed: reports will show the static render; run make viewer to try again" >&2

# Chromium and its driver run the report's browser tests (tests/test_report_browser.py). On Ubuntu the apt package is
# a shim for the snap: where no working browser results, those tests skip with the reason.
browser:
	$(call apt_install,chromium chromium-driver,command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1,browser tests of the report)

test: lint spice browser viewer
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis
