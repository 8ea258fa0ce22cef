"""A UK-US story over HTTP only: a US issuer's Reg S bond approved by the US regulator, sold to UK
investors in a Regulation S offering, a resale to a US investor refused during the distribution compliance period, a
cross-border resale held until both regulators approve, a DvP trade in sterling, a cross-border DvP
trade in dollars cleared by both regulators before it settles, a UK regulator's freeze that the issuer
cannot lift, the cap table before and after, and a coupon of the demo's sterling bond paid to its
holders of record."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from fastapi.testclient import TestClient

from sandbox.market import Market
from tests.api.conftest import bearer

DAY = 86_400


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def test_reg_s_bond_from_issuance_to_freeze(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    key = {k: bearer(v) for k, v in keys.items()}
    alice, bob, carol = (market.accounts[k] for k in ("alice", "bob", "carol"))
    bond = "/securities/HUDB27"

    # The US issuer creates a bond (cross-border transfers of 100 units or more need both regulators);
    # nothing can be issued before the SEC approves.
    created = _ok(
        client.post(
            "/securities",
            json={
                "symbol": "HUDB27",
                "name": "Hudson Robotics 5% 2027 (Reg S)",
                "home": "US",
                "admitted": ["GB", "US"],
                "rules": {"cross_border_threshold": 100, "us_min_category": "US_ACCREDITED"},
            },
            headers=key["hudson"],
        ),
        201,
    )
    assert created["issuance_approved"] is False
    refused = client.post(f"{bond}/mint", json={"to": alice, "amount": 1000}, headers=key["hudson"])
    assert refused.status_code == 409 and refused.json()["error"] == "IssuanceNotApproved"
    assert client.post(f"{bond}/issuance-approval", json={"limit": 5000}, headers=key["fca"]).status_code == 403
    _ok(client.post(f"{bond}/issuance-approval", json={"limit": 5000}, headers=key["sec"]))

    # Sold offshore to UK investors in a Regulation S (Category 2, debt) offering that closes in a day:
    # its distribution compliance period runs 40 days from the closing (Rule 903(b)(2)).
    now = market.chain.timestamp()
    terms = {"exemption": "REG_S_CATEGORY_2", "first_offer_at": now, "closing_at": now + DAY, "equity": False}
    offering = _ok(client.post(f"{bond}/offerings", json=terms, headers=key["hudson"]), 201)["offering_id"]
    for buyer in (alice, bob):
        sold = client.post(
            f"{bond}/offerings/{offering}/issue", json={"to": buyer, "amount": 1000}, headers=key["hudson"]
        )
        _ok(sold, 201)

    # A resale to a US investor inside the period is refused on chain, and the pre-check said so.
    check = _ok(
        client.post(f"{bond}/transfers/precheck", json={"from": alice, "to": carol, "amount": 50}, headers=key["alice"])
    )
    assert check["allowed"] is False and "Regulation S" in check["message"]
    inside = client.post(f"{bond}/transfers", json={"to": carol, "amount": 50}, headers=key["alice"])
    assert inside.status_code == 409 and inside.json()["rule_code"] == check["code"]

    _ok(client.post("/operator/time-travel", json={"seconds": 42 * DAY}, headers=key["operator"]))
    before = market.chain.block_number()

    # After the period, a resale of 200 units (over the threshold) cannot be a plain transfer...
    plain = client.post(f"{bond}/transfers", json={"to": carol, "amount": 200}, headers=key["alice"])
    assert plain.status_code == 409 and plain.json()["code"] == "CROSS_BORDER_APPROVAL_REQUIRED"
    # ...it is requested, held, and settles only when both regulators approve.
    held = _ok(
        client.post(f"{bond}/cross-border-transfers", json={"to": carol, "amount": 200}, headers=key["alice"]), 201
    )
    transfer_id = held["transfer"]["transfer_id"]
    pending = _ok(client.get("/cross-border-transfers", params={"status": "PENDING"}, headers=key["sec"]))
    assert [t["transfer_id"] for t in pending["items"] if t["security"] == "HUDB27"] == [transfer_id]
    first = _ok(client.post(f"{bond}/cross-border-transfers/{transfer_id}/approve", headers=key["fca"]))
    assert first["transfer"]["status"] == "PENDING"
    second = _ok(client.post(f"{bond}/cross-border-transfers/{transfer_id}/approve", headers=key["sec"]))
    assert second["transfer"]["status"] == "SETTLED"

    # A DvP trade in sterling between the UK investors: both legs or nothing.
    trade = _ok(
        client.post(
            "/settlements",
            json={
                "side": "sell",
                "counterparty": alice,
                "security": "HUDB27",
                "quantity": 50,
                "cash": "GBPS",
                "cash_amount": 500_000,
            },
            headers=key["bob"],
        ),
        201,
    )["trade"]
    _ok(client.post(f"/settlements/{trade['trade_id']}/affirm", headers=key["alice"]))
    settled = _ok(client.post(f"/settlements/{trade['trade_id']}/settle", headers=key["alice"]))
    assert settled["outcome"]["settled"] is True

    # A cross-border DvP trade in dollars: alice (UK) sells 150 units to carol (US) for $1,500.00. Above the
    # threshold, it settles only through the cross-border approval: cleared by both regulators first.
    dvp = _ok(
        client.post(
            "/settlements",
            json={
                "side": "sell",
                "counterparty": carol,
                "security": "HUDB27",
                "quantity": 150,
                "cash": "USDS",
                "cash_amount": 150_000,
            },
            headers=key["alice"],
        ),
        201,
    )["trade"]
    dvp_id = dvp["trade_id"]
    _ok(client.post(f"/settlements/{dvp_id}/affirm", headers=key["carol"]))
    refused = _ok(client.post(f"/settlements/{dvp_id}/settle", headers=key["alice"]))["outcome"]
    assert (refused["settled"], refused["rule"]) == (False, "CROSS_BORDER_APPROVAL_REQUIRED")
    requested = _ok(client.post(f"/settlements/{dvp_id}/clearance", headers=key["carol"]), 201)["trade"]
    assert (requested["clearance_status"], requested["awaiting_clearance"]) == ("PENDING", True)
    # Each regulator finds the trade's clearance among the cross-border transfers it must decide.
    for regulator in ("fca", "sec"):
        listed = _ok(client.get("/cross-border-transfers", params={"status": "PENDING"}, headers=key[regulator]))
        (clearance,) = [t for t in listed["items"] if t["settlement_trade_id"] == dvp_id]
        assert clearance["transfer_id"] == requested["clearance_id"]
        assert (clearance["sender"], clearance["receiver"], clearance["amount"]) == (alice, carol, 150)
    held = _ok(client.post(f"/settlements/{dvp_id}/settle", headers=key["alice"]))["outcome"]
    assert (held["settled"], held["rule"]) == (False, "AWAITING_CLEARANCE")
    clearance_path = f"{bond}/cross-border-transfers/{requested['clearance_id']}"
    assert _ok(client.post(f"{clearance_path}/approve", headers=key["fca"]))["transfer"]["status"] == "PENDING"
    assert _ok(client.post(f"{clearance_path}/approve", headers=key["sec"]))["transfer"]["status"] == "CLEARED"
    cleared = _ok(client.get(f"/settlements/{dvp_id}", headers=key["carol"]))
    assert (cleared["status"], cleared["clearance_status"], cleared["awaiting_clearance"]) == (
        "AFFIRMED",
        "CLEARED",
        False,
    )
    done = _ok(client.post(f"/settlements/{dvp_id}/settle", headers=key["alice"]))
    assert done["outcome"]["settled"] is True
    assert (done["trade"]["status"], done["trade"]["clearance_status"]) == ("SETTLED", "SETTLED")

    # The FCA freezes a UK investor's holding of the US bond; the issuer cannot lift it.
    _ok(client.post(f"{bond}/frozen-wallets", json={"wallet": bob}, headers=key["fca"]), 201)
    lift = client.delete(f"{bond}/frozen-wallets/{bob}", headers=key["hudson"])
    assert lift.status_code == 403 and lift.json()["code"] == "FREEZE_IMPOSED_BY_REGULATOR"

    # The cap table as of before the resale and now.
    then = _ok(client.get(f"{bond}/cap-table", params={"block": before}, headers=key["sec"]))
    now = _ok(client.get(f"{bond}/cap-table", headers=key["sec"]))
    assert then["by_jurisdiction"] == {"GB": 2000}
    assert now["by_jurisdiction"] == {"GB": 1650, "US": 350}
    assert now["holders"] == 3 and then["holders"] == 2
    positions = {
        p["wallet"]: (p["balance"], p["frozen"])
        for p in _ok(client.get(f"{bond}/positions", headers=key["sec"]))["items"]
    }
    assert positions == {alice: (700, False), bob: (950, True), carol: (350, False)}

    # A coupon: the UK issuer schedules the first coupon of its sterling bond, funds it from its
    # treasury after the record date and pays every holder of record; the chain computes each amount.
    thames = "/securities/THAMES28"
    declared = _ok(client.post(f"{thames}/coupons", json={"period": 1}, headers=key["thames"]), 201)
    coupon = declared["distribution"]
    assert (coupon["kind"], coupon["state"], coupon["period"]) == ("COUPON", "DECLARED", 1)
    assert client.post(f"{thames}/coupons", json={"period": 1}, headers=key["hudson"]).status_code == 403
    holders = {w: market.securities["THAMES28"].balance_of(w) for w in (alice, bob, carol, market.accounts["dan"])}
    # 4.25% a year on 100 pounds a unit, ACT/ACT ICMA as a gilt pays: a fixed half-year, 2.125 pounds.
    per_unit = Fraction(10_000 * 425, 10_000 * 2)
    assert Fraction(coupon["amount_per_unit"]) == per_unit
    seconds = coupon["payment_date"] + 60 - market.chain.timestamp()
    _ok(client.post("/operator/time-travel", json={"seconds": seconds}, headers=key["operator"]))
    funded = _ok(client.post(f"{thames}/distributions/{coupon['distribution_id']}/funding", headers=key["thames"]))
    assert funded["distribution"]["funded"] >= sum(int(units * per_unit) for units in holders.values())
    run = _ok(
        client.post(
            f"{thames}/distributions/{coupon['distribution_id']}/payments",
            json={"holders": list(holders)},
            headers=key["thames"],
        )
    )
    outcome = {**run["paid"], **{h["holder"]: h["amount"] for h in run["held"]}}
    assert outcome == {w: int(units * per_unit) for w, units in holders.items()}
    seen = _ok(client.get(f"{thames}/distributions/{coupon['distribution_id']}/payments/{alice}", headers=key["fca"]))
    assert seen["entitlement"] == int(holders[alice] * per_unit) and seen["status"] in ("PAID", "HELD")
    again = client.post(
        f"{thames}/distributions/{coupon['distribution_id']}/claims", json={"wallet": alice}, headers=key["alice"]
    )
    assert again.status_code == 409  # settled once: a second claim is refused on chain
