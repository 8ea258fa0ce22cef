"""Delivery versus payment: agreeing, settling atomically, recording why a leg failed, cancel, expiry,
batches."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sandbox.contracts import CashToken, ContractFacade, DvPSettlement, Leg, SettlementCode, TradeStatus, minor_units
from sandbox.contracts.cash_token import NO_LIMIT
from sandbox.errors import ContractReverted
from sandbox.rules import Jurisdiction
from tests.markets.conftest import MarketsWorld

QUANTITY = 100
PRICE = minor_units("12500")  # the whole consideration for QUANTITY units


@dataclass(frozen=True)
class Desk:
    """A seller holding units and a buyer holding cash, both having approved the DvP contract."""

    world: MarketsWorld
    seller: str
    buyer: str
    cash: CashToken

    @property
    def dvp(self) -> DvPSettlement:
        return self.world.dvp

    def propose(self, *, quantity: int = QUANTITY, price: int = PRICE, buyer: str | None = None) -> int:
        deadline = self.world.chain.timestamp() + 3600
        return self.dvp.propose(
            seller=self.seller,
            buyer=buyer or self.buyer,
            security=self.world.security.address,
            quantity=quantity,
            cash=self.cash.address,
            cash_amount=price,
            deadline=deadline,
            sender=self.seller,
        ).trade_id

    def agreed(self, *, quantity: int = QUANTITY, price: int = PRICE, buyer: str | None = None) -> int:
        trade_id = self.propose(quantity=quantity, price=price, buyer=buyer)
        self.dvp.affirm(trade_id, sender=buyer or self.buyer)
        return trade_id

    def positions(self, *wallets: str) -> tuple[tuple[int, int], ...]:
        """(security units, cash) of each wallet."""
        return tuple((self.world.security.balance_of(w), self.cash.balance_of(w)) for w in wallets)


@pytest.fixture
def desk(markets: MarketsWorld) -> Desk:
    """bob (UK professional) sells gilts to carol (US accredited) for sterling."""
    w = markets
    seller, buyer = w.bob.wallet, w.carol.wallet
    w.security.mint(seller, 1_000, sender=w.admin)
    w.gbp.mint(buyer, minor_units("100000"), sender=w.admin)
    w.security.approve(w.dvp.address, NO_LIMIT, sender=seller)
    w.gbp.approve(w.dvp.address, NO_LIMIT, sender=buyer)
    return Desk(w, seller, buyer, w.gbp)


def test_dvp_settles_both_legs_in_one_transaction(desk: Desk) -> None:
    dvp, w = desk.dvp, desk.world
    proposed = dvp.propose(
        seller=desk.seller, buyer=desk.buyer, security=w.security.address, quantity=QUANTITY,
        cash=desk.cash.address, cash_amount=PRICE, deadline=w.chain.timestamp() + 60, sender=desk.buyer,
    )  # fmt: skip
    trade_id = proposed.trade_id
    assert dvp.trade(trade_id).status == TradeStatus.PROPOSED
    assert not dvp.trade(trade_id).proposed_by_seller
    dvp.affirm(trade_id, sender=desk.seller)
    before = desk.positions(desk.seller, desk.buyer)
    outcome = dvp.settle(trade_id, sender=w.outsider)  # anyone may settle an affirmed trade
    assert outcome.result.settled and outcome.result.code == 0
    (seller_before, buyer_before) = before
    assert desk.positions(desk.seller, desk.buyer) == (
        (seller_before[0] - QUANTITY, seller_before[1] + PRICE),
        (buyer_before[0] + QUANTITY, buyer_before[1] - PRICE),
    )
    # Both transfers are in the settlement's own receipt.
    assert len(w.security.events(outcome.receipt, "Transfer")) == 1
    assert len(desk.cash.events(outcome.receipt, "Transfer")) == 1
    assert dvp.trade(trade_id).status == TradeStatus.SETTLED
    with pytest.raises(ContractReverted) as info:
        dvp.settle(trade_id, sender=desk.seller)
    assert info.value.error_name == "DvPInvalidStatus"


def test_only_the_parties_agree_and_only_the_counterparty_affirms(desk: Desk) -> None:
    dvp, w = desk.dvp, desk.world
    with pytest.raises(ContractReverted) as info:
        dvp.propose(
            seller=desk.seller, buyer=desk.buyer, security=w.security.address, quantity=1,
            cash=desk.cash.address, cash_amount=1, deadline=w.chain.timestamp() + 60, sender=w.outsider,
        )  # fmt: skip
    assert info.value.error_name == "DvPNotAParty"
    with pytest.raises(ContractReverted) as info:
        dvp.propose(
            seller=desk.seller, buyer=desk.buyer, security=w.security.address, quantity=0,
            cash=desk.cash.address, cash_amount=1, deadline=w.chain.timestamp() + 60, sender=desk.seller,
        )  # fmt: skip
    assert info.value.error_name == "DvPZeroAmount"
    trade_id = desk.propose()
    for who in (desk.seller, w.outsider):
        with pytest.raises(ContractReverted) as info:
            dvp.affirm(trade_id, sender=who)
        assert info.value.error_name == "DvPNotCounterparty"
    with pytest.raises(ContractReverted) as info:
        dvp.settle(trade_id, sender=desk.seller)  # proposed, not affirmed
    assert info.value.error_name == "DvPInvalidStatus"
    with pytest.raises(ContractReverted) as info:
        dvp.execute_legs(trade_id, sender=desk.seller)
    assert info.value.error_name == "DvPOnlySelf"


def _assert_failed_and_nothing_moved(desk: Desk, trade_id: int, leg: Leg, code: int, *wallets: str) -> None:
    before = desk.positions(*wallets)
    supply = (desk.world.security.total_supply(), desk.cash.total_supply())
    outcome = desk.dvp.settle(trade_id, sender=desk.seller)
    result = outcome.result
    assert (result.settled, result.leg, result.code) == (False, leg, code)
    expected_token = desk.world.security.address if leg == Leg.SECURITY else desk.cash.address
    assert result.token == expected_token
    assert desk.positions(*wallets) == before
    assert (desk.world.security.total_supply(), desk.cash.total_supply()) == supply
    trade = desk.dvp.trade(trade_id)
    assert (trade.status, trade.failed_leg, trade.failure_code) == (TradeStatus.AFFIRMED, leg, code)
    assert not desk.world.security.events(outcome.receipt, "Transfer")
    assert not desk.cash.events(outcome.receipt, "Transfer")


def test_buyer_short_of_cash_fails_the_cash_leg_then_retry_settles(desk: Desk) -> None:
    w = desk.world
    trade_id = desk.agreed(price=minor_units("100000.01"))
    assert desk.dvp.preview_settle(trade_id) == SettlementCode.BUYER_BALANCE
    _assert_failed_and_nothing_moved(desk, trade_id, Leg.CASH, SettlementCode.BUYER_BALANCE, desk.seller, desk.buyer)
    assert desk.dvp.message_for_settlement_code(SettlementCode.BUYER_BALANCE).startswith("DVP_BUYER_BALANCE")
    # The trade stays affirmed until its deadline: once the buyer is funded it settles.
    w.gbp.mint(desk.buyer, 1, sender=w.admin)
    assert desk.dvp.settle(trade_id, sender=desk.buyer).result.settled
    assert desk.dvp.trade(trade_id).failure_code == 0


def test_security_receiver_not_admitted_fails_the_security_leg(desk: Desk) -> None:
    desk.world.security.set_jurisdiction_admitted(Jurisdiction.US, False, sender=desk.world.admin)
    trade_id = desk.agreed()
    code = desk.world.security.detect_transfer_restriction(desk.seller, desk.buyer, QUANTITY)
    assert code == 0x30  # JURISDICTION_NOT_ADMITTED, the security token's own code
    _assert_failed_and_nothing_moved(desk, trade_id, Leg.SECURITY, code, desk.seller, desk.buyer)


def test_unregistered_buyer_fails_the_security_leg(desk: Desk) -> None:
    outsider = desk.world.outsider
    trade_id = desk.agreed(buyer=outsider)
    _assert_failed_and_nothing_moved(desk, trade_id, Leg.SECURITY, 0x21, desk.seller, outsider)


def test_frozen_seller_fails_the_security_leg(desk: Desk) -> None:
    trade_id = desk.agreed()
    desk.world.security.set_address_frozen(desk.seller, True, sender=desk.world.uk_regulator)
    _assert_failed_and_nothing_moved(desk, trade_id, Leg.SECURITY, 0x11, desk.seller, desk.buyer)


def test_frozen_buyer_cash_fails_the_cash_leg(desk: Desk) -> None:
    trade_id = desk.agreed()
    desk.cash.set_address_frozen(desk.buyer, True, sender=desk.world.uk_regulator)
    _assert_failed_and_nothing_moved(desk, trade_id, Leg.CASH, 0x81, desk.seller, desk.buyer)


def test_individual_seller_over_the_sterling_limit_fails_the_cash_leg(desk: Desk) -> None:
    """The DvP contract is exempt from the limits; the parties are not."""
    w = desk.world
    alice = w.alice.wallet
    w.security.mint(alice, QUANTITY, sender=w.admin)
    w.security.approve(w.dvp.address, NO_LIMIT, sender=alice)
    trade_id = w.dvp.propose(
        seller=alice, buyer=desk.buyer, security=w.security.address, quantity=QUANTITY,
        cash=w.gbp.address, cash_amount=minor_units("20000.01"), deadline=w.chain.timestamp() + 60, sender=alice,
    ).trade_id  # fmt: skip
    w.dvp.affirm(trade_id, sender=desk.buyer)
    before = desk.positions(alice, desk.buyer)
    result = w.dvp.settle(trade_id, sender=alice).result
    assert (result.leg, result.code) == (Leg.CASH, 0x90)
    assert desk.positions(alice, desk.buyer) == before


def test_missing_allowance_is_a_dvp_code(desk: Desk) -> None:
    trade_id = desk.agreed()
    desk.world.security.approve(desk.dvp.address, QUANTITY - 1, sender=desk.seller)
    _assert_failed_and_nothing_moved(desk, trade_id, Leg.SECURITY, SettlementCode.SELLER_ALLOWANCE, desk.seller)


def test_cancel_before_execution(desk: Desk) -> None:
    dvp = desk.dvp
    first, second = desk.propose(), desk.agreed()
    with pytest.raises(ContractReverted) as info:
        dvp.cancel(first, sender=desk.world.outsider)
    assert info.value.error_name == "DvPNotAParty"
    receipt = dvp.cancel(first, sender=desk.buyer)
    assert dvp.events(receipt, "TradeCancelled")[0].args["cancelledBy"] == desk.buyer
    dvp.cancel(second, sender=desk.seller)
    for trade_id in (first, second):
        assert dvp.trade(trade_id).status == TradeStatus.CANCELLED
        with pytest.raises(ContractReverted) as info:
            dvp.settle(trade_id, sender=desk.seller)
        assert info.value.error_name == "DvPInvalidStatus"
    settled = desk.agreed()
    dvp.settle(settled, sender=desk.seller)
    with pytest.raises(ContractReverted) as info:
        dvp.cancel(settled, sender=desk.seller)
    assert info.value.error_name == "DvPInvalidStatus"


def test_expiry_after_the_deadline(desk: Desk) -> None:
    dvp, chain = desk.dvp, desk.world.chain
    proposed, affirmed = desk.propose(), desk.agreed()
    deadline = dvp.trade(affirmed).deadline
    with pytest.raises(ContractReverted) as info:
        dvp.expire(affirmed, sender=desk.world.outsider)
    assert info.value.error_name == "DvPNotExpired"
    chain.time_travel(deadline + 1)
    with pytest.raises(ContractReverted) as info:
        dvp.affirm(proposed, sender=desk.buyer)
    assert info.value.error_name == "DvPTradeExpired"
    before = desk.positions(desk.seller, desk.buyer)
    result = dvp.settle(affirmed, sender=desk.seller).result
    assert (result.settled, result.leg, result.code) == (False, Leg.NONE, SettlementCode.EXPIRED)
    assert desk.positions(desk.seller, desk.buyer) == before
    assert dvp.trade(affirmed).status == TradeStatus.EXPIRED
    dvp.expire(proposed, sender=desk.world.outsider)
    assert dvp.trade(proposed).status == TradeStatus.EXPIRED


def test_batch_settles_each_trade_atomically_and_reports_failures(desk: Desk) -> None:
    w, dvp = desk.world, desk.dvp
    ok = [desk.agreed(quantity=10, price=minor_units("1000")) for _ in range(3)]
    too_dear = desk.agreed(quantity=10, price=minor_units("200000"))  # buyer short of cash
    only_proposed = desk.propose(quantity=10, price=1)
    ids = [ok[0], too_dear, ok[1], only_proposed, ok[2]]
    before = desk.positions(desk.seller, desk.buyer)
    expected = [0, SettlementCode.BUYER_BALANCE, 0, SettlementCode.NOT_AFFIRMED, 0]
    assert list(dvp.preview_settle_batch(ids)) == expected  # the return value, by a dry run
    assert desk.positions(desk.seller, desk.buyer) == before
    batch = dvp.settle_batch(ids, sender=w.outsider)
    codes = [r.code for r in batch.results]
    assert codes == expected
    assert batch.settled == tuple(ok)
    assert batch.results[1].leg == Leg.CASH
    (seller_before, buyer_before) = before
    assert desk.positions(desk.seller, desk.buyer) == (
        (seller_before[0] - 30, seller_before[1] + minor_units("3000")),
        (buyer_before[0] + 30, buyer_before[1] - minor_units("3000")),
    )
    assert [dvp.trade(i).status for i in ids] == [
        TradeStatus.SETTLED, TradeStatus.AFFIRMED, TradeStatus.SETTLED, TradeStatus.PROPOSED, TradeStatus.SETTLED,
    ]  # fmt: skip
    assert dvp.trade(too_dear).failure_code == SettlementCode.BUYER_BALANCE
    (processed,) = dvp.events(batch.receipt, "BatchProcessed")
    assert (processed.args["trades"], processed.args["settled"]) == (5, 3)
    with pytest.raises(ContractReverted) as info:
        dvp.settle_batch(list(range(dvp.max_batch() + 1)), sender=w.outsider)
    assert info.value.error_name == "DvPBatchTooLarge"


def test_usd_cash_leg(desk: Desk) -> None:
    w = desk.world
    w.usd.mint(desk.buyer, minor_units("5000"), sender=w.admin)
    w.usd.approve(w.dvp.address, NO_LIMIT, sender=desk.buyer)
    trade_id = w.dvp.propose(
        seller=desk.seller, buyer=desk.buyer, security=w.security.address, quantity=5,
        cash=w.usd.address, cash_amount=minor_units("5000"), deadline=w.chain.timestamp() + 60, sender=desk.seller,
    ).trade_id  # fmt: skip
    w.dvp.affirm(trade_id, sender=desk.buyer)
    assert w.dvp.settle(trade_id, sender=desk.buyer).result.settled
    assert (w.usd.balance_of(desk.seller), w.usd.balance_of(desk.buyer)) == (minor_units("5000"), 0)


class _ParkingToken(ContractFacade):
    artifact_name = "MockParkingToken"


def test_a_token_that_reports_success_without_delivering_fails_the_leg(desk: Desk) -> None:
    """A leg whose token says "true" but moves nothing (e.g. parks the transfer for an approval) is a
    failed leg: the buyer does not pay for units that did not arrive."""
    w = desk.world
    parking = _ParkingToken.deploy_contract(w.chain, [1_000], sender=desk.seller)
    parking._send("approve", w.dvp.address, 1_000, sender=desk.seller)
    parking._send("setParking", True, sender=desk.seller)
    trade_id = w.dvp.propose(
        seller=desk.seller, buyer=desk.buyer, security=parking.address, quantity=10,
        cash=w.gbp.address, cash_amount=PRICE, deadline=w.chain.timestamp() + 60, sender=desk.seller,
    ).trade_id  # fmt: skip
    w.dvp.affirm(trade_id, sender=desk.buyer)
    cash_before = (w.gbp.balance_of(desk.seller), w.gbp.balance_of(desk.buyer))
    outcome = w.dvp.settle(trade_id, sender=desk.buyer)
    assert (outcome.result.leg, outcome.result.code) == (Leg.SECURITY, SettlementCode.NOT_DELIVERED)
    assert not parking.events(outcome.receipt)  # the parked transfer was rolled back too
    assert (w.gbp.balance_of(desk.seller), w.gbp.balance_of(desk.buyer)) == cash_before


def test_a_leg_on_something_that_is_not_a_token_is_recorded(desk: Desk) -> None:
    w = desk.world
    trade_id = w.dvp.propose(
        seller=desk.seller, buyer=desk.buyer, security=w.outsider, quantity=1,
        cash=w.gbp.address, cash_amount=1, deadline=w.chain.timestamp() + 60, sender=desk.seller,
    ).trade_id  # fmt: skip
    w.dvp.affirm(trade_id, sender=desk.buyer)
    result = w.dvp.settle(trade_id, sender=desk.buyer).result
    assert (result.settled, result.leg, result.code) == (False, Leg.NONE, SettlementCode.LEG_REVERTED)
