"""Shared fixtures: one embedded chain with the demo market per session, reverted after every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import Market, load_scenario
from sandbox.scenario import Scenario
from seeds import DEMO_SCENARIO


@pytest.fixture(scope="session")
def demo_scenario() -> Scenario:
    return Scenario.from_file(DEMO_SCENARIO)


@pytest.fixture(scope="session")
def _demo_market_once(demo_scenario: Scenario) -> Market:
    chain = EmbeddedChain(num_accounts=20)
    return load_scenario(chain, demo_scenario)


@pytest.fixture
def market(_demo_market_once: Market) -> Iterator[Market]:
    """The demo market, as freshly loaded, for this test alone (snapshot before, revert after)."""
    chain = _demo_market_once.chain
    assert isinstance(chain, EmbeddedChain)
    snapshot = chain.snapshot()
    try:
        yield _demo_market_once
    finally:
        chain.revert(snapshot)


@pytest.fixture
def chain(market: Market) -> EmbeddedChain:
    assert isinstance(market.chain, EmbeddedChain)
    return market.chain
