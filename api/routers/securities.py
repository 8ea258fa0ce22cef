"""Securities: list, terms, issuance (mint) and pause."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AnyPrincipal, IssuerPrincipal, MarketDep, RegulatorOrIssuerPrincipal, security_or_404
from api.pagination import Paging, page_of
from api.principals import Principal, Role
from api.schemas import MintRequest, MintResult, SecurityDetail, SecurityPage, SecuritySummary, SymbolPath, TxResult
from api.scope import forbidden, home_of, issues
from api.txresult import tx_fields
from sandbox.contracts.security_token import SecurityToken
from sandbox.market import Market
from sandbox.rules import Jurisdiction

router = APIRouter(prefix="/securities", tags=["securities"])


def _summary(market: Market, symbol: str) -> SecuritySummary:
    token = market.securities[symbol]
    return SecuritySummary(
        symbol=symbol,
        name=token.name(),
        issuer=market.issuer_of[symbol],
        home_jurisdiction=home_of(token),
        address=token.address,
    )


@router.get("", operation_id="securities-list", summary="List securities")
def list_securities(market: MarketDep, principal: AnyPrincipal, paging: Paging) -> SecurityPage:
    items, page = page_of(sorted(market.securities), paging)
    return SecurityPage(items=[_summary(market, s) for s in items], page=page)


@router.get("/{symbol}", operation_id="securities-get", summary="A security's terms and live rule parameters")
def get_security(symbol: SymbolPath, market: MarketDep, principal: AnyPrincipal) -> SecurityDetail:
    token = security_or_404(market, symbol)
    return SecurityDetail(
        **_summary(market, symbol).model_dump(),
        decimals=token.decimals(),
        total_supply=token.total_supply(),
        paused=token.paused(),
        admitted_jurisdictions=[j.name for j in Jurisdiction if token.is_jurisdiction_admitted(j)],
    )


@router.post(
    "/{symbol}/mint",
    operation_id="securities-mint",
    status_code=201,
    summary="Issue units to an investor",
    description="The issuer's agent mints; the receiver must pass the security's rules (enforced on chain).",
)
def mint(symbol: SymbolPath, body: MintRequest, market: MarketDep, principal: IssuerPrincipal) -> MintResult:
    token = security_or_404(market, symbol)
    if not issues(principal, market, symbol):
        raise forbidden(f"Only the issuer of {symbol} may issue it.")
    receipt = token.mint(body.to, body.amount, sender=principal.account)
    return MintResult(security=symbol, to=body.to, amount=body.amount, **tx_fields(receipt))


@router.post(
    "/{symbol}/pause",
    operation_id="securities-pause",
    summary="Pause transfers",
    description="The issuer, or a regulator of the security's home jurisdiction (enforced on chain).",
)
def pause(symbol: SymbolPath, market: MarketDep, principal: RegulatorOrIssuerPrincipal) -> TxResult:
    token = _pausable_by(principal, market, symbol)
    return TxResult(**tx_fields(token.pause(sender=principal.account)))


@router.post(
    "/{symbol}/unpause",
    operation_id="securities-unpause",
    summary="Resume transfers",
    description="The issuer, or a regulator of the security's home jurisdiction (enforced on chain).",
)
def unpause(symbol: SymbolPath, market: MarketDep, principal: RegulatorOrIssuerPrincipal) -> TxResult:
    token = _pausable_by(principal, market, symbol)
    return TxResult(**tx_fields(token.unpause(sender=principal.account)))


def _pausable_by(principal: Principal, market: Market, symbol: str) -> SecurityToken:
    token = security_or_404(market, symbol)
    if principal.role is Role.ISSUER and not issues(principal, market, symbol):
        raise forbidden(f"Only the issuer of {symbol} or its home regulator may pause it.")
    return token  # a regulator's scope (home jurisdiction) is enforced on chain
