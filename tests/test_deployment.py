"""A market in a data directory (`sandbox.deployment`): restored rather than re-seeded, changes
persisted, an interrupted loading recovered, a foreign or damaged directory refused clearly."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox.chain.embedded import EmbeddedChain
from sandbox.contracts.security_token import SecurityToken
from sandbox.deployment import (
    CHAIN_DIR,
    DEPLOYMENT_FILE,
    SEEDING_MARKER,
    DeploymentError,
    decode_value,
    encode_market,
    encode_value,
    open_market,
)
from sandbox.rules import Jurisdiction
from sandbox.scenario import Scenario


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
        assert again.market.scenario == demo_scenario
    finally:
        again.chain.close()


_KILLED_WHILE_LOADING = """
import os, signal, sys
from pathlib import Path
from sandbox.deployment import open_market
from sandbox.scenario import Scenario
from seeds import DEMO_SCENARIO

def progress(done, total, what):
    if done == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)

open_market(Path(sys.argv[1]), Scenario.from_file(DEMO_SCENARIO), progress=progress)
"""


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
        assert opened.market.security("THAMES28").total_supply() == sum(demo_scenario.securities[0].holdings.values())
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
