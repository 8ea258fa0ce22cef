"""Cross-border DvP through the security token's cross-border approval: a UK seller and a US buyer
above the token's threshold; the trade's clearance is escrowed on the token, decided by both
regulators in the same pending list as any cross-border request, and consumed by the DvP contract's
settlement together with the cash leg."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.chain.base import Receipt
from sandbox.contracts import (
    ContractFacade,
    CrossBorderStatus,
    DvPSettlement,
    Leg,
    SecurityToken,
    SettlementCode,
    TradeStatus,
    load_artifact,
    minor_units,
)
from sandbox.contracts.security_token import Terms
from sandbox.errors import ContractReverted
from sandbox.rules import RULES, RULES_BY_NAME
from tests.markets.conftest import MarketsWorld

CROSS_BORDER = RULES_BY_NAME["CROSS_BORDER_APPROVAL_REQUIRED"].code
RECEIVER_FROZEN = RULES_BY_NAME["RECEIVER_FROZEN"].code
QUANTITY = 100
PRICE = minor_units("12500")
THRESHOLD = 50
DAY = 86_400
#: The window both regulators have to decide a cross-border request (and the DvP to settle it).
APPROVAL_WINDOW = 2 * DAY


class MockClearanceThief(ContractFacade):
    """A contract that tries to settle or withdraw a clearance it did not request."""

    artifact_name = "MockClearanceThief"

    def send(self, action: str, token: str, clearance_id: int, *, sender: str) -> Receipt:
        return self._send(action, token, clearance_id, sender=sender)


@dataclass(frozen=True)
class CrossBorderDesk:
    """bob (UK professional) sells gilts to carol (US accredited) for sterling, above the threshold."""

    world: MarketsWorld
    seller: str
    buyer: str

    @property
    def dvp(self) -> DvPSettlement:
        return self.world.dvp

    @property
    def token(self) -> SecurityToken:
        return self.world.security

    def agreed(self, *, quantity: int = QUANTITY, price: int = PRICE, days: int = 5) -> int:
        """A trade proposed by the seller and affirmed by the buyer, settleable for `days`."""
        trade_id = self.dvp.propose(
            seller=self.seller, buyer=self.buyer, security=self.token.address, quantity=quantity,
            cash=self.world.gbp.address, cash_amount=price, deadline=self.world.chain.timestamp() + days * DAY,
            sender=self.seller,
        ).trade_id  # fmt: skip
        self.dvp.affirm(trade_id, sender=self.buyer)
        return trade_id

    def cleared(self, trade_id: int) -> int:
        """Requests the trade's clearance and has both regulators approve it; returns its id."""
        clearance_id = self.dvp.request_clearance(trade_id, sender=self.buyer).clearance_id
        self.token.approve_cross_border_transfer(clearance_id, sender=self.world.uk_regulator)
        self.token.approve_cross_border_transfer(clearance_id, sender=self.world.us_regulator)
        return clearance_id

    def positions(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(security units, pence) of the seller and of the buyer."""
        w = self.world
        return (
            (self.token.balance_of(self.seller), w.gbp.balance_of(self.seller)),
            (self.token.balance_of(self.buyer), w.gbp.balance_of(self.buyer)),
        )


@pytest.fixture
def desk(markets: MarketsWorld) -> CrossBorderDesk:
    w = markets
    seller, buyer = w.bob.wallet, w.carol.wallet
    w.security.set_terms(
        Terms(uk_min_category=4, us_min_category=1, cross_border_threshold=THRESHOLD, approval_window=APPROVAL_WINDOW),
        sender=w.admin,
    )
    w.security.mint(seller, 1_000, sender=w.admin)
    w.gbp.mint(buyer, minor_units("100000"), sender=w.admin)
    # The seller approves exactly what it sells, so the test can see the clearance spend it.
    w.security.approve(w.dvp.address, QUANTITY, sender=seller)
    w.gbp.approve(w.dvp.address, minor_units("100000"), sender=buyer)
    return CrossBorderDesk(w, seller, buyer)


def _status(desk: CrossBorderDesk, clearance_id: int) -> CrossBorderStatus:
    return desk.token.cross_border_transfer(clearance_id).status


def test_held_until_both_regulators_approve_then_settles_atomically(desk: CrossBorderDesk) -> None:
    w, dvp, token = desk.world, desk.dvp, desk.token
    trade_id = desk.agreed()
    # Without a clearance the trade cannot settle: the token's cross-border rule refuses the leg.
    assert dvp.preview_settle(trade_id) == CROSS_BORDER
    start = desk.positions()

    requested = dvp.request_clearance(trade_id, sender=desk.seller)
    clearance_id = requested.clearance_id
    assert dvp.trade(trade_id).clearance_id == clearance_id
    (opened,) = token.events(requested.receipt, "CrossBorderTransferRequested")  # the regulators' list
    assert (opened.args["from"], opened.args["to"], opened.args["value"]) == (desk.seller, desk.buyer, QUANTITY)
    (marked,) = token.events(requested.receipt, "CrossBorderClearanceRequested")
    assert (marked.args["requester"], marked.args["tradeId"]) == (dvp.address, trade_id)
    clearance = token.cross_border_clearance(clearance_id)
    assert (clearance.requester, clearance.trade_id) == (dvp.address, trade_id)
    assert token.escrowed_tokens(desk.seller) == QUANTITY
    assert desk.positions() == start  # escrowed in the seller's wallet, nothing moved

    # Held: settling reports that the clearance awaits the regulators; the trade stays affirmed.
    held = dvp.settle(trade_id, sender=desk.buyer).result
    assert (held.settled, held.leg, held.code) == (False, Leg.SECURITY, SettlementCode.AWAITING_CLEARANCE)
    assert dvp.trade(trade_id).status == TradeStatus.AFFIRMED
    assert dvp.message_for_settlement_code(SettlementCode.AWAITING_CLEARANCE).startswith("DVP_AWAITING_CLEARANCE")
    token.approve_cross_border_transfer(clearance_id, sender=w.uk_regulator)
    assert dvp.clearance(trade_id).awaiting  # type: ignore[union-attr]
    assert dvp.preview_settle(trade_id) == SettlementCode.AWAITING_CLEARANCE

    # Both approve: the clearance is Cleared, not settled by itself.
    receipt = token.approve_cross_border_transfer(clearance_id, sender=w.us_regulator)
    assert token.events(receipt, "CrossBorderTransferCleared")
    assert not token.events(receipt, "Transfer")
    clearance_state = dvp.clearance(trade_id)
    assert clearance_state is not None and clearance_state.status is CrossBorderStatus.CLEARED
    assert clearance_state.seller_regulator_approved and clearance_state.buyer_regulator_approved
    assert desk.positions() == start

    # Settlement moves both legs in one transaction and consumes the clearance.
    done = dvp.settle(trade_id, sender=w.outsider)
    assert done.result.settled and done.result.code == 0
    (seller_start, buyer_start) = start
    assert desk.positions() == (
        (seller_start[0] - QUANTITY, seller_start[1] + PRICE),
        (buyer_start[0] + QUANTITY, buyer_start[1] - PRICE),
    )
    assert len(token.events(done.receipt, "Transfer")) == 1
    assert len(w.gbp.events(done.receipt, "Transfer")) == 1
    assert token.events(done.receipt, "CrossBorderTransferSettled")[0].args["id"] == clearance_id
    assert dvp.trade(trade_id).status == TradeStatus.SETTLED
    assert _status(desk, clearance_id) == CrossBorderStatus.SETTLED
    assert token.escrowed_tokens(desk.seller) == 0
    assert token.allowance(desk.seller, dvp.address) == 0  # spent as transferFrom would
    # A settled clearance cannot be settled again, nor decided again.
    with pytest.raises(ContractReverted) as info:
        token.approve_cross_border_transfer(clearance_id, sender=w.uk_regulator)
    assert info.value.error_name == "CrossBorderTransferNotPending"


def test_one_regulator_rejects_the_trade_fails_nothing_moved_escrow_released(desk: CrossBorderDesk) -> None:
    w, dvp, token = desk.world, desk.dvp, desk.token
    trade_id = desk.agreed()
    clearance_id = dvp.request_clearance(trade_id, sender=desk.buyer).clearance_id
    start = desk.positions()
    token.approve_cross_border_transfer(clearance_id, sender=w.uk_regulator)
    token.reject_cross_border_transfer(clearance_id, sender=w.us_regulator)
    assert token.escrowed_tokens(desk.seller) == 0  # released by the rejection

    outcome = dvp.settle(trade_id, sender=desk.seller)
    result = outcome.result
    assert (result.settled, result.leg, result.token) == (False, Leg.SECURITY, token.address)
    assert result.code == CROSS_BORDER
    trade = dvp.trade(trade_id)
    assert (trade.status, trade.failed_leg, trade.failure_code) == (
        TradeStatus.FAILED, Leg.SECURITY, CROSS_BORDER,
    )  # fmt: skip
    assert dvp.events(outcome.receipt, "TradeFailed")[0].args["code"] == CROSS_BORDER
    assert desk.positions() == start
    assert not token.events(outcome.receipt, "Transfer")
    assert not w.gbp.events(outcome.receipt, "Transfer")
    # A failed trade is over: it cannot be settled, cancelled or cleared again.
    for attempt in (
        lambda: dvp.settle(trade_id, sender=desk.seller),
        lambda: dvp.cancel(trade_id, sender=desk.seller),
        lambda: dvp.request_clearance(trade_id, sender=desk.seller),
    ):
        with pytest.raises(ContractReverted) as info:
            attempt()
        assert info.value.error_name == "DvPInvalidStatus"


def test_only_the_requesting_settlement_contract_may_consume_or_withdraw(desk: CrossBorderDesk) -> None:
    w, dvp, token = desk.world, desk.dvp, desk.token
    trade_id = desk.agreed()
    clearance_id = desk.cleared(trade_id)
    # Direct calls by the parties and by a regulator.
    for who in (desk.seller, desk.buyer, w.uk_regulator, w.admin):
        for call in (token.settle_cross_border_clearance, token.withdraw_cross_border_clearance):
            with pytest.raises(ContractReverted) as info:
                call(clearance_id, sender=who)
            assert info.value.error_name == "NotClearanceRequester"
            assert info.value.args_by_name == {"id": clearance_id, "account": who}
    # Another contract, as a settlement contract would call it.
    thief = MockClearanceThief.deploy_contract(w.chain, [], sender=w.admin)
    token.approve(thief.address, QUANTITY, sender=desk.seller)
    for action in ("settle", "withdraw"):
        with pytest.raises(ContractReverted) as info:
            thief.send(action, token.address, clearance_id, sender=w.outsider)
        assert info.value.error_name == "NotClearanceRequester"
        assert info.value.args_by_name == {"id": clearance_id, "account": thief.address}
    # Another DvP contract, even one the seller approved for the units, has no way to it: its own
    # trade on the same parties opens a clearance of its own.
    other = DvPSettlement.deploy(w.chain, sender=w.admin)
    token.approve(other.address, QUANTITY, sender=desk.seller)
    other_trade = other.propose(
        seller=desk.seller, buyer=desk.buyer, security=token.address, quantity=QUANTITY, cash=w.gbp.address,
        cash_amount=PRICE, deadline=w.chain.timestamp() + DAY, sender=desk.seller,
    ).trade_id  # fmt: skip
    other.affirm(other_trade, sender=desk.buyer)
    assert other.request_clearance(other_trade, sender=desk.seller).clearance_id != clearance_id
    assert token.escrowed_tokens(desk.seller) == 2 * QUANTITY
    # Nothing moved; the requesting contract still settles its own clearance.
    assert _status(desk, clearance_id) == CrossBorderStatus.CLEARED
    assert dvp.settle(trade_id, sender=desk.seller).result.settled


def test_seller_agreement_and_consent_come_before_any_escrow(desk: CrossBorderDesk) -> None:
    w, dvp, token = desk.world, desk.dvp, desk.token
    proposed_by_buyer = dvp.propose(
        seller=desk.seller, buyer=desk.buyer, security=token.address, quantity=QUANTITY, cash=w.gbp.address,
        cash_amount=PRICE, deadline=w.chain.timestamp() + DAY, sender=desk.buyer,
    ).trade_id  # fmt: skip
    # The seller has not agreed: nothing can be escrowed.
    with pytest.raises(ContractReverted) as info:
        dvp.request_clearance(proposed_by_buyer, sender=desk.buyer)
    assert info.value.error_name == "DvPInvalidStatus"
    dvp.affirm(proposed_by_buyer, sender=desk.seller)
    with pytest.raises(ContractReverted) as info:
        dvp.request_clearance(proposed_by_buyer, sender=w.outsider)
    assert info.value.error_name == "DvPNotAParty"
    # The seller's allowance to the DvP contract is its consent to the units moving.
    token.approve(dvp.address, QUANTITY - 1, sender=desk.seller)
    with pytest.raises(ContractReverted) as info:
        dvp.request_clearance(proposed_by_buyer, sender=desk.buyer)
    assert info.value.error_name == "ERC20InsufficientAllowance"
    # Nor can anyone open a clearance on the token for units whose holder did not approve them.
    with pytest.raises(ContractReverted) as info:
        token.request_cross_border_clearance(desk.seller, desk.buyer, QUANTITY, 1, sender=w.outsider)
    assert info.value.error_name == "ERC20InsufficientAllowance"
    assert token.escrowed_tokens(desk.seller) == 0
    token.approve(dvp.address, QUANTITY, sender=desk.seller)
    clearance_id = dvp.request_clearance(proposed_by_buyer, sender=desk.buyer).clearance_id
    with pytest.raises(ContractReverted) as info:
        dvp.request_clearance(proposed_by_buyer, sender=desk.seller)
    assert info.value.error_name == "DvPClearanceAlreadyRequested"
    assert info.value.args_by_name["clearanceId"] == clearance_id
    # Below the threshold, or within one jurisdiction, there is nothing to clear.
    small = desk.agreed(quantity=THRESHOLD - 1)
    with pytest.raises(ContractReverted) as info:
        dvp.request_clearance(small, sender=desk.seller)
    assert info.value.error_name == "DvPClearanceNotRequired"
    # Every other rule is checked when the clearance is opened: a frozen buyer is refused at once.
    big = desk.agreed(quantity=2 * QUANTITY)
    token.approve(dvp.address, 3 * QUANTITY, sender=desk.seller)
    token.set_address_frozen(desk.buyer, True, sender=w.admin)
    with pytest.raises(ContractReverted) as info:
        dvp.request_clearance(big, sender=desk.seller)
    assert info.value.error_name == "ReceiverFrozen"
    assert token.escrowed_tokens(desk.seller) == QUANTITY


def test_every_other_rule_is_rechecked_when_a_cleared_trade_settles(desk: CrossBorderDesk) -> None:
    w, dvp, token = desk.world, desk.dvp, desk.token
    trade_id = desk.agreed()
    clearance_id = desk.cleared(trade_id)
    start = desk.positions()
    token.set_address_frozen(desk.buyer, True, sender=w.admin)
    result = dvp.settle(trade_id, sender=desk.seller).result
    assert (result.settled, result.leg, result.code) == (False, Leg.SECURITY, RECEIVER_FROZEN)
    # Nothing moved, and the clearance and its escrow are as they were: the trade may be retried.
    assert desk.positions() == start
    assert _status(desk, clearance_id) == CrossBorderStatus.CLEARED
    assert token.escrowed_tokens(desk.seller) == QUANTITY
    assert dvp.trade(trade_id).status == TradeStatus.AFFIRMED
    token.set_address_frozen(desk.buyer, False, sender=w.admin)
    # The cash leg fails next (the buyer's allowance falls short): the security leg is undone with it.
    w.gbp.approve(dvp.address, PRICE - 1, sender=desk.buyer)
    result = dvp.settle(trade_id, sender=desk.seller).result
    assert (result.settled, result.leg, result.code) == (False, Leg.CASH, SettlementCode.BUYER_ALLOWANCE)
    assert desk.positions() == start
    assert _status(desk, clearance_id) == CrossBorderStatus.CLEARED
    w.gbp.approve(dvp.address, PRICE, sender=desk.buyer)
    assert dvp.settle(trade_id, sender=desk.seller).result.settled


def test_clearance_expiry_fails_the_trade_and_releases_the_escrow(desk: CrossBorderDesk) -> None:
    w, dvp, token = desk.world, desk.dvp, desk.token
    token.approve(dvp.address, 2 * QUANTITY, sender=desk.seller)
    undecided = desk.agreed()
    undecided_clearance = dvp.request_clearance(undecided, sender=desk.seller).clearance_id
    cleared = desk.agreed()
    cleared_clearance = desk.cleared(cleared)
    assert token.escrowed_tokens(desk.seller) == 2 * QUANTITY
    deadline = max(token.cross_border_transfer(c).deadline for c in (undecided_clearance, cleared_clearance))
    w.chain.time_travel(deadline + 1)
    # Neither clearance may be decided or settled any more; settling the trades records it.
    with pytest.raises(ContractReverted) as info:
        token.approve_cross_border_transfer(undecided_clearance, sender=w.uk_regulator)
    assert info.value.error_name == "CrossBorderTransferPastDeadline"
    start = desk.positions()
    batch = dvp.settle_batch([undecided, cleared], sender=w.outsider)
    assert [(r.leg, r.code) for r in batch.results] == [(Leg.SECURITY, CROSS_BORDER)] * 2
    assert [dvp.trade(t).status for t in (undecided, cleared)] == [TradeStatus.FAILED] * 2
    assert _status(desk, undecided_clearance) == CrossBorderStatus.EXPIRED
    assert _status(desk, cleared_clearance) == CrossBorderStatus.EXPIRED
    assert len(token.events(batch.receipt, "CrossBorderTransferExpired")) == 2
    assert token.escrowed_tokens(desk.seller) == 0
    assert desk.positions() == start


def test_cancelling_or_expiring_the_trade_releases_the_escrow(desk: CrossBorderDesk) -> None:
    w, dvp, token = desk.world, desk.dvp, desk.token
    token.approve(dvp.address, 3 * QUANTITY, sender=desk.seller)
    pending = desk.agreed()
    pending_clearance = dvp.request_clearance(pending, sender=desk.seller).clearance_id
    cancelled_cleared = desk.agreed()
    cancelled_cleared_clearance = desk.cleared(cancelled_cleared)
    expiring = desk.agreed(days=1)
    expiring_clearance = desk.cleared(expiring)
    assert token.escrowed_tokens(desk.seller) == 3 * QUANTITY
    start = desk.positions()

    receipt = dvp.cancel(pending, sender=desk.buyer)
    assert dvp.events(receipt, "ClearanceWithdrawn")[0].args["clearanceId"] == pending_clearance
    assert token.events(receipt, "CrossBorderClearanceWithdrawn")
    assert _status(desk, pending_clearance) == CrossBorderStatus.WITHDRAWN
    # A withdrawn clearance is closed for the regulators too.
    with pytest.raises(ContractReverted) as info:
        token.approve_cross_border_transfer(pending_clearance, sender=w.us_regulator)
    assert info.value.error_name == "CrossBorderTransferNotPending"
    dvp.cancel(cancelled_cleared, sender=desk.seller)
    assert _status(desk, cancelled_cleared_clearance) == CrossBorderStatus.WITHDRAWN
    assert token.escrowed_tokens(desk.seller) == QUANTITY

    # The trade's deadline (1 day) passes before the clearance's (2 days): expiry withdraws it.
    w.chain.time_travel(dvp.trade(expiring).deadline + 1)
    dvp.expire(expiring, sender=w.outsider)
    assert dvp.trade(expiring).status == TradeStatus.EXPIRED
    assert _status(desk, expiring_clearance) == CrossBorderStatus.WITHDRAWN
    assert token.escrowed_tokens(desk.seller) == 0
    assert desk.positions() == start
    # The freed units trade as usual: the seller can sell them within the UK.
    token.transfer(w.bob.wallets[1], 3 * QUANTITY, sender=desk.seller)


def test_batch_with_one_cleared_and_one_uncleared_cross_border_trade(desk: CrossBorderDesk) -> None:
    w, dvp, token = desk.world, desk.dvp, desk.token
    token.approve(dvp.address, 3 * QUANTITY, sender=desk.seller)
    cleared, uncleared, unrequested = desk.agreed(), desk.agreed(), desk.agreed()
    desk.cleared(cleared)
    uncleared_clearance = dvp.request_clearance(uncleared, sender=desk.seller).clearance_id
    token.approve_cross_border_transfer(uncleared_clearance, sender=w.us_regulator)  # one of two
    start = desk.positions()
    ids = [cleared, uncleared, unrequested]
    expected = [0, SettlementCode.AWAITING_CLEARANCE, CROSS_BORDER]
    assert list(dvp.preview_settle_batch(ids)) == expected
    batch = dvp.settle_batch(ids, sender=w.outsider)
    assert [r.code for r in batch.results] == expected
    assert batch.settled == (cleared,)
    (seller_start, buyer_start) = start
    assert desk.positions() == (
        (seller_start[0] - QUANTITY, seller_start[1] + PRICE),
        (buyer_start[0] + QUANTITY, buyer_start[1] - PRICE),
    )
    assert [dvp.trade(t).status for t in ids] == [TradeStatus.SETTLED, TradeStatus.AFFIRMED, TradeStatus.AFFIRMED]
    assert token.escrowed_tokens(desk.seller) == QUANTITY  # the uncleared trade's units, still held
    # Once the other regulator approves, the held trade settles in the next batch.
    token.approve_cross_border_transfer(uncleared_clearance, sender=w.uk_regulator)
    assert dvp.settle_batch([uncleared], sender=w.outsider).settled == (uncleared,)


def test_the_dvp_records_each_transfer_rule_by_the_error_the_token_raises() -> None:
    """Settling a clearance reports a refusal only by the token's custom error, so the DvP maps each
    rule's error to its code (`SettlementCodes.ofSecurityTokenError`): every transfer rule is there."""
    source = (Path(__file__).resolve().parents[2] / "contracts/src/settlement/SettlementCodes.sol").read_text()
    mapped = dict(re.findall(r"e == I\w+\.(\w+)\.selector\)\s*\{?\s*return TransferRules\.(\w+);", source))
    # Issuance rules (the token's, and those an offering registry enforces on its own sales) never
    # refuse a transfer.
    issuance_only = {i["name"] for i in load_artifact("OfferingRegistry").abi if i.get("type") == "error"}
    transfer_rules = {
        e: r.name for r in RULES for e in r.errors if not r.name.startswith("ISSUANCE") and e not in issuance_only
    }
    assert mapped == transfer_rules
