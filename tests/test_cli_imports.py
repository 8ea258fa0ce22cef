"""`sandbox` imports what the command it runs needs, nothing more (issue 15, "import only what the command
needs"). Printing help must not load the chain, py-evm, FastAPI, SQLAlchemy or the holiday tables: on
main `sandbox --help` imported all of them (about 1,700 modules, 5 s on a busy machine) before printing
a line. Which modules a fresh interpreter holds afterwards is deterministic; no time is measured here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest

#: What help and usage errors never need: the library below the CLI, the gateway's frameworks, and the
#: client's HTTP stack.
NOT_FOR_HELP = (
    "sandbox.chain",
    "sandbox.contracts",
    "sandbox.market",
    "sandbox.scenario",
    "sandbox.calendars",
    "sandbox.deployment",
    "sandbox.readmodel",
    "sandbox_gateway.app",
    "sandbox_gateway.routers",
    "eth",
    "eth_account",
    "eth_tester",
    "web3",
    "pyrevm",
    "py_ecc",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "holidays",
    "pydantic",
    "yaml",
    "httpx",
    "rich.progress",
)

_RUN = """
import json, sys
from sandbox_gateway.cli import app
try:
    app(args=sys.argv[2:], prog_name="sandbox")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def _modules_after(args: list[str], tmp_path: Path) -> tuple[int, set[str]]:
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(out), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.is_file(), done.stderr
    result = json.loads(out.read_text())
    return int(result["code"] or 0), set(result["modules"])


def _loaded(modules: set[str], roots: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == root or m.startswith(root + ".") for root in roots))


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([], id="no-arguments"),
        pytest.param(["--help"], id="help"),
        pytest.param(["serve", "--help"], id="serve-help"),
        pytest.param(["seed", "--help"], id="seed-help"),
        pytest.param(["check-scenario", "--help"], id="check-scenario-help"),
        pytest.param(["positions", "--help"], id="positions-help"),
        pytest.param(["serve", "--no-such-option"], id="usage-error"),
    ],
)
def test_help_and_usage_errors_import_neither_the_library_nor_the_frameworks(args: list[str], tmp_path: Path) -> None:
    code, modules = _modules_after(args, tmp_path)
    assert code in (0, 2)  # help (no arguments shows it too, with 2) or a usage error
    assert "typer" in modules  # the command really ran
    assert _loaded(modules, NOT_FOR_HELP) == []


def test_the_gateway_package_loads_its_app_on_first_use(tmp_path: Path) -> None:
    """`sandbox_gateway` (the package the command lives in) imports FastAPI only when `create_app` or
    `Settings` is asked for, and then gives the same objects as their modules."""
    code = (
        "import sys, sandbox_gateway\n"
        "assert 'fastapi' not in sys.modules and 'sandbox_gateway.app' not in sys.modules\n"
        "from sandbox_gateway import Settings, create_app\n"
        "import sandbox_gateway.app, sandbox_gateway.settings\n"
        "assert create_app is sandbox_gateway.app.create_app\n"
        "assert Settings is sandbox_gateway.settings.Settings\n"
        "try:\n"
        "    sandbox_gateway.no_such_name\n"
        "except AttributeError:\n"
        "    print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


_SERVE_ON_REVM = """
import json, sys
import sandbox_gateway.cli, sandbox_gateway.app, sandbox_gateway.rpc_server, uvicorn
from sandbox.market import load_embedded
from sandbox.readmodel import ReadModel
from sandbox.scenario import DEMO_SCENARIO, Scenario
from sandbox_gateway.settings import Settings

market = load_embedded(Scenario.from_file(DEMO_SCENARIO), engine="revm")
app = sandbox_gateway.app.create_app(Settings(engine="revm"), market=market, read_model=ReadModel("sqlite://"))
sandbox_gateway.rpc_server.mount_rpc(app, market.chain, "/rpc", authenticate=lambda key: None)
with open(sys.argv[1], "w") as out:
    json.dump({"securities": len(market.securities), "modules": sorted(sys.modules)}, out)
"""


@pytest.fixture(scope="module")
def serving_on_revm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The modules a fresh interpreter holds after building what `sandbox serve --engine revm` builds."""
    out = tmp_path_factory.mktemp("serve-on-revm") / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_ON_REVM, str(out)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(out.read_text())
    return result


def test_serving_on_revm_loads_neither_py_evm_nor_eth_tester(serving_on_revm: dict[str, object]) -> None:
    """What `sandbox serve --engine revm` builds (the demo loaded, the gateway and its /rpc endpoint)
    imports no part of the other engine: on main the deployment module imported py-evm's chain for a
    mnemonic and a type, about 300 modules."""
    modules = set(cast(list[str], serving_on_revm["modules"]))
    assert cast(int, serving_on_revm["securities"]) > 0
    assert "pyrevm" in modules
    assert _loaded(modules, ("eth_tester", "eth.vm", "sandbox.chain.embedded", "sandbox.chain._pyevm")) == []


def test_serving_never_runs_eth_keyfile_nor_its_bls_pairing_tables(serving_on_revm: dict[str, object]) -> None:
    """eth-account imports eth-keyfile, which imports py_ecc's BLS12-381 modules, and they compute pairing
    tables at import (about 0.3 s of CPU; on main every `sandbox serve` paid it). Serving signs and sends
    the whole demo without ever encrypting a key, so none of py_ecc is loaded."""
    modules = set(cast(list[str], serving_on_revm["modules"]))
    assert "eth_account" in modules  # the demo's transactions were signed
    assert _loaded(modules, ("py_ecc", "Crypto.Protocol.KDF")) == []


_KEYFILE_ON_FIRST_USE = """
import sys
import sandbox
from eth_account import Account
assert "py_ecc" not in sys.modules, "eth_keyfile ran at eth_account's import"
key = bytes(range(1, 33))
encrypted = Account.encrypt(key, "correct horse", kdf="pbkdf2", iterations=2)
assert "py_ecc" in sys.modules  # the real eth_keyfile ran, at its first use
assert Account.decrypt(encrypted, "correct horse") == key
try:
    Account.decrypt(encrypted, "wrong")
except ValueError as exc:
    assert "MAC mismatch" in str(exc), exc
else:
    raise AssertionError("a wrong password decrypted the key")
import eth_keyfile
import eth_keyfile.keyfile
from eth_keyfile import create_keyfile_json, decode_keyfile_json
from eth_keyfile.exceptions import EthKeyfileValueError
assert eth_keyfile.__version__.count(".") >= 1
assert decode_keyfile_json(create_keyfile_json(key, b"pw", iterations=2), b"pw") == key
assert eth_keyfile.keyfile.KDFType.__args__ == ("pbkdf2", "scrypt")
try:
    eth_keyfile.no_such_name
except AttributeError:
    print("ok")
"""


def test_eth_keyfile_deferred_by_the_library_works_unchanged_at_first_use() -> None:
    """The library defers eth-keyfile (sandbox/_deferred.py); a key encrypted and decrypted through
    eth-account, and eth-keyfile's own functions, version and errors, behave as if imported normally."""
    done = subprocess.run(
        [sys.executable, "-c", _KEYFILE_ON_FIRST_USE], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
