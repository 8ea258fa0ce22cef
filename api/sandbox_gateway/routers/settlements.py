"""Delivery versus payment: investors agree a trade (one proposes, the other affirms), then it settles
atomically on chain with every rule of both tokens applied; a failure records the rule that said no."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from sandbox.contracts.cash_token import CASH_RULES_BY_CODE
from sandbox.contracts.settlement import DvPSettlement, SettlementCode, SettlementResult, Trade, TradeStatus
from sandbox.market import Market
from sandbox.rules import RULES_BY_CODE, Jurisdiction
from sandbox_gateway.deps import AnyPrincipal, InvestorPrincipal, MarketDep, OperatorPrincipal
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.problems import Problem, problem_doc
from sandbox_gateway.schemas import Address, CashAmount, TxResult, Units, UnixTime
from sandbox_gateway.scope import forbidden, home_of, issues, not_found, own_wallets
from sandbox_gateway.txresult import tx_fields

router = APIRouter(prefix="/settlements", tags=["settlements"])

ClearanceStatusName = Literal["PENDING", "CLEARED", "SETTLED", "REJECTED", "EXPIRED", "WITHDRAWN"]
TradeIdPath = Annotated[int, Path(ge=0, lt=2**63, description="Trade id.")]
DAY = 86_400


class TradeProposal(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "side": "sell",
                    "counterparty": "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
                    "security": "THAMES28",
                    "quantity": 10,
                    "cash": "GBPS",
                    "cash_amount": 100000,
                }
            ]
        },
    )
    side: Literal["sell", "buy"] = Field(description="Whether you sell or buy the security.")
    counterparty: Address = Field(description="The other party's wallet.")
    security: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,11}$")]
    quantity: Units
    cash: Annotated[str, Field(pattern=r"^[A-Z]{3,8}$")]
    cash_amount: CashAmount = Field(description="The whole consideration, in the cash token's minor units.")
    deadline: Annotated[UnixTime | None, Field(description="Unix time; default: in 2 days.")] = None


class TradeView(BaseModel):
    trade_id: int
    seller: str
    buyer: str
    security: str
    quantity: int
    cash: str
    cash_amount: int
    deadline: int
    status: str
    failed_leg: str
    failure_code: int
    failure_rule: str | None
    clearance_id: int | None = Field(
        description="The security's cross-border request clearing this trade with both regulators (null if none); "
        "it is listed in GET /cross-border-transfers with this trade's id."
    )
    clearance_status: ClearanceStatusName | None = Field(
        description="PENDING: awaiting the regulators; CLEARED: both approved, the trade may settle."
    )
    awaiting_clearance: bool = Field(
        description="Whether the trade is held until the regulators of both parties approve its clearance."
    )


class TradeChange(TxResult):
    trade: TradeView


class SettlementOutcome(BaseModel):
    trade_id: int
    settled: bool
    failed_leg: str
    code: int = Field(description="0 when settled; else the failing token's rule code or a DvP code.")
    rule: str | None
    message: str | None


class SettlementResponse(TxResult):
    outcome: SettlementOutcome
    trade: TradeView


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trade_ids: Annotated[list[Annotated[StrictInt, Field(ge=0, lt=2**63)]], Field(min_length=1, max_length=200)]


class BatchResponse(TxResult):
    outcomes: list[SettlementOutcome]


def _dvp(market: Market) -> DvPSettlement:
    if market.settlement is None:
        raise Problem(409, "SETTLEMENT_UNAVAILABLE", "No settlement contract", "This sandbox has no DvP contract.")
    return market.settlement


def _symbol_of(market: Market, address: str) -> str:
    return market.symbol_of(address) or address


def _view(market: Market, trade: Trade) -> TradeView:
    rule = RULES_BY_CODE.get(trade.failure_code) or CASH_RULES_BY_CODE.get(trade.failure_code)
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
    rule: str | None = None
    message: str | None = None
    if result.code:
        security = next((t for t in market.securities.values() if t.address == result.token), None)
        cash = next((t for t in market.cash.values() if t.address == result.token), None)
        if security is not None and result.code in RULES_BY_CODE:
            rule, message = RULES_BY_CODE[result.code].name, security.rule_message(result.code)
        elif cash is not None and result.code in CASH_RULES_BY_CODE:
            rule, message = CASH_RULES_BY_CODE[result.code].name, cash.rule_message(result.code)
        else:
            known = result.code in {c.value for c in SettlementCode}
            rule = SettlementCode(result.code).name if known else None
            message = _dvp(market).message_for_settlement_code(result.code)
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
    if trade.status is TradeStatus.NONE or not _sees_trade(market, principal, trade):
        raise not_found("trade", str(trade_id))
    return trade


def _sees_trade(market: Market, principal: Principal, trade: Trade) -> bool:
    if principal.role is Role.OPERATOR:
        return True
    if principal.role is Role.INVESTOR:
        return bool({trade.seller, trade.buyer} & set(own_wallets(principal, market)))
    symbol = _symbol_of(market, trade.security)
    if principal.role is Role.ISSUER:
        return issues(principal, market, symbol)
    token = market.securities.get(symbol)
    parties = {_jurisdiction_of(market, w) for w in (trade.seller, trade.buyer)}
    return principal.jurisdiction in parties or (token is not None and home_of(token) == principal.jurisdiction)


def _jurisdiction_of(market: Market, wallet: str) -> str | None:
    """The jurisdiction of a wallet's investor; None for a wallet not (or no longer) registered, or of a
    jurisdiction this gateway does not know (a trade proposed on chain directly may name any address)."""
    record = market.registry.wallet_record(wallet)
    if record.identity is None:
        return None
    try:
        return Jurisdiction(record.jurisdiction).name
    except ValueError:
        return None


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
