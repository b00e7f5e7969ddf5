# Two commands on a fresh machine: `make run` and `make test`. Everything they need is installed
# here from the pinned files in requirements/, never by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

-include .env
# Local secrets (pseudonymous ids, encryption at rest, a Redis password per kind of process), made
# on first use and completed when a new one appears. In production set them in the environment.
# The admin's Redis password stays in the file (bot/redis_server.py and handoff.admin read it there);
# each process of the Procfile keeps only its own of the others.
-include var/secrets.env
export ID_SECRET MESSAGE_KEY REDIS_PASSWORD_WEB REDIS_PASSWORD_WORKER REDIS_PASSWORD_RASA REFERRAL_KEY
export REDIS_MAXMEMORY
# Where this runs: `local` lets the processes start with the throw-away secrets of var/secrets.env;
# set DEPLOYMENT=production in .env on a server, and a weak secret is refused (bot/settings.py).
DEPLOYMENT ?= local
export DEPLOYMENT
REDIS_HOST ?= 127.0.0.1
REDIS_PORT ?= 6380
# Redis with Sentinel (.env.example): empty, the processes use REDIS_HOST and REDIS_PORT.
REDIS_SENTINELS ?=
REDIS_MASTER_NAME ?= hotline
RASA_PORT ?= 5005
ACTIONS_PORT ?= 5055
TRACKER_MAX_EVENTS ?= 60
CONVERSATION_TTL_SECONDS ?= 2592000
# Rasa's copy of a conversation goes with the gateway's.
TRACKER_EXPIRY_SECONDS ?= $(CONVERSATION_TTL_SECONDS)
BOT_PORT ?= 8000
export REDIS_SENTINELS REDIS_MASTER_NAME
export REDIS_HOST REDIS_PORT RASA_PORT ACTIONS_PORT TRACKER_MAX_EVENTS TRACKER_EXPIRY_SECONDS
export BOT_PORT CONVERSATION_TTL_SECONDS RASA_URL
# Channels: each starts only when its credentials are set (see .env.example).
export PUBLIC_URL TELEGRAM_TOKEN LINE_CHANNEL_SECRET LINE_ACCESS_TOKEN
# Hand-offs: when a waiting person is reminded (minutes).
export WAIT_REMINDER_MINUTES
# The internal ports: health, readiness and metrics (bot/probes.py).
export METRICS_HOST METRICS_PORT WORKER_PORT
# Optional machine translation for operators (off unless TRANSLATE_URL is set).
export TRANSLATE_URL TRANSLATE_API_KEY
# TensorFlow's start-up chatter hides what matters.
export TF_CPP_MIN_LOG_LEVEL := 2
# Rasa would report usage and errors to its servers; nothing leaves this machine.
export RASA_TELEMETRY_ENABLED := false

VENV := .venv
VENV_RASA := .venv-rasa
RASA := $(VENV_RASA)/bin/rasa
MODEL := models/assistant.tar.gz

# The first interpreter in the list that runs.
first_python = $(shell for p in $(1); do "$$p" -c 'import sys' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
PYTHON310 ?= $(call first_python,$(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10) python3.10)
PYTHON311 ?= $(call first_python,python3.11 $(wildcard $(HOME)/.pyenv/versions/3.11.*/bin/python3.11) python3.12 python3.13)

RASA_SOURCES := config.yml $(shell find domain nlu_data dialogue rasa_plugins -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null)

.PHONY: help setup train run shell test test-fast lint content-lint responses typecheck validate unit
.PHONY: stories bench clean browser redis sound deploy-check nlu-gate cluster-test

help: ## Show the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(VENV_RASA)/.installed ## Install both environments (pinned)

$(VENV_RASA)/.installed: requirements/rasa.in requirements/rasa.lock
	@test -n "$(PYTHON310)" || { echo "Rasa 3.6 needs Python 3.10 and none was found."; \
	  echo "Install it with 'pyenv install 3.10.13' (or your system's python3.10 package), then run make again;"; \
	  echo "or point to one: make PYTHON310=/path/to/python3.10 ..."; exit 1; }
	@echo "== Rasa environment ($(VENV_RASA), $(PYTHON310)): a few minutes the first time"
	"$(PYTHON310)" -m venv $(VENV_RASA)
	$(VENV_RASA)/bin/pip install --quiet --upgrade "pip<25"
	$(VENV_RASA)/bin/pip install --progress-bar off -r requirements/rasa.in -c requirements/rasa.lock
	echo "$(CURDIR)" > "$$($(VENV_RASA)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/hotline-project.pth"
	touch $@

$(VENV)/.installed: requirements/app.in requirements/app.lock
	@test -n "$(PYTHON311)" || { echo "The services need Python 3.11 or newer and none was found."; \
	  echo "Install it with 'pyenv install 3.11.7', or: make PYTHON311=/path/to/python3.11 ..."; exit 1; }
	@echo "== Services environment ($(VENV), $(PYTHON311))"
	"$(PYTHON311)" -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --progress-bar off -r requirements/app.in -c requirements/app.lock
	echo "$(CURDIR)" > "$$($(VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/hotline-project.pth"
	touch $@

var/secrets.env: bot/local_secrets.py
	@python3 bot/local_secrets.py $@

train: $(MODEL) ## Train the model if the data changed since the last one

$(MODEL): $(VENV_RASA)/.installed $(RASA_SOURCES)
	@echo "== Training (Rasa reuses what has not changed)"
	$(RASA) train --domain domain --data nlu_data dialogue --config config.yml \
	  --out models --fixed-model-name assistant
	touch $@

run: setup redis sound $(MODEL) var/secrets.env ## Start Redis, Rasa, the actions and the gateway; Ctrl-C stops all
	@echo "== Starting: Redis on $(REDIS_HOST):$(REDIS_PORT), actions on 127.0.0.1:$(ACTIONS_PORT), Rasa on http://127.0.0.1:$(RASA_PORT)"
	@echo "== When Rasa says it is up, open the web chat: http://127.0.0.1:$(BOT_PORT)/"
	@echo "   (or talk in this terminal: 'make shell' in another one)"
	$(VENV)/bin/honcho start --no-prefix -f Procfile 2>&1 || true

rotate-keys: $(VENV)/.installed ## Re-encrypt stored data with the first key of MESSAGE_KEY
	$(VENV)/bin/python -m bot.rotate_keys

shell: $(VENV)/.installed ## Talk to the running assistant in this terminal
	$(VENV)/bin/python -m bot.shell --url http://127.0.0.1:$(RASA_PORT)

lint: $(VENV)/.installed content-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

content-lint: $(VENV)/.installed ## Check every text a person reads (labels, bubble length, numbers, Thai voice)
	$(VENV)/bin/python -m hotline.content_lint

# kubectl renders the overlays (its kustomize): the `kubectl` package of the Kubernetes or Google
# Cloud apt repository (Debian's own kubernetes-client, 1.20, is too old for `labels`).
deploy-check: $(VENV)/.installed ## Render and validate the Kubernetes overlays and the compose file (offline)
	@command -v kubectl >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== Installing kubectl (apt-get)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubectl >/dev/null || true; \
	  fi; }
	$(VENV)/bin/python deploy/check.py

responses: $(VENV)/.installed ## Remake domain/responses.yml from content/turns.yaml after editing it
	$(VENV)/bin/python -m hotline.responses

typecheck: setup
	$(VENV_RASA)/bin/mypy
	$(VENV)/bin/mypy --python-version 3.11 bot handoff hotline deploy/check.py bench/e2e.py bench/console.py bench/reports.py bench/abuse.py bench/metrics.py bench/stack.py bench/cluster.py bench/media.py bench/voices.py tests/hosts.py tests/cluster.py $(wildcard tests/gateway/*.py tests/standins/*.py tests/failover/*.py)

validate: $(VENV_RASA)/.installed
	$(RASA) data validate --domain domain --data nlu_data dialogue --config config.yml

# The review sheet for native speakers (README, "Reviewing the words").
.PHONY: content-sheet content-import
content-sheet: $(VENV)/.installed ## Write every text a person reads to var/content-sheet/ (.xlsx and .csv)
	$(VENV)/bin/python -m hotline.content_sheet export

content-import: $(VENV)/.installed ## Take a reviewed sheet back: make content-import FILE=... [DRY_RUN=1]
	@test -n "$(FILE)" || { echo "Say which sheet: make content-import FILE=var/content-sheet/content.xlsx"; \
	  echo "(DRY_RUN=1 shows the diff and writes nothing)"; exit 1; }
	$(VENV)/bin/python -m hotline.content_sheet import "$(FILE)" $(if $(DRY_RUN),--dry-run)

unit: setup browser redis sound $(MODEL)
	$(VENV_RASA)/bin/pytest --ignore=tests/gateway --ignore=tests/failover
	$(VENV)/bin/pytest tests/gateway

# The console's browser tests drive Debian's Chromium (Playwright's own browser download is not
# reachable here), with Thai and Khmer fonts so that screenshots show the text.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
browser: ## Install Chromium and Thai/Khmer fonts for the browser tests (Debian, as root)
	@test -x "$(CHROMIUM)" && fc-list 2>/dev/null | grep -qi khmer || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== Installing Chromium and Thai/Khmer fonts (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      chromium fonts-thai-tlwg fonts-khmeros fontconfig >/dev/null; \
	  else \
	    echo "The browser tests need Chromium at $(CHROMIUM) and Thai/Khmer fonts: install the Debian"; \
	    echo "packages chromium fonts-thai-tlwg fonts-khmeros, or run: make CHROMIUM=/path/to/chromium test"; \
	    exit 1; \
	  fi; }

# Redis 7 or newer (bot/redis_server.py): Debian's, installed when missing and running as root.
# The package's own service (port 6379, no password) is stopped and disabled: make run starts its own.
REDIS_7 = redis-server --version 2>/dev/null | grep -Eq 'v=([7-9]|[1-9][0-9])\.'
redis: ## Install Debian's Redis server (7.0) when redis-server is missing or older (as root)
	@{ test -n "$$REDIS_SERVER" || test "$$REDIS_ALLOW_OLD" = 1 || $(REDIS_7); } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== Installing Redis (apt-get redis-server)"; \
	    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \
	      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	           --no-install-recommends redis-server; }; } >/dev/null; \
	    { systemctl disable --now redis-server || service redis-server stop; } >/dev/null 2>&1 || true; \
	    $(REDIS_7) || { echo "apt-get installed $$(redis-server --version | cut -d' ' -f3), older than 7:"; \
	      echo "install Redis 7 yourself and set REDIS_SERVER=/path/to/redis-server."; exit 1; }; \
	  else \
	    echo "The project needs Redis 7 or newer: install Debian's redis-server package (as root:"; \
	    echo "make redis), or point to one with REDIS_SERVER=/path/to/redis-server."; \
	    exit 1; \
	  fi; }

# The voices (bot/audio.py): espeak-ng reads Thai and Vietnamese aloud, ffmpeg makes what each
# channel plays. Without them the gateway still runs: only recordings play, none is converted.
sound: ## Install espeak-ng and ffmpeg for the texts read aloud (Debian, as root)
	@command -v espeak-ng >/dev/null && command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== Installing espeak-ng and ffmpeg (apt-get)"; \
	    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends espeak-ng ffmpeg \
	      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	           --no-install-recommends espeak-ng ffmpeg; }; } >/dev/null; \
	  else \
	    echo "The texts read aloud need espeak-ng and ffmpeg: install the Debian packages espeak-ng"; \
	    echo "ffmpeg (as root: make sound)."; \
	    exit 1; \
	  fi; }

stories: $(MODEL)
	$(RASA) test core --stories tests/stories --model $(MODEL) --endpoints endpoints.yml \
	  --fail-on-prediction-errors --out results/stories

# The NLU's held-out figures hold the line (bench/nlu.py, README "Benchmarks"): accuracy >= 95 % per
# language, in_danger recall >= 98 %, romanized Khmer >= 90 %, hyperbole read as danger <= 2 %.
nlu-gate: $(MODEL)
	$(VENV_RASA)/bin/python bench/nlu.py --check

# Hosts that die under load (tests/failover/, tests/hosts.py): network namespaces on this machine,
# so root only; make test runs it when it is root and says so when it is not.
cluster-test: setup redis sound $(MODEL) ## Two app hosts and Redis with Sentinels; cut one off, kill the primary (root)
	@if [ "$$(id -u)" != 0 ]; then echo "cluster-test makes network namespaces: run it as root (sudo make cluster-test)"; exit 1; fi
	@command -v ip >/dev/null || { echo "== Installing iproute2 (apt-get)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2; }; }
	$(VENV)/bin/pytest tests/failover -s

test: setup lint deploy-check typecheck validate $(MODEL) unit stories nlu-gate ## Install, train if needed, and run every check
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory cluster-test; \
	  else echo "== NOT RUN: cluster-test (needs root: sudo make cluster-test)"; fi
	@echo "== All checks passed"

# The tests that need no server but a Redis (no Rasa, no stack, no browser: tests/conftest.py).
test-fast: setup redis sound content-lint ## Lint and the quick tests, while you work (under a minute)
	$(VENV)/bin/ruff check .
	$(VENV_RASA)/bin/pytest -m "not servers" --ignore=tests/gateway --ignore=tests/failover -q
	$(VENV)/bin/pytest -m "not servers" tests/gateway -q
	@echo "== Quick checks passed (make test runs them all)"

bench: setup sound $(MODEL) ## Print NLU accuracy, latency (Rasa; gateway; console; reports), abuse, scrapes, training
	$(VENV_RASA)/bin/python bench/nlu.py
	$(VENV_RASA)/bin/python bench/rasa_latency.py
	$(VENV)/bin/python bench/e2e.py
	$(VENV)/bin/python bench/console.py
	$(VENV)/bin/python bench/media.py
	$(VENV)/bin/python bench/voices.py
	$(VENV)/bin/python bench/reports.py
	$(VENV)/bin/python bench/abuse.py
	$(VENV)/bin/python bench/metrics.py
	@if [ "$$(id -u)" = 0 ]; then $(VENV)/bin/python bench/cluster.py; \
	  else echo "== NOT RUN: bench/cluster.py (needs root)"; fi
	$(VENV_RASA)/bin/python bench/training.py

clean: ## Remove environments, models and local data
	rm -rf $(VENV) $(VENV_RASA) models var results .mypy_cache .ruff_cache .pytest_cache
