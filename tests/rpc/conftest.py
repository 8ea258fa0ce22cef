"""Fixtures for the JSON-RPC tests: the npm-pinned node tools and a session-wide anvil.

`node_tools` runs ``npm ci`` in ``tools/node`` when anvil or ethers.js is missing; if npm cannot
install them the fixture raises, so the tests that need them fail rather than skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils import keccak, to_checksum_address

from sandbox.chain.anvil import AnvilNode, ensure_node_tools
from sandbox.scenario import Scenario

REPO = Path(__file__).resolve().parents[2]
#: Funded accounts on the test anvil (scenarios index into them; the demo may grow).
ANVIL_ACCOUNTS = 60


@pytest.fixture(scope="session")
def demo() -> Scenario:
    return Scenario.from_file(REPO / "seeds" / "demo.yaml")


@pytest.fixture(scope="session")
def stranger() -> str:
    """A wallet no scenario registers (its key is nobody's)."""
    return to_checksum_address(keccak(b"an unregistered wallet")[-20:])


@pytest.fixture(scope="session")
def node_tools() -> Path:
    """``tools/node`` with its packages installed; returns the anvil binary."""
    return ensure_node_tools()


@pytest.fixture(scope="session")
def anvil(node_tools: Path) -> Iterator[AnvilNode]:
    """anvil on 127.0.0.1 on a free port for the whole session, stopped by its PID at the end.

    Tests that change its state revert to a snapshot when they finish.
    """
    with AnvilNode(accounts=ANVIL_ACCOUNTS) as node:
        yield node
