"""Sanctions lists over HTTP: each kept by its own regulators (OFSI's by the FCA, OFAC's by the SEC);
a designated party is refused on chain with a sentence citing the regime; designations and removals are
actions of the audit trail (who, when); refusals are told before anything is sent."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sandbox.market import Market
from tests.api.conftest import bearer


def test_the_fca_designates_on_ofsis_list_and_the_chain_refuses_the_party(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    bob = market.accounts["bob"]
    response = client.post("/sanctions/OFSI/designations", json={"party": bob}, headers=bearer(keys["fca"]))
    assert response.status_code == 201, response.text
    designated_at = response.json()["block_timestamp"]
    listed = client.get("/sanctions/OFSI", headers=bearer(keys["alice"])).json()
    assert listed["kept_by"] == "GB" and listed["items"] == [{"party": bob, "investor": bob}]
    transfer = client.post(
        "/securities/THAMES28/transfers", json={"to": bob, "amount": 1}, headers=bearer(keys["alice"])
    )
    assert transfer.status_code == 409, transfer.text
    problem = transfer.json()
    assert problem["code"] == "RECEIVER_SANCTIONED" and "OFSI" in problem["detail"]
    removed = client.delete(f"/sanctions/OFSI/designations/{bob}", headers=bearer(keys["fca"]))
    assert removed.status_code == 200 and removed.json()["designated"] is False
    assert client.get("/sanctions/OFSI", headers=bearer(keys["fca"])).json()["items"] == []
    # The list's history: who designated and removed, and when.
    trail = client.get("/audit/actions", params={"target": bob}, headers=bearer(keys["operator"])).json()["items"]
    history = [(a["event"], a["actor"], a["timestamp"]) for a in trail if a["event"].startswith("Sanctions")]
    fca = market.accounts["fca"]
    assert history == [
        ("SanctionsDesignationAdded", fca, designated_at),
        ("SanctionsDesignationRemoved", fca, removed.json()["block_timestamp"]),
    ]


def test_only_the_lists_regulators_change_it_and_refusals_send_nothing(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    carol = market.accounts["carol"]
    height = market.chain.block_number()
    for who, status in (("fca", 403), ("thames", 403), ("carol", 403)):
        response = client.post("/sanctions/OFAC/designations", json={"party": carol}, headers=bearer(keys[who]))
        assert response.status_code == status, (who, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    missing = client.delete(f"/sanctions/OFAC/designations/{carol}", headers=bearer(keys["sec"]))
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_DESIGNATED"
    assert market.chain.block_number() == height
    assert (
        client.post("/sanctions/OFAC/designations", json={"party": carol}, headers=bearer(keys["sec"])).status_code
        == 201
    )
    height = market.chain.block_number()
    again = client.post("/sanctions/OFAC/designations", json={"party": carol}, headers=bearer(keys["sec"]))
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_DESIGNATED"
    assert market.chain.block_number() == height
