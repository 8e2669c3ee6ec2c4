# Two entry points: `make serve` and `make test`. Both create or refresh .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: venv serve test check lint docs eval clean system-deps

# torch is pinned and installed first: 2.13.0 resolves to the local CPU build instead of
# pulling several GB of CUDA packages through sentence-transformers' dependency on torch.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,batch]"
	touch $(STAMP)

venv: $(STAMP)

serve: venv
	$(BIN)/techmatch serve --host $(HOST) --port $(PORT)

# Style, types and import rules; any finding fails. mypy reads its modes from pyproject.toml: strict for
# matching/, standard for app/. lint-imports: the engine imports nothing of the service; the test: no
# module of app/ or matching/ imports itself through others.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q tests/test_architecture.py

# The quick loop: lint, then, on every core, the tests that load no real model and start no browser,
# server or other process (`make test` runs those too, one at a time).
check: venv lint
	$(BIN)/python -m pytest -q -n auto -m "not slow and not browser and not server"

# The documentation site, docs/*.md into site/ (git-ignored). --strict: a warning (a link to a missing
# page or heading, a page left out of the nav) fails the build; never add --quiet, which hides the
# warnings from the count as well. Offline: no built page may load anything from outside the site.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@if grep -rnoE '<(script|link|img|iframe|source|video|audio)[^>]* (src|href)="(https?:)?//[^"]*"' site --include='*.html' \
		|| grep -rnoE 'url\(["'"'"']?(https?:)?//[^)]*\)' site --include='*.html' --include='*.css'; then \
		echo "make docs: the pages above load something from outside the site" >&2; exit 1; fi

# Debian packages the tests need (PostgreSQL, chromium), installed only when missing.
system-deps:
	bash scripts/system-deps.sh

# axe-core from the npm registry, at the version package-lock.json pins: the browser tests run it in each page.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# The whole suite on the embedded SQLite database (the tests that stay in one process spread over the
# cores, then those that start servers, browsers or clusters one at a time), then the app tests again
# on a real PostgreSQL server that scripts/test-postgres.sh starts on 127.0.0.1; all run, any failing fails.
test: system-deps venv lint docs node_modules/axe-core/axe.min.js
	$(BIN)/python -m pytest -n auto -m "not browser and not server"; inprocess=$$?; \
	$(BIN)/python -m pytest -m "browser or server"; processes=$$?; \
	bash scripts/test-postgres.sh; postgres=$$?; \
	test $$inprocess -eq 0 && test $$processes -eq 0 && test $$postgres -eq 0

eval: venv
	$(BIN)/techmatch eval $(DATASET) --mode $(or $(MODE),hybrid)

clean:
	rm -rf $(VENV) var site .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
