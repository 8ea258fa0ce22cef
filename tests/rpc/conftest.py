"""Fixtures for the JSON-RPC tests: the npm-pinned node tools and a session-wide anvil.

The tools are installed by the test command (`make test` depends on `make node-tools`, which runs
``npm ci`` in ``tools/node``), not here: `node_tools` fails, naming that target, when anvil or ethers.js
is missing, so the tests that need them fail rather than skip. They carry the `node` marker, which
`make test-fast` deselects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils import keccak, to_checksum_address

from sandbox.chain.anvil import ETHERS_RELATIVE_PATH, NODE_TOOLS_DIR, AnvilNode, anvil_binary
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
    """``tools/node`` with its packages installed (by `make node-tools`); returns the anvil binary."""
    binary = anvil_binary()
    if not (binary.is_file() and (NODE_TOOLS_DIR / ETHERS_RELATIVE_PATH).is_file()):
        pytest.fail(
            f"anvil or ethers.js is missing from {NODE_TOOLS_DIR}: run `make node-tools` (npm ci there) or "
            "`make test`; `make test-fast` runs without them"
        )
    return binary


@pytest.fixture(scope="session")
def anvil(node_tools: Path) -> Iterator[AnvilNode]:
    """anvil on 127.0.0.1 on a free port for the whole session, stopped by its PID at the end.

    Tests that change its state revert to a snapshot when they finish.
    """
    with AnvilNode(accounts=ANVIL_ACCOUNTS) as node:
        yield node
