# Two commands from a fresh clone: `make run` serves the sandbox, `make test` runs the tests.
# Both create what they need on first use: a uv binary in .tools/ (from PyPI) and the locked Python
# environment in .venv/ (uv.lock). `make test` also installs what the tests start themselves: the
# npm-pinned node tools in tools/node (anvil, ethers.js, T-REX ABIs) and, as root with apt-get when it is
# missing, Debian's PostgreSQL. `make test-fast` needs neither. Contract builds install the npm-pinned
# solc (contracts/package-lock.json).
PY      ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV      := .tools/bin/uv
VENV    := .venv
BIN     := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run run-uk-us test test-fast test-pyevm test-time lint contracts check-contracts bench clean node-tools postgres-server browser screens

$(UV):
	$(PY) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

## Byte-compiled at install: an environment without writable caches (PYTHONDONTWRITEBYTECODE, a read-only
## tree) would otherwise compile every imported module from source at every start (`sandbox serve` spent
## about 2.5 of its 4.8 s quiet to /health importing, half of it compiling).
$(VENV)/.synced: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode --python $(PY)
	$(BIN)/python -m compileall -q -j 0 sandbox api >/dev/null
	@touch $@

install: $(VENV)/.synced

contracts/node_modules/.installed: contracts/package.json contracts/package-lock.json
	cd contracts && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## anvil 1.7.1, ethers.js 6 and the T-REX ABIs for the external-node, JSON-RPC client and T-REX tests
## (tests marked `node`; their fixtures fail, naming this target, when the tools are missing).
tools/node/node_modules/.installed: tools/node/package.json tools/node/package-lock.json
	cd tools/node && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-tools: tools/node/node_modules/.installed

## Debian's PostgreSQL for the read-model tests on a real server (tests marked `postgres`): installed
## with apt-get when no /usr/lib/postgresql/*/bin/postgres exists (root only; otherwise this fails and
## says what to install). The tests start their own server on 127.0.0.1 and stop it by its PID.
postgres-server:
	@if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "PostgreSQL is missing and this is not root: sudo apt-get install -y postgresql" >&2; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y --no-install-recommends postgresql >/dev/null 2>&1 || \
		{ apt-get update && apt-get install -y --no-install-recommends postgresql; } || exit 1; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || \
		{ echo "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/postgres appeared" >&2; exit 1; }

## Debian's Chromium for the console's browser tests (tests marked `browser`, driven by Playwright for Python
## with `executable_path`; Playwright's own browser download is not used): installed with apt-get when no
## `chromium` is on the PATH (root only; otherwise this fails and says what to install).
browser:
	@if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "Chromium is missing and this is not root: sudo apt-get install -y chromium" >&2; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
		{ apt-get update && apt-get install -y --no-install-recommends chromium; } || exit 1; \
	command -v chromium >/dev/null 2>&1 || { echo "apt-get installed chromium but no chromium is on the PATH" >&2; exit 1; }

## The console's screenshots in docs/screens (1280x800, taken by the browser tests).
screens: install browser
	SANDBOX_SCREENS=docs/screens $(PYTEST) -q -p no:cacheprovider tests/browser

## Serve the sandbox (embedded chain + demo scenario + API) on 127.0.0.1:8000.
run: install
	$(BIN)/sandbox serve

## Serve the UK-US sandbox scenario (44 investors, seven weeks of history; slower to start).
run-uk-us: install
	SANDBOX_SCENARIO=seeds/uk-us-sandbox.yaml $(BIN)/sandbox serve

## pytest rewrites the asserts of the test modules and of its plugins' whole packages (hypothesis,
## schemathesis, anyio, sandbox: about 520 modules) as it imports them, and caches the result in __pycache__
## unless PYTHONDONTWRITEBYTECODE is set. Where it is set (this machine's environment), every worker of every
## run rewrote them all again: about 6 of the 13 CPU-s each worker spent collecting. The test commands unset
## it for pytest alone (the cache is keyed by each source's mtime and size: an edited test is rewritten).
PYTEST = env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest

## Run the test suite (all of it: CI runs this), on one worker per core (pytest-xdist; a file's tests stay
## on one worker, so its module fixtures are built once). `make test PYTEST_WORKERS=0` runs it serially.
## --no-loadscope-reorder: pytest-xdist 3 otherwise hands out the files by number of tests, most first,
## which ignored tests/conftest.py's order (slow files first) and left the one-test files that run for a
## minute (the SIGKILL and wheel tests) to the end, one worker busy while the other idled.
PYTEST_WORKERS ?= auto
PYTEST_XDIST = -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder
test: install node-tools postgres-server browser
	$(PYTEST) -q $(PYTEST_XDIST)

## The inner loop: everything but the tests marked slow, postgres, node or browser; needs no npm and
## no PostgreSQL.
test-fast: install
	$(PYTEST) -q $(PYTEST_XDIST) -m "not slow and not postgres and not node and not browser"

## py-evm, the reference engine, beside the default (revm): tests/chain already runs on both engines;
## this runs the chain, contract and market tests with SANDBOX_ENGINE=embedded. Not in CI (about 12 CPU-minutes);
## there tests/chain and tests/chain/test_revm_differential.py keep py-evm tested.
test-pyevm: install node-tools
	SANDBOX_ENGINE=embedded $(PYTEST) -q $(PYTEST_XDIST) tests/chain tests/contracts tests/markets

## The suite's wall and CPU time with the machine and its load average, as a block to paste
## (bench/test_suite.py); `make test-time FAST=1` times test-fast's selection.
test-time: install node-tools postgres-server browser
	$(BIN)/python -m bench.test_suite $(if $(FAST),--fast)

## ruff + mypy (CI runs these after the tests).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Recompile contracts/src into sandbox/artifacts (needs Node; running the sandbox does not), then
## regenerate the typed events (sandbox/contracts/events.py) from the artifacts.
contracts: contracts/node_modules/.installed install
	cd contracts && node build.js
	$(BIN)/python -m sandbox.codegen

## Fail if the committed artifacts differ from a fresh build of contracts/src, or the typed events
## from a fresh generation.
check-contracts: contracts/node_modules/.installed install
	cd contracts && node build.js --check
	$(BIN)/python -m sandbox.codegen --check

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .tools contracts/node_modules tools/node/node_modules
