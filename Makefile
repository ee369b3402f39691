# The course's two everyday commands are `make book` and `make test`.
# Both create the pinned environment in .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ENV_STAMP := $(VENV)/.installed
# JupyterHub's proxy, from npm, for the test of `serve` as a hub service (tests/test_service_hub.py).
PROXY_VERSION := 5.3.0
PROXY_STAMP := .node/.installed-$(PROXY_VERSION)
# Where _build/ goes; tests and benchmarks point it at a scratch folder.
BUILD_ROOT ?= $(CURDIR)
# The table of contents; a chapter author may build a subset with TOC=path/to/toc.yml.
TOC ?= $(CURDIR)/_toc.yml
JB_FLAGS := -W -n --keep-going

.PHONY: env hub-proxy book live lab doctor test browser bench lock release check clean

$(ENV_STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

env: $(ENV_STAMP)

$(PROXY_STAMP):
	npm install --no-save --no-audit --no-fund --prefix .node configurable-http-proxy@$(PROXY_VERSION)
	touch $@

hub-proxy: $(PROXY_STAMP)

book: $(ENV_STAMP)
	$(BIN)/jupyter-book build book --config $(CURDIR)/_config.yml --toc $(TOC) --path-output $(BUILD_ROOT) $(JB_FLAGS)
	$(BIN)/python book/_tools/print_book.py $(BUILD_ROOT)/_build/html $(TOC)
	@echo "The book is at file://$(abspath $(BUILD_ROOT))/_build/html/index.html"

# The live-coding notebooks (live-coding/), regenerated from the chapters after editing one.
live: $(ENV_STAMP)
	$(BIN)/python book/_tools/live_notebooks.py

# The students' JupyterLab: no instructor tools, one validate (see config/student-lab/README.md);
# `make lab DIR=~/work` opens the folder an exercise was fetched into.
DIR ?= $(CURDIR)
lab: $(ENV_STAMP)
	JUPYTER_CONFIG_DIR=$(CURDIR)/config/student-lab $(BIN)/jupyter lab --ServerApp.root_dir=$(DIR)

# Is this machine ready for the course? One line per check (python -m autograder doctor).
doctor: $(ENV_STAMP)
	$(BIN)/python -m autograder doctor

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

# One pytest worker per core (pytest-xdist); the book is built once and shared.
test: $(ENV_STAMP) $(PROXY_STAMP) browser
	$(BIN)/python -m pytest -n auto

bench: $(ENV_STAMP)
	$(BIN)/python benchmarks/book_build.py
	$(BIN)/python benchmarks/grading.py
	$(BIN)/python benchmarks/service_load.py
	$(BIN)/python benchmarks/page_weight.py

release: $(ENV_STAMP)
	$(BIN)/python -m autograder release

check: $(ENV_STAMP)
	$(BIN)/python -m autograder check

# Re-pin every dependency after changing requirements.txt.
lock: $(ENV_STAMP)
	$(BIN)/python -m pip freeze --all --exclude-editable --exclude pip > constraints.txt

clean:
	rm -rf _build
