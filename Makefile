# The two commands of README.md: `make run` and `make test`. On a plain Debian 12 with a
# Python >= 3.12, each installs what it needs (README.md, "What the commands install").
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

# Debian's packages each goal needs (scripts/ensure-packages.sh): one `apt-get update`, and only
# when something is missing. A goal's list also applies to the `install` it runs first.
PACKAGES := gettext
test: PACKAGES := gettext postgresql redis node chromium xmlsec1
bench: PACKAGES := gettext postgresql redis wrk haproxy

.PHONY: run test install packages messages bench lint screenshots

packages:
	scripts/ensure-packages.sh $(PACKAGES)

$(VENV)/.installed: pyproject.toml requirements/app.txt requirements/localstripe.txt scripts/install.sh
	scripts/install.sh
	touch $@

install: packages $(VENV)/.installed messages

messages: $(VENV)/.installed
	scripts/compile-messages.sh

run: install
	scripts/run-dev.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core tenancy meetings domains licensing provisioning sso wizard portal config

test: install lint
	scripts/ensure-services.sh
	scripts/ensure-database.sh
	scripts/ensure-test-tools.sh
	$(BIN)/pytest

# Every page in both languages at 390 and 1280 px (tests/e2e/test_every_page_browser.py), then
# their contact sheets in docs/screenshots/ (scripts/contact_sheet.py), drawn even when the test
# fails: the sheets show what it found.
screenshots: PACKAGES := gettext postgresql redis node chromium xmlsec1
screenshots: install
	scripts/ensure-services.sh
	scripts/ensure-database.sh
	scripts/ensure-test-tools.sh
	$(BIN)/pytest -p no:cacheprovider tests/e2e/test_every_page_browser.py; status=$$?; \
	  $(BIN)/python scripts/contact_sheet.py && exit $$status

bench: install
	scripts/ensure-services.sh
	$(BIN)/python bench/run.py
