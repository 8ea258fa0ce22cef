"""Securities: list, terms, issuance (mint) and pause."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from sandbox.contracts.security_token import SecurityToken
from sandbox.market import Market, SymbolTaken
from sandbox.rules import Jurisdiction
from sandbox_gateway.deps import (
    AnyPrincipal,
    IssuerPrincipal,
    MarketDep,
    RegulatorOrIssuerPrincipal,
    RegulatorPrincipal,
    security_or_404,
)
from sandbox_gateway.pagination import Paging, page_of
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.problems import Problem
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import (
    IssuanceApproval,
    MintRequest,
    MintResult,
    SecurityCreate,
    SecurityDetail,
    SecurityPage,
    SecuritySummary,
    SymbolPath,
    TxResult,
)
from sandbox_gateway.scope import forbidden, home_of, issues
from sandbox_gateway.txresult import tx_fields

router = APIRouter(route_class=GatewayRoute, prefix="/securities", tags=["securities"])


def _summary(market: Market, symbol: str) -> SecuritySummary:
    token = market.securities[symbol]
    return SecuritySummary(
        symbol=symbol,
        name=token.name(),
        issuer=market.issuer_of[symbol],
        home_jurisdiction=home_of(token),
        address=token.address,
    )


@router.get(
    "",
    operation_id="securities-list",
    description=(
        "Any participant with a key (operator, regulators, issuers, investors): every security of the sandbox with "
        "its issuer, home jurisdiction and kind, a page at a time."
    ),
    summary="List securities",
)
def list_securities(market: MarketDep, principal: AnyPrincipal, paging: Paging) -> SecurityPage:
    items, page = page_of(sorted(market.securities), paging)
    return SecurityPage(items=[_summary(market, s) for s in items], page=page)


@router.post(
    "",
    operation_id="securities-create",
    status_code=201,
    summary="Create a security with its rule parameters (issuer)",
    description="Nothing can be issued until the home regulator approves issuance.",
)
def create_security(body: SecurityCreate, market: MarketDep, principal: IssuerPrincipal) -> SecurityDetail:
    try:
        market.deploy_security(
            symbol=body.symbol,
            name=body.name,
            issuer_key=principal.key,
            issuer_account=principal.account,
            home=body.home,
            admitted=body.admitted,
            decimals=body.decimals,
            rules=body.rules,
        )
    except SymbolTaken:
        raise Problem(409, "SYMBOL_TAKEN", "Symbol taken", f"A token {body.symbol!r} already exists.") from None
    return get_security(body.symbol, market, principal)


@router.get(
    "/{symbol}",
    operation_id="securities-get",
    description=(
        "Any participant with a key: one security's terms, supply, pause state, admitted jurisdictions, issuance "
        "approval, live rule parameters and holder counts."
    ),
    summary="A security's terms and live rule parameters",
)
def get_security(symbol: SymbolPath, market: MarketDep, principal: AnyPrincipal) -> SecurityDetail:
    token = security_or_404(market, symbol)
    approval = token.issuance_approval()
    holders = token.holder_counts()
    return SecurityDetail(
        **_summary(market, symbol).model_dump(),
        decimals=token.decimals(),
        total_supply=token.total_supply(),
        paused=token.paused(),
        admitted_jurisdictions=[j.name for j in Jurisdiction if token.is_jurisdiction_admitted(j)],
        issuance_approved=approval.approved,
        issuance_limit=approval.limit,
        rules=asdict(token.terms()),
        holders={
            "total": holders.total,
            "GB": holders.uk,
            "US": holders.us,
            "NON_ACCREDITED": holders.non_accredited,
        },
    )


@router.post(
    "/{symbol}/issuance-approval",
    operation_id="securities-approve-issuance",
    summary="Approve issuance up to a limit (home regulator)",
    description="The DSS notary gate: nothing can be minted before the home regulator approves (enforced on chain).",
)
def approve_issuance(
    symbol: SymbolPath, body: IssuanceApproval, market: MarketDep, principal: RegulatorPrincipal
) -> TxResult:
    token = security_or_404(market, symbol)
    return TxResult(**tx_fields(token.approve_issuance(body.limit, sender=principal.account)))


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
