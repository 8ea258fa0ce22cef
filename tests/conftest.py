"""Our own suite uses the sandbox's pytest plugin (sandbox/pytest_plugin.py), as participants do."""

from __future__ import annotations

import pytest

from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import Market
from sandbox.scenario import Scenario

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def demo_scenario(sandbox_scenario: Scenario) -> Scenario:
    return sandbox_scenario


@pytest.fixture
def market(sandbox_market: Market) -> Market:
    """The demo market for this test alone."""
    return sandbox_market


@pytest.fixture
def chain(market: Market) -> EmbeddedChain:
    assert isinstance(market.chain, EmbeddedChain)
    return market.chain


#: Fixtures that need what `make test` installs and `make test-fast` does not: the marker each requires.
NEEDS_MARKER = {"postgres": "postgres", "node_tools": "node", "anvil": "node", "trex_abis": "node"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses a PostgreSQL or Node fixture without its marker is an error: `make test-fast`
    would run it without the server or tools it needs. (Parametrised fixtures that reach them through
    `request.getfixturevalue` mark their parameter instead: `pytest.param(..., marks=...)`.)"""
    unmarked = [
        f"{item.nodeid} uses {fixture} but is not marked {marker}"
        for item in items
        for fixture, marker in NEEDS_MARKER.items()
        if fixture in getattr(item, "fixturenames", ()) and item.get_closest_marker(marker) is None
    ]
    if unmarked:
        raise pytest.UsageError("tests without the marker their fixtures need:\n" + "\n".join(unmarked))
