"""Exemptions from the Bank of England holding limits over HTTP: granted and withdrawn per investor by a
regulator of the cash token's home only (for GBP the UK regulator, standing for the Bank); refusals are
told before anything is sent."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sandbox.contracts.cash_token import GBP_BUSINESS_LIMIT
from sandbox.market import Market
from tests.api.conftest import bearer


def test_the_uk_regulator_exempts_a_business_then_withdraws(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    bob = market.accounts["bob"]
    path = f"/cash/GBPS/holding-limit-exemptions/{bob}"
    granted = client.put(path, headers=bearer(keys["fca"]))
    assert granted.status_code == 200, granted.text
    assert (granted.json()["exempt"], granted.json()["holder_type"], granted.json()["limit"]) == (True, "ENTITY", None)
    assert market.cash["GBPS"].is_holding_limit_exempt(bob)
    withdrawn = client.delete(path, headers=bearer(keys["fca"]))
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["exempt"], withdrawn.json()["limit"]) == (False, GBP_BUSINESS_LIMIT)


def test_neither_the_us_regulator_nor_the_issuer_exempts_on_sterling(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    bob = market.accounts["bob"]
    height = market.chain.block_number()
    for who in ("sec", "albion"):
        response = client.put(f"/cash/GBPS/holding-limit-exemptions/{bob}", headers=bearer(keys[who]))
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert market.chain.block_number() == height and not market.cash["GBPS"].is_holding_limit_exempt(bob)
    unknown = market.chain.accounts[12].address
    response = client.put(f"/cash/GBPS/holding-limit-exemptions/{unknown}", headers=bearer(keys["fca"]))
    assert response.status_code == 404 and market.chain.block_number() == height
