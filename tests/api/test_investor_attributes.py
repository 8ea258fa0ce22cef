"""The gateway's investor attributes: holder type, US person (Regulation S), QIB status of any
jurisdiction and the accreditation verification's end, onboarded, shown and changed over HTTP, with the
registry the guard (a natural person is never a QIB), which the gateway tells before sending anything."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from sandbox.market import Market
from tests.api.conftest import bearer

YEAR = 365 * 86_400


def _onboard(client: TestClient, market: Market, keys: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {
        "wallet": market.chain.accounts[12].address,
        "jurisdiction": "GB",
        "category": "UK_ELIGIBLE_COUNTERPARTY",
        "kyc_valid_until": market.chain.timestamp() + YEAR,
        **extra,
    }
    response = client.post("/investors", json=body, headers=bearer(keys["thames"]))
    assert response.status_code == 201, response.text
    investor: dict[str, Any] = response.json()["investor"]
    return investor


def test_a_uk_bank_is_onboarded_as_a_qib(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    investor = _onboard(client, market, keys, qib=True)
    assert (investor["jurisdiction"], investor["category"]) == ("GB", "UK_ELIGIBLE_COUNTERPARTY")
    assert (investor["holder_type"], investor["us_person"], investor["qib"]) == ("ENTITY", False, True)
    shown = client.get(f"/investors/{investor['identity']}", headers=bearer(keys["thames"])).json()
    assert shown["qib"] is True and shown["accredited_until"] == 0


def test_attributes_left_out_are_derived(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    investor = _onboard(client, market, keys, category="UK_RETAIL")
    assert (investor["holder_type"], investor["us_person"], investor["qib"]) == ("NATURAL_PERSON", False, False)


def test_a_us_person_supervised_from_the_uk(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    # The US branch of a UK bank: supervised by the FCA, a US person under Rule 902(k)(1)(v).
    investor = _onboard(client, market, keys, us_person=True)
    assert investor["jurisdiction"] == "GB" and investor["us_person"] is True


def test_accreditation_is_renewed_over_patch(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    investor = _onboard(client, market, keys, category="UK_PROFESSIONAL")
    until = 1_803_859_199  # 2027-02-28T23:59:59Z: a 90-day verification from 2026-11-30
    response = client.patch(
        f"/investors/{investor['identity']}", json={"accredited_until": until}, headers=bearer(keys["thames"])
    )
    assert response.status_code == 200, response.text
    assert response.json()["investor"]["accredited_until"] == until
    assert market.registry.is_accredited_at(investor["identity"], until)
    assert not market.registry.is_accredited_at(investor["identity"], until + 1)


def test_a_natural_person_qib_is_refused_and_nothing_changes(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    investor = _onboard(client, market, keys, qib=True)
    block = market.chain.block_number()
    response = client.patch(
        f"/investors/{investor['identity']}",
        json={"holder_type": "NATURAL_PERSON", "category": "UK_PROFESSIONAL"},
        headers=bearer(keys["thames"]),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "QIB_MUST_BE_ENTITY"
    assert market.chain.block_number() == block
    shown = client.get(f"/investors/{investor['identity']}", headers=bearer(keys["thames"])).json()
    assert (shown["holder_type"], shown["category"]) == ("ENTITY", "UK_ELIGIBLE_COUNTERPARTY")


def test_onboarding_a_natural_person_qib_is_refused(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    wallet = market.chain.accounts[12].address
    block = market.chain.block_number()
    response = client.post(
        "/investors",
        json={
            "wallet": wallet,
            "jurisdiction": "US",
            "category": "US_QIB",
            "holder_type": "NATURAL_PERSON",
            "kyc_valid_until": market.chain.timestamp() + YEAR,
        },
        headers=bearer(keys["thames"]),
    )
    assert response.status_code == 422 and response.json()["code"] == "QIB_MUST_BE_ENTITY"
    assert market.registry.wallet_record(wallet).identity is None and market.chain.block_number() == block
