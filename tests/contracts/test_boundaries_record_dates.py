"""Holders of record of a US dollar bond at close of business on the record date, to the second, in
both seasons of New York's clock (issue #11).

The demo's bond THAMES28 re-denominated in USD with its close of business and time zone left to the
code's defaults (`BondSpec`: 17:00, America/New_York for USD). Record dates Wednesday 14 January 2026
(EST: close = 22:00 UTC) and Tuesday 14 July 2026 (EDT: close = 21:00 UTC), seven days before coupons
on 21 January and 21 July (the demo's calendar starts on 1 January 2026; its KYC runs to 2027). A sale
in the last second before close is on the register of record and its buyer earns the coupon; a sale at
the close's first second is not. A sale at 21:00:00 UTC is before close in January and at it in July:
a clock fixed in UTC gets one of the two wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

import pytest
import yaml

from sandbox.contracts.corporate_actions import BondPayingAgent
from sandbox.market import Market, load_embedded
from sandbox.scenario import DEMO_SCENARIO, Scenario

UNITS = 100
SYMBOL = "THAMES28"
HOLDERS = ("alice", "bob", "carol", "dan")


@pytest.fixture(scope="module")
def _loaded() -> Market:
    raw: dict[str, Any] = yaml.safe_load(DEMO_SCENARIO.read_text())
    raw.pop("history", None)
    (bond,) = [s["bond"] for s in raw["securities"] if s["symbol"] == SYMBOL]
    for stated in ("close_of_business", "time_zone", "calendar"):
        bond.pop(stated)  # the code's USD defaults
    bond.update(currency="USD", day_count="30/360 US", coupon_dates=["2026-01-21", "2026-07-21"], maturity="2026-07-21")
    scenario = Scenario.model_validate(raw)
    (spec,) = [s.bond for s in scenario.securities if s.symbol == SYMBOL]
    assert spec is not None and (spec.close_of_business, spec.zone) == (time(17), "America/New_York")
    assert spec.record_instants() == [
        datetime(2026, 1, 14, 22, tzinfo=UTC),  # 17:00 EST
        datetime(2026, 7, 14, 21, tzinfo=UTC),  # 17:00 EDT
    ]
    return load_embedded(scenario)


@pytest.fixture
def market(_loaded: Market) -> Iterator[Market]:
    snapshot = _loaded.snapshot()
    try:
        yield _loaded
    finally:
        _loaded.revert(snapshot)


def _sell_at(market: Market, when: datetime, seller: str, buyer: str) -> None:
    """`seller` sells UNITS to `buyer` in a block stamped `when` (the scenario's calendar)."""
    chain = market.chain
    moment = market.chain_time(when)
    assert hasattr(chain, "time_travel")
    if chain.timestamp() != moment - 1:
        chain.time_travel(moment - 1)  # the next block is stamped one second later
    receipt = market.security(SYMBOL).transfer(market.wallet(buyer), UNITS, sender=market.wallet(seller))
    assert chain.block_timestamp(receipt.block_number) == moment


def _entitlements(market: Market, period: int, trades: list[tuple[datetime, str, str]]) -> dict[str, int]:
    """Schedules coupon `period`, makes the `trades` (moment, seller, buyer), and returns each holder's
    units of record and checks its coupon is exactly those units times the coupon per unit."""
    agent = market.paying_agent(SYMBOL)
    assert isinstance(agent, BondPayingAgent)
    coupon = agent.schedule_coupon(period, sender=market.accounts["thames"]).distribution_id
    for when, seller, buyer in trades:
        _sell_at(market, when, seller, buyer)
    _, _, record_key = agent.coupon_period(period)
    chain = market.chain
    assert hasattr(chain, "time_travel")
    if chain.timestamp() < record_key + 3600:
        chain.time_travel(record_key + 3600)
    token = market.security(SYMBOL)
    record = {h: token.balance_of_at(market.wallet(h), record_key) for h in HOLDERS}
    per_unit = agent.distribution(coupon).amount_per_unit
    assert per_unit > 0
    for holder, units in record.items():
        assert agent.entitlement(coupon, market.wallet(holder)) == int(units * per_unit)
    return record


def _before(market: Market) -> dict[str, int]:
    token = market.security(SYMBOL)
    return {h: token.balance_of(market.wallet(h)) for h in HOLDERS}


def test_in_january_close_of_business_is_22_00_utc(market: Market) -> None:
    """EST: sales at 20:59:59, 21:00:00 and 21:59:59 UTC are all before close and their buyer is the
    holder of record; the sale at 22:00:00 UTC is at close: the seller keeps the coupon."""
    before = _before(market)
    day = (2026, 1, 14)
    record = _entitlements(
        market,
        0,
        [
            (datetime(*day, 20, 59, 59, tzinfo=UTC), "alice", "bob"),
            (datetime(*day, 21, 0, 0, tzinfo=UTC), "carol", "bob"),  # 16:00 EST: before close
            (datetime(*day, 21, 59, 59, tzinfo=UTC), "alice", "bob"),  # 16:59:59 EST: the last second
            (datetime(*day, 22, 0, 0, tzinfo=UTC), "dan", "bob"),  # 17:00:00 EST: close
        ],
    )
    assert record == {
        "alice": before["alice"] - 2 * UNITS,
        "bob": before["bob"] + 3 * UNITS,
        "carol": before["carol"] - UNITS,
        "dan": before["dan"],
    }


def test_in_july_close_of_business_is_21_00_utc(market: Market) -> None:
    """EDT: the sale at 20:59:59 UTC (16:59:59 EDT) is the last one on the register of record; the sales
    at 21:00:00 UTC (17:00:00 EDT) and 21:59:59 UTC are after close: their sellers keep the coupon."""
    before = _before(market)
    day = (2026, 7, 14)
    record = _entitlements(
        market,
        1,
        [
            (datetime(*day, 20, 59, 59, tzinfo=UTC), "alice", "bob"),  # 16:59:59 EDT: the last second
            (datetime(*day, 21, 0, 0, tzinfo=UTC), "carol", "bob"),  # 17:00:00 EDT: close
            (datetime(*day, 21, 59, 59, tzinfo=UTC), "dan", "bob"),
        ],
    )
    assert record == {
        "alice": before["alice"] - UNITS,
        "bob": before["bob"] + UNITS,
        "carol": before["carol"],
        "dan": before["dan"],
    }
