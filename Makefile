# Seteli — every target works on a fresh clone: it creates .venv and installs first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-unit lint typecheck migrate-heads bench clean messages

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -U pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## start NATS, the three services and the gateway; load demo data; print URLs
	$(PY) deploy/launcher.py

CHROMIUM ?= /usr/bin/chromium
# test files run in parallel worker processes (each with its own nats-server, SQLite files and
# PostgreSQL schemas); TEST_WORKERS=0 runs them in this process
TEST_WORKERS ?= 2

test: $(STAMP)  ## unit, integration, e2e and browser tests (PostgreSQL too when TEST_POSTGRES_URL is set)
	$(PY) -m services.migrate heads
	@test -x $(CHROMIUM) || echo "NOTE: Chromium not found at $(CHROMIUM): the browser tests" \
		"(tests/browser) are skipped. Install it with: apt-get install chromium"
	SETELI_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

lint: $(STAMP)  ## ruff, mypy and the import contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

migrate-heads: $(STAMP)
	$(PY) -m services.migrate heads

bench: $(STAMP)  ## benchmarks; figures go to docs/BENCHMARKS.md
	$(PY) bench/foundation.py
	$(PY) bench/registry_search.py
	$(PY) bench/gateway_hop.py
	$(PY) bench/web_pages.py
	$(PY) bench/voucher.py
	$(PY) bench/assignment.py
	$(PY) bench/recommendation_service.py
	$(PY) bench/consumer_batching.py --events 10000
	$(PY) bench/assignment_run.py

messages: $(STAMP)  ## extract the page texts and update the fi/sv/en catalogues (then translate)
	$(VENV)/bin/pybabel --quiet extract -F gateway/web/babel.cfg --no-location --omit-header \
		-o gateway/web/locale/messages.pot .
	$(VENV)/bin/pybabel --quiet update -i gateway/web/locale/messages.pot -d gateway/web/locale \
		--no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
