"""N-for-1 share split: freezes, multi-wallet positions, caps and record dates stay consistent; each
wallet is split exactly once; movements stop (PAUSED) until the last units are split. (Restricted lots,
kept by the offering registry, are split in test_offerings.py.)"""

from __future__ import annotations

import pytest

from sandbox.contracts.security_token import IssuanceApproval, SecurityToken, Terms
from sandbox.rules import RULES_BY_NAME
from sandbox.rules import Jurisdiction as Jur
from tests.contracts.conftest import DAY, ISSUANCE_LIMIT, World
from tests.contracts.helpers import refused, reverts

PAUSED = RULES_BY_NAME["PAUSED"].code


@pytest.fixture
def eq(w: World) -> SecurityToken:
    """An equity with every amount-bearing rule on, record dates on, and holdings with partial freezes
    (agent and regulator), a frozen wallet and an investor with two wallets."""
    t = w.deploy_token(
        Terms(
            us_min_category=1,
            uk_min_category=4,
            cross_border_threshold=600,
            max_investor_balance=5000,
            max_holders=50,
        ),
        record_dates=True,
    )
    t.approve_issuance(100_000, sender=w.fca)
    t.mint(w.w["uk1"], 1000, sender=w.issuer)
    t.mint(w.w["uk1b"], 200, sender=w.issuer)  # uk1's second wallet: a two-wallet position of 1200
    t.mint(w.w["uk2"], 500, sender=w.issuer)
    t.mint(w.w["us_acc"], 300, sender=w.issuer)
    t.freeze_partial_tokens(w.w["uk2"], 100, sender=w.issuer)
    t.freeze_partial_tokens(w.w["uk2"], 50, sender=w.fca)
    t.set_address_frozen(w.w["us_acc"], True, sender=w.issuer)
    return t


def test_split_multiplies_everything_once(w: World, eq: SecurityToken) -> None:
    uk1, uk1b, uk2, us = w.w["uk1"], w.w["uk1b"], w.w["uk2"], w.w["us_acc"]
    record_date = w.chain.timestamp() + 5
    eq.schedule_record_date(record_date, sender=w.issuer)
    counts = eq.holder_counts()
    w.at(record_date + 1)

    (started,) = eq.events(eq.start_split(3, sender=w.issuer), "SplitStarted")
    assert started.args == {"ratio": 3, "supplyBefore": 2000}
    assert eq.paused()
    assert eq.split_in_progress().in_progress
    t = eq.terms()
    assert (t.max_investor_balance, t.cross_border_threshold) == (15_000, 1800)
    assert eq.issuance_approval() == IssuanceApproval(True, 300_000)

    first = eq.split_batch([uk1, uk2], sender=w.issuer)
    assert [
        (e.args["wallet"], e.args["balanceBefore"], e.args["balanceAfter"])
        for e in eq.events(first)
        if e.name == "WalletSplit"
    ] == [(uk1, 1000, 3000), (uk2, 500, 1500)]
    progress = eq.split_in_progress()
    assert (progress.in_progress, progress.ratio, progress.unprocessed_supply) == (True, 3, 500)
    assert eq.wallet_split_done(uk1) and not eq.wallet_split_done(us) and eq.wallet_split_done(w.outsider)
    # a repeat, an empty wallet: skipped, nothing counted twice
    again = eq.split_batch([uk1, uk2, w.outsider], sender=w.issuer)
    assert eq.events(again, "WalletSplit") == []
    assert eq.balance_of(uk1) == 3000 and eq.split_in_progress().unprocessed_supply == 500
    assert eq.total_supply() == 3000 + 1500 + 200 + 300  # always the sum of the balances

    done = eq.split_batch([uk1b, us, uk1b], sender=w.issuer)
    assert [e.args["wallet"] for e in eq.events(done, "WalletSplit")] == [uk1b, us]
    (completed,) = eq.events(done, "SplitCompleted")
    assert completed.args == {"ratio": 3, "supplyAfter": 6000}
    assert not eq.paused() and not eq.split_in_progress().in_progress

    assert [eq.balance_of(x) for x in (uk1, uk1b, uk2, us)] == [3000, 600, 1500, 900]
    assert eq.total_supply() == 6000
    assert eq.investor_balance(uk1) == 3600  # the two-wallet position
    assert eq.holder_counts() == counts
    # freezes: agent 100 -> 300, FCA 50 -> 150; each side lifts exactly its own
    assert eq.get_frozen_tokens(uk2) == 450 and eq.regulator_frozen_tokens(uk2, Jur.GB) == 150
    reverts(lambda: eq.unfreeze_partial_tokens(uk2, 301, sender=w.issuer), "UnfreezeExceedsOwnFreeze", unfreezable=300)
    eq.unfreeze_partial_tokens(uk2, 150, sender=w.fca)
    assert eq.is_frozen(us)
    # the record date before the split reports pre-split units
    assert [eq.balance_of_at(x, record_date) for x in (uk1, uk1b, uk2, us)] == [1000, 200, 500, 300]
    assert eq.total_supply_at(record_date) == 2000

    # transfers resume
    eq.transfer(uk2, 3000, sender=uk1)
    assert eq.balance_of(uk2) == 4500
    # the caps scaled: 15,000 per investor
    eq.mint(uk2, 10_500, sender=w.issuer)
    reverts(lambda: eq.mint(uk2, 1, sender=w.issuer), "InvestorBalanceLimitExceeded", limit=15_000)
    # a record date after the split (a dividend's) reports post-split units; the one before still not
    after = w.chain.timestamp() + 10
    eq.schedule_record_date(after, sender=w.issuer)
    w.at(after + 1)
    eq.transfer(uk1, 500, sender=uk2)
    assert [eq.balance_of_at(x, after) for x in (uk1, uk1b, uk2, us)] == [0, 600, 15_000, 900]
    assert eq.total_supply_at(after) == 16_500
    assert eq.balance_of_at(uk2, record_date) == 500


def test_movements_refused_during_split_with_the_paused_rule(w: World, eq: SecurityToken) -> None:
    uk1, uk2 = w.w["uk1"], w.w["uk2"]
    eq.start_split(2, sender=w.issuer)
    refused(eq, uk2, uk1, 1, "PAUSED", "TransferPaused")
    # even the movements a pause spares: forced transfers, burns; and mints
    for action in (
        lambda: eq.forced_transfer(uk2, uk1, 1, sender=w.issuer),
        lambda: eq.burn(uk2, 1, sender=w.issuer),
        lambda: eq.mint(uk1, 1, sender=w.issuer),
    ):
        assert reverts(action, "TransferPaused").rule_code == PAUSED
    reverts(lambda: eq.request_cross_border_transfer(w.w["us_qib"], 700, sender=uk1), "TransferPaused")
    reverts(lambda: eq.unpause(sender=w.issuer), "SplitInProgress")
    reverts(lambda: eq.unpause(sender=w.fca), "SplitInProgress")
    spare = w.chain.accounts[15].address
    w.registry.add_wallet(uk1, spare, sender=w.operator)
    reverts(lambda: eq.recovery_address(uk1, spare, uk1, sender=w.issuer), "SplitInProgress")
    reverts(lambda: eq.schedule_record_date(w.chain.timestamp() + 9, sender=w.issuer), "SplitInProgress")
    reverts(lambda: eq.start_split(2, sender=w.issuer), "SplitInProgress")
    assert not eq.can_send(uk1) and not eq.can_receive(uk1)
    eq.split_batch([uk1, uk2, w.w["uk1b"], w.w["us_acc"]], sender=w.issuer)
    eq.transfer(uk1, 2, sender=uk2)
    assert eq.can_send(uk1)


def test_a_token_paused_before_stays_paused(w: World, eq: SecurityToken) -> None:
    eq.pause(sender=w.fca)
    eq.start_split(2, sender=w.issuer)
    eq.split_batch([w.w["uk1"], w.w["uk1b"], w.w["uk2"], w.w["us_acc"]], sender=w.issuer)
    assert not eq.split_in_progress().in_progress and eq.paused()
    reverts(lambda: eq.unpause(sender=w.issuer), "PauseImposedByRegulator")
    eq.unpause(sender=w.fca)
    eq.transfer(w.w["uk1"], 1, sender=w.w["uk2"])


def test_split_preconditions(w: World, eq: SecurityToken) -> None:
    reverts(lambda: eq.start_split(1, sender=w.issuer), "InvalidSplitRatio", ratio=1)
    reverts(lambda: eq.start_split(10**17, sender=w.issuer), "SplitOverflow")  # 100,000 x 10^17 > 2^96
    terms = eq.terms()
    eq.set_terms(Terms(**{**terms.__dict__, "max_investor_balance": 10**20}), sender=w.fca)
    reverts(lambda: eq.start_split(10**5, sender=w.issuer), "SplitOverflow", ratio=10**5)  # 10^25 > 2^80
    eq.set_terms(terms, sender=w.fca)
    reverts(lambda: eq.split_batch([w.w["uk1"]], sender=w.issuer), "NoSplitInProgress")
    d = w.chain.timestamp() + 100
    eq.schedule_record_date(d, sender=w.issuer)
    reverts(lambda: eq.start_split(2, sender=w.issuer), "SplitBeforeRecordDate", recordDate=d)
    w.at(d + 1)
    # a cross-border request holds escrowed units: no split until it is decided
    (req,) = eq.events(
        eq.request_cross_border_transfer(w.w["us_qib"], 100, sender=w.w["uk2"]), "CrossBorderTransferRequested"
    )
    (req2,) = eq.events(
        eq.request_cross_border_transfer(w.w["us_qib"], 600, sender=w.w["uk1"]), "CrossBorderTransferRequested"
    )
    reverts(lambda: eq.start_split(2, sender=w.issuer), "CrossBorderTransfersPending", count=2)
    eq.reject_cross_border_transfer(req.args["id"], sender=w.sec)
    eq.approve_cross_border_transfer(req2.args["id"], sender=w.fca)
    eq.approve_cross_border_transfer(req2.args["id"], sender=w.sec)
    eq.start_split(2, sender=w.issuer)


def test_expired_cross_border_request_no_longer_blocks(w: World, eq: SecurityToken) -> None:
    (req,) = eq.events(
        eq.request_cross_border_transfer(w.w["us_qib"], 100, sender=w.w["uk2"]), "CrossBorderTransferRequested"
    )
    w.at(w.chain.timestamp() + 8 * DAY)
    reverts(lambda: eq.start_split(2, sender=w.issuer), "CrossBorderTransfersPending", count=1)
    eq.expire_cross_border_transfer(req.args["id"], sender=w.outsider)
    eq.start_split(2, sender=w.issuer)


def test_split_of_an_empty_token_completes_at_once(w: World) -> None:
    t = w.deploy_token(Terms(uk_min_category=4, max_investor_balance=10))
    t.approve_issuance(ISSUANCE_LIMIT, sender=w.fca)
    receipt = t.start_split(5, sender=w.issuer)
    assert [e.name for e in t.events(receipt)] == ["SplitStarted", "SplitCompleted"]
    assert not t.paused() and t.terms().max_investor_balance == 50
    assert t.terms().cross_border_threshold == 0  # off stays off


def test_access_control(w: World, eq: SecurityToken) -> None:
    for actor in (w.w["uk1"], w.fca, w.sec, w.outsider):
        reverts(lambda a=actor: eq.start_split(2, sender=a), "AccessControlUnauthorizedAccount")  # type: ignore[misc]
    eq.start_split(2, sender=w.issuer)
    for actor in (w.w["uk1"], w.fca, w.sec, w.outsider):
        reverts(
            lambda a=actor: eq.split_batch([w.w["uk1"]], sender=a),  # type: ignore[misc]
            "AccessControlUnauthorizedAccount",
        )
    agent = w.outsider
    eq.grant_role("AGENT_ROLE", agent, sender=w.issuer)
    eq.split_batch([w.w["uk1"]], sender=agent)
    assert eq.balance_of(w.w["uk1"]) == 2000
