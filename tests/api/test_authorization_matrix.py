"""Every route x every kind of principal, with the exact status expected; refusals change nothing.

Principals: no key, the operator, the UK regulator (fca), the US regulator (sec), the issuer of the
security acted on (thames, GB), another issuer (hudson, US), the issuer of the GBP cash token (albion),
the investor acted on (alice, GB) and another investor (carol, US). THAMES28 is a GB security; alice is
a GB investor, carol a US one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sandbox.history import events_of
from sandbox.market import Market
from tests.api.conftest import bearer

PRINCIPALS = ("none", "operator", "fca", "sec", "thames", "hudson", "albion", "alice", "carol")
S = "/securities/THAMES28"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[Market], str]
    expected: dict[str, int]
    body: Callable[[Market], dict[str, Any]] | None = None
    setup: Callable[[TestClient, Market, dict[str, str]], None] | None = None
    params: dict[str, str] = field(default_factory=dict)


def _acct(i: int) -> Callable[[Market], str]:
    return lambda m: m.chain.accounts[i].address


def _who(key: str) -> Callable[[Market], str]:
    return lambda m: m.accounts[key]


def _const(path: str) -> Callable[[Market], str]:
    return lambda m: path


def _statuses(default: int, **overrides: int) -> dict[str, int]:
    table = dict.fromkeys(PRINCIPALS, default)
    table["none"] = 401
    table.update(overrides)
    return table


def _pause_first(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    assert client.post(f"{S}/pause", headers=bearer(keys["thames"])).status_code == 200


def _designate_carol_first(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    body = {"party": market.accounts["carol"]}
    response = client.post("/sanctions/OFAC/designations", json=body, headers=bearer(keys["sec"]))
    assert response.status_code == 201, response.text


def _suspend_alice_first(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    assert (
        client.post(f"/investors/{market.accounts['alice']}/suspension", headers=bearer(keys["fca"])).status_code == 200
    )


def _fca_freezes_carol_first(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    response = client.post(
        f"{S}/frozen-wallets", json={"wallet": market.accounts["carol"]}, headers=bearer(keys["fca"])
    )
    assert response.status_code == 201


def _thames_creates_offr1(client: TestClient, market: Market, keys: dict[str, str], *, offering: bool = False) -> None:
    """A fresh security of thames with issuance approved (offerings attach only before any issue)."""
    body = {"symbol": "OFFR1", "name": "Offered 1", "home": "GB", "admitted": ["GB", "US"]}
    assert client.post("/securities", json=body, headers=bearer(keys["thames"])).status_code == 201
    response = client.post("/securities/OFFR1/issuance-approval", json={"limit": 10**6}, headers=bearer(keys["fca"]))
    assert response.status_code == 200, response.text
    if offering:
        now = market.chain.timestamp()
        terms = {"exemption": "UK_PUBLIC_OFFER", "first_offer_at": now, "closing_at": now + 86_400 * 30}
        response = client.post("/securities/OFFR1/offerings", json=terms, headers=bearer(keys["thames"]))
        assert response.status_code == 201, response.text


def _thames_opens_an_offering(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    _thames_creates_offr1(client, market, keys, offering=True)


def _thames_mints_offr1(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    """OFFR1 with units issued outside any offering (the demo's securities issue in offerings)."""
    _thames_creates_offr1(client, market, keys)
    body = {"to": market.accounts["alice"], "amount": 1}
    response = client.post("/securities/OFFR1/mint", json=body, headers=bearer(keys["thames"]))
    assert response.status_code == 201, response.text


# ---------------------------------------------------------------- corporate actions (THAMES28 is a bond)
FIRST_COUPON_DATE = 1_782_864_000  # 2026-07-01 00:00 UTC, the first coupon date of THAMES28 in the demo


def _schedule_coupon_first(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    response = client.post(f"{S}/coupons", json={"period": 1}, headers=bearer(keys["thames"]))
    assert response.status_code == 201, response.text


def _after_record_date(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    _schedule_coupon_first(client, market, keys)
    market.chain.time_travel(FIRST_COUPON_DATE + 60)  # type: ignore[attr-defined]


def _fund_first(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    _after_record_date(client, market, keys)
    response = client.post(f"{S}/distributions/1/funding", headers=bearer(keys["thames"]))
    assert response.status_code == 200, response.text


ISSUER_OF_THAMES_ONLY = _statuses(403, thames=201)


def _thames_onboards_first(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    """thames onboards a GB investor (account 12): thames is its onboarding agent."""
    body = {
        "wallet": market.chain.accounts[12].address,
        "jurisdiction": "GB",
        "category": "UK_PROFESSIONAL",
        "kyc_valid_until": market.chain.timestamp() + 86_400 * 365,
    }
    response = client.post("/investors", json=body, headers=bearer(keys["thames"]))
    assert response.status_code == 201, response.text


READERS_OF_THAMES = _statuses(200, hudson=404, albion=404, alice=403, carol=403)


def _propose(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    """alice offers 10 THAMES28 to carol for £1,000.00."""
    body = {
        "side": "sell",
        "counterparty": market.accounts["carol"],
        "security": "THAMES28",
        "quantity": 10,
        "cash": "GBPS",
        "cash_amount": 100_000,
    }
    assert client.post("/settlements", json=body, headers=bearer(keys["alice"])).status_code == 201


def _propose_and_affirm(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    _propose(client, market, keys)
    assert client.post(f"/settlements/{_last_trade(market)}/affirm", headers=bearer(keys["carol"])).status_code == 200


def _propose_and_affirm_cross_border(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    """alice (GB) sells 600 THAMES28 to carol (US) for £6,000.00: at or above the threshold."""
    body = {
        "side": "sell",
        "counterparty": market.accounts["carol"],
        "security": "THAMES28",
        "quantity": 600,
        "cash": "GBPS",
        "cash_amount": 600_000,
    }
    assert client.post("/settlements", json=body, headers=bearer(keys["alice"])).status_code == 201
    assert client.post(f"/settlements/{_last_trade(market)}/affirm", headers=bearer(keys["carol"])).status_code == 200


def _request_cross_border(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    """alice (GB) asks to send 600 THAMES28 to carol (US): at or above the threshold, so it is held."""
    body = {"to": market.accounts["carol"], "amount": 600}
    response = client.post(f"{S}/cross-border-transfers", json=body, headers=bearer(keys["alice"]))
    assert response.status_code == 201, response.text


def _last_cross_border(market: Market) -> int:
    return int(events_of(market.security("THAMES28"), "CrossBorderTransferRequested")[-1].args["id"])


def _fca_freezes_ten_of_carol(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    body = {"wallet": market.accounts["carol"], "amount": 10}
    assert client.post(f"{S}/partial-freezes", json=body, headers=bearer(keys["fca"])).status_code == 200


def _last_trade(market: Market) -> int:
    assert market.settlement is not None
    return market.settlement.trade_count()


CASES = [
    Case("health-get", "GET", _const("/health"), dict.fromkeys(PRINCIPALS, 200)),
    Case("me-get", "GET", _const("/me"), _statuses(200)),
    # follow=false: the stream sends what is there after the id and ends (scope: tests/api/test_console.py).
    Case("events-stream", "GET", _const("/events"), _statuses(200), params={"follow": "false", "last_event_id": "0"}),
    Case("securities-list", "GET", _const("/securities"), _statuses(200)),
    Case("securities-get", "GET", _const(S), _statuses(200)),
    Case(
        "securities-create",
        "POST",
        _const("/securities"),
        _statuses(403, thames=201, hudson=201, albion=201),
        body=lambda m: {"symbol": "NEWCO", "name": "NewCo plc", "home": "GB", "admitted": ["GB"]},
    ),
    Case(
        # A security without offerings: the demo's THAMES28 issues only in its offerings (issue 11), so
        # a plain mint of it is refused on chain (ISSUANCE_OUTSIDE_OFFERING) whoever asks.
        "securities-mint",
        "POST",
        _const("/securities/OFFR1/mint"),
        _statuses(403, thames=201),
        body=lambda m: {"to": m.accounts["alice"], "amount": 1},
        setup=_thames_creates_offr1,
    ),
    Case("offerings-list", "GET", _const(f"{S}/offerings"), _statuses(403, fca=200, sec=200, thames=200)),
    Case(
        "offerings-create",
        "POST",
        _const("/securities/OFFR1/offerings"),
        _statuses(403, thames=201),
        body=lambda m: {
            "exemption": "REG_S_CATEGORY_2",
            "first_offer_at": m.chain.timestamp(),
            "closing_at": m.chain.timestamp() + 86_400,
        },
        setup=_thames_creates_offr1,
    ),
    Case(
        "offerings-create-after-issuance",
        "POST",
        _const("/securities/OFFR1/offerings"),
        _statuses(403, thames=409),
        body=lambda m: {
            "exemption": "UK_PUBLIC_OFFER",
            "first_offer_at": m.chain.timestamp(),
            "closing_at": 2_000_000_000,
        },
        setup=_thames_mints_offr1,
    ),
    Case(
        "offerings-issue",
        "POST",
        _const("/securities/OFFR1/offerings/1/issue"),
        _statuses(403, thames=201),
        body=lambda m: {"to": m.accounts["alice"], "amount": 1},
        setup=_thames_opens_an_offering,
    ),
    Case("securities-pause", "POST", _const(f"{S}/pause"), _statuses(403, fca=200, thames=200)),
    Case("securities-unpause", "POST", _const(f"{S}/unpause"), _statuses(403, fca=200, thames=200), setup=_pause_first),
    Case(
        "investors-create",
        "POST",
        _const("/investors"),
        _statuses(403, operator=201, thames=201, hudson=201, albion=201),
        body=lambda m: {
            "wallet": m.chain.accounts[12].address,
            "jurisdiction": "GB",
            "category": "UK_PROFESSIONAL",
            "kyc_valid_until": m.chain.timestamp() + 86_400 * 365,
        },
    ),
    Case("investors-list", "GET", _const("/investors"), _statuses(200)),
    Case("investors-get", "GET", lambda m: f"/investors/{m.accounts['alice']}", _statuses(200, sec=404, carol=404)),
    Case(
        "investors-create-with-a-regulators-wallet",
        "POST",
        _const("/investors"),
        _statuses(403, operator=409, thames=409, hudson=409, albion=409),
        body=lambda m: {
            "wallet": m.accounts["fca"],
            "jurisdiction": "GB",
            "category": "UK_PROFESSIONAL",
            "kyc_valid_until": m.chain.timestamp() + 86_400 * 365,
        },
    ),
    Case(
        "investors-create-with-an-issuers-identity",
        "POST",
        _const("/investors"),
        _statuses(403, operator=409, thames=409, hudson=409, albion=409),
        body=lambda m: {
            "identity": m.accounts["hudson"],
            "wallet": m.chain.accounts[12].address,
            "jurisdiction": "US",
            "category": "US_QIB",
            "kyc_valid_until": m.chain.timestamp() + 86_400 * 365,
        },
    ),
    # alice was onboarded by the operator: no issuer may change her (the registry's remit rule).
    Case(
        "investors-update",
        "PATCH",
        lambda m: f"/investors/{m.accounts['alice']}",
        _statuses(403, operator=200),
        body=lambda m: {"kyc_valid_until": m.chain.timestamp() + 86_400 * 700},
    ),
    Case(
        "investors-update-onboarded-by-thames",
        "PATCH",
        lambda m: f"/investors/{m.chain.accounts[12].address}",
        _statuses(403, operator=200, thames=200),
        body=lambda m: {"kyc_valid_until": 1},
        setup=_thames_onboards_first,
    ),
    Case(
        "investors-add-wallet",
        "POST",
        lambda m: f"/investors/{m.accounts['alice']}/wallets",
        _statuses(403, operator=201),
        body=lambda m: {"wallet": m.chain.accounts[13].address},
    ),
    Case(
        "investors-add-wallet-onboarded-by-thames",
        "POST",
        lambda m: f"/investors/{m.chain.accounts[12].address}/wallets",
        _statuses(403, operator=201, thames=201),
        body=lambda m: {"wallet": m.chain.accounts[13].address},
        setup=_thames_onboards_first,
    ),
    Case(
        "investors-add-wallet-of-a-regulator",
        "POST",
        lambda m: f"/investors/{m.accounts['alice']}/wallets",
        _statuses(403, operator=409),
        body=lambda m: {"wallet": m.accounts["fca"]},
    ),
    Case(
        "investors-add-wallet-of-another-investor",
        "POST",
        lambda m: f"/investors/{m.chain.accounts[12].address}/wallets",
        _statuses(403, operator=409, thames=409),
        body=lambda m: {"wallet": m.accounts["bob"]},
        setup=_thames_onboards_first,
    ),
    Case(
        "investors-suspend", "POST", lambda m: f"/investors/{m.accounts['alice']}/suspension", _statuses(403, fca=200)
    ),
    Case(
        "investors-reinstate",
        "DELETE",
        lambda m: f"/investors/{m.accounts['alice']}/suspension",
        _statuses(403, fca=200),
        setup=_suspend_alice_first,
    ),
    Case(
        "investors-positions",
        "GET",
        lambda m: f"/investors/{m.accounts['alice']}/positions",
        _statuses(200, sec=404, carol=404),
    ),
    # The sending wallet must be a position the caller sees (as for positions); out of scope answers as a
    # wallet that does not exist (404), so no balance or lock-up leaks.
    Case(
        "transfers-precheck",
        "POST",
        _const(f"{S}/transfers/precheck"),
        _statuses(200, sec=404, hudson=404, albion=404, carol=403),
        body=lambda m: {"from": m.accounts["alice"], "to": m.accounts["carol"], "amount": 1},
    ),
    Case(
        "transfers-precheck-us-holder",
        "POST",
        _const(f"{S}/transfers/precheck"),
        _statuses(200, hudson=404, albion=404, alice=403),
        body=lambda m: {"from": m.accounts["carol"], "to": m.accounts["dan"], "amount": 1},
    ),
    Case(
        "transfers-precheck-foreign-security",
        "POST",
        _const("/securities/HUDS/transfers/precheck"),
        _statuses(200, fca=404, thames=404, albion=404, alice=403),
        body=lambda m: {"from": m.accounts["carol"], "to": m.accounts["dan"], "amount": 1},
    ),
    Case(
        "transfers-create",
        "POST",
        _const(f"{S}/transfers"),
        _statuses(403, alice=201, carol=201),
        body=lambda m: {"to": m.accounts["bob"], "amount": 1},
    ),
    Case(
        "transfers-create-from-someone-elses-wallet",
        "POST",
        _const(f"{S}/transfers"),
        _statuses(403, carol=201),
        body=lambda m: {"from": m.accounts["carol"], "to": m.accounts["bob"], "amount": 1},
    ),
    Case("positions-list", "GET", _const(f"{S}/positions"), READERS_OF_THAMES),
    Case("positions-cap-table", "GET", _const(f"{S}/cap-table"), READERS_OF_THAMES),
    Case("positions-cap-table-csv", "GET", _const(f"{S}/cap-table"), READERS_OF_THAMES, params={"format": "csv"}),
    Case("freezes-list", "GET", _const(f"{S}/frozen-wallets"), READERS_OF_THAMES),
    Case(
        "freezes-create-us-holder",
        "POST",
        _const(f"{S}/frozen-wallets"),
        _statuses(403, fca=201, sec=201, thames=201),
        body=lambda m: {"wallet": m.accounts["carol"]},
    ),
    Case(
        "freezes-create-uk-holder",
        "POST",
        _const(f"{S}/frozen-wallets"),
        _statuses(403, fca=201, thames=201),
        body=lambda m: {"wallet": m.accounts["alice"]},
    ),
    Case(
        "freezes-delete",
        "DELETE",
        lambda m: f"{S}/frozen-wallets/{m.accounts['carol']}",
        _statuses(403, fca=200),
        setup=_fca_freezes_carol_first,
    ),
    Case("cash-list", "GET", _const("/cash"), _statuses(200)),
    Case("sanctions-list", "GET", _const("/sanctions/OFSI"), _statuses(200)),
    Case(
        "sanctions-designate",
        "POST",
        _const("/sanctions/OFSI/designations"),
        _statuses(403, fca=201),
        body=lambda m: {"party": m.accounts["bob"]},
    ),
    Case(
        "sanctions-remove",
        "DELETE",
        lambda m: f"/sanctions/OFAC/designations/{m.accounts['carol']}",
        _statuses(403, sec=200),
        setup=_designate_carol_first,
    ),
    Case(
        "cash-exempt",
        "PUT",
        lambda m: f"/cash/GBPS/holding-limit-exemptions/{m.accounts['bob']}",
        _statuses(403, fca=200),
    ),
    Case(
        "cash-unexempt",
        "DELETE",
        lambda m: f"/cash/GBPS/holding-limit-exemptions/{m.accounts['bob']}",
        _statuses(403, fca=200),
    ),
    Case("cash-get", "GET", _const("/cash/GBPS"), _statuses(200)),
    Case(
        "cash-balance",
        "GET",
        lambda m: f"/cash/GBPS/balances/{m.accounts['alice']}",
        _statuses(200, sec=404, thames=404, hudson=404, carol=404),
    ),
    Case(
        "cash-attest-reserves",
        "POST",
        _const("/cash/GBPS/reserves"),
        _statuses(403, albion=200),
        body=lambda m: {"reserves": 70_000_000},
    ),
    Case(
        "cash-mint",
        "POST",
        _const("/cash/GBPS/mint"),
        _statuses(403, albion=201),
        body=lambda m: {"to": m.accounts["alice"], "amount": 100},
    ),
    Case(
        "cash-burn",
        "POST",
        _const("/cash/GBPS/burn"),
        _statuses(403, albion=200),
        body=lambda m: {"from": m.accounts["alice"], "amount": 100},
    ),
    Case(
        "settlements-propose",
        "POST",
        _const("/settlements"),
        _statuses(403, alice=201, carol=201),
        body=lambda m: {
            "side": "sell",
            "counterparty": m.accounts["bob"],
            "security": "THAMES28",
            "quantity": 1,
            "cash": "GBPS",
            "cash_amount": 1_000,
        },
    ),
    Case(
        "settlements-get",
        "GET",
        lambda m: f"/settlements/{_last_trade(m)}",
        _statuses(200, hudson=404, albion=404),
        setup=_propose,
    ),
    Case(
        "settlements-affirm",
        "POST",
        lambda m: f"/settlements/{_last_trade(m)}/affirm",
        _statuses(403, carol=200),
        setup=_propose,
    ),
    Case(
        "settlements-cancel",
        "POST",
        lambda m: f"/settlements/{_last_trade(m)}/cancel",
        _statuses(403, alice=200, carol=200),
        setup=_propose,
    ),
    Case(
        "settlements-settle",
        "POST",
        lambda m: f"/settlements/{_last_trade(m)}/settle",
        _statuses(403, operator=200, alice=200, carol=200, hudson=404, albion=404),
        setup=_propose_and_affirm,
    ),
    Case(
        "settlements-clearance",
        "POST",
        lambda m: f"/settlements/{_last_trade(m)}/clearance",
        _statuses(403, alice=201, carol=201),
        setup=_propose_and_affirm_cross_border,
    ),
    Case(
        "settlements-clearance-not-needed",
        "POST",
        lambda m: f"/settlements/{_last_trade(m)}/clearance",
        _statuses(403, alice=409, carol=409),
        setup=_propose_and_affirm,
    ),
    Case(
        "settlements-batch",
        "POST",
        _const("/settlements/batch"),
        _statuses(403, operator=200),
        body=lambda m: {"trade_ids": [_last_trade(m)]},
        setup=_propose_and_affirm,
    ),
    Case(
        "securities-approve-issuance",
        "POST",
        _const(f"{S}/issuance-approval"),
        _statuses(403, fca=200),
        body=lambda m: {"limit": 10_000_000},
    ),
    Case(
        "freezes-freeze-amount",
        "POST",
        _const(f"{S}/partial-freezes"),
        _statuses(403, fca=200, sec=200, thames=200),
        body=lambda m: {"wallet": m.accounts["carol"], "amount": 10},
    ),
    Case(
        "freezes-release-amount",
        "POST",
        _const(f"{S}/partial-freezes/release"),
        _statuses(403, fca=200),
        body=lambda m: {"wallet": m.accounts["carol"], "amount": 10},
        setup=_fca_freezes_ten_of_carol,
    ),
    Case("cross-border-list", "GET", _const("/cross-border-transfers"), _statuses(200)),
    Case(
        "cross-border-request",
        "POST",
        _const(f"{S}/cross-border-transfers"),
        _statuses(403, alice=201, carol=409),
        body=lambda m: {"to": m.accounts["dan"], "amount": 600},
    ),
    Case(
        "cross-border-approve",
        "POST",
        lambda m: f"{S}/cross-border-transfers/{_last_cross_border(m)}/approve",
        _statuses(403, fca=200, sec=200),
        setup=_request_cross_border,
    ),
    Case(
        "cross-border-reject",
        "POST",
        lambda m: f"{S}/cross-border-transfers/{_last_cross_border(m)}/reject",
        _statuses(403, fca=200, sec=200),
        setup=_request_cross_border,
    ),
    # Every principal sees its own requests (rows scoped: test_audit_requests_are_scoped).
    Case("audit-requests", "GET", _const("/audit/requests"), _statuses(200)),
    # Investors have no access; the rows others see are scoped (test_audit_actions_are_scoped).
    Case("audit-actions", "GET", _const("/audit/actions"), _statuses(200, alice=403, carol=403)),
    Case(
        "audit-actions-of-a-foreign-security",
        "GET",
        _const("/audit/actions"),
        _statuses(200, hudson=404, albion=404, alice=403, carol=403),
        params={"security": "THAMES28"},
    ),
    Case("corporate-actions-list", "GET", _const(f"{S}/distributions"), _statuses(200)),
    Case("corporate-actions-coupon-schedule", "GET", _const(f"{S}/coupons"), _statuses(200)),
    Case(
        "corporate-actions-get",
        "GET",
        _const(f"{S}/distributions/1"),
        _statuses(200),
        setup=_schedule_coupon_first,
    ),
    Case(
        "corporate-actions-schedule-coupon",
        "POST",
        _const(f"{S}/coupons"),
        ISSUER_OF_THAMES_ONLY,
        body=lambda m: {"period": 1},
    ),
    Case("corporate-actions-schedule-redemption", "POST", _const(f"{S}/redemption"), ISSUER_OF_THAMES_ONLY),
    Case(
        "corporate-actions-declare-dividend",
        "POST",
        _const("/securities/HUDS/dividends"),
        _statuses(403, hudson=201),
        body=lambda m: {
            "amount_per_share": 25,
            "record_date": m.chain.timestamp() + 30 * 86_400,
            "payment_date": m.chain.timestamp() + 37 * 86_400,
        },
    ),
    Case(
        "corporate-actions-fund",
        "POST",
        _const(f"{S}/distributions/1/funding"),
        _statuses(403, thames=200),
        setup=_after_record_date,
    ),
    Case(
        "corporate-actions-pay",
        "POST",
        _const(f"{S}/distributions/1/payments"),
        _statuses(403, thames=200),
        body=lambda m: {"holders": [m.accounts["bob"], m.accounts["dan"]]},
        setup=_fund_first,
    ),
    Case(
        "corporate-actions-claim",
        "POST",
        _const(f"{S}/distributions/1/claims"),
        _statuses(403, alice=200),
        body=lambda m: {"wallet": m.accounts["alice"]},
        setup=_fund_first,
    ),
    Case(
        "corporate-actions-payment",
        "GET",
        lambda m: f"{S}/distributions/1/payments/{m.accounts['alice']}",
        _statuses(200, sec=404, hudson=404, albion=404, carol=404),
        setup=_after_record_date,
    ),
    Case(
        "operator-time-travel",
        "POST",
        _const("/operator/time-travel"),
        _statuses(403, operator=200),
        body=lambda m: {"seconds": 3600},
    ),
]


def _state(market: Market) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was (participants and the wallets the cases use)."""
    wallets = [*market.accounts.values(), market.chain.accounts[12].address, market.chain.accounts[13].address]
    out: list[Any] = []
    for symbol, token in sorted(market.securities.items()):
        out.append((symbol, token.total_supply(), token.paused()))
        out.extend((token.balance_of(w), token.frozen_by(w)) for w in wallets)
    out.extend(market.registry.wallet_record(w) for w in wallets)
    return tuple(out)


def test_every_route_is_in_the_matrix(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    missing = {op for op in operations if not any(c.name == op or c.name.startswith(op + "-") for c in CASES)}
    assert not missing, f"routes missing from the matrix: {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_authorization(client: TestClient, market: Market, keys: dict[str, str], case: Case, principal: str) -> None:
    if case.setup is not None:
        case.setup(client, market, keys)
    headers = {} if principal == "none" else bearer(keys[principal])
    expected = case.expected[principal]
    height = market.chain.block_number()
    before = _state(market) if expected >= 400 else ()
    response = client.request(
        case.method,
        case.path(market),
        json=case.body(market) if case.body else None,
        params=case.params,
        headers=headers,
    )
    assert response.status_code == expected, f"{case.name} as {principal}: {response.status_code} {response.text}"
    if expected >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        # Refused by the gateway: nothing was sent. Refused by the chain: a failed transaction was mined,
        # and it must have changed nothing.
        if market.chain.block_number() != height:
            assert _state(market) == before, f"{case.name} as {principal} was refused but changed state"


# ---------------------------------------------------------------- the rows each principal sees in the audit

ALL = "*"
#: For each principal: security (or "registry") → the parties whose actions it sees there (ALL: every
#: action). Parties are named by participant key; "thames-treasury"/"hudson-treasury" are the issuers'
#: treasuries (GB / US business investors); "newgb" a GB investor thames onboards. The operator sees all.
SEES_ACTIONS: dict[str, dict[str, set[str] | str]] = {
    # GB regulator: all of the GB security, GB investors' positions in the US one, GB investors' registry rows
    "fca": {"THAMES28": ALL, "HUDS": {"bob"}, "registry": {"alice", "bob", "thames-treasury", "newgb", "fca"}},
    "sec": {"HUDS": ALL, "THAMES28": {"carol", "dan"}, "registry": {"carol", "dan", "hudson-treasury", "sec"}},
    # An issuer: its securities, the investors it onboarded, its own appointment as an onboarding agent.
    "thames": {"THAMES28": ALL, "registry": {"thames", "newgb"}},
    "hudson": {"HUDS": ALL, "registry": {"hudson"}},
    "albion": {"registry": {"albion"}},
}


def _names(market: Market) -> dict[str, str]:
    names = {address: key for key, address in market.accounts.items()}
    for issuer, treasury in market.treasuries.items():
        names[treasury] = f"{issuer}-treasury"
    names[market.chain.accounts[12].address] = "newgb"
    names[market.registry.address] = "registry"
    for symbol, token in market.securities.items():
        names[token.address] = symbol
    return names


def _audit_activity(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    """Actions in every corner: thames onboards a GB investor; alice and carol transfer; the FCA freezes a US
    holder of THAMES28, the SEC a GB holder of HUDS, and suspends a US investor."""
    _thames_onboards_first(client, market, keys)
    steps = [
        ("alice", "POST", f"{S}/transfers", {"to": market.accounts["bob"], "amount": 1}, 201),
        ("carol", "POST", f"{S}/transfers", {"to": market.accounts["dan"], "amount": 1}, 201),
        ("fca", "POST", f"{S}/frozen-wallets", {"wallet": market.accounts["carol"]}, 201),
        ("sec", "POST", "/securities/HUDS/frozen-wallets", {"wallet": market.accounts["bob"]}, 201),
        ("sec", "POST", f"/investors/{market.accounts['dan']}/suspension", None, 200),
    ]
    for who, method, path, body, status in steps:
        response = client.request(method, path, json=body, headers=bearer(keys[who]))
        assert response.status_code == status, f"{who} {path}: {response.text}"


def _all_pages(client: TestClient, path: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        response = client.get(path, params={"limit": 500, "offset": offset}, headers=bearer(key))
        assert response.status_code == 200, response.text
        items.extend(response.json()["items"])
        offset = response.json()["page"]["next_offset"]
    return items


@pytest.mark.parametrize("principal", sorted(SEES_ACTIONS))
def test_audit_actions_are_scoped(client: TestClient, market: Market, keys: dict[str, str], principal: str) -> None:
    _audit_activity(client, market, keys)
    names = _names(market)
    everything = _all_pages(client, "/audit/actions", keys["operator"])
    sees = SEES_ACTIONS[principal]

    def visible(row: dict[str, Any]) -> bool:
        parties = sees.get(row["security"] or "registry", set())
        return parties == ALL or names.get(row["target"], row["target"]) in parties

    expected = [row for row in everything if visible(row)]
    got = _all_pages(client, "/audit/actions", keys[principal])
    assert got == expected
    assert expected and len(expected) < len(everything)
    # e.g. the SEC sees no mint to a GB investor of the GB security, an issuer nothing of another's security
    mints_seen = {(r["security"], names.get(r["target"])) for r in got if r["event"] == "Transfer"}
    if principal == "sec":
        assert ("THAMES28", "alice") not in mints_seen and ("THAMES28", "carol") in mints_seen
    if principal in ("thames", "hudson", "albion"):
        assert all(r["security"] in (None, *sees) for r in got)


#: For each regulator: the security and investors whose requests (by path) it sees besides its own.
SEES_REQUESTS_IN_REMIT = {
    "fca": ("THAMES28", {"alice", "bob", "thames-treasury", "newgb"}),
    "sec": ("HUDS", {"carol", "dan", "hudson-treasury"}),
}


@pytest.mark.parametrize("principal", [p for p in PRINCIPALS if p not in ("none", "operator")])
def test_audit_requests_are_scoped(client: TestClient, market: Market, keys: dict[str, str], principal: str) -> None:
    _audit_activity(client, market, keys)
    names = _names(market)
    everything = _all_pages(client, "/audit/requests", keys["operator"])

    def visible(row: dict[str, Any]) -> bool:
        if row["principal"] == principal:
            return True
        if principal not in SEES_REQUESTS_IN_REMIT:
            return False
        security, investors = SEES_REQUESTS_IN_REMIT[principal]
        parts = row["path"].strip("/").split("/")
        if parts[0] == "securities" and len(parts) > 1:
            return parts[1] == security
        return parts[0] == "investors" and len(parts) > 1 and names.get(parts[1]) in investors

    got = _all_pages(client, "/audit/requests", keys[principal])
    assert got == [row for row in everything if visible(row)]
    assert {row["principal"] for row in everything} - {principal}, "others made requests too"
    if principal in ("alice", "carol", "thames", "hudson", "albion"):
        assert all(row["principal"] == principal for row in got)
