"""The offerings routes: the issuer opens offerings and issues in them, regulators read; a refused
issuance is a problem+json naming the offering rule, and nothing is sent."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sandbox.market import Market
from tests.api.conftest import bearer

DAY = 86_400


def _fresh_security(client: TestClient, keys: dict[str, str]) -> None:
    body = {"symbol": "OFFR2", "name": "Offered 2", "home": "GB", "admitted": ["GB", "US"]}
    assert client.post("/securities", json=body, headers=bearer(keys["thames"])).status_code == 201
    response = client.post("/securities/OFFR2/issuance-approval", json={"limit": 10**6}, headers=bearer(keys["fca"]))
    assert response.status_code == 200, response.text


def _open(client: TestClient, keys: dict[str, str], market: Market, exemption: str) -> int:
    now = market.chain.timestamp()
    terms = {"exemption": exemption, "first_offer_at": now, "closing_at": now + 30 * DAY, "equity": False}
    response = client.post("/securities/OFFR2/offerings", json=terms, headers=bearer(keys["thames"]))
    assert response.status_code == 201, response.text
    return int(response.json()["offering_id"])


def test_issuer_opens_offerings_and_issues_in_them(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    _fresh_security(client, keys)
    rule_144a = _open(client, keys, market, "RULE_144A")
    reg_s = _open(client, keys, market, "REG_S_CATEGORY_2")
    height = market.chain.block_number()
    # Alice, a UK professional client, is no QIB (in the demo Carol is accredited and a QIB as well).
    refused = client.post(
        f"/securities/OFFR2/offerings/{rule_144a}/issue",
        json={"to": market.accounts["alice"], "amount": 10},
        headers=bearer(keys["thames"]),
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "OFFERING_PURCHASER_NOT_ELIGIBLE"
    assert "144A" in refused.json()["detail"]
    us_person = client.post(
        f"/securities/OFFR2/offerings/{reg_s}/issue",
        json={"to": market.accounts["carol"], "amount": 10},
        headers=bearer(keys["thames"]),
    )
    assert us_person.status_code == 409
    assert us_person.json()["code"] == "REG_S_DISTRIBUTION_COMPLIANCE"
    assert market.chain.block_number() == height  # nothing was sent
    issued = client.post(
        f"/securities/OFFR2/offerings/{rule_144a}/issue",
        json={"to": market.accounts["dan"], "amount": 10},
        headers=bearer(keys["thames"]),
    )
    assert issued.status_code == 201, issued.text
    listing = client.get("/securities/OFFR2/offerings", headers=bearer(keys["sec"]))
    assert listing.status_code == 200
    first, second = listing.json()["items"]
    assert (first["exemption"], first["purchasers"], first["issued"], first["restricted"]) == ("RULE_144A", 1, 10, True)
    assert (second["exemption"], second["period_ends_at"] > 0) == ("REG_S_CATEGORY_2", True)
    # Other issuers may neither read nor open offerings of OFFR2.
    assert client.get("/securities/OFFR2/offerings", headers=bearer(keys["hudson"])).status_code == 403
