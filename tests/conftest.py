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
