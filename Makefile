# Two commands from a fresh clone: `make run` serves the sandbox, `make test` runs the tests.
# Both create what they need on first use: a uv binary in .tools/ (from PyPI), the locked Python
# environment in .venv/ (uv.lock), and, for contract builds only, the npm-pinned solc (package-lock.json).
PY      ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV      := .tools/bin/uv
VENV    := .venv
BIN     := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run run-uk-us test lint contracts check-contracts bench clean node-tools

$(UV):
	$(PY) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --python $(PY)
	@touch $@

install: $(VENV)/.synced

contracts/node_modules/.installed: contracts/package.json contracts/package-lock.json
	cd contracts && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## anvil 1.7.1 and ethers.js 6 for the external-node and JSON-RPC client tests (the tests run this
## themselves when the anvil binary is missing).
tools/node/node_modules/.installed: tools/node/package.json tools/node/package-lock.json
	cd tools/node && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-tools: tools/node/node_modules/.installed

## Serve the sandbox (embedded chain + demo scenario + API) on 127.0.0.1:8000.
run: install
	$(BIN)/sandbox serve

## Serve the UK-US sandbox scenario (44 investors, seven weeks of history; slower to start).
run-uk-us: install
	SANDBOX_SCENARIO=seeds/uk-us-sandbox.yaml $(BIN)/sandbox serve

## Run the test suite.
test: install
	$(BIN)/pytest -q

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
