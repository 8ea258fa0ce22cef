"""Corporate actions on the security token through the paying agents: coupons paid to the record-date
holders, redemption at maturity, held payments (frozen wallets, the GBP holding limit) claimed later,
exactly-once payment, dividends around a split, exact day-count amounts, the remainder rule, and who may
do what."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from sandbox.contracts import (
    BondPayingAgent,
    DayCount,
    DistributionKind,
    DistributionState,
    PaymentCode,
    PaymentStatus,
)
from sandbox.contracts.cash_token import GBP_INDIVIDUAL_LIMIT
from tests.contracts.corporate_world import (
    BOND_UNITS,
    CLAIM_PERIOD,
    COUPON_DATES,
    DAY,
    FACE,
    ISSUE_DATE,
    MATURITY,
    RATE_BPS,
    RECORD_LAG,
    SHARES,
    CorporateWorld,
    coupon_per_unit,
    owed,
    ts,
    year_fraction,
)
from tests.contracts.helpers import reverts

CASH_RECEIVER_FROZEN = 0x82
CASH_INDIVIDUAL_HOLDING_LIMIT = 0x90


def _funded_coupon(cw: CorporateWorld, period: int, *, before_record: Callable[[], Any] | None = None) -> int:
    """Schedules coupon `period`, runs `before_record` before its record date, funds it from the
    treasury after the record date and moves to the payment date; returns the distribution id."""
    coupon = cw.bond.schedule_coupon(period, sender=cw.admin).distribution_id
    _, payment_date, record_date = cw.bond.coupon_period(period)
    if before_record is not None:
        before_record()
    cw.after(record_date)
    cw.bond.fund(coupon, sender=cw.treasury)
    cw.at(payment_date)
    return coupon


def test_coupon_is_paid_to_the_record_date_holders_after_units_moved(cw: CorporateWorld) -> None:
    bond, token, w = cw.bond, cw.bond_token, cw.w
    coupon = bond.schedule_coupon(0, sender=cw.admin).distribution_id
    start, payment_date, record_date = bond.coupon_period(0)
    assert (start, payment_date, record_date) == (ts(2026, 1, 31), ts(2026, 7, 31), ts(2026, 7, 24))
    token.transfer(w["dave"], 200, sender=w["bob"])  # before the record date: counts
    reverts(lambda: bond.fund(coupon, sender=cw.treasury), "PayingAgentRecordDateNotPassed")
    cw.at(record_date)
    token.transfer(w["erin"], 101, sender=w["carol"])  # in the record date's own second: counts
    token.transfer(w["erin"], 300, sender=w["bob"])  # after the record date: does not
    token.transfer(w["alice"], 250, sender=w["dave"])
    at_record = {"alice": 100, "bob": 800, "carol": 399, "dave": 250, "erin": 101}

    per_unit = coupon_per_unit(bond.terms(), 0)
    assert per_unit == pytest.approx(237.5) and per_unit.denominator == 2  # 180/360 of 4.75% of 100 pounds
    expected = {name: owed(units, per_unit) for name, units in at_record.items()}
    assert expected["carol"] == 94_762 and expected["erin"] == 23_987  # 399 * 237.5 and 101 * 237.5, rounded down
    for name, amount in expected.items():
        assert bond.entitlement(coupon, w[name]) == amount
    required = owed(sum(at_record.values()), per_unit)
    assert bond.required_funding(coupon) == required == sum(expected.values()) + 1  # one penny of dust

    treasury_before = cw.gbp.balance_of(cw.treasury)
    receipt = bond.fund(coupon, sender=cw.treasury)
    (funded,) = bond.events(receipt, "DistributionFunded")
    assert funded.args["amount"] == funded.args["pulled"] == required
    assert cw.gbp.balance_of(cw.treasury) == treasury_before - required
    assert bond.liabilities(cw.gbp.address) == cw.gbp.balance_of(bond.address) == required
    reverts(lambda: bond.claim(coupon, sender=w["bob"]), "PayingAgentBeforePaymentDate")

    cw.at(payment_date)
    before = {name: cw.gbp.balance_of(w[name]) for name in at_record}
    batch = bond.pay_batch(coupon, [w[name] for name in at_record], sender=cw.admin)
    assert batch.paid == {w[name]: amount for name, amount in expected.items()}
    assert batch.held == ()
    for name, amount in expected.items():
        assert cw.gbp.balance_of(w[name]) == before[name] + amount
        assert bond.is_paid(coupon, w[name])
    d = bond.distribution(coupon)
    assert (d.kind, d.state, d.period, d.paid, d.held) == (
        DistributionKind.COUPON, DistributionState.FUNDED, 0, sum(expected.values()), 0,
    )  # fmt: skip
    assert bond.remainder(coupon) == 1 == cw.gbp.balance_of(bond.address) == bond.liabilities(cw.gbp.address)


def test_redemption_at_maturity_burns_units_and_pays_principal(cw: CorporateWorld) -> None:
    bond, token, w = cw.bond, cw.bond_token, cw.w
    last = bond.coupon_count() - 1
    coupon = bond.schedule_coupon(last, sender=cw.admin).distribution_id
    redemption = bond.schedule_redemption(sender=cw.admin).distribution_id
    assert bond.redemption_distribution() == redemption
    d = bond.distribution(redemption)
    assert (d.kind, d.record_date, d.payment_date, d.numerator, d.denominator) == (
        DistributionKind.REDEMPTION, MATURITY - RECORD_LAG, MATURITY, FACE, 1,
    )  # fmt: skip
    reverts(lambda: bond.schedule_redemption(sender=cw.admin), "BondRedemptionAlreadyScheduled", id=redemption)
    cw.after(MATURITY - RECORD_LAG)
    token.transfer(w["erin"], 100, sender=w["bob"])  # bought ex-redemption: no principal
    token.set_address_frozen(w["carol"], True, sender=cw.admin)
    bond.fund(coupon, sender=cw.treasury)
    bond.fund(redemption, sender=cw.treasury)
    assert bond.distribution(redemption).funded == sum(BOND_UNITS.values()) * FACE
    cw.at(MATURITY)
    holders = [w[n] for n in ("alice", "bob", "carol", "dave", "erin")]
    bond.pay_batch(coupon, holders, sender=cw.admin)
    batch = bond.pay_batch(redemption, holders, sender=cw.admin)
    assert batch.paid == {w[n]: BOND_UNITS[n] * FACE for n in ("alice", "bob", "dave")}
    assert batch.redeemed_units == {w["alice"]: 100, w["bob"]: 900, w["dave"]: 50, w["erin"]: 100}
    (held,) = batch.held
    assert (held.holder, held.amount, held.code) == (w["carol"], 500 * FACE, PaymentCode.SECURITY_WALLET_FROZEN)
    assert held.code_name == "PAYMENT_SECURITY_WALLET_FROZEN"
    assert token.balance_of(w["carol"]) == 500  # a frozen holder's units are not burned either
    assert token.total_supply() == 500

    refused = reverts(lambda: bond.claim(redemption, sender=w["carol"]), "PayingAgentPaymentRefused")
    assert refused.rule_code == PaymentCode.SECURITY_WALLET_FROZEN
    token.set_address_frozen(w["carol"], False, sender=cw.admin)
    before = cw.gbp.balance_of(w["carol"])
    receipt = bond.claim(redemption, sender=w["carol"])
    (burned,) = bond.events(receipt, "UnitsRedeemed")
    assert burned.args["units"] == 500
    assert cw.gbp.balance_of(w["carol"]) == before + 500 * FACE
    assert token.total_supply() == 0
    assert bond.distribution(redemption).paid == sum(BOND_UNITS.values()) * FACE
    # Units reaching a redeemed wallet later are burned by the next batch, and nothing more is paid.
    token.mint(w["bob"], 7, sender=cw.admin)
    sweep = bond.pay_batch(redemption, [w["bob"]], sender=cw.admin)
    assert (sweep.paid, sweep.redeemed_units, token.total_supply()) == ({}, {w["bob"]: 7}, 0)
    assert bond.remainder(redemption) == 0


def test_a_frozen_holders_coupon_is_held_then_claimed_after_unfreezing(cw: CorporateWorld) -> None:
    bond, w = cw.bond, cw.w
    coupon = _funded_coupon(cw, 0)
    cw.bond_token.set_address_frozen(w["carol"], True, sender=cw.fca)  # a regulator's freeze
    cw.gbp.set_address_frozen(w["dave"], True, sender=cw.admin)  # frozen on the cash token
    batch = bond.pay_batch(coupon, [w["carol"], w["dave"]], sender=cw.admin)
    assert batch.paid == {}
    per_unit = coupon_per_unit(bond.terms(), 0)
    assert {(h.holder, h.amount, h.code) for h in batch.held} == {
        (w["carol"], owed(500, per_unit), PaymentCode.SECURITY_WALLET_FROZEN),
        (w["dave"], owed(50, per_unit), CASH_RECEIVER_FROZEN),
    }
    for h in batch.held:
        assert bond.held_amount(coupon, h.holder) == h.amount
        assert bond.payment(coupon, h.holder).status == PaymentStatus.HELD
        assert bond.message_for_payment_code(PaymentCode.SECURITY_WALLET_FROZEN).startswith("PAYMENT_SECURITY")
    assert bond.distribution(coupon).held == owed(500, per_unit) + owed(50, per_unit)
    # Held cash stays owed: still in the agent, counted in its liabilities.
    assert bond.liabilities(cw.gbp.address) == cw.gbp.balance_of(bond.address) == bond.required_funding(coupon)

    # A second batch while still frozen keeps them held (no new event, no double count).
    again = bond.pay_batch(coupon, [w["carol"], w["dave"]], sender=cw.admin)
    assert again.paid == {} and again.held == ()
    assert bond.distribution(coupon).held == owed(500, per_unit) + owed(50, per_unit)

    refused = reverts(lambda: bond.claim(coupon, sender=w["dave"]), "PayingAgentPaymentRefused")
    assert (refused.rule_code, refused.rule_name) == (CASH_RECEIVER_FROZEN, "CASH_RECEIVER_FROZEN")
    cw.bond_token.set_address_frozen(w["carol"], False, sender=cw.fca)
    cw.gbp.set_address_frozen(w["dave"], False, sender=cw.admin)
    for name, units in (("carol", 500), ("dave", 50)):
        before = cw.gbp.balance_of(w[name])
        bond.claim(coupon, sender=w[name])
        assert cw.gbp.balance_of(w[name]) == before + owed(units, per_unit)
        assert bond.held_amount(coupon, w[name]) == 0 and bond.is_paid(coupon, w[name])
    assert bond.distribution(coupon).held == 0


def test_a_double_claim_is_refused(cw: CorporateWorld) -> None:
    bond, w = cw.bond, cw.w
    coupon = _funded_coupon(cw, 0)
    bond.claim(coupon, sender=w["bob"])
    paid = cw.gbp.balance_of(w["bob"])
    reverts(lambda: bond.claim(coupon, sender=w["bob"]), "PayingAgentAlreadyPaid", id=coupon, holder=w["bob"])
    batch = bond.pay_batch(coupon, [w["bob"], w["bob"]], sender=cw.admin)  # a batch skips paid wallets
    assert batch.paid == {} and batch.held == ()
    assert cw.gbp.balance_of(w["bob"]) == paid
    reverts(lambda: bond.claim(coupon, sender=w["erin"]), "PayingAgentNothingOwed", holder=w["erin"])
    # Paid in a batch, then claimed: refused too.
    bond.pay_batch(coupon, [w["alice"]], sender=cw.admin)
    reverts(lambda: bond.claim(coupon, sender=w["alice"]), "PayingAgentAlreadyPaid")


def test_pay_batch_with_mixed_holders(cw: CorporateWorld) -> None:
    bond, w = cw.bond, cw.w

    def before_record() -> None:
        cw.bond_token.transfer(w["erin"], 10, sender=w["bob"])

    coupon = _funded_coupon(cw, 0, before_record=before_record)
    per_unit = coupon_per_unit(bond.terms(), 0)
    cw.gbp.mint(w["alice"], GBP_INDIVIDUAL_LIMIT, sender=cw.admin)  # alice at the £20,000 limit
    cw.bond_token.set_address_frozen(w["carol"], True, sender=cw.admin)
    cw.gbp.set_address_frozen(w["dave"], True, sender=cw.admin)
    bond.claim(coupon, sender=w["bob"])
    wallets = [w["alice"], w["bob"], w["carol"], w["dave"], w["erin"], cw.outsider, w["erin"]]
    batch = bond.pay_batch(coupon, wallets, sender=cw.admin)
    assert batch.paid == {w["erin"]: owed(10, per_unit)}
    assert [(h.holder, h.amount, h.code) for h in batch.held] == [
        (w["alice"], owed(100, per_unit), CASH_INDIVIDUAL_HOLDING_LIMIT),
        (w["carol"], owed(500, per_unit), PaymentCode.SECURITY_WALLET_FROZEN),
        (w["dave"], owed(50, per_unit), CASH_RECEIVER_FROZEN),
    ]
    assert bond.payment(coupon, cw.outsider).status == PaymentStatus.UNPAID  # owed nothing: untouched
    # The causes go away; the issuer's next batch pays the held wallets.
    cw.gbp.transfer(w["bob"], 500_00, sender=w["alice"])
    cw.bond_token.set_address_frozen(w["carol"], False, sender=cw.admin)
    cw.gbp.set_address_frozen(w["dave"], False, sender=cw.admin)
    retry = bond.pay_batch(coupon, wallets, sender=cw.admin)
    assert retry.paid == {
        w["alice"]: owed(100, per_unit),
        w["carol"]: owed(500, per_unit),
        w["dave"]: owed(50, per_unit),
    }
    d = bond.distribution(coupon)
    assert d.held == 0
    assert d.paid == owed(100, per_unit) + owed(990, per_unit) + owed(500, per_unit) + owed(50, per_unit) + owed(
        10, per_unit
    )
    assert d.funded - d.paid == bond.remainder(coupon) == cw.gbp.balance_of(bond.address)


@pytest.mark.parametrize("pence_over", [-1, 0, 1])
def test_a_holder_at_the_gbp_limit_is_held_then_claims(cw: CorporateWorld, pence_over: int) -> None:
    """alice (an individual) holds £20,000 less the coupon plus `pence_over` pence: the coupon fits
    only when it does not take her above £20,000."""
    bond, w = cw.bond, cw.w
    coupon = _funded_coupon(cw, 0)
    amount = bond.entitlement(coupon, w["alice"])
    cw.gbp.mint(w["alice"], GBP_INDIVIDUAL_LIMIT - amount + pence_over, sender=cw.admin)
    batch = bond.pay_batch(coupon, [w["alice"]], sender=cw.admin)
    if pence_over <= 0:
        assert batch.paid == {w["alice"]: amount}
        assert cw.gbp.balance_of(w["alice"]) == GBP_INDIVIDUAL_LIMIT + pence_over
        return
    (held,) = batch.held
    assert (held.amount, held.code, held.code_name) == (amount, 0x90, "CASH_INDIVIDUAL_HOLDING_LIMIT")
    refused = reverts(lambda: bond.claim(coupon, sender=w["alice"]), "PayingAgentPaymentRefused", code=0x90)
    assert refused.rule_name == "CASH_INDIVIDUAL_HOLDING_LIMIT"
    cw.gbp.transfer(w["bob"], 1, sender=w["alice"])  # one penny spent: the coupon now fits exactly
    bond.claim(coupon, sender=w["alice"])
    assert cw.gbp.balance_of(w["alice"]) == GBP_INDIVIDUAL_LIMIT


def test_a_dividend_after_a_split_pays_post_split_shares(cw: CorporateWorld) -> None:
    equity, token, w = cw.equity, cw.equity_token, cw.w
    holders = [w[n] for n in SHARES]
    now = cw.chain.timestamp()
    first_record, first_payment = now + 10 * DAY, now + 15 * DAY
    first = equity.declare_dividend(7, first_record, first_payment, sender=cw.admin).distribution_id
    reverts(lambda: equity.start_split(3, sender=cw.admin), "EquityRecordDatePending")
    cw.after(first_record)
    equity.fund(first, sender=cw.treasury)
    reverts(lambda: equity.start_split(1, sender=cw.admin), "EquityInvalidSplitRatio", ratio=1)
    receipt = equity.start_split(3, sender=cw.admin)
    (started,) = equity.events(receipt, "ShareSplitStarted")
    assert (started.args["ratio"], started.args["parValueDivisor"]) == (3, 3)
    later = cw.chain.timestamp() + 30 * DAY
    reverts(lambda: equity.declare_dividend(2, later, later + DAY, sender=cw.admin), "EquitySplitInProgress")
    equity.split_batch(holders, sender=cw.admin)
    assert {n: token.balance_of(w[n]) for n in SHARES} == {n: 3 * s for n, s in SHARES.items()}
    assert equity.par_value() == (10, 3)  # 10 pence / 3 per share after the 3-for-1 split

    now = cw.chain.timestamp()
    second_record, second_payment = now + 10 * DAY, now + 12 * DAY
    second = equity.declare_dividend(2, second_record, second_payment, sender=cw.admin).distribution_id
    token.transfer(w["carol"], 99, sender=w["bob"])  # post-split shares moving before the record date
    cw.after(second_record)
    equity.fund(second, sender=cw.treasury)
    cw.at(max(first_payment, second_payment))
    paid_first = equity.pay_batch(first, holders, sender=cw.admin).paid
    paid_second = equity.pay_batch(second, holders, sender=cw.admin).paid
    assert paid_first == {w[n]: 7 * s for n, s in SHARES.items()}  # pre-split record-date shares
    post = {n: 3 * s for n, s in SHARES.items()}
    post["bob"] -= 99
    post["carol"] += 99
    assert paid_second == {w[n]: 2 * s for n, s in post.items()}
    assert equity.distribution(second).kind == DistributionKind.DIVIDEND
    assert equity.remainder(first) == equity.remainder(second) == 0


@pytest.mark.parametrize("day_count", list(DayCount))
def test_day_counts_give_exact_amounts(cw: CorporateWorld, day_count: DayCount) -> None:
    """Awkward periods (month ends, 28 and 29 February, a short stub) under each convention: the
    contract's year fraction, coupon per unit and payments equal Python's `fractions` model."""
    dates = (ts(2026, 8, 31), ts(2027, 2, 28), ts(2027, 8, 31), ts(2028, 2, 29), ts(2028, 3, 31), ts(2028, 5, 30))
    terms = cw.bond_terms(
        isin="GB00SBXODD01", day_count=day_count, issue_date=ts(2026, 3, 31), coupon_dates=dates,
        maturity=dates[-1], coupon_rate_bps=333, face_value=99_99, record_lag=DAY,
    )  # fmt: skip
    units = {"alice": 7, "bob": 1_001, "carol": 333}
    _, agent = cw.new_bond(terms, units=units)
    for period in range(len(dates)):
        start = terms.issue_date if period == 0 else dates[period - 1]
        assert agent.day_count_fraction(period) == year_fraction(day_count, start, dates[period], first=period == 0)
        numerator, denominator = agent.coupon_per_unit(period)
        assert Fraction(numerator, denominator) == coupon_per_unit(terms, period)
    # Pay the period across 29 February and check every holder to the penny.
    period = 3
    coupon = agent.schedule_coupon(period, sender=cw.admin).distribution_id
    _, payment_date, record_date = agent.coupon_period(period)
    cw.after(record_date)
    agent.fund(coupon, sender=cw.treasury)
    cw.at(payment_date)
    batch = agent.pay_batch(coupon, [cw.w[n] for n in units], sender=cw.admin)
    per_unit = coupon_per_unit(terms, period)
    assert batch.paid == {cw.w[n]: owed(u, per_unit) for n, u in units.items()}
    assert agent.distribution(coupon).funded == owed(sum(units.values()), per_unit)


def test_the_remainder_returns_to_the_issuer_after_the_claim_deadline(cw: CorporateWorld) -> None:
    bond, w = cw.bond, cw.w
    coupon = _funded_coupon(cw, 0)
    per_unit = coupon_per_unit(bond.terms(), 0)
    cw.bond_token.set_address_frozen(w["carol"], True, sender=cw.admin)
    bond.pay_batch(coupon, [w["alice"], w["carol"]], sender=cw.admin)  # bob and dave never claim
    deadline = bond.claim_deadline(coupon)
    assert deadline == bond.distribution(coupon).payment_date + CLAIM_PERIOD
    reverts(lambda: bond.return_remainder(coupon, cw.treasury, sender=cw.admin), "PayingAgentClaimPeriodNotOver")
    cw.after(deadline)
    d = bond.distribution(coupon)
    expected = d.funded - d.paid - d.held
    assert expected == owed(1_000, per_unit) + owed(50, per_unit)
    before = cw.gbp.balance_of(cw.treasury)
    bond.return_remainder(coupon, cw.treasury, sender=cw.admin)
    assert cw.gbp.balance_of(cw.treasury) == before + expected
    d = bond.distribution(coupon)
    assert (d.state, d.returned, bond.remainder(coupon)) == (DistributionState.CLOSED, expected, 0)
    reverts(lambda: bond.claim(coupon, sender=w["bob"]), "PayingAgentDistributionClosed")
    reverts(lambda: bond.pay_batch(coupon, [w["bob"]], sender=cw.admin), "PayingAgentDistributionClosed")
    reverts(lambda: bond.return_remainder(coupon, cw.treasury, sender=cw.admin), "PayingAgentDistributionClosed")
    # The held payment was not returned: carol still claims it once unfrozen.
    cw.bond_token.set_address_frozen(w["carol"], False, sender=cw.admin)
    bond.claim(coupon, sender=w["carol"])
    assert cw.gbp.balance_of(bond.address) == bond.liabilities(cw.gbp.address) == 0


def test_funding_uses_cash_the_agent_holds_beyond_what_it_owes(cw: CorporateWorld) -> None:
    bond = cw.bond
    coupon = bond.schedule_coupon(0, sender=cw.admin).distribution_id
    _, _, record_date = bond.coupon_period(0)
    cw.after(record_date)
    required = bond.required_funding(coupon)
    cw.gbp.mint(bond.address, required - 5, sender=cw.admin)  # minted straight to the agent, 5 pence short
    receipt = bond.fund(coupon, sender=cw.treasury)
    (funded,) = bond.events(receipt, "DistributionFunded")
    assert (funded.args["amount"], funded.args["pulled"]) == (required, 5)
    reverts(lambda: bond.fund(coupon, sender=cw.treasury), "PayingAgentAlreadyFunded")
    # A funder without cash or allowance is refused with the shortfall named.
    second = bond.schedule_coupon(1, sender=cw.admin).distribution_id
    cw.after(bond.coupon_period(1)[2])
    reverts(lambda: bond.fund(second, sender=cw.admin), "PayingAgentFundingFailed", funder=cw.admin)


def test_refusals(cw: CorporateWorld) -> None:
    bond, equity, w = cw.bond, cw.equity, cw.w
    reverts(lambda: bond.schedule_coupon(3, sender=cw.admin), "BondUnknownPeriod", period=3, couponCount=3)
    coupon = bond.schedule_coupon(0, sender=cw.admin).distribution_id
    reverts(lambda: bond.schedule_coupon(0, sender=cw.admin), "BondCouponAlreadyScheduled", id=coupon)
    reverts(lambda: bond.pay_batch(coupon, [w["bob"]], sender=cw.admin), "PayingAgentNotFunded")
    reverts(lambda: bond.claim(coupon, sender=w["bob"]), "PayingAgentNotFunded")
    reverts(lambda: bond.entitlement(coupon, w["bob"]), "PayingAgentRecordDateNotPassed")
    reverts(lambda: bond.distribution(99), "PayingAgentUnknownDistribution", id=99)
    reverts(lambda: bond.pay_batch(coupon, [w["bob"]] * 201, sender=cw.admin), "PayingAgentBatchTooLarge")
    now = cw.chain.timestamp()
    reverts(lambda: equity.declare_dividend(5, now, now + DAY, sender=cw.admin), "PayingAgentInvalidDates")
    reverts(lambda: equity.declare_dividend(5, now + DAY, now + DAY, sender=cw.admin), "PayingAgentInvalidDates")
    reverts(lambda: equity.declare_dividend(0, now + DAY, now + 2 * DAY, sender=cw.admin), "PayingAgentZeroAmount")
    # Terms that contradict themselves or the token are refused at deployment.
    cases: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
        ({"isin": ""}, "BondInvalidTerms", {"reason": 1}),
        ({"face_value": 0}, "BondInvalidTerms", {"reason": 2}),
        ({"coupon_dates": (ts(2026, 7, 31), ts(2026, 7, 31))}, "BondInvalidTerms", {"reason": 3}),
        ({"maturity": ts(2028, 1, 1)}, "BondInvalidTerms", {"reason": 4}),
        ({"record_lag": 365 * DAY}, "BondInvalidTerms", {"reason": 5}),
        ({"issuance_limit": 10**12}, "BondIssuanceLimitAboveApproval", {"approved": True}),
    ]
    for changes, error, args in cases:
        terms = cw.bond_terms(**changes)
        reverts(
            lambda terms=terms: BondPayingAgent.deploy(
                cw.chain, terms=terms, security=cw.bond_token.address, issuer=cw.admin, sender=cw.admin, wire=False
            ),
            error,
            **args,
        )
    # Record dates can only be switched on at zero supply: the helper says so instead of failing later.
    token = cw.new_security("Late", "LATE")
    token.mint(w["bob"], 1, sender=cw.admin)
    with pytest.raises(Exception, match="record dates switched off"):
        BondPayingAgent.deploy(
            cw.chain, terms=cw.bond_terms(), security=token.address, issuer=cw.admin, sender=cw.admin
        )


ISSUER_POWERS: dict[str, Callable[[CorporateWorld, str], Any]] = {
    "scheduleCoupon": lambda cw, who: cw.bond.schedule_coupon(0, sender=who),
    "scheduleRedemption": lambda cw, who: cw.bond.schedule_redemption(sender=who),
    "fund": lambda cw, who: cw.bond.fund(1, sender=who),
    "payBatch": lambda cw, who: cw.bond.pay_batch(1, [cw.w["bob"]], sender=who),
    "returnRemainder": lambda cw, who: cw.bond.return_remainder(1, cw.treasury, sender=who),
    "declareDividend": lambda cw, who: cw.equity.declare_dividend(
        3, cw.chain.timestamp() + DAY, cw.chain.timestamp() + 2 * DAY, sender=who
    ),
    "startSplit": lambda cw, who: cw.equity.start_split(2, sender=who),
    "splitBatch": lambda cw, who: cw.equity.split_batch([cw.w["bob"]], sender=who),
}


def _stage(cw: CorporateWorld, power: str) -> None:
    """Brings the world to where `power` can succeed for the issuer."""
    if power in ("fund", "payBatch", "returnRemainder"):
        coupon = cw.bond.schedule_coupon(0, sender=cw.admin).distribution_id
        assert coupon == 1
        _, payment_date, record_date = cw.bond.coupon_period(0)
        cw.after(record_date)
        if power != "fund":
            cw.bond.fund(coupon, sender=cw.treasury)
            cw.at(payment_date)
        if power == "returnRemainder":
            cw.after(cw.bond.claim_deadline(coupon))
    if power == "splitBatch":
        cw.equity.start_split(2, sender=cw.admin)


@pytest.mark.parametrize("power", list(ISSUER_POWERS))
def test_issuer_powers_are_the_issuers_alone(cw: CorporateWorld, power: str) -> None:
    _stage(cw, power)
    for wrong in (cw.outsider, cw.w["bob"], cw.fca):
        reverts(lambda wrong=wrong: ISSUER_POWERS[power](cw, wrong), "AccessControlUnauthorizedAccount", account=wrong)
    actor = cw.treasury if power == "fund" else cw.admin
    ISSUER_POWERS[power](cw, actor)


def test_roles_are_wired_and_guarded(cw: CorporateWorld) -> None:
    for agent, token in ((cw.bond, cw.bond_token), (cw.equity, cw.equity_token)):
        assert token.has_role("AGENT_ROLE", agent.address)
        assert cw.gbp.is_settlement_contract(agent.address)
        assert agent.has_role("ISSUER_ROLE", cw.admin) and not agent.has_role("ISSUER_ROLE", cw.outsider)
        reverts(
            lambda agent=agent: agent.grant_role("ISSUER_ROLE", cw.outsider, sender=cw.outsider),
            "AccessControlUnauthorizedAccount",
        )
    # An agent without AGENT_ROLE on the token cannot schedule a record date: the token refuses it.
    token = cw.new_security("Unwired", "UNW")
    agent = BondPayingAgent.deploy(
        cw.chain, terms=cw.bond_terms(), security=token.address, issuer=cw.admin, sender=cw.admin, wire=False
    )
    reverts(lambda: agent.schedule_coupon(0, sender=cw.admin), "PayingAgentRecordDatesDisabled", token=token.address)
    token.enable_record_dates(sender=cw.admin)
    reverts(
        lambda: agent.schedule_coupon(0, sender=cw.admin),
        "AccessControlUnauthorizedAccount",
        account=agent.address,
        neededRole="0x" + token.role_id("AGENT_ROLE").hex(),
    )


# ISDA, "EMU and market conventions: recent developments" (1998), Actual/Actual worked examples, the
# ISMA (ACT/ACT ICMA) column: (issue date, coupon dates, coupons a year, period, fraction).
ISDA_ICMA_ON_CHAIN = [
    (ts(2003, 5, 1), (ts(2003, 11, 1), ts(2004, 5, 1)), 2, 1, Fraction(1, 2)),  # regular half-year
    (ts(1999, 2, 1), (ts(1999, 7, 1), ts(2000, 7, 1)), 1, 0, Fraction(150, 365)),  # short first
    (ts(1999, 2, 1), (ts(1999, 7, 1), ts(2000, 7, 1)), 1, 1, Fraction(1)),  # the regular year after it
    (ts(2002, 8, 15), (ts(2003, 7, 15), ts(2004, 1, 15)), 2, 0, Fraction(337, 368)),  # long first
    (ts(1999, 7, 30), (ts(2000, 1, 30), ts(2000, 6, 30)), 2, 1, Fraction(152, 364)),  # short final
]


@pytest.mark.parametrize(("issue", "dates", "frequency", "period", "expected"), ISDA_ICMA_ON_CHAIN)
def test_act_act_icma_on_chain_matches_the_isda_worked_examples(
    cw: CorporateWorld, issue: int, dates: tuple[int, ...], frequency: int, period: int, expected: Fraction
) -> None:
    terms = cw.bond_terms(
        isin="GB00SBXICMA1", day_count=DayCount.ACTUAL_ACTUAL_ICMA, issue_date=issue, coupon_dates=dates,
        maturity=dates[-1], frequency=frequency, record_lag=DAY,
    )  # fmt: skip
    _, agent = cw.new_bond(terms)
    assert Fraction(*agent.day_count_fraction(period)) == expected
    numerator, denominator = agent.coupon_per_unit(period)
    assert Fraction(numerator, denominator) == FACE * Fraction(RATE_BPS, 10_000) * expected


def test_thirty_360_us_on_chain_applies_the_end_of_february_rule(cw: CorporateWorld) -> None:
    """A note paying on the last day of February and 31 August accrues 180 days each half-year under
    SIFMA's 30/360 (the ISDA bond basis counts 183 from 28 February 2027 to 31 August 2027)."""
    dates = (ts(2027, 2, 28), ts(2027, 8, 31), ts(2028, 2, 29), ts(2028, 8, 31), ts(2029, 2, 28))
    for day_count, expected in [
        (DayCount.THIRTY_360_US, [178, 180, 179, 180, 178]),
        (DayCount.THIRTY_360_BOND_BASIS, [178, 183, 179, 182, 178]),
    ]:
        terms = cw.bond_terms(
            isin="US00SBX30US1", day_count=day_count, issue_date=ts(2026, 8, 31), coupon_dates=dates,
            maturity=dates[-1], record_lag=DAY,
        )  # fmt: skip
        _, agent = cw.new_bond(terms)
        assert [agent.day_count_fraction(p) for p in range(len(dates))] == [(d, 360) for d in expected]


def test_rolled_payment_dates_and_record_instants_are_checked_at_issuance(cw: CorporateWorld) -> None:
    """Payment dates at most 14 days after their coupon date and in order; record instants before
    their payments, in order, and not before the issue date; ACT/ACT ICMA needs 1, 2, 4 or 12."""
    c = COUPON_DATES
    cases: list[tuple[dict[str, Any], int]] = [
        ({"payment_dates": c[:2]}, 7),
        ({"payment_dates": (c[0] - 1, c[1], c[2])}, 8),
        ({"payment_dates": (c[0] + 15 * DAY, c[1], c[2])}, 8),
        ({"record_dates": (c[0], c[1] - DAY, c[2] - DAY)}, 9),
        ({"record_dates": (c[1] - 2 * DAY, c[1] - DAY, c[2] - DAY)}, 9),
        ({"record_dates": (ISSUE_DATE - 1, c[1] - DAY, c[2] - DAY)}, 5),
        ({"day_count": DayCount.ACTUAL_ACTUAL_ICMA, "frequency": 3}, 10),
    ]
    for changes, reason in cases:
        terms = cw.bond_terms(**changes)
        reverts(
            lambda terms=terms: BondPayingAgent.deploy(
                cw.chain, terms=terms, security=cw.bond_token.address, issuer=cw.admin, sender=cw.admin, wire=False
            ),
            "BondInvalidTerms",
            reason=reason,
        )
    # A coupon on Sunday 31 January 2027 paid on Monday 1 February, recorded at 17:00 London time on
    # the 24th: the terms keep all three, and the distribution opens on the rolled date.
    close = c[1] - 7 * DAY + 17 * 3600 - 1
    terms = cw.bond_terms(payment_dates=(c[0], c[1] + DAY, c[2]), record_dates=(c[0] - 7 * DAY, close, c[2] - DAY))
    _, agent = cw.new_bond(terms)
    assert agent.terms().payment_dates == terms.payment_dates
    assert agent.coupon_schedule(1) == (c[0], c[1], c[1] + DAY, close)
    assert agent.day_count_fraction(1) == (180, 360)  # accrual to the unadjusted 31 January
    coupon = agent.schedule_coupon(1, sender=cw.admin).distribution_id
    d = agent.distribution(coupon)
    assert (d.payment_date, d.record_date) == (c[1] + DAY, close)
