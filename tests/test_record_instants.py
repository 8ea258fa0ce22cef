"""Holders of record are those on the register at close of business on the record date, in the
security's time zone (regulatory-facts.md, "Dates the rules turn on"); coupons are paid on the coupon
date rolled to the following business day of the currency's calendar. Dated stories on the demo
market, its sterling bond THAMES28 (close of business 17:00 Europe/London, GBP bank holidays) given
record dates either side of the spring clock change of 29 March 2026."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from sandbox.contracts.corporate_actions import BondPayingAgent
from sandbox.market import Market, load_embedded
from sandbox.scenario import DEMO_SCENARIO, Scenario

DEMO = DEMO_SCENARIO
UNITS = 100


def _market(coupon_dates: list[str]) -> Market:
    raw: dict[str, Any] = yaml.safe_load(DEMO.read_text())
    raw.pop("history", None)
    (bond,) = [s["bond"] for s in raw["securities"] if s["symbol"] == "THAMES28"]
    bond.update(coupon_dates=coupon_dates, maturity=coupon_dates[-1], record_lag_days=7)
    return load_embedded(Scenario.model_validate(raw))


@pytest.fixture(scope="module")
def _loaded() -> Market:
    # Half-yearly on 3 April and 3 October. Record dates Friday 27 March 2026 (GMT: close = 17:00
    # UTC) and Saturday 26 September 2026 (BST: close = 16:00 UTC); the first coupon date, 3 April
    # 2026, is Good Friday, and the Monday after is Easter Monday: it is paid on Tuesday 7 April.
    return _market(["2026-04-03", "2026-10-03", "2027-04-03"])


@pytest.fixture
def market(_loaded: Market) -> Iterator[Market]:
    """The module's market as loaded, for this test alone (each test moves the clock to its own dates: shared,
    a test dated in March could not run after one that had moved the chain to September)."""
    snapshot = _loaded.snapshot()
    try:
        yield _loaded
    finally:
        _loaded.revert(snapshot)


def _utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def _sell_at(market: Market, moment: int, seller: str, buyer: str) -> None:
    """Makes `seller` sell UNITS to `buyer` in a block stamped `moment` (chain time)."""
    chain = market.chain
    assert hasattr(chain, "time_travel")
    if chain.timestamp() < moment - 1:
        chain.time_travel(moment - 1)  # the next block is stamped one second later
    assert chain.timestamp() == moment - 1
    receipt = market.security("THAMES28").transfer(market.wallet(buyer), UNITS, sender=market.wallet(seller))
    assert chain.block_timestamp(receipt.block_number) == moment


def _record_balances(market: Market, period: int, wallets: list[str]) -> dict[str, int]:
    agent = market.paying_agent("THAMES28")
    assert isinstance(agent, BondPayingAgent)
    _, _, record_key = agent.coupon_period(period)
    chain = market.chain
    assert hasattr(chain, "time_travel")
    if chain.timestamp() <= record_key:
        chain.time_travel(record_key + 3600)
    token = market.security("THAMES28")
    return {w: token.balance_of_at(market.wallet(w), record_key) for w in wallets}


def test_a_sale_at_ten_on_the_record_date_moves_the_coupon_to_the_buyer(market: Market) -> None:
    """100 units sold at 10:00 London time on the record date: the buyer is on the register at close
    of business and earns the coupon (taking holders at 00:00 UTC gave it to the seller); sales in the
    last second before close count, the first second of close does not. GMT: close is 17:00 UTC."""
    agent = market.paying_agent("THAMES28")
    assert isinstance(agent, BondPayingAgent)
    coupon = agent.schedule_coupon(0, sender=market.accounts["thames"]).distribution_id
    before = {w: market.security("THAMES28").balance_of(market.wallet(w)) for w in ("alice", "bob", "carol", "dan")}
    at = market.chain_time
    _sell_at(market, at(datetime(2026, 3, 27, 10, 0, tzinfo=UTC)), "alice", "bob")  # 10:00 GMT
    _sell_at(market, at(datetime(2026, 3, 27, 16, 59, 59, tzinfo=UTC)), "carol", "bob")  # last second
    _sell_at(market, at(datetime(2026, 3, 27, 17, 0, 0, tzinfo=UTC)), "dan", "bob")  # close: too late
    record = _record_balances(market, 0, ["alice", "bob", "carol", "dan"])
    assert record == {
        "alice": before["alice"] - UNITS,
        "bob": before["bob"] + 2 * UNITS,
        "carol": before["carol"] - UNITS,
        "dan": before["dan"],
    }
    per_unit = agent.distribution(coupon).amount_per_unit
    assert agent.entitlement(coupon, market.wallet("bob")) == int(record["bob"] * per_unit)


def test_after_the_clock_change_close_of_business_is_16_00_utc(market: Market) -> None:
    """Record date Saturday 26 September 2026, British Summer Time: 17:00 in London is 16:00 UTC, so a
    sale at 15:59:59 UTC is on the register of record and one at 16:00:00 UTC is not."""
    agent = market.paying_agent("THAMES28")
    assert isinstance(agent, BondPayingAgent)
    agent.schedule_coupon(1, sender=market.accounts["thames"])
    before = {w: market.security("THAMES28").balance_of(market.wallet(w)) for w in ("alice", "bob", "carol")}
    at = market.chain_time
    _sell_at(market, at(datetime(2026, 9, 26, 9, 0, tzinfo=UTC)), "bob", "alice")  # 10:00 BST
    _sell_at(market, at(datetime(2026, 9, 26, 15, 59, 59, tzinfo=UTC)), "bob", "alice")  # 16:59:59 BST
    _sell_at(market, at(datetime(2026, 9, 26, 16, 0, 0, tzinfo=UTC)), "bob", "carol")  # 17:00 BST
    record = _record_balances(market, 1, ["alice", "bob", "carol"])
    assert record == {
        "alice": before["alice"] + 2 * UNITS,
        "bob": before["bob"] - 2 * UNITS,
        "carol": before["carol"],
    }


def test_coupons_are_paid_on_the_next_business_day(market: Market) -> None:
    """3 April 2026 is Good Friday and 6 April Easter Monday: the coupon is paid on Tuesday 7 April;
    3 October 2026 and 3 April 2027 are Saturdays: paid on the Mondays. Accrual runs to the
    unadjusted dates, so a gilt's half-years stay exactly half a year."""
    agent = market.paying_agent("THAMES28")
    assert isinstance(agent, BondPayingAgent)
    paid = [agent.coupon_schedule(p)[2] for p in range(3)]
    assert paid == [market.chain_date(d) for d in (date(2026, 4, 7), date(2026, 10, 5), date(2027, 4, 5))]
    _, accrual_end, _, _ = agent.coupon_schedule(0)
    assert accrual_end == market.chain_date(date(2026, 4, 3))
    assert agent.day_count_fraction(1) == (1, 2)
    terms = agent.terms()
    assert terms.close_of_business == "17:00 Europe/London"
    assert terms.record_dates[0] == market.chain_time(datetime(2026, 3, 27, 17, tzinfo=UTC)) - 1


def test_the_record_instants_of_a_new_york_security_follow_its_clock() -> None:
    """A USD bond closes at 17:00 America/New_York: 22:00 UTC in winter, 21:00 UTC once US daylight
    time starts (8 March 2026), three weeks before London's clocks change."""
    raw: dict[str, Any] = yaml.safe_load(DEMO.read_text())
    (bond,) = [s["bond"] for s in raw["securities"] if s["symbol"] == "THAMES28"]
    bond.update(
        currency="USD", time_zone=None, calendar=None, record_lag_days=1, day_count="30/360 US",
        coupon_dates=["2026-03-07", "2026-03-10", "2026-03-21"], maturity="2026-03-21",
    )  # fmt: skip
    spec = Scenario.model_validate(raw).securities[0].bond
    assert spec is not None and spec.zone == "America/New_York"
    assert [t.time() for t in spec.record_instants()] == [time(22), time(21), time(21)]
    # 7 March is a Saturday, 21 March too: paid Monday 9 and Monday 23 March.
    assert spec.payment_dates() == [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 23)]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time_zone": "Europe/Lundon"}, "unknown time zone"),
        # 01:30 on Sunday 25 October 2026 happens twice in London: no single record instant.
        ({"close_of_business": "01:30", "coupon_dates": ["2026-11-01", "2027-05-01"]}, "clock change"),
        ({"calendar": "EUR"}, "Input should be 'GBP' or 'USD'"),
        ({"frequency": 3}, "Input should be 1, 2, 4 or 12"),
    ],
)
def test_a_bond_whose_record_instants_cannot_be_named_is_refused(changes: dict[str, Any], message: str) -> None:
    raw: dict[str, Any] = yaml.safe_load(DEMO.read_text())
    (bond,) = [s["bond"] for s in raw["securities"] if s["symbol"] == "THAMES28"]
    bond.update(changes)
    if "coupon_dates" in changes:
        bond["maturity"] = changes["coupon_dates"][-1]
    with pytest.raises(ValidationError, match=message):
        Scenario.model_validate(raw)
