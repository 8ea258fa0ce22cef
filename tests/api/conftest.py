from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from sandbox.market import Market
from sandbox.scenario import Scenario
from sandbox_gateway.app import create_app
from sandbox_gateway.settings import Settings


@pytest.fixture(scope="session")
def _gateway(_sandbox_market_loaded: Market) -> Iterator[TestClient]:
    """One gateway for the session, over the session's market."""
    with TestClient(
        create_app(Settings(), market=_sandbox_market_loaded), raise_server_exceptions=False
    ) as test_client:
        yield test_client


@pytest.fixture
def client(_gateway: TestClient, market: Market) -> TestClient:
    """The gateway, over the market as freshly loaded (the `market` fixture reverts the chain after the test)."""
    return _gateway


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keys(demo_scenario: Scenario) -> dict[str, str]:
    """API key of every demo principal, by participant key (plus "operator")."""
    found = {"operator": demo_scenario.operator.api_key}
    for person in [*demo_scenario.regulators, *demo_scenario.issuers, *demo_scenario.investors]:
        if person.api_key:
            found[person.key] = person.api_key
    return found
