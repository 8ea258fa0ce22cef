"""Delivery versus payment: investors agree a trade (one proposes, the other affirms), then it settles
atomically on chain with every rule of both tokens applied; a failure records the rule that said no."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Path

from sandbox.contracts.settlement import DvPSettlement, SettlementResult, Trade, TradeStatus
from sandbox.market import Market
from sandbox.rules import RULEBOOK_BY_CODE
from sandbox_gateway.deps import AnyPrincipal, InvestorPrincipal, MarketDep, OperatorPrincipal
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.problems import Problem, problem_doc
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import (
    BatchRequest,
    BatchResponse,
    ClearanceStatusName,
    SettlementOutcome,
    SettlementResponse,
    TradeChange,
    TradeProposal,
    TradeView,
)
from sandbox_gateway.scope import forbidden, not_found, own_wallets, sees_trade
from sandbox_gateway.txresult import tx_fields

router = APIRouter(route_class=GatewayRoute, prefix="/settlements", tags=["settlements"])

TradeIdPath = Annotated[int, Path(ge=0, lt=2**63, description="Trade id.")]
DAY = 86_400


def _dvp(market: Market) -> DvPSettlement:
    if market.settlement is None:
        raise Problem(409, "SETTLEMENT_UNAVAILABLE", "No settlement contract", "This sandbox has no DvP contract.")
    return market.settlement


def _symbol_of(market: Market, address: str) -> str:
    return market.symbol_of(address) or address


def _view(market: Market, trade: Trade) -> TradeView:
    rule = RULEBOOK_BY_CODE.get(trade.failure_code)  # the one rules table names every family's codes
    clearance = _dvp(market).clearance_of(trade)
    return TradeView(
        trade_id=trade.trade_id,
        seller=trade.seller,
        buyer=trade.buyer,
        security=_symbol_of(market, trade.security),
        quantity=trade.quantity,
        cash=_symbol_of(market, trade.cash),
        cash_amount=trade.cash_amount,
        deadline=trade.deadline,
        status=trade.status.name,
        failed_leg=trade.failed_leg.name,
        failure_code=trade.failure_code,
        failure_rule=rule.name if rule else None,
        clearance_id=clearance.clearance_id if clearance else None,
        clearance_status=cast(ClearanceStatusName, clearance.status.name) if clearance else None,
        awaiting_clearance=bool(clearance and clearance.awaiting and trade.status is TradeStatus.AFFIRMED),
    )


def _outcome(market: Market, result: SettlementResult) -> SettlementOutcome:
    """The result, with the refusing rule named and explained by the contract that refused."""
    rule, message = market.explain_code(result.code, result.token) if result.code else (None, None)
    return SettlementOutcome(
        trade_id=result.trade_id,
        settled=result.settled,
        failed_leg=result.leg.name,
        code=result.code,
        rule=rule,
        message=message,
    )


def _trade_or_404(market: Market, principal: Principal, trade_id: int) -> Trade:
    trade = _dvp(market).trade(trade_id)
    if trade.status is TradeStatus.NONE or not sees_trade(principal, market, trade):
        raise not_found("trade", str(trade_id))
    return trade


@router.post(
    "",
    operation_id="settlements-propose",
    description=(
        "An investor proposes a delivery-versus-payment trade from its own wallet with a registered counterparty; "
        "nothing moves until the counterparty affirms and it settles."
    ),
    status_code=201,
    summary="Propose a trade",
    responses={404: problem_doc("No such security or cash token (SECURITY_NOT_FOUND, CASH_TOKEN_NOT_FOUND).")},
)
def propose(body: TradeProposal, market: MarketDep, principal: InvestorPrincipal) -> TradeChange:
    dvp = _dvp(market)
    security = market.securities.get(body.security)
    cash = market.cash.get(body.cash)
    if security is None or cash is None:
        raise not_found(
            "security" if security is None else "cash token", body.security if security is None else body.cash
        )
    wallets = own_wallets(principal, market)
    if not wallets:
        raise forbidden("You have no wallet to trade from.")
    me = wallets[0]
    seller, buyer = (me, body.counterparty) if body.side == "sell" else (body.counterparty, me)
    if market.registry.wallet_record(body.counterparty).identity is None:
        # Its leg could never settle: neither token lets an unregistered wallet hold or receive units.
        raise Problem(
            409,
            "COUNTERPARTY_NOT_REGISTERED",
            "Counterparty not registered",
            f"{body.counterparty} is not a registered investor's wallet: no trade with it could settle.",
        )
    deadline = body.deadline if body.deadline is not None else market.chain.timestamp() + 2 * DAY
    proposed = market.propose_trade(
        proposer=me,
        seller=seller,
        buyer=buyer,
        security=body.security,
        quantity=body.quantity,
        cash=body.cash,
        cash_amount=body.cash_amount,
        deadline=deadline,
    )
    return TradeChange(trade=_view(market, dvp.trade(proposed.trade_id)), **tx_fields(proposed.receipt))


@router.get(
    "/{trade_id}",
    operation_id="settlements-get",
    description=(
        "The trade's two parties (investors), the regulators of their jurisdictions or of the security's home, "
        "the security's issuer and the operator may read a trade; anyone else gets 404."
    ),
    summary="A trade and its status",
)
def get_trade(trade_id: TradeIdPath, market: MarketDep, principal: AnyPrincipal) -> TradeView:
    return _view(market, _trade_or_404(market, principal, trade_id))


@router.post(
    "/{trade_id}/affirm",
    operation_id="settlements-affirm",
    description=(
        "The counterparty of a proposed trade (an investor) affirms it, so that it can settle; anyone else is "
        "refused (403)."
    ),
    summary="Affirm a trade (the counterparty)",
)
def affirm(trade_id: TradeIdPath, market: MarketDep, principal: InvestorPrincipal) -> TradeChange:
    dvp = _dvp(market)
    trade = _trade_or_404(market, principal, trade_id)
    wallets = set(own_wallets(principal, market))
    # The affirming party is the one who did not propose.
    affirmer = trade.buyer if trade.proposed_by_seller else trade.seller
    if affirmer not in wallets:
        raise forbidden("Only the counterparty may affirm a trade.")
    receipt = market.affirm_trade(trade_id, sender=affirmer)
    return TradeChange(trade=_view(market, dvp.trade(trade_id)), **tx_fields(receipt))


@router.post(
    "/{trade_id}/cancel",
    operation_id="settlements-cancel",
    description=(
        "Either party of a trade (an investor) cancels it before it settles; the chain refuses a cancel after "
        "settlement."
    ),
    summary="Cancel a trade before it settles",
)
def cancel(trade_id: TradeIdPath, market: MarketDep, principal: InvestorPrincipal) -> TradeChange:
    dvp = _dvp(market)
    trade = _trade_or_404(market, principal, trade_id)
    party = next(w for w in own_wallets(principal, market) if w in (trade.seller, trade.buyer))
    receipt = dvp.cancel(trade_id, sender=party)
    return TradeChange(trade=_view(market, dvp.trade(trade_id)), **tx_fields(receipt))


@router.post(
    "/{trade_id}/clearance",
    operation_id="settlements-clearance",
    status_code=201,
    summary="Have a cross-border trade cleared by both regulators (a party)",
    description="For an affirmed trade that the security's cross-border rule holds back: the seller's units are "
    "escrowed and the regulators of both parties' jurisdictions approve or reject the clearance (it appears in their "
    "GET /cross-border-transfers list with this trade's id). Once both approve, settling the trade moves both legs; "
    "a rejection fails the trade with CROSS_BORDER_APPROVAL_REQUIRED.",
)
def request_clearance(trade_id: TradeIdPath, market: MarketDep, principal: InvestorPrincipal) -> TradeChange:
    dvp = _dvp(market)
    trade = _trade_or_404(market, principal, trade_id)
    party = next(w for w in own_wallets(principal, market) if w in (trade.seller, trade.buyer))
    requested = dvp.request_clearance(trade_id, sender=party)
    return TradeChange(trade=_view(market, dvp.trade(trade_id)), **tx_fields(requested.receipt))


@router.post(
    "/{trade_id}/settle",
    operation_id="settlements-settle",
    summary="Settle an affirmed trade",
    description="Both legs move in one transaction or nothing moves; a failure is recorded with the rule's code.",
)
def settle(trade_id: TradeIdPath, market: MarketDep, principal: AnyPrincipal) -> SettlementResponse:
    dvp = _dvp(market)
    trade = _trade_or_404(market, principal, trade_id)
    if principal.role is Role.INVESTOR:
        sender = next(w for w in own_wallets(principal, market) if w in (trade.seller, trade.buyer))
    elif principal.role is Role.OPERATOR:
        sender = principal.account
    else:
        raise forbidden("A trade is settled by one of its parties or the operator.")
    done = market.settle_trade(trade_id, sender=sender)
    return SettlementResponse(
        outcome=_outcome(market, done.result), trade=_view(market, dvp.trade(trade_id)), **tx_fields(done.receipt)
    )


@router.post(
    "/batch",
    operation_id="settlements-batch",
    description=(
        "The operator only: settles many affirmed trades in one transaction and reports each trade's outcome "
        "(settled, or refused and why)."
    ),
    summary="Settle many affirmed trades (operator)",
)
def settle_batch(body: BatchRequest, market: MarketDep, principal: OperatorPrincipal) -> BatchResponse:
    _dvp(market)
    done = market.settle_trades(body.trade_ids, sender=principal.account)
    return BatchResponse(outcomes=[_outcome(market, r) for r in done.results], **tx_fields(done.receipt))
