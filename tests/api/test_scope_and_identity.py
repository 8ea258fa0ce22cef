"""Scope leaks and identity takeover (issue #10, items 6 and 7), over HTTP: a pre-check of a position out of
scope answers as one that does not exist; a wallet belongs to one party; an investor is changed only by
the agent who onboarded it (or the operator)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from sandbox.market import Market
from tests.api.conftest import bearer

HUDS = "/securities/HUDS"
NOBODY = "0x000000000000000000000000000000000000dEaD"


def _precheck(client: TestClient, key: str, sender: str, to: str, amount: int) -> tuple[int, dict[str, Any]]:
    response = client.post(
        f"{HUDS}/transfers/precheck", json={"from": sender, "to": to, "amount": amount}, headers=bearer(key)
    )
    return response.status_code, response.json()


def test_a_precheck_out_of_scope_answers_as_for_a_wallet_that_does_not_exist(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    carol, dan = market.accounts["carol"], market.accounts["dan"]
    # carol (US) holds 1,200 HUDS (a US security): the SEC, its home regulator, learns what a transfer would do ...
    assert _precheck(client, keys["sec"], carol, dan, 1)[0] == 200
    # ... the FCA, whose remit is neither the security nor carol, learns nothing: not whether carol holds
    # 1,200 (1,200 and 1,201 answer alike), nor whether she exists.
    answers = {amount: _precheck(client, keys["fca"], carol, dan, amount) for amount in (1, 1200, 1201)}
    absent = _precheck(client, keys["fca"], NOBODY, dan, 1)
    assert absent[0] == 404 and absent[1]["code"] == "WALLET_NOT_FOUND"
    for status, body in answers.values():
        assert (status, body["code"], body["title"]) == (absent[0], absent[1]["code"], absent[1]["title"])
        assert "allowed" not in body and "rule" not in body
    # An issuer pre-checks transfers of its own securities only, as it sees only their positions.
    status, body = _precheck(client, keys["thames"], carol, dan, 1)
    assert (status, body["code"]) == (404, "SECURITY_NOT_FOUND")


def test_an_investor_never_gains_a_regulators_wallet(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    alice, fca = market.accounts["alice"], market.accounts["fca"]
    height, wallets = market.chain.block_number(), market.registry.wallets_of(alice)
    # An issuer (not alice's onboarding agent) may not link anything to alice; the operator may not link the
    # FCA's account to anyone: nothing is sent either way.
    response = client.post(f"/investors/{alice}/wallets", json={"wallet": fca}, headers=bearer(keys["thames"]))
    assert (response.status_code, response.json()["code"]) == (403, "OUT_OF_SCOPE")
    response = client.post(f"/investors/{alice}/wallets", json={"wallet": fca}, headers=bearer(keys["operator"]))
    assert (response.status_code, response.json()["code"]) == (409, "WALLET_OF_ANOTHER_PARTY")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert market.chain.block_number() == height and market.registry.wallets_of(alice) == wallets
    assert market.registry.wallet_record(fca).identity is None
    # So alice's key never signs as the FCA: a transfer "from" the FCA's address is not hers.
    response = client.post(
        "/securities/THAMES28/transfers",
        json={"from": fca, "to": market.accounts["bob"], "amount": 1},
        headers=bearer(keys["alice"]),
    )
    assert response.status_code == 403 and market.chain.block_number() == height


def test_onboarding_refuses_a_regulators_or_issuers_account(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    kyc = market.chain.timestamp() + 86_400 * 365
    fresh = market.chain.accounts[12].address
    attempts = [
        {"wallet": market.accounts["fca"]},
        {"wallet": market.accounts["sec"], "identity": fresh},
        {"wallet": fresh, "identity": market.accounts["hudson"]},
        {"wallet": market.accounts["thames"]},
        {"wallet": market.operator},
        {"wallet": market.treasuries["thames"], "identity": fresh},
    ]
    height = market.chain.block_number()
    for attempt in attempts:
        body = {**attempt, "jurisdiction": "GB", "category": "UK_PROFESSIONAL", "kyc_valid_until": kyc}
        response = client.post("/investors", json=body, headers=bearer(keys["thames"]))
        assert (response.status_code, response.json()["code"]) == (409, "WALLET_OF_ANOTHER_PARTY"), attempt
    assert market.chain.block_number() == height
    assert market.registry.wallet_record(market.accounts["fca"]).identity is None


def test_a_us_issuer_may_not_change_a_uk_investor(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    kyc = market.chain.timestamp() + 86_400 * 365
    uk = market.chain.accounts[12].address
    body = {"wallet": uk, "jurisdiction": "GB", "category": "UK_PROFESSIONAL", "kyc_valid_until": kyc}
    assert client.post("/investors", json=body, headers=bearer(keys["thames"])).status_code == 201
    assert market.registry.onboarding_agent_of(uk) == market.accounts["thames"]
    height = market.chain.block_number()
    # hudson (US) expiring the KYC of thames's UK investor: refused before anything is sent
    response = client.patch(f"/investors/{uk}", json={"kyc_valid_until": 1}, headers=bearer(keys["hudson"]))
    assert (response.status_code, response.json()["code"]) == (403, "OUT_OF_SCOPE")
    response = client.patch(
        f"/investors/{market.accounts['alice']}", json={"kyc_valid_until": 1}, headers=bearer(keys["hudson"])
    )
    assert (response.status_code, response.json()["code"]) == (403, "OUT_OF_SCOPE")
    assert market.chain.block_number() == height and market.registry.investor(uk).kyc_valid_until == kyc
    # its onboarding agent may
    response = client.patch(f"/investors/{uk}", json={"kyc_valid_until": kyc + 1}, headers=bearer(keys["thames"]))
    assert response.status_code == 200 and market.registry.investor(uk).kyc_valid_until == kyc + 1
