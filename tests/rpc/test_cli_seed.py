"""`sandbox seed` deploys a scenario on a real external node (anvil) and writes where everything is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
        assert token.balance_of(deployment["accounts"]["alice"]) == demo.securities[0].holdings["alice"]
    finally:
        chain.revert(start)


def test_seed_explains_an_unreachable_node(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(SANDBOX), "seed", "--chain-url", "http://127.0.0.1:9"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Cannot use the chain" in result.stdout
