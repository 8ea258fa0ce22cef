"""Stateful property of the paying agents: across random DvP trades (units and sterling moving),
freezes, sterling mints, bond coupons and equity dividends declared, funded, paid in batches and
claimed, and the remainder returned,

- sterling is conserved: minted - burned = the sum of every balance (holders, the issuer's treasury,
  the DvP contract and the paying agents); each agent holds exactly what it owes (funded - paid -
  returned, held payments included) and the held amounts match the model's;
- each wallet is paid exactly what its record-date balance earns, floor(units * amount per unit) with
  the amount per unit an exact `Fraction`, and exactly once; a payment the model says must be refused
  (frozen wallet, GBP holding limit) is held, and paid once the cause is gone.

The model is plain Python: it snapshots its own unit balances when a record date passes."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from sandbox.contracts import (
    DayCount,
    PayingAgent,
    PaymentCode,
    PaymentStatus,
    SecurityToken,
)
from sandbox.contracts.cash_token import GBP_INDIVIDUAL_LIMIT
from sandbox.errors import ContractReverted
from tests.contracts.corporate_world import DAY, CorporateWorld, coupon_per_unit

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("CORPORATE_HYPOTHESIS_EXAMPLES", "4"))
STEPS = int(os.environ.get("CORPORATE_HYPOTHESIS_STEPS", "30"))
HOLDERS = ("alice", "bob", "carol", "dave", "erin")
#: UK retail investors: individuals under the £20,000 sterling limit (one wallet each).
INDIVIDUALS = ("alice", "dave")
#: Sterling each holder starts with: the individuals close to their £20,000 limit, so that some
#: payments are held until they spend.
START_CASH = {"alice": 19_950_00, "bob": 15_000_00, "carol": 15_000_00, "dave": 19_999_00, "erin": 15_000_00}
#: Seconds kept clear after a time jump: no record date may fall inside the next transactions.
CLEARANCE = 1_000

CASH_RECEIVER_FROZEN = 0x82
CASH_INDIVIDUAL_HOLDING_LIMIT = 0x90


@dataclass
class ModelDistribution:
    agent: PayingAgent
    security: str
    distribution_id: int
    record_date: int
    payment_date: int
    per_unit: Fraction
    record_units: dict[str, int] | None = None
    is_funded: bool = False
    funded: int = 0
    paid: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    returned: int | None = None

    def owed(self, name: str) -> int:
        assert self.record_units is not None
        return math.floor(self.record_units[name] * self.per_unit)


class CorporateActions(RuleBasedStateMachine):
    world: CorporateWorld
    coupon_token: SecurityToken
    coupon_agent: Any
    start_units: dict[str, dict[str, int]]

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        self.snapshot: Any = w.chain.snapshot()
        self.tokens = {"bond": self.coupon_token, "equity": w.equity_token}
        self.units = {kind: dict(self.start_units[kind]) for kind in self.tokens}
        self.cash = {name: w.gbp.balance_of(w.w[name]) for name in HOLDERS}
        self.treasury_cash = w.gbp.balance_of(w.treasury)
        self.agent_cash = {self.coupon_agent.address: 0, w.equity.address: 0}
        self.minted = 0  # since the snapshot
        self.security_frozen: dict[str, set[str]] = {kind: set() for kind in self.tokens}
        self.cash_frozen: set[str] = set()
        self.distributions: list[ModelDistribution] = []
        self.next_period = 0

    def teardown(self) -> None:
        try:
            self._check_cash()
            for d in self.distributions:
                self._check_distribution(d)
        finally:
            self.world.chain.revert(self.snapshot)

    # ------------------------------------------------------------------ time and record dates

    def _now(self) -> int:
        return self.world.chain.timestamp()

    def _snapshot_passed_record_dates(self) -> None:
        """A record date at or before the chain's time has passed: the next transaction runs later."""
        for d in self.distributions:
            if d.record_units is None and d.record_date <= self._now():
                d.record_units = dict(self.units[d.security])

    def _travel(self, timestamp: int) -> None:
        self._snapshot_passed_record_dates()
        pending = [d.record_date for d in self.distributions if d.record_units is None]
        # Never stop just before a record date: the rule's transactions would straddle it.
        while any(timestamp < r <= timestamp + CLEARANCE for r in pending):
            timestamp = max(r for r in pending if timestamp < r <= timestamp + CLEARANCE) + 1
        if timestamp > self._now():
            self.world.chain.time_travel(timestamp)
        # Snapshot balances at each date passed in this jump (nothing moved during the jump).
        self._snapshot_passed_record_dates()

    @initialize()
    def open_distributions(self) -> None:
        """Every run starts with a coupon and a dividend declared."""
        self.schedule_coupon()
        self.declare_dividend(37, 2, 3)

    @rule(days=st.integers(min_value=1, max_value=20), holders=st.lists(st.sampled_from(HOLDERS), max_size=6))
    def advance(self, days: int, holders: list[str]) -> None:
        """Time passes; the issuer funds every distribution whose record date has passed and pays
        `holders` in a batch for each one payable."""
        self._travel(self._now() + days * DAY)
        for index in range(len(self.distributions)):
            self.fund(index)
        for index in range(len(self.distributions)):
            self.pay_batch(index, holders)

    # ------------------------------------------------------------------ markets

    @rule(
        kind=st.sampled_from(("bond", "equity")),
        seller=st.sampled_from(HOLDERS),
        buyer=st.sampled_from(HOLDERS),
        quantity=st.integers(min_value=1, max_value=700),
        price=st.integers(min_value=1, max_value=800_000),
    )
    def trade(self, kind: str, seller: str, buyer: str, quantity: int, price: int) -> None:
        if seller == buyer:
            return
        self._snapshot_passed_record_dates()
        w, token = self.world, self.tokens[kind]
        trade_id = w.dvp.propose(
            seller=w.w[seller], buyer=w.w[buyer], security=token.address, quantity=quantity,
            cash=w.gbp.address, cash_amount=price, deadline=self._now() + 600, sender=w.w[seller],
        ).trade_id  # fmt: skip
        w.dvp.affirm(trade_id, sender=w.w[buyer])
        result = w.dvp.settle(trade_id, sender=w.admin).result
        if result.settled:
            self.units[kind][seller] -= quantity
            self.units[kind][buyer] += quantity
            self.cash[buyer] -= price
            self.cash[seller] += price
        for name in (seller, buyer):
            assert token.balance_of(w.w[name]) == self.units[kind][name]
            assert w.gbp.balance_of(w.w[name]) == self.cash[name]

    @rule(who=st.sampled_from(HOLDERS), amount=st.integers(min_value=1, max_value=1_000_000))
    def mint_cash(self, who: str, amount: int) -> None:
        w = self.world
        refused = self._cash_code(who, amount) != 0
        try:
            w.gbp.mint(w.w[who], amount, sender=w.admin)
        except ContractReverted as exc:
            assert refused, str(exc)
        else:
            assert not refused
            self.cash[who] += amount
            self.minted += amount

    @rule(who=st.sampled_from(HOLDERS), on=st.sampled_from(("bond", "equity", "cash")))
    def toggle_freeze(self, who: str, on: str) -> None:
        w = self.world
        frozen = self.cash_frozen if on == "cash" else self.security_frozen[on]
        freeze = who not in frozen
        token = w.gbp if on == "cash" else self.tokens[on]
        token.set_address_frozen(w.w[who], freeze, sender=w.admin)
        (frozen.add if freeze else frozen.discard)(who)

    # ------------------------------------------------------------------ corporate actions

    @precondition(lambda self: self.next_period < self.coupon_agent.coupon_count())
    @rule()
    def schedule_coupon(self) -> None:
        agent = self.coupon_agent
        _, payment_date, record_date = agent.coupon_period(self.next_period)
        if record_date <= self._now() + CLEARANCE:  # too late for this period: it is skipped
            self.next_period += 1
            return
        declared = agent.schedule_coupon(self.next_period, sender=self.world.admin)
        per_unit = coupon_per_unit(agent.terms(), self.next_period)
        self.distributions.append(
            ModelDistribution(agent, "bond", declared.distribution_id, record_date, payment_date, per_unit)
        )
        self.next_period += 1

    @rule(
        amount=st.integers(min_value=1, max_value=900),
        record_in=st.integers(min_value=1, max_value=12),
        paid_after=st.integers(min_value=1, max_value=5),
    )
    def declare_dividend(self, amount: int, record_in: int, paid_after: int) -> None:
        equity = self.world.equity
        record_date = self._now() + record_in * DAY
        payment_date = record_date + paid_after * DAY
        declared = equity.declare_dividend(amount, record_date, payment_date, sender=self.world.admin)
        self.distributions.append(
            ModelDistribution(equity, "equity", declared.distribution_id, record_date, payment_date, Fraction(amount))
        )

    def _ready(self, index: int, *, funded: bool) -> ModelDistribution | None:
        """One of the distributions whose record date has passed and that is (not yet) funded."""
        self._snapshot_passed_record_dates()
        eligible = [d for d in self.distributions if d.record_units is not None and d.is_funded == funded]
        return eligible[index % len(eligible)] if eligible else None

    def fund(self, index: int) -> None:
        d = self._ready(index, funded=False)
        if d is None:
            return
        assert d.record_units is not None
        required = math.floor(sum(d.record_units.values()) * d.per_unit)
        d.agent.fund(d.distribution_id, sender=self.world.treasury)
        assert d.agent.distribution(d.distribution_id).funded == required
        d.is_funded, d.funded = True, required
        self.treasury_cash -= required
        self.agent_cash[d.agent.address] += required

    def _cash_code(self, name: str, amount: int) -> int:
        """What the sterling token says to `amount` reaching `name` now (0 = fine)."""
        if name in self.cash_frozen:
            return CASH_RECEIVER_FROZEN
        if name in INDIVIDUALS and self.cash[name] + amount > GBP_INDIVIDUAL_LIMIT:
            return CASH_INDIVIDUAL_HOLDING_LIMIT
        return 0

    def _expected_code(self, d: ModelDistribution, name: str, amount: int) -> int:
        if name in self.security_frozen[d.security]:
            return PaymentCode.SECURITY_WALLET_FROZEN
        return self._cash_code(name, amount)

    def _payable(self, d: ModelDistribution) -> bool:
        return d.returned is None and self._now() + 1 >= d.payment_date

    def _paid(self, d: ModelDistribution, name: str, amount: int) -> None:
        d.paid[name] = amount
        d.held.pop(name, None)
        self.cash[name] += amount
        self.agent_cash[d.agent.address] -= amount

    @rule(index=st.integers(min_value=0, max_value=50), holders=st.lists(st.sampled_from(HOLDERS), max_size=6))
    def pay_batch(self, index: int, holders: list[str]) -> None:
        d = self._ready(index, funded=True)
        if d is None or not self._payable(d):
            return
        w = self.world
        batch = d.agent.pay_batch(d.distribution_id, [w.w[n] for n in holders], sender=w.admin)
        expected_paid: dict[str, int] = {}
        expected_held: dict[str, tuple[int, int]] = {}
        for name in holders:
            if name in d.paid or name in expected_paid:
                continue
            amount = d.held.get(name, d.owed(name))
            if amount == 0:
                continue
            code = self._expected_code(d, name, amount)
            if code == 0:
                expected_paid[name] = amount
                self._paid(d, name, amount)
            elif name not in d.held and name not in expected_held:
                expected_held[name] = (amount, code)
                d.held[name] = amount
        assert batch.paid == {w.w[n]: a for n, a in expected_paid.items()}
        assert {h.holder: (h.amount, h.code) for h in batch.held} == {w.w[n]: v for n, v in expected_held.items()}

    @rule(index=st.integers(min_value=0, max_value=50))
    def pay_everyone(self, index: int) -> None:
        self.pay_batch(index, list(HOLDERS))

    @rule(index=st.integers(min_value=0, max_value=50), who=st.sampled_from(HOLDERS))
    def claim(self, index: int, who: str) -> None:
        d = self._ready(index, funded=True)
        if d is None:
            return
        w = self.world
        refusal: ContractReverted | None = None
        try:
            d.agent.claim(d.distribution_id, sender=w.w[who])
        except ContractReverted as exc:
            refusal = exc
        reason = refusal.error_name if refusal is not None else None
        if who in d.paid:
            assert reason == "PayingAgentAlreadyPaid"
            return
        if who not in d.held and (d.returned is not None or self._now() < d.payment_date):
            assert reason in ("PayingAgentDistributionClosed", "PayingAgentBeforePaymentDate")
            return
        amount = d.held.get(who, d.owed(who))
        if amount == 0:
            assert reason == "PayingAgentNothingOwed"
            return
        code = self._expected_code(d, who, amount)
        if code:
            assert refusal is not None and reason == "PayingAgentPaymentRefused" and refusal.rule_code == code
            return
        assert reason is None
        self._paid(d, who, amount)

    @rule(index=st.integers(min_value=0, max_value=50))
    def return_remainder(self, index: int) -> None:
        d = self._ready(index, funded=True)
        if d is None or d.returned is not None or self._now() + 1 <= d.agent.claim_deadline(d.distribution_id):
            return
        remainder = d.funded - sum(d.paid.values()) - sum(d.held.values())
        d.agent.return_remainder(d.distribution_id, self.world.treasury, sender=self.world.admin)
        d.returned = remainder
        self.treasury_cash += remainder
        self.agent_cash[d.agent.address] -= remainder

    # ------------------------------------------------------------------ properties

    @invariant()
    def cash_is_conserved(self) -> None:
        self._check_cash()

    def _check_cash(self) -> None:
        w = self.world
        gbp = w.gbp
        for name in HOLDERS:
            assert gbp.balance_of(w.w[name]) == self.cash[name], name
        assert gbp.balance_of(w.treasury) == self.treasury_cash
        for agent in (self.coupon_agent, w.equity):
            owed = self.agent_cash[agent.address]
            assert gbp.balance_of(agent.address) == agent.liabilities(gbp.address) == owed
            assert sum(sum(d.held.values()) for d in self.distributions if d.agent is agent) <= owed
        assert gbp.balance_of(w.dvp.address) == 0
        supply = gbp.total_supply()
        everyone = [*(w.w[n] for n in HOLDERS), w.treasury, w.dvp.address, self.coupon_agent.address, w.equity.address]
        assert sum(gbp.balance_of(a) for a in everyone) == supply == self.initial_supply + self.minted

    initial_supply: int

    def _check_distribution(self, d: ModelDistribution) -> None:
        """Each wallet was paid exactly what its record-date balance earns, held what the model holds."""
        if d.record_units is None:
            return
        w = self.world
        stored = d.agent.distribution(d.distribution_id)
        assert (stored.funded, stored.paid, stored.held) == (d.funded, sum(d.paid.values()), sum(d.held.values()))
        assert stored.returned == (d.returned or 0)
        for name in HOLDERS:
            assert d.agent.entitlement(d.distribution_id, w.w[name]) == d.owed(name)
            payment = d.agent.payment(d.distribution_id, w.w[name])
            if name in d.paid:
                assert d.paid[name] == d.owed(name)
                assert (payment.status, payment.amount) == (PaymentStatus.PAID, d.owed(name))
            elif name in d.held:
                assert (payment.status, payment.amount) == (PaymentStatus.HELD, d.owed(name))
            else:
                assert payment.status == PaymentStatus.UNPAID


def test_corporate_actions_conserve_cash_and_pay_record_date_holders(cw: CorporateWorld) -> None:
    w = cw
    now = w.chain.timestamp()
    # A bond of its own with short coupon periods (15 to 30 days) so that coupons fall due.
    dates = tuple(now + (12 + 20 * k) * DAY + (k % 3) * 5 * DAY for k in range(8))
    terms = w.bond_terms(
        isin="GB00SBXSTAT1", issue_date=now, coupon_dates=dates, maturity=dates[-1], record_lag=3 * DAY,
        day_count=DayCount.ACTUAL_365_FIXED, coupon_rate_bps=517,
    )  # fmt: skip
    start_bond = {"alice": 333, "bob": 1_200, "carol": 450, "dave": 75, "erin": 0}
    token, agent = w.new_bond(terms, units={n: u for n, u in start_bond.items() if u})
    for name in HOLDERS:
        token.approve(w.dvp.address, 2**256 - 1, sender=w.w[name])
        w.gbp.mint(w.w[name], START_CASH[name], sender=w.admin)
    CorporateActions.world = w
    CorporateActions.coupon_token = token
    CorporateActions.coupon_agent = agent
    CorporateActions.start_units = {
        "bond": start_bond,
        "equity": {n: w.equity_token.balance_of(w.w[n]) for n in HOLDERS},
    }
    CorporateActions.initial_supply = w.gbp.total_supply()
    run_state_machine_as_test(
        CorporateActions,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
