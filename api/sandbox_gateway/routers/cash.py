"""Cash tokens (GBP / USD settlement tokens): terms, balances, issuance against reserves, redemption."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from sandbox.contracts.cash_token import CashToken
from sandbox.market import Market
from sandbox.rules import InvestorStatus, Jurisdiction
from sandbox_gateway.deps import AnyPrincipal, IssuerPrincipal, MarketDep, RegulatorPrincipal
from sandbox_gateway.pagination import Paging, page_of
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import (
    CashBalance,
    CashChange,
    CashIssue,
    CashPage,
    CashRedeem,
    CashTokenInfo,
    HoldingLimitExemption,
    IdentityPath,
    ReserveAttestation,
    WalletPath,
)
from sandbox_gateway.scope import forbidden, not_found, sees_investor
from sandbox_gateway.txresult import tx_fields

router = APIRouter(route_class=GatewayRoute, prefix="/cash", tags=["cash"])

CashSymbolPath = Annotated[str, Path(pattern=r"^[A-Z]{3,8}$", description="Cash token symbol.", examples=["GBPS"])]


def _token(market: Market, symbol: str) -> CashToken:
    token = market.cash.get(symbol)
    if token is None:
        raise not_found("cash token", symbol)
    return token


def _info(market: Market, symbol: str) -> CashTokenInfo:
    token = market.cash[symbol]
    limits = token.holding_limits()
    return CashTokenInfo(
        symbol=symbol,
        name=token.name(),
        currency=Jurisdiction(token.home_jurisdiction()).name.replace("GB", "GBP").replace("US", "USD"),
        issuer=market.cash_issuer_of[symbol],
        address=token.address,
        decimals=token.decimals(),
        total_supply=token.total_supply(),
        reserves=token.reserves(),
        individual_limit=limits.individual,
        business_limit=limits.business,
    )


def _issuer_of(principal: Principal, market: Market, symbol: str) -> CashToken:
    token = _token(market, symbol)
    if market.cash_issuer_of.get(symbol) != principal.key:
        raise forbidden(f"Only the issuer of {symbol} may do this.")
    return token


@router.get(
    "",
    operation_id="cash-list",
    description=(
        "Any participant with a key: the GBP and USD settlement tokens with their issuers, supply and attested "
        "reserves."
    ),
    summary="Cash tokens",
)
def list_cash(market: MarketDep, principal: AnyPrincipal, paging: Paging) -> CashPage:
    items, page = page_of(sorted(market.cash), paging)
    return CashPage(items=[_info(market, s) for s in items], page=page)


@router.get(
    "/{symbol}",
    operation_id="cash-get",
    description=(
        "Any participant with a key: one cash token's terms, total supply and the reserves its issuer last attested."
    ),
    summary="A cash token's terms, supply and reserves",
)
def get_cash(symbol: CashSymbolPath, market: MarketDep, principal: AnyPrincipal) -> CashTokenInfo:
    _token(market, symbol)
    return _info(market, symbol)


@router.get(
    "/{symbol}/balances/{wallet}",
    operation_id="cash-balance",
    summary="A wallet's balance",
    description="Investors see their own wallets, regulators those of their jurisdiction's investors, the "
    "token's issuer and the operator every wallet.",
)
def balance(symbol: CashSymbolPath, wallet: WalletPath, market: MarketDep, principal: AnyPrincipal) -> CashBalance:
    token = _token(market, symbol)
    allowed = principal.role is Role.OPERATOR or market.cash_issuer_of.get(symbol) == principal.key
    if not allowed and principal.role in (Role.REGULATOR, Role.INVESTOR):
        record = market.registry.wallet_record(wallet)
        if record.identity is not None:
            jurisdiction = Jurisdiction(record.jurisdiction).name
            allowed = sees_investor(principal, record.identity, jurisdiction)
    if not allowed:
        raise not_found("wallet", wallet)
    return CashBalance(symbol=symbol, wallet=wallet, balance=token.balance_of(wallet), frozen=token.is_frozen(wallet))


@router.post(
    "/{symbol}/reserves",
    operation_id="cash-attest-reserves",
    description="The issuer of the cash token only: records on chain the reserves backing the token's supply.",
    summary="Attest reserves (issuer)",
)
def attest(
    symbol: CashSymbolPath, body: ReserveAttestation, market: MarketDep, principal: IssuerPrincipal
) -> CashChange:
    token = _issuer_of(principal, market, symbol)
    receipt = token.attest_reserves(body.reserves, sender=principal.account)
    return CashChange(symbol=symbol, total_supply=token.total_supply(), reserves=token.reserves(), **tx_fields(receipt))


@router.post(
    "/{symbol}/mint",
    operation_id="cash-mint",
    status_code=201,
    summary="Issue cash against reserves (issuer)",
    description="Refused on chain beyond attested reserves, to ineligible holders, or above holding limits.",
)
def mint(symbol: CashSymbolPath, body: CashIssue, market: MarketDep, principal: IssuerPrincipal) -> CashChange:
    token = _issuer_of(principal, market, symbol)
    receipt = token.mint(body.to, body.amount, sender=principal.account)
    return CashChange(symbol=symbol, total_supply=token.total_supply(), reserves=token.reserves(), **tx_fields(receipt))


@router.post(
    "/{symbol}/burn",
    operation_id="cash-burn",
    description=(
        "The issuer of the cash token only: redeems a holder's cash, burning the units on chain (the holder's "
        "balance must cover it)."
    ),
    summary="Redeem a holder's cash (issuer)",
)
def burn(symbol: CashSymbolPath, body: CashRedeem, market: MarketDep, principal: IssuerPrincipal) -> CashChange:
    token = _issuer_of(principal, market, symbol)
    receipt = token.burn(body.holder, body.amount, sender=principal.account)
    return CashChange(symbol=symbol, total_supply=token.total_supply(), reserves=token.reserves(), **tx_fields(receipt))


def _set_exemption(
    symbol: str, identity: str, exempt: bool, market: Market, principal: Principal
) -> HoldingLimitExemption:
    token = _token(market, symbol)
    home = Jurisdiction(token.home_jurisdiction()).name
    if principal.jurisdiction != home:
        raise forbidden(
            f"Only a regulator of {home}, the home of {symbol}, grants or withdraws exemptions from its holding "
            "limits (the chain refuses others: CashRegulatorOutOfScope)."
        )
    if market.registry.investor(identity).status is InvestorStatus.NONE:
        raise not_found("investor", identity)
    receipt = token.set_holding_limit_exemption(identity, exempt, sender=principal.account)
    limit = token.holding_limit_of(market.registry.wallets_of(identity)[0])
    return HoldingLimitExemption(
        symbol=symbol,
        investor=identity,
        exempt=token.is_holding_limit_exempt(identity),
        holder_type=limit.holder_type.name,
        limit=limit.limit,
        **tx_fields(receipt),
    )


@router.put(
    "/{symbol}/holding-limit-exemptions/{identity}",
    operation_id="cash-exempt",
    summary="Exempt an investor from the holding limits (home regulator)",
    description="A regulator of the cash token's home only (for GBP: the UK regulator, standing for the Bank of "
    "England, which may exempt businesses that need larger balances; enforced on chain). The limits no longer "
    "apply to the investor until the exemption is withdrawn.",
)
def exempt(
    symbol: CashSymbolPath, identity: IdentityPath, market: MarketDep, principal: RegulatorPrincipal
) -> HoldingLimitExemption:
    return _set_exemption(symbol, identity, True, market, principal)


@router.delete(
    "/{symbol}/holding-limit-exemptions/{identity}",
    operation_id="cash-unexempt",
    summary="Withdraw an exemption from the holding limits (home regulator)",
    description="A regulator of the cash token's home only (enforced on chain). Nothing is taken away: an "
    "investor above its limit only cannot receive more.",
)
def unexempt(
    symbol: CashSymbolPath, identity: IdentityPath, market: MarketDep, principal: RegulatorPrincipal
) -> HoldingLimitExemption:
    return _set_exemption(symbol, identity, False, market, principal)
