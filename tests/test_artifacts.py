"""The committed artifacts must match the sources (CI also rebuilds them with solc and diffs)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sandbox.abi import artifact_names, load_artifact

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"


def _sources_hash() -> str:
    """The same hash `contracts/build.js` records: path + NUL + content + NUL, in path order."""
    digest = hashlib.sha256()
    files = sorted(p.relative_to(CONTRACTS).as_posix() for p in (CONTRACTS / "src").rglob("*.sol"))
    for rel in files:
        digest.update(f"{rel}\0{(CONTRACTS / rel).read_text(encoding='utf-8')}\0".encode())
    return digest.hexdigest()


def test_every_artifact_was_built_from_the_current_sources() -> None:
    expected = _sources_hash()
    stale = [name for name in artifact_names() if load_artifact(name).sources_hash != expected]
    assert not stale, f"artifacts built from other sources (run `make contracts`): {stale}"


def test_artifacts_pin_the_compiler_and_the_evm_version() -> None:
    package = json.loads((CONTRACTS / "package.json").read_text())
    lock = json.loads((CONTRACTS / "package-lock.json").read_text())
    solc_version = lock["packages"]["node_modules/solc"]["version"]
    oz_version = lock["packages"]["node_modules/@openzeppelin/contracts"]["version"]
    assert package["dependencies"]["solc"] == solc_version
    for name in artifact_names():
        raw = json.loads((ROOT / "sandbox" / "artifacts" / f"{name}.json").read_text())
        assert raw["settings"]["evmVersion"] == "prague", name  # py-evm stops at Prague
        assert raw["settings"]["optimizer"]["enabled"] is True, name
        assert raw["compiler"]["version"].startswith(solc_version + "+"), name
        assert raw["openzeppelin"] == oz_version, name


def test_deployable_contracts_have_bytecode() -> None:
    for name in ("InvestorRegistry", "SecurityToken", "PlainERC20"):
        assert load_artifact(name).deployable, name
