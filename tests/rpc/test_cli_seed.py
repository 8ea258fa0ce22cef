"""`sandbox seed` deploys a scenario on a real external node (anvil) and writes where everything is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sandbox.chain.anvil import AnvilNode
from sandbox.chain.rpc import RpcChain
from sandbox.contracts.security_token import SecurityToken
from sandbox.scenario import Scenario

SANDBOX = Path(sys.executable).with_name("sandbox")

pytestmark = pytest.mark.node


def test_seed_deploys_the_demo_on_anvil(anvil: AnvilNode, demo: Scenario, tmp_path: Path) -> None:
    out = tmp_path / "deployment.json"
    chain = RpcChain(anvil.url, num_accounts=20)
    start = chain.snapshot()
    try:
        result = subprocess.run(
            [str(SANDBOX), "seed", "--chain-url", anvil.url, "--out", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        deployment = json.loads(out.read_text())
        assert deployment["chain_id"] == chain.chain_id
        assert set(deployment["securities"]) == {s.symbol for s in demo.securities}
        token = SecurityToken(chain, deployment["securities"]["THAMES28"])
        assert token.balance_of(deployment["accounts"]["alice"]) == demo.securities[0].initial_holdings["alice"]
    finally:
        chain.revert(start)


def test_seed_explains_an_unreachable_node(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(SANDBOX), "seed", "--chain-url", "http://127.0.0.1:9"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Cannot use the chain" in result.stdout


def test_seed_on_a_default_anvil_funds_the_accounts_it_needs(demo: Scenario, tmp_path: Path) -> None:
    """A default anvil funds 10 accounts; the demo needs 17. Seeding used to stop halfway with
    "insufficient funds" and leave a partial deployment; now the first account funds the rest first."""
    assert demo.accounts_needed > 10
    out = tmp_path / "deployment.json"
    with AnvilNode(accounts=10) as node:
        result = subprocess.run(
            [str(SANDBOX), "seed", "--chain-url", node.url, "--out", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"Funded {demo.accounts_needed - 10} of the scenario's" in result.stdout
        deployment = json.loads(out.read_text())
        chain = RpcChain(node.url, num_accounts=20)
        token = SecurityToken(chain, deployment["securities"]["HUDS"])
        assert token.balance_of(deployment["accounts"]["carol"]) == demo.securities[1].initial_holdings["carol"]


def test_seed_refuses_before_sending_anything_when_the_first_account_cannot_fund_the_rest(
    demo: Scenario, tmp_path: Path
) -> None:
    out = tmp_path / "deployment.json"
    with AnvilNode(accounts=10) as node:
        chain = RpcChain(node.url, num_accounts=20)
        funder = chain.accounts[0].address
        httpx.post(
            node.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "anvil_setBalance", "params": [funder, hex(5 * 10**18)]},
            timeout=30,
        ).raise_for_status()
        head, nonce = chain.block_number(), chain.w3.eth.get_transaction_count(funder)
        result = subprocess.run(
            [str(SANDBOX), "seed", "--chain-url", node.url, "--out", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert "nothing was sent" in " ".join(result.stdout.split())
        assert (chain.block_number(), chain.w3.eth.get_transaction_count(funder)) == (head, nonce)
        assert not out.exists()
