"""A market in a data directory (`sandbox.deployment`): restored rather than re-seeded, changes
persisted, an interrupted loading recovered, a foreign or damaged directory refused clearly."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox.abi import interface_fingerprint
from sandbox.chain.embedded import DEFAULT_MNEMONIC, EmbeddedChain
from sandbox.contracts.security_token import SecurityToken
from sandbox.deployment import (
    CHAIN_DIR,
    DEPLOYMENT_FILE,
    KEYS_FILE,
    SEEDING_MARKER,
    DeploymentError,
    decode_value,
    encode_market,
    encode_value,
    open_market,
    seal_api_key,
    seal_scenario,
)
from sandbox.rules import Jurisdiction
from sandbox.scenario import Scenario
from sandbox_gateway.principals import PrincipalDirectory


def test_a_restart_restores_the_market_with_what_the_gateway_added(demo_scenario: Scenario, tmp_path: Path) -> None:
    opened = open_market(tmp_path, demo_scenario, clock="fixed")
    assert opened.seeded and not (tmp_path / SEEDING_MARKER).exists()
    market = opened.market
    issuer = market.accounts["hudson"]
    token = SecurityToken.deploy(
        market.chain,
        name="Later Bond",
        symbol="LATER1",
        decimals=0,
        registry=market.registry.address,
        home_jurisdiction=Jurisdiction.US,
        admitted_jurisdictions=[Jurisdiction.US],
        admin=issuer,
        sender=issuer,
        extension=market.extension,
    )
    market.add_security("LATER1", token, "hudson")  # persisted before the call returns
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    market.security("THAMES28").transfer(bob, 25, sender=alice)
    head = market.chain.block_number()
    before = encode_market(market, num_accounts=len(market.chain.accounts))
    opened.chain.close()

    again = open_market(tmp_path, lambda: pytest.fail("a restored directory must not load the scenario"))
    try:
        assert not again.seeded
        assert again.chain.block_number() == head
        assert encode_market(again.market, num_accounts=len(again.chain.accounts)) == before
        restored = again.market.security("LATER1")
        assert restored.address == token.address and restored.deployed_in_block == token.deployed_in_block
        assert again.market.security("THAMES28").balance_of(bob) == 3000 + 25
        assert again.market.issuer_of["LATER1"] == "hudson"
        assert again.market.scenario == seal_scenario(demo_scenario)  # the keys as digests only
    finally:
        again.chain.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _api_keys(scenario: Scenario) -> list[str]:
    keys = [scenario.operator.api_key, *(r.api_key for r in scenario.regulators)]
    keys += [i.api_key for i in scenario.issuers] + [i.api_key for i in scenario.investors if i.api_key]
    return keys


def test_a_data_directory_keeps_key_digests_and_its_own_chain_keys_for_its_owner_only(
    demo_scenario: Scenario, tmp_path: Path
) -> None:
    """Issue 10: deployment.json kept the bearer keys in plain, readable by everyone; the chain's keys
    were the public development mnemonic's."""
    data = tmp_path / "data"
    opened = open_market(data, demo_scenario)
    fca = opened.market.accounts["fca"]
    opened.chain.close()
    assert _mode(data) == 0o700
    for name in (DEPLOYMENT_FILE, KEYS_FILE):
        assert _mode(data / name) == 0o600, name
    text = (data / DEPLOYMENT_FILE).read_text()
    for key in _api_keys(demo_scenario):
        assert key not in text
        assert seal_api_key(key) in text
    mnemonic = json.loads((data / KEYS_FILE).read_text())["mnemonic"]
    assert mnemonic != DEFAULT_MNEMONIC and len(mnemonic.split()) == 24
    assert fca != EmbeddedChain(num_accounts=2).accounts[1].address  # not the development mnemonic's

    again = open_market(data, lambda: pytest.fail("restored, not loaded"))
    try:
        assert again.market.accounts["fca"] == fca and not again.reproducible
        directory = PrincipalDirectory.from_market(again.market)  # the same keys still authenticate
        for key in _api_keys(demo_scenario):
            assert directory.authenticate(key) is not None, key
            assert directory.authenticate(seal_api_key(key)) is None  # a digest is not a key
    finally:
        again.chain.close()
    other = open_market(tmp_path / "other", demo_scenario)
    try:
        assert other.market.accounts["fca"] != fca  # every directory has keys of its own
    finally:
        other.chain.close()


def test_the_development_mnemonic_only_when_asked_and_only_for_a_fresh_directory(
    demo_scenario: Scenario, tmp_path: Path
) -> None:
    development_fca = EmbeddedChain(num_accounts=2).accounts[1].address
    reproducible = open_market(tmp_path / "reproducible", demo_scenario, mnemonic=DEFAULT_MNEMONIC)
    assert reproducible.reproducible and reproducible.market.accounts["fca"] == development_fca
    reproducible.chain.close()
    again = open_market(tmp_path / "reproducible", demo_scenario)  # keeps what it was made with
    assert again.reproducible and again.market.accounts["fca"] == development_fca
    again.chain.close()

    open_market(tmp_path / "random", demo_scenario).chain.close()
    with pytest.raises(DeploymentError, match="has keys of its own"):
        open_market(tmp_path / "random", demo_scenario, mnemonic=DEFAULT_MNEMONIC)


def test_a_directory_of_an_older_sandbox_is_served_only_when_its_public_keys_are_accepted(
    demo_scenario: Scenario, tmp_path: Path
) -> None:
    """Made before the key file existed: development mnemonic, plain keys in a world-readable file."""
    open_market(tmp_path, demo_scenario, mnemonic=DEFAULT_MNEMONIC).chain.close()
    (tmp_path / KEYS_FILE).unlink()
    path = tmp_path / DEPLOYMENT_FILE
    text = path.read_text()
    for key in _api_keys(demo_scenario):
        text = text.replace(seal_api_key(key), key)
    path.write_text(text)
    os.chmod(path, 0o644)

    with pytest.raises(DeploymentError, match="well-known development mnemonic"):
        open_market(tmp_path, demo_scenario)
    opened = open_market(tmp_path, demo_scenario, mnemonic=DEFAULT_MNEMONIC)
    try:
        assert opened.reproducible
        assert _mode(path) == 0o600 and _mode(tmp_path / KEYS_FILE) == 0o600
        assert not any(key in path.read_text() for key in _api_keys(demo_scenario))
        assert PrincipalDirectory.from_market(opened.market).authenticate(demo_scenario.operator.api_key)
    finally:
        opened.chain.close()


_KILLED_WHILE_LOADING = """
import os, signal, sys
from pathlib import Path
from sandbox.deployment import open_market
from sandbox.scenario import Scenario
from sandbox.scenario import DEMO_SCENARIO

def progress(done, total, what):
    if done == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)

open_market(Path(sys.argv[1]), Scenario.from_file(DEMO_SCENARIO), progress=progress)
"""


@pytest.mark.slow
def test_a_process_killed_while_loading_leaves_a_directory_that_loads_again(
    demo_scenario: Scenario, tmp_path: Path
) -> None:
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(_KILLED_WHILE_LOADING))
    data = tmp_path / "data"
    result = subprocess.run([sys.executable, str(script), str(data), "12"], check=False, capture_output=True)
    assert result.returncode == -9, result.stderr.decode()
    assert (data / SEEDING_MARKER).exists() and not (data / DEPLOYMENT_FILE).exists()

    opened = open_market(data, demo_scenario)
    try:
        assert opened.seeded and opened.discarded_interrupted_seeding
        assert not (data / SEEDING_MARKER).exists() and (data / DEPLOYMENT_FILE).exists()
        issued = sum(demo_scenario.securities[0].initial_holdings.values())
        assert opened.market.security("THAMES28").total_supply() == issued
    finally:
        opened.chain.close()


def test_a_chain_that_is_not_the_sandboxs_is_refused(demo_scenario: Scenario, tmp_path: Path) -> None:
    with EmbeddedChain(num_accounts=demo_scenario.accounts_needed, data_dir=tmp_path / CHAIN_DIR) as chain:
        chain.mine()
    with pytest.raises(DeploymentError, match=f"no {DEPLOYMENT_FILE}"):
        open_market(tmp_path, demo_scenario, accounts=demo_scenario.accounts_needed)
    assert (tmp_path / CHAIN_DIR).exists()  # refused, not deleted


def test_a_damaged_deployment_is_refused(demo_scenario: Scenario, tmp_path: Path) -> None:
    open_market(tmp_path, demo_scenario).chain.close()
    path = tmp_path / DEPLOYMENT_FILE
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(DeploymentError, match="not valid JSON"):
        open_market(tmp_path, demo_scenario)
    document = json.loads(text)
    document["market"]["registry"]["address"] = "0x" + "12" * 20
    path.write_text(json.dumps(document))
    with pytest.raises(DeploymentError, match="no contract at the registry"):
        open_market(tmp_path, demo_scenario)
    document["chain_id"] = 1
    path.write_text(json.dumps(document))
    with pytest.raises(DeploymentError, match="of chain 1"):
        open_market(tmp_path, demo_scenario)


def test_values_it_cannot_persist_or_classes_outside_the_sandbox_are_refused(chain: EmbeddedChain) -> None:
    with pytest.raises(DeploymentError, match="cannot persist a set"):
        encode_value({"x": {1, 2}}, "field")
    with pytest.raises(DeploymentError, match="outside the sandbox"):
        decode_value({"$dataclass": "os:system", "fields": {}}, chain)
    value = {"a": (1, "b", [None, True]), "c": {"$dict": 1}}
    assert decode_value(json.loads(json.dumps(encode_value(value, "v"))), chain) == value


def test_a_directory_whose_contracts_have_another_interface_is_refused_and_kept(
    demo_scenario: Scenario, tmp_path: Path
) -> None:
    """Deployed code never changes: a directory created by a sandbox whose contracts had other interfaces
    (e.g. before the token's terms lost the token-wide holding period) cannot be driven by this one. It is
    refused with a sentence that says so, before anything is sent, and left as it was."""
    opened = open_market(tmp_path, demo_scenario)
    head = opened.chain.block_number()
    opened.chain.close()
    path = tmp_path / DEPLOYMENT_FILE
    document = json.loads(path.read_text())
    assert document["contracts_interface"] == interface_fingerprint()
    for older in (
        {**document, "contracts_interface": "0" * 64},
        {k: v for k, v in document.items() if k != "contracts_interface"},
    ):
        path.write_text(json.dumps(older))
        with pytest.raises(DeploymentError, match=r"another version of the sandbox.*start a new --data-dir"):
            open_market(tmp_path, lambda: pytest.fail("a directory with a deployment must not be re-seeded"))
        assert json.loads(path.read_text()) == older  # left as it was
    path.write_text(json.dumps(document))
    again = open_market(tmp_path, demo_scenario)
    try:
        assert again.chain.block_number() == head  # nothing was mined by the refused opens
    finally:
        again.chain.close()
