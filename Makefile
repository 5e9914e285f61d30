# The two commands a newcomer runs (see README.md). Both set up what they need themselves.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test bench bench-api lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/sg-pipelines demo $(ARGS)

test: $(STAMP)
	./.ci/install-test-tools
	$(VENV)/bin/ruff check sg_pipelines sg_pipelines_tests
	$(VENV)/bin/ruff format --check sg_pipelines sg_pipelines_tests
	$(VENV)/bin/python -m pytest $(ARGS)

bench: $(STAMP)
	$(VENV)/bin/pip install --quiet -e '.[dev,bench]'
	$(VENV)/bin/python -m sg_pipelines_tests.bench.roster_sync $(ARGS)

# the reporting API under load: wrk (Debian's package) is the load generator
bench-api: $(STAMP)
	./.ci/apt-install wrk
	$(VENV)/bin/python -m sg_pipelines_tests.bench.api $(ARGS)
