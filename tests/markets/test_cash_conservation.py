"""Stateful property: across random mints, redemptions, burns, transfers, freezes and DvP settlements
(single and batched), sterling is conserved: minted - burned = total supply = the sum of all balances,
each investor's per-identity sum is the sum of its wallets, and a failed settlement moves nothing."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from sandbox.contracts.cash_token import NO_LIMIT
from sandbox.errors import ContractReverted
from tests.markets.conftest import MarketsWorld

EXAMPLES = int(os.environ.get("MARKETS_HYPOTHESIS_EXAMPLES", "8"))
STEPS = int(os.environ.get("MARKETS_HYPOTHESIS_STEPS", "30"))
#: Units of the security each holder starts with.
START_UNITS = 1_000

#: What a refused cash operation may legitimately revert with; anything else fails the test.
CASH_REFUSALS = {
    "CashIndividualHoldingLimitExceeded",
    "CashBusinessHoldingLimitExceeded",
    "CashSenderFrozen",
    "CashReceiverFrozen",
    "CashMintExceedsReserves",
    "ERC20InsufficientBalance",
}

amounts = st.integers(min_value=1, max_value=2_500_000)  # up to 25,000 pounds, beyond an individual's cap
prices = st.integers(min_value=1, max_value=400_000)  # up to 4,000 pounds


def _prepare(world: MarketsWorld) -> list[str]:
    """Every holder gets units and approves the DvP contract on both legs; returns the holders."""
    holders = [*world.alice.wallets, world.dave.wallet, *world.bob.wallets, world.carol.wallet, world.erin.wallet]
    for holder in holders:
        world.security.mint(holder, START_UNITS, sender=world.admin)
        world.security.approve(world.dvp.address, NO_LIMIT, sender=holder)
        world.gbp.approve(world.dvp.address, NO_LIMIT, sender=holder)
    return holders


class CashConservation(RuleBasedStateMachine):
    world: MarketsWorld
    holders: list[str]

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: Any = self.world.chain.snapshot()
        self.gbp = self.world.gbp
        self.minted = 0
        self.burned = 0
        self.cash = dict.fromkeys([*self.holders, self.world.dvp.address], 0)
        self.units = dict.fromkeys(self.holders, START_UNITS)
        self.frozen: set[str] = set()

    def teardown(self) -> None:
        try:
            self._check_everything()
        finally:
            self.world.chain.revert(self.snapshot)

    # ------------------------------------------------------------------ checks

    def _check(self, *wallets: str, units: bool = False) -> None:
        """The chain's balances of `wallets` against the model (every wallet is checked at teardown)."""
        for wallet in wallets:
            assert self.gbp.balance_of(wallet) == self.cash[wallet], wallet
            if units and wallet in self.units:
                assert self.world.security.balance_of(wallet) == self.units[wallet], wallet

    def _check_everything(self) -> None:
        supply = self.gbp.total_supply()
        assert supply == self.minted - self.burned
        assert sum(self.gbp.balance_of(w) for w in self.cash) == supply
        self._check(*self.cash, units=True)
        w = self.world
        for investor in (w.alice, w.dave, w.bob, w.carol, w.erin):
            assert self.gbp.identity_balance(investor.identity) == sum(self.cash[x] for x in investor.wallets)

    @invariant()
    def supply_is_minted_minus_burned(self) -> None:
        assert self.gbp.total_supply() == self.minted - self.burned

    # ------------------------------------------------------------------ rules

    @initialize(amount=st.integers(min_value=0, max_value=1_000_000))
    def fund(self, amount: int) -> None:
        """Every holder starts with the same sterling balance (0 to 10,000 pounds)."""
        if amount:
            for wallet in self.holders:
                self.mint(self.holders.index(wallet), amount)

    def _refused(self, exc: ContractReverted) -> None:
        assert exc.error_name in CASH_REFUSALS, str(exc)

    @rule(to=st.sampled_from(range(7)), amount=amounts)
    def mint(self, to: int, amount: int) -> None:
        wallet = self.holders[to]
        try:
            self.gbp.mint(wallet, amount, sender=self.world.admin)
        except ContractReverted as exc:
            self._refused(exc)
        else:
            self.minted += amount
            self.cash[wallet] += amount

    @rule(who=st.sampled_from(range(7)), amount=amounts, by_issuer=st.booleans())
    def redeem(self, who: int, amount: int, by_issuer: bool) -> None:
        wallet = self.holders[who]
        amount = min(amount, self.cash[wallet] + 1)  # sometimes one more than held
        try:
            if by_issuer:
                self.gbp.burn(wallet, amount, sender=self.world.admin)
            else:
                self.gbp.redeem(amount, sender=wallet)
        except ContractReverted as exc:
            self._refused(exc)
        else:
            self.burned += amount
            self.cash[wallet] -= amount

    @rule(src=st.sampled_from(range(7)), dst=st.sampled_from(range(7)), amount=amounts)
    def transfer(self, src: int, dst: int, amount: int) -> None:
        a, b = self.holders[src], self.holders[dst]
        try:
            self.gbp.transfer(b, amount, sender=a)
        except ContractReverted as exc:
            self._refused(exc)
        else:
            self.cash[a] -= amount
            self.cash[b] += amount

    @rule(who=st.sampled_from(range(7)))
    def toggle_freeze(self, who: int) -> None:
        wallet = self.holders[who]
        freeze = wallet not in self.frozen
        self.gbp.set_address_frozen(wallet, freeze, sender=self.world.uk_regulator)
        (self.frozen.add if freeze else self.frozen.discard)(wallet)

    def _agree(self, seller: str, buyer: str, quantity: int, price: int) -> int:
        dvp = self.world.dvp
        trade_id = dvp.propose(
            seller=seller, buyer=buyer, security=self.world.security.address, quantity=quantity,
            cash=self.gbp.address, cash_amount=price, deadline=self.world.chain.timestamp() + 600, sender=seller,
        ).trade_id  # fmt: skip
        dvp.affirm(trade_id, sender=buyer)
        return trade_id

    def _apply(self, seller: str, buyer: str, quantity: int, price: int, settled: bool) -> None:
        if settled:
            self.units[seller] -= quantity
            self.units[buyer] += quantity
            self.cash[buyer] -= price
            self.cash[seller] += price

    @rule(
        trades=st.lists(
            st.tuples(
                st.sampled_from(range(7)),
                st.sampled_from(range(7)),
                st.integers(min_value=1, max_value=START_UNITS + 200),
                prices,
            ).filter(lambda t: t[0] != t[1]),
            min_size=1,
            max_size=3,
        )
    )
    def settle(self, trades: list[tuple[int, int, int, int]]) -> None:
        agreed = [(self.holders[s], self.holders[b], q, p) for s, b, q, p in trades]
        ids = [self._agree(*terms) for terms in agreed]
        dvp = self.world.dvp
        if len(ids) == 1:
            results = (dvp.settle(ids[0], sender=self.world.admin).result,)
        else:
            results = dvp.settle_batch(ids, sender=self.world.admin).results
        touched: set[str] = set()
        for terms, result in zip(agreed, results, strict=True):
            self._apply(*terms, settled=result.settled)
            assert result.settled or result.code != 0
            touched.update(terms[:2])
        self._check(*touched, dvp.address, units=True)


@pytest.mark.slow
def test_cash_is_conserved(markets: MarketsWorld) -> None:
    CashConservation.world = markets
    CashConservation.holders = _prepare(markets)
    run_state_machine_as_test(
        CashConservation,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
