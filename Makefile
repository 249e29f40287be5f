# The two commands of README.md: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install messages bench lint

$(VENV)/.installed: pyproject.toml scripts/install.sh
	scripts/install.sh
	touch $@

install: $(VENV)/.installed messages

messages: $(VENV)/.installed
	scripts/compile-messages.sh

run: install
	scripts/run-dev.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install lint
	scripts/ensure-services.sh
	scripts/ensure-test-tools.sh
	$(BIN)/pytest

bench: install
	scripts/ensure-services.sh
	scripts/ensure-bench-tools.sh
	$(BIN)/python bench/run.py
