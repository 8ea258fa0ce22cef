"""Record-date balances (`balanceOfAt`, `totalSupplyAt`): the balance at the end of a scheduled record
date, whatever moved afterwards, by every path that moves units."""

from __future__ import annotations

import pytest

from sandbox.chain.factory import in_process_chain
from sandbox.contracts.security_token import SecurityToken, Terms
from sandbox.market import load_scenario
from sandbox.rules import Jurisdiction as Jur
from sandbox.scenario import Scenario
from tests.contracts.conftest import ISSUANCE_LIMIT, World
from tests.contracts.helpers import reverts


@pytest.fixture
def rd(w: World) -> SecurityToken:
    """A record-date token with issuance approved and nothing issued."""
    token = w.deploy_token(record_dates=True)
    token.approve_issuance(ISSUANCE_LIMIT, sender=w.fca)
    return token


def test_deploy_option_enables_record_dates(w: World, rd: SecurityToken) -> None:
    assert rd.record_dates_enabled()
    assert not w.token.record_dates_enabled()
    (event,) = rd.events(rd.enable_record_dates(sender=w.issuer), "RecordDatesEnabled")
    assert event.args == {}


def test_balances_at_record_dates_after_every_kind_of_move(w: World, rd: SecurityToken) -> None:
    uk1, uk2, us = w.w["uk1"], w.w["uk2"], w.w["us_acc"]
    start = w.chain.timestamp()
    d1, d2, d3 = start + 100, start + 200, start + 300
    for d in (d2, d1, d3):  # scheduled out of order
        (event,) = rd.events(rd.schedule_record_date(d, sender=w.issuer), "RecordDateScheduled")
        assert event.args == {"recordDate": d}
    rd.mint(uk1, 1000, sender=w.issuer)
    rd.mint(uk2, 500, sender=w.issuer)
    w.at(d1)  # a transaction stamped with the record date itself counts
    rd.transfer(uk2, 100, sender=uk1)
    w.at(d1 + 1)  # one second later it does not
    rd.transfer(uk2, 7, sender=uk1)
    rd.forced_transfer(uk2, us, 50, sender=w.issuer)
    rd.burn(uk1, 3, sender=w.issuer)
    rd.mint(us, 10, sender=w.issuer)
    w.at(d2 + 5)
    rd.recovery_address(uk1, w.w["uk1b"], uk1, sender=w.issuer)  # uk1's units move to its second wallet
    rd.transfer(uk1, 1, sender=uk2)
    w.at(d3 + 1)
    rd.burn(uk2, 100, sender=w.issuer)

    assert [rd.balance_of_at(x, d1) for x in (uk1, uk2, us)] == [900, 600, 0]
    assert rd.total_supply_at(d1) == 1500
    # at d2: after the moves at d1 + 1 (d2 had nothing of its own)
    assert [rd.balance_of_at(x, d2) for x in (uk1, uk2, us, w.w["uk1b"])] == [890, 557, 60, 0]
    assert rd.total_supply_at(d2) == 1507
    assert [rd.balance_of_at(x, d3) for x in (uk1, uk2, us, w.w["uk1b"])] == [1, 556, 60, 890]
    assert rd.total_supply_at(d3) == 1507
    # now
    assert [rd.balance_of(x) for x in (uk1, uk2, us, w.w["uk1b"])] == [1, 456, 60, 890]
    assert rd.total_supply() == 1407


def test_wallet_untouched_since_the_record_date_reports_its_current_balance(w: World, rd: SecurityToken) -> None:
    uk1, uk2 = w.w["uk1"], w.w["uk2"]
    d = w.chain.timestamp() + 10
    rd.schedule_record_date(d, sender=w.issuer)
    rd.mint(uk1, 40, sender=w.issuer)
    w.at(d + 50)
    rd.mint(uk2, 5, sender=w.issuer)  # uk2 and the supply change after d; uk1 never does
    assert rd.balance_of_at(uk1, d) == 40
    assert rd.balance_of_at(uk2, d) == 0
    assert rd.total_supply_at(d) == 40


def test_record_date_not_passed_not_scheduled_and_disabled(w: World, rd: SecurityToken) -> None:
    now = w.chain.timestamp()
    d = now + 10
    rd.schedule_record_date(d, sender=w.issuer)
    reverts(lambda: rd.balance_of_at(w.w["uk1"], d), "RecordDateNotPassed", recordDate=d)
    w.at(d)
    rd.mint(w.w["uk1"], 1, sender=w.issuer)
    # the latest block is stamped d: the second is not over yet
    reverts(lambda: rd.total_supply_at(d), "RecordDateNotPassed", recordDate=d, checkedAt=d)
    w.chain.mine()
    assert rd.total_supply_at(d) == 1
    reverts(lambda: rd.balance_of_at(w.w["uk1"], d - 1), "RecordDateNotScheduled", recordDate=d - 1)
    reverts(lambda: w.token.balance_of_at(w.w["uk1"], now - 5), "RecordDatesDisabled")
    reverts(lambda: w.token.schedule_record_date(now + 100, sender=w.issuer), "RecordDatesDisabled")
    reverts(lambda: rd.schedule_record_date(w.chain.timestamp(), sender=w.issuer), "RecordDateNotInFuture")


def test_record_dates_only_before_issuance(w: World) -> None:
    reverts(lambda: w.token.enable_record_dates(sender=w.issuer), "RecordDatesNeedEmptySupply")


def test_access_control(w: World, rd: SecurityToken) -> None:
    fresh = w.deploy_token()
    for actor in (w.w["uk1"], w.fca, w.outsider):
        reverts(lambda a=actor: fresh.enable_record_dates(sender=a), "AccessControlUnauthorizedAccount")  # type: ignore[misc]
        reverts(
            lambda a=actor: rd.schedule_record_date(w.chain.timestamp() + 50, sender=a),  # type: ignore[misc]
            "AccessControlUnauthorizedAccount",
        )
    fresh.enable_record_dates(sender=w.issuer)
    assert fresh.record_dates_enabled()
    paying_agent = w.outsider
    rd.grant_role("AGENT_ROLE", paying_agent, sender=w.issuer)
    rd.schedule_record_date(w.chain.timestamp() + 50, sender=paying_agent)


def test_same_date_scheduled_twice_is_kept_once(w: World, rd: SecurityToken) -> None:
    d = w.chain.timestamp() + 20
    rd.schedule_record_date(d, sender=w.issuer)
    rd.schedule_record_date(d, sender=w.issuer)
    rd.mint(w.w["uk1"], 9, sender=w.issuer)
    w.at(d + 2)
    rd.mint(w.w["uk1"], 1, sender=w.issuer)
    assert rd.balance_of_at(w.w["uk1"], d) == 9


def test_cross_border_settlement_is_recorded(w: World, rd: SecurityToken) -> None:
    uk1, us = w.w["uk1"], w.w["us_acc"]
    rd.set_terms(Terms(us_min_category=1, uk_min_category=4, cross_border_threshold=10), sender=w.issuer)
    rd.mint(uk1, 100, sender=w.issuer)
    d = w.chain.timestamp() + 10
    rd.schedule_record_date(d, sender=w.issuer)
    (req,) = rd.events(rd.request_cross_border_transfer(us, 60, sender=uk1), "CrossBorderTransferRequested")
    w.at(d + 1)
    rd.approve_cross_border_transfer(req.args["id"], sender=w.fca)
    rd.approve_cross_border_transfer(req.args["id"], sender=w.sec)
    assert (rd.balance_of(uk1), rd.balance_of(us)) == (40, 60)
    assert (rd.balance_of_at(uk1, d), rd.balance_of_at(us, d)) == (100, 0)
    assert rd.home_jurisdiction() == Jur.GB


def test_scenario_option_deploys_a_record_date_security() -> None:
    demo = Scenario.from_file("seeds/demo.yaml")
    # Plain securities (the demo's are a bond and a share class, whose paying agents switch record dates
    # on): only the one marked `record_dates` keeps them.
    plain = [s.model_copy(update={"bond": None, "equity": None}) for s in demo.securities]
    first, *rest = plain
    scenario = demo.model_copy(update={"securities": [first.model_copy(update={"record_dates": True}), *rest]})
    market = load_scenario(in_process_chain(num_accounts=20), scenario)
    assert market.security(first.symbol).record_dates_enabled()
    assert market.security(first.symbol).total_supply() == sum(first.initial_holdings.values())
    assert rest and not any(market.security(s.symbol).record_dates_enabled() for s in rest)
