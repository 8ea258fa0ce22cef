"""Issue #10, items 3-5 and the parallel security creation, over HTTP: parallel requests do not break each
other, a refused request leaves chain state as it was, and no request leaves a 500 (or a dropped
connection) behind. Concurrency runs against a real uvicorn server on 127.0.0.1 (port 0)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import Market
from sandbox_gateway.app import create_app
from sandbox_gateway.settings import Settings
from tests.api.conftest import bearer
from tests.api.live_gateway import REQUEST_TIMEOUT, LiveGateway

MAX_ALLOWANCE = 2**256 - 1


@pytest.fixture
def live(market: Market) -> Iterator[LiveGateway]:
    with LiveGateway(create_app(Settings(), market=market)) as gateway:
        yield gateway


def _in_parallel(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def _sell_to_carol(market: Market, quantity: int = 10, cash_amount: int = 10_000) -> dict[str, Any]:
    return {
        "side": "sell",
        "counterparty": market.accounts["carol"],
        "security": "THAMES28",
        "quantity": quantity,
        "cash": "GBPS",
        "cash_amount": cash_amount,
    }


def _allowances(market: Market, owner: str) -> tuple[int, int]:
    """`owner`'s allowances to the DvP contract: (THAMES28, GBPS)."""
    assert market.settlement is not None
    dvp = market.settlement.address
    return market.security("THAMES28").allowance(owner, dvp), market.cash["GBPS"].allowance(owner, dvp)


def _stranger(market: Market) -> str:
    """A funded chain account that is no participant of the scenario and not registered."""
    known = {a.lower() for wallets in market.wallets.values() for a in wallets} | {
        a.lower() for a in market.accounts.values()
    }
    address = next(a.address for a in market.chain.accounts if a.address.lower() not in known)
    assert market.registry.wallet_record(address).identity is None
    return address


# ---------------------------------------------------------------------- item 3: parallel proposals


def test_parallel_proposals_by_one_seller_all_settle(live: LiveGateway, market: Market, keys: dict[str, str]) -> None:
    proposed = _in_parallel([lambda: live.post("/settlements", keys["alice"], _sell_to_carol(market))] * 10)
    assert [r.status_code for r in proposed] == [201] * 10, [r.text for r in proposed]
    ids = [r.json()["trade"]["trade_id"] for r in proposed]
    assert len(set(ids)) == 10

    affirmed = _in_parallel([lambda i=i: live.post(f"/settlements/{i}/affirm", keys["carol"]) for i in ids])
    assert [r.status_code for r in affirmed] == [200] * 10, [r.text for r in affirmed]

    settled = _in_parallel([lambda i=i: live.post(f"/settlements/{i}/settle", keys["alice"]) for i in ids])
    assert [r.status_code for r in settled] == [200] * 10, [r.text for r in settled]
    outcomes = [r.json()["outcome"] for r in settled]
    assert [(o["settled"], o["rule"]) for o in outcomes] == [(True, None)] * 10, outcomes
    assert _allowances(market, market.accounts["alice"])[0] == 0
    assert _allowances(market, market.accounts["carol"])[1] == 0


def test_a_settlement_between_proposals_leaves_the_allowance_exact(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """Allowances are raised by what each trade takes and spent by its settlement: nothing is lost or left."""
    first = client.post("/settlements", json=_sell_to_carol(market, 7), headers=bearer(keys["alice"])).json()
    client.post(f"/settlements/{first['trade']['trade_id']}/affirm", headers=bearer(keys["carol"]))
    second = client.post("/settlements", json=_sell_to_carol(market, 5), headers=bearer(keys["alice"]))
    assert second.status_code == 201
    settled = client.post(f"/settlements/{first['trade']['trade_id']}/settle", headers=bearer(keys["alice"]))
    assert settled.json()["outcome"]["settled"] is True
    assert _allowances(market, market.accounts["alice"])[0] == 5


# ---------------------------------------------------------------------- item 4: refusals change nothing


@pytest.mark.parametrize("side", ["sell", "buy"])
def test_a_self_trade_is_refused_and_changes_no_allowance(
    client: TestClient, market: Market, keys: dict[str, str], side: str
) -> None:
    alice = market.accounts["alice"]
    body = {**_sell_to_carol(market), "side": side, "counterparty": alice}
    before = _allowances(market, alice)

    response = client.post("/settlements", json=body, headers=bearer(keys["alice"]))

    assert response.status_code == 422, response.text  # arguments that can never succeed (DvPSameParty)
    assert response.json()["error"] == "DvPSameParty"
    assert _allowances(market, alice) == before


def test_an_unregistered_counterparty_is_refused_before_anything_is_sent(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    alice = market.accounts["alice"]
    assert market.settlement is not None
    trades, before = market.settlement.trade_count(), _allowances(market, alice)

    body = {**_sell_to_carol(market), "counterparty": _stranger(market)}
    response = client.post("/settlements", json=body, headers=bearer(keys["alice"]))

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "COUNTERPARTY_NOT_REGISTERED"
    assert (market.settlement.trade_count(), _allowances(market, alice)) == (trades, before)


def _declare_dividend(client: TestClient, market: Market, keys: dict[str, str], per_share: int) -> int:
    now = market.chain.timestamp()
    body = {"amount_per_share": per_share, "record_date": now + 86_400, "payment_date": now + 2 * 86_400}
    response = client.post("/securities/HUDS/dividends", json=body, headers=bearer(keys["hudson"]))
    assert response.status_code == 201, response.text
    return int(response.json()["distribution"]["distribution_id"])


def test_a_refused_funding_changes_no_allowance(
    client: TestClient, market: Market, chain: EmbeddedChain, keys: dict[str, str]
) -> None:
    """$100,000 a share is far more than the treasury holds: the funding is refused and the treasury's
    allowance to the paying agent is what it was (it used to be approved first, then refused)."""
    agent, treasury = market.paying_agent("HUDS"), market.treasuries["hudson"]
    cash = market.cash_token("USD")
    too_much = _declare_dividend(client, market, keys, 10_000_000)
    enough = _declare_dividend(client, market, keys, 1)
    chain.time_travel(chain.timestamp() + 86_400 + 60)

    refused = client.post(f"/securities/HUDS/distributions/{too_much}/funding", headers=bearer(keys["hudson"]))

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "PayingAgentFundingFailed"
    assert cash.allowance(treasury, agent.address) == 0
    assert agent.distribution(too_much).funded == 0

    funded = client.post(f"/securities/HUDS/distributions/{enough}/funding", headers=bearer(keys["hudson"]))
    assert funded.status_code == 200, funded.text
    assert funded.json()["distribution"]["funded"] == market.security("HUDS").total_supply()
    assert cash.allowance(treasury, agent.address) == 0  # approved exactly what was pulled


# ---------------------------------------------------------------------- item 5: no 500 stays


def test_a_trade_with_an_unregistered_party_reads_and_settles_without_a_500(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """A trade proposed on chain directly (a wallet signing for itself) may name any address."""
    assert market.settlement is not None
    trade_id = market.settlement.propose(
        seller=market.accounts["alice"],
        buyer=_stranger(market),
        security=market.security("THAMES28").address,
        quantity=10,
        cash=market.cash["GBPS"].address,
        cash_amount=10_000,
        deadline=market.chain.timestamp() + 86_400,
        sender=market.accounts["alice"],
    ).trade_id

    seen = client.get(f"/settlements/{trade_id}", headers=bearer(keys["fca"]))
    assert seen.status_code == 200, seen.text
    assert seen.json()["buyer"] == _stranger(market)
    assert client.get(f"/settlements/{trade_id}", headers=bearer(keys["sec"])).status_code == 404
    assert client.post(f"/settlements/{trade_id}/settle", headers=bearer(keys["fca"])).status_code == 403


def test_a_proposal_of_the_largest_amount_leaves_later_proposals_working(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """An allowance at its maximum (2**256-1, e.g. after a proposal of that much) used to overflow the next
    raise: every later proposal of the investor answered 500, even after cancelling."""
    carol = market.accounts["carol"]
    buy = {**_sell_to_carol(market), "side": "buy", "counterparty": market.accounts["alice"]}
    largest = client.post("/settlements", json={**buy, "cash_amount": 2**256 - 1}, headers=bearer(keys["carol"]))
    assert largest.status_code < 500, largest.text
    if largest.status_code == 201:
        trade_id = largest.json()["trade"]["trade_id"]
        assert client.post(f"/settlements/{trade_id}/cancel", headers=bearer(keys["carol"])).status_code == 200
    else:  # the edge refuses that much: reach the same state as a wallet approving the most itself
        assert market.settlement is not None
        market.cash["GBPS"].approve(market.settlement.address, MAX_ALLOWANCE, sender=carol)
    assert _allowances(market, carol)[1] == MAX_ALLOWANCE

    for _ in range(2):
        again = client.post("/settlements", json=buy, headers=bearer(keys["carol"]))
        assert again.status_code == 201, again.text
    trade_id = again.json()["trade"]["trade_id"]
    assert client.post(f"/settlements/{trade_id}/affirm", headers=bearer(keys["alice"])).status_code == 200
    settled = client.post(f"/settlements/{trade_id}/settle", headers=bearer(keys["carol"]))
    assert settled.json()["outcome"]["settled"] is True, settled.text


def test_a_dividend_too_large_to_fund_is_refused_before_it_is_sent(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    agent = market.paying_agent("HUDS")
    count = agent.distribution_count()
    now = market.chain.timestamp()
    body = {"amount_per_share": 2**255, "record_date": now + 86_400, "payment_date": now + 2 * 86_400}

    response = client.post("/securities/HUDS/dividends", json=body, headers=bearer(keys["hudson"]))

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "AMOUNT_TOO_LARGE"
    assert agent.distribution_count() == count


def test_an_unexpected_error_answers_500_and_keeps_the_connection(market: Market) -> None:
    app = create_app(Settings(), market=market)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    with LiveGateway(app) as gateway:
        connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request("GET", "/broken")
            failed = connection.getresponse()
            problem = json.loads(failed.read())
            assert failed.status == 500
            assert failed.getheader("content-type") == "application/problem+json"
            assert problem["code"] == "INTERNAL_ERROR"
            sock = connection.sock
            assert sock is not None

            connection.request("GET", "/health")
            healthy = connection.getresponse()
            healthy.read()
            assert healthy.status == 200
            assert connection.sock is sock  # the same keep-alive connection
        finally:
            connection.close()


# ---------------------------------------------------------------------- low: parallel security creation


def test_parallel_creations_of_one_symbol_deploy_once(live: LiveGateway, market: Market, keys: dict[str, str]) -> None:
    issuer = market.accounts["hudson"]
    nonce = market.chain.w3.eth.get_transaction_count(issuer)  # type: ignore[arg-type]
    body = {"symbol": "HUDB27", "name": "Hudson Robotics 5% 2027", "home": "US", "admitted": ["US"]}

    answers = _in_parallel([lambda: live.post("/securities", keys["hudson"], body)] * 6)

    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] + [409] * 5, [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"SYMBOL_TAKEN"}
    assert market.chain.w3.eth.get_transaction_count(issuer) == nonce + 1  # type: ignore[arg-type]
    assert "HUDB27" in market.securities
