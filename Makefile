# vbank-desk: `make run` sets up and starts sandbox + app; `make test` sets up and runs every test.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
SANDBOX_PORT ?= 8787
APP_PORT ?= 8501
# The sandbox's data, kept across restarts of `make run`.
SANDBOX_DB ?= data/sandbox.sqlite3
# The PortOne V2 sandbox beside it (python -m sandbox --api v2; sandbox/v2/README.md), and its data.
SANDBOX_V2_PORT ?= 8788
SANDBOX_V2_DB ?= data/sandbox_v2.sqlite3
SANDBOX_V2_WEBHOOK_SECRET ?= whsec_c2FuZGJveF92Ml93ZWJob29rX3NlY3JldA==
# With VBANK_WEBHOOK_URL the watcher runs beside the app and receives PortOne's webhooks on this port (watcher/webhooks.py);
# the V2 sandbox then posts its own (a deposit, a cancel's outcome) there.
PORTONE_WEBHOOK_PORT ?= 8790
# Local mode gives every visitor every role: the app listens on this machine only unless you say otherwise.
APP_ADDRESS ?= 127.0.0.1
PYTEST_ARGS ?=

.PHONY: run test test-fast lint bench venv browser postgres settlement messages screenshots clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "Installing Debian chromium (browser tests)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi
	@$(CHROMIUM) --version

# Debian's PostgreSQL server binaries: the tests start a throwaway cluster of their own.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "Installing Debian postgresql (multi-instance tests)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi
	@ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | head -1 || command -v initdb

run: venv
	@mkdir -p data
	@echo "Starting the I'mport sandbox on http://127.0.0.1:$(SANDBOX_PORT), the PortOne V2 sandbox on http://127.0.0.1:$(SANDBOX_V2_PORT) and vbank-desk on http://localhost:$(APP_PORT)"
	@V2=; if [ -z "$$PORTONE_V2_API_URL$$PORTONE_V2_API_SECRET" ]; then \
	  V2="PORTONE_V2_API_URL=http://127.0.0.1:$(SANDBOX_V2_PORT) PORTONE_V2_WEBHOOK_SECRET=$(SANDBOX_V2_WEBHOOK_SECRET)"; fi; \
	HOOK=; if [ -n "$$VBANK_WEBHOOK_URL" ] && [ -n "$$V2" ]; then \
	  HOOK="--webhook-url http://127.0.0.1:$(PORTONE_WEBHOOK_PORT)/portone/webhook"; fi; \
	$(BIN)/python -m sandbox --port $(SANDBOX_PORT) --db $(SANDBOX_DB) & SB=$$!; \
	$(BIN)/python -m sandbox --api v2 --port $(SANDBOX_V2_PORT) --db $(SANDBOX_V2_DB) \
	  --webhook-secret $(SANDBOX_V2_WEBHOOK_SECRET) $$HOOK & SB2=$$!; \
	WA=; if [ -n "$$VBANK_WEBHOOK_URL" ]; then \
	  IAMPORT_API_URL=$${IAMPORT_API_URL:-http://127.0.0.1:$(SANDBOX_PORT)} PORTONE_WEBHOOK_PORT=$(PORTONE_WEBHOOK_PORT) \
	  VBANK_PUBLIC_URL=$${VBANK_PUBLIC_URL:-http://localhost:$(APP_PORT)} env $$V2 $(BIN)/python -m watcher & WA=$$!; \
	  echo "  watcher: posting to VBANK_WEBHOOK_URL; PortOne webhooks received on http://127.0.0.1:$(PORTONE_WEBHOOK_PORT)/portone/webhook"; fi; \
	trap "kill $$SB $$SB2 $$WA 2>/dev/null; wait" EXIT INT TERM; \
	for i in $$(seq 1 100); do curl -sf http://127.0.0.1:$(SANDBOX_PORT)/sandbox/health >/dev/null && break; sleep 0.2; done; \
	for i in $$(seq 1 100); do curl -sf http://127.0.0.1:$(SANDBOX_V2_PORT)/sandbox/health >/dev/null && break; sleep 0.2; done; \
	echo ""; echo "  vbank-desk: http://localhost:$(APP_PORT)   (Ctrl+C stops them all)"; echo ""; \
	IAMPORT_API_URL=$${IAMPORT_API_URL:-http://127.0.0.1:$(SANDBOX_PORT)} \
	env $$V2 $(BIN)/streamlit run app.py --server.address $(APP_ADDRESS) --server.port $(APP_PORT) --server.headless true \
	  --browser.gatherUsageStats false

test: venv browser postgres lint
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

# Everything but the browser tests, two workers: the lane to run while working.
test-fast: venv lint
	@$(BIN)/python -m pytest -q -m "not browser and not process" -n 2 -p no:randomly $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: venv
	$(BIN)/python -m bench.list_pending
	$(BIN)/python -m bench.reconcile
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.mirror

# A month end's files from the sandbox that `make run` keeps in data/: a PG settlement file and bank statements of
# one calendar month (KST), last month by default; MONTH=2026-11 for another.
MONTH ?= $(shell TZ=Asia/Seoul date -d "$$(TZ=Asia/Seoul date +%Y-%m-01) -1 month" +%Y-%m)
settlement: venv
	@from=$(MONTH)-01; to=$$(date -d "$(MONTH)-01 +1 month -1 day" +%F); echo "Month end $$from – $$to (KST)"; \
	$(BIN)/python -m sandbox settlement --from $$from --to $$to --db data/sandbox.sqlite3 --out data/settlement.csv && \
	$(BIN)/python -m tests.fixtures.realfiles --from $$from --to $$to --db data/sandbox.sqlite3 --out data

# Message catalogs: extract every text of the code into locale/messages.pot and merge it into the Korean catalog;
# lists the texts still without a Korean translation (tests/test_i18n.py fails on any).
messages: venv
	$(BIN)/python -m devtools.po extract
	$(BIN)/python -m devtools.po update
	$(BIN)/python -m devtools.po missing

# The Korean walkthrough's screenshots (1280×800) into docs/screenshots, as the README shows them.
screenshots: venv browser
	VBANK_SHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q -p no:randomly tests/e2e/test_korean_e2e.py

clean:
	rm -rf $(VENV) .pytest_cache data/*.sqlite3*
