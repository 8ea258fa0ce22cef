"""Facade over `DvPSettlement`: delivery versus payment of a security token against a cash token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Self

from eth_utils import to_checksum_address

from sandbox.chain.base import Chain, Receipt
from sandbox.contracts.base import ContractFacade
from sandbox.contracts.event import ContractEvent
from sandbox.contracts.events import SettlementFailed, TradeProposed, TradeSettled
from sandbox.contracts.security_token import CrossBorderStatus, SecurityToken
from sandbox.errors import SandboxError


class TradeStatus(IntEnum):
    """Mirrors `IDvPSettlement.TradeStatus`. FAILED: the trade's cross-border clearance was refused
    or lapsed; it can never settle."""

    NONE = 0
    PROPOSED = 1
    AFFIRMED = 2
    SETTLED = 3
    CANCELLED = 4
    EXPIRED = 5
    FAILED = 6


class Leg(IntEnum):
    """Mirrors `IDvPSettlement.Leg`: which leg of a trade failed."""

    NONE = 0
    SECURITY = 1
    CASH = 2


class SettlementCode(IntEnum):
    """The DvP contract's own failure codes (0xA0-0xAF); other codes are the failing token's."""

    SUCCESS = 0
    SELLER_ALLOWANCE = 0xA1
    SELLER_BALANCE = 0xA2
    BUYER_ALLOWANCE = 0xA3
    BUYER_BALANCE = 0xA4
    NOT_DELIVERED = 0xA5
    NOT_AFFIRMED = 0xA8
    EXPIRED = 0xA9
    AWAITING_CLEARANCE = 0xAA
    LEG_REVERTED = 0xAF


@dataclass(frozen=True)
class Trade:
    """A trade as stored; `cash_amount` is the whole consideration in the cash token's minor units.
    `failed_leg` / `failure_code` record the last failed settlement attempt (0 if none)."""

    trade_id: int
    seller: str
    buyer: str
    security: str
    quantity: int
    cash: str
    cash_amount: int
    deadline: int
    status: TradeStatus
    proposed_by_seller: bool
    failed_leg: Leg
    failure_code: int
    #: The security token's cross-border request opened for this trade by `request_clearance` (0 if none).
    clearance_id: int = 0


@dataclass(frozen=True)
class Clearance:
    """A trade's cross-border clearance as the security token holds it: the regulators of both
    parties' jurisdictions decide it; CLEARED means the trade may settle (until `deadline`)."""

    trade_id: int
    clearance_id: int
    status: CrossBorderStatus
    deadline: int
    seller_regulator_approved: bool
    buyer_regulator_approved: bool

    @property
    def awaiting(self) -> bool:
        """Whether the regulators have yet to decide (both approvals are not in)."""
        return self.status is CrossBorderStatus.PENDING


@dataclass(frozen=True)
class RequestedClearance:
    trade_id: int
    clearance_id: int
    receipt: Receipt


@dataclass(frozen=True)
class ProposedTrade:
    trade_id: int
    receipt: Receipt


@dataclass(frozen=True)
class SettlementResult:
    """The outcome of one trade's settlement attempt: `code` 0 when settled, else the failing token's
    ERC-1404 code or a `SettlementCode`; `token` is the failing leg's token (None if no leg failed)."""

    trade_id: int
    settled: bool
    leg: Leg
    token: str | None
    code: int


@dataclass(frozen=True)
class BatchResult:
    results: tuple[SettlementResult, ...]
    receipt: Receipt

    @property
    def settled(self) -> tuple[int, ...]:
        return tuple(r.trade_id for r in self.results if r.settled)

    @property
    def failed(self) -> tuple[SettlementResult, ...]:
        return tuple(r for r in self.results if not r.settled)


@dataclass(frozen=True)
class SingleSettlement:
    result: SettlementResult
    receipt: Receipt


_ZERO = "0x0000000000000000000000000000000000000000"


def _result_of(event: TradeSettled | SettlementFailed) -> SettlementResult:
    if isinstance(event, TradeSettled):
        return SettlementResult(event.trade_id, True, Leg.NONE, None, 0)
    token = None if event.token == _ZERO else event.token
    return SettlementResult(event.trade_id, False, Leg(event.leg), token, event.code)


def _outcomes(events: Sequence[ContractEvent]) -> list[TradeSettled | SettlementFailed]:
    return [e for e in events if isinstance(e, (TradeSettled, SettlementFailed))]


class DvPSettlement(ContractFacade):
    artifact_name = "DvPSettlement"

    @classmethod
    def deploy(cls, chain: Chain, *, sender: str) -> Self:
        return cls.deploy_contract(chain, [], sender=sender)

    # views
    def trade(self, trade_id: int) -> Trade:
        (seller, deadline, status, leg, code, by_seller, has_clearance, buyer, security, cash, quantity, amount) = (
            self._read("trade", trade_id)
        )
        return Trade(
            trade_id=trade_id,
            seller=to_checksum_address(seller),
            buyer=to_checksum_address(buyer),
            security=to_checksum_address(security),
            quantity=int(quantity),
            cash=to_checksum_address(cash),
            cash_amount=int(amount),
            deadline=int(deadline),
            status=TradeStatus(status),
            proposed_by_seller=bool(by_seller),
            failed_leg=Leg(leg),
            failure_code=int(code),
            clearance_id=self.clearance_of_trade(trade_id) if has_clearance else 0,
        )

    def clearance_of_trade(self, trade_id: int) -> int:
        """The id of trade `trade_id`'s cross-border clearance on its security token (0 if none)."""
        return int(self._read("clearanceOf", trade_id))

    def clearance(self, trade_id: int) -> Clearance | None:
        """The trade's cross-border clearance, read from its security token (None if it has none)."""
        return self.clearance_of(self.trade(trade_id))

    def clearance_of(self, trade: Trade) -> Clearance | None:
        """`trade`'s cross-border clearance as its security token holds it now (None if it has none)."""
        if trade.clearance_id == 0:
            return None
        state = SecurityToken(self.chain, trade.security).cross_border_transfer(trade.clearance_id)
        return Clearance(
            trade_id=trade.trade_id,
            clearance_id=trade.clearance_id,
            status=CrossBorderStatus(state.status),
            deadline=state.deadline,
            seller_regulator_approved=state.from_approved,
            buyer_regulator_approved=state.to_approved,
        )

    def trade_count(self) -> int:
        return int(self._read("tradeCount"))

    def max_batch(self) -> int:
        return int(self._read("MAX_BATCH"))

    def message_for_settlement_code(self, code: int) -> str:
        return str(self._read("messageForSettlementCode", code))

    # agreeing a trade
    def propose(
        self,
        *,
        seller: str,
        buyer: str,
        security: str,
        quantity: int,
        cash: str,
        cash_amount: int,
        deadline: int,
        sender: str | None = None,
    ) -> ProposedTrade:
        """Proposes a trade (the sender must be the seller or the buyer) and returns its id."""
        receipt = self._send("propose", seller, buyer, security, quantity, cash, cash_amount, deadline, sender=sender)
        (event,) = self.events(receipt, TradeProposed)
        return ProposedTrade(event.trade_id, receipt)

    def affirm(self, trade_id: int, *, sender: str | None = None) -> Receipt:
        return self._send("affirm", trade_id, sender=sender)

    def cancel(self, trade_id: int, *, sender: str | None = None) -> Receipt:
        return self._send("cancel", trade_id, sender=sender)

    def expire(self, trade_id: int, *, sender: str | None = None) -> Receipt:
        return self._send("expire", trade_id, sender=sender)

    # cross-border clearance
    def request_clearance(self, trade_id: int, *, sender: str | None = None) -> RequestedClearance:
        """Asks the security token to have an affirmed cross-border trade cleared by both regulators
        (the sender must be a party); the seller's units are escrowed until they decide."""
        receipt = self._send("requestClearance", trade_id, sender=sender)
        (event,) = self.events(receipt, "ClearanceRequested")
        return RequestedClearance(trade_id, int(event.args["clearanceId"]), receipt)

    # settlement
    def preview_settle(self, trade_id: int) -> int:
        """Dry run of `settle` (an eth_call, nothing is sent): 0 if it would settle now, else the code it
        would record. Raises `ContractReverted` when the trade is not Affirmed."""
        _settled, code = self._read("settle", trade_id)
        return int(code)

    def preview_settle_batch(self, trade_ids: Sequence[int]) -> tuple[int, ...]:
        """Dry run of `settleBatch`: the contract's return value, one code per trade (0 = would settle)."""
        return tuple(int(c) for c in self._read("settleBatch", list(trade_ids)))

    def execute_legs(self, trade_id: int, *, sender: str | None = None) -> Receipt:
        """The contract's internal step, exposed for completeness: it reverts `DvPOnlySelf` unless the
        contract calls itself (from `settle`); use `settle`."""
        return self._send("executeLegs", trade_id, sender=sender)

    def settle(self, trade_id: int, *, sender: str | None = None, gas: int | None = None) -> SingleSettlement:
        """Settles an affirmed trade. A failing leg does not raise: the result says why (and the
        trade records it); an invalid state raises `ContractReverted`."""
        receipt = self._send("settle", trade_id, sender=sender, gas=gas)
        outcomes = _outcomes(self.events(receipt))
        if len(outcomes) != 1:
            raise SandboxError(f"settle({trade_id}) emitted {len(outcomes)} outcome events")
        return SingleSettlement(_result_of(outcomes[0]), receipt)

    def settle_batch(
        self, trade_ids: Sequence[int], *, sender: str | None = None, gas: int | None = None
    ) -> BatchResult:
        """Settles many trades in one transaction, each atomic on its own; one result per id, in order."""
        receipt = self._send("settleBatch", list(trade_ids), sender=sender, gas=gas)
        outcomes = _outcomes(self.events(receipt))
        if len(outcomes) != len(trade_ids):
            raise SandboxError(f"settleBatch of {len(trade_ids)} trades emitted {len(outcomes)} outcomes")
        results = tuple(_result_of(e) for e in outcomes)
        for trade_id, result in zip(trade_ids, results, strict=True):
            if result.trade_id != trade_id:
                raise SandboxError(f"batch outcome for trade {result.trade_id} where {trade_id} was expected")
        return BatchResult(results, receipt)
