"""Freezes of wallets in a security. The chain decides scope (`RegulatorOutOfScope`) and who may lift a
freeze (`FreezeImposedByRegulator`); the gateway authenticates and explains."""

from __future__ import annotations

from fastapi import APIRouter

from sandbox.contracts.security_token import SecurityToken
from sandbox.market import Market
from sandbox.readmodel.lists import FROZEN_BY_AGENT
from sandbox.rules import Jurisdiction
from sandbox_gateway.deps import IndexedDep, MarketDep, ReaderPrincipal, RegulatorOrIssuerPrincipal, security_or_404
from sandbox_gateway.pagination import Paging, page_of
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.reads import event_lists, owners_of_wallets
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import (
    Freeze,
    FreezeChange,
    FreezePage,
    FreezeRequest,
    FrozenAmount,
    PartialFreeze,
    SymbolPath,
    WalletPath,
)
from sandbox_gateway.scope import forbidden, home_of, issues, not_found, sees_position
from sandbox_gateway.txresult import tx_fields

router = APIRouter(route_class=GatewayRoute, prefix="/securities", tags=["freezes"])


def _freeze(symbol: str, wallet: str, by: int) -> Freeze:
    return Freeze(
        security=symbol,
        wallet=wallet,
        frozen=by != 0,
        frozen_by=None if by == 0 else ("issuer" if by == FROZEN_BY_AGENT else Jurisdiction(by).name),
    )


def _freeze_now(symbol: str, token: SecurityToken, wallet: str) -> Freeze:
    return _freeze(symbol, wallet, token.frozen_by(wallet))


def _actor_token(market: Market, principal: Principal, symbol: str) -> SecurityToken:
    token = security_or_404(market, symbol)
    if principal.role is Role.ISSUER and not issues(principal, market, symbol):
        raise forbidden(f"Only the issuer of {symbol} or a regulator in scope may freeze its wallets.")
    return token


@router.get(
    "/{symbol}/frozen-wallets",
    operation_id="freezes-list",
    description=(
        "Regulators, issuers and the operator: the wallets frozen on a security and who froze them, scoped as "
        "positions (an issuer sees its own securities only)."
    ),
    summary="Active freezes and who imposed them",
)
def list_freezes(
    symbol: SymbolPath, market: MarketDep, live: IndexedDep, principal: ReaderPrincipal, paging: Paging
) -> FreezePage:
    token = security_or_404(market, symbol)
    if principal.role is Role.ISSUER and not issues(principal, market, symbol):
        raise not_found("security", symbol)
    home = home_of(token)
    lists = event_lists(live)  # from indexed events: no chain read per wallet
    owners = owners_of_wallets(lists.investors())
    active = []
    for freeze in lists.active_freezes(token.address):
        owner = owners.get(freeze.wallet)
        holder = Jurisdiction(owner.jurisdiction).name if owner is not None else None
        if sees_position(principal, market, symbol, home, holder, freeze.wallet):
            active.append(_freeze(symbol, freeze.wallet, freeze.frozen_by))
    items, page = page_of(active, paging)
    return FreezePage(items=items, page=page)


@router.post(
    "/{symbol}/frozen-wallets",
    operation_id="freezes-create",
    status_code=201,
    summary="Freeze a wallet's holding of a security",
    description=(
        "A regulator may freeze wallets of investors of its own jurisdiction, and any wallet in a security whose "
        "home jurisdiction is its own; the issuer may freeze wallets of its own securities. Enforced on chain."
    ),
)
def freeze_wallet(
    symbol: SymbolPath, body: FreezeRequest, market: MarketDep, principal: RegulatorOrIssuerPrincipal
) -> FreezeChange:
    token = _actor_token(market, principal, symbol)
    receipt = token.set_address_frozen(body.wallet, True, sender=principal.account)
    return FreezeChange(**_freeze_now(symbol, token, body.wallet).model_dump(), **tx_fields(receipt))


@router.delete(
    "/{symbol}/frozen-wallets/{wallet}",
    operation_id="freezes-delete",
    summary="Lift a freeze",
    description="A regulator's freeze can only be lifted by a regulator of the same jurisdiction, never by the "
    "issuer. Enforced on chain.",
)
def unfreeze_wallet(
    symbol: SymbolPath, wallet: WalletPath, market: MarketDep, principal: RegulatorOrIssuerPrincipal
) -> FreezeChange:
    token = _actor_token(market, principal, symbol)
    receipt = token.set_address_frozen(wallet, False, sender=principal.account)
    return FreezeChange(**_freeze_now(symbol, token, wallet).model_dump(), **tx_fields(receipt))


@router.post(
    "/{symbol}/partial-freezes",
    operation_id="freezes-freeze-amount",
    summary="Freeze part of a wallet's holding",
    description="Same scope as wallet freezes; a regulator's frozen units cannot be moved by forced transfer.",
)
def freeze_amount(
    symbol: SymbolPath, body: PartialFreeze, market: MarketDep, principal: RegulatorOrIssuerPrincipal
) -> FrozenAmount:
    token = _actor_token(market, principal, symbol)
    receipt = token.freeze_partial_tokens(body.wallet, body.amount, sender=principal.account)
    frozen = token.get_frozen_tokens(body.wallet)
    return FrozenAmount(security=symbol, wallet=body.wallet, frozen_amount=frozen, **tx_fields(receipt))


@router.post(
    "/{symbol}/partial-freezes/release",
    operation_id="freezes-release-amount",
    summary="Release frozen units",
    description="A regulator's frozen units can only be released by a regulator of the same jurisdiction.",
)
def release_amount(
    symbol: SymbolPath, body: PartialFreeze, market: MarketDep, principal: RegulatorOrIssuerPrincipal
) -> FrozenAmount:
    token = _actor_token(market, principal, symbol)
    receipt = token.unfreeze_partial_tokens(body.wallet, body.amount, sender=principal.account)
    frozen = token.get_frozen_tokens(body.wallet)
    return FrozenAmount(security=symbol, wallet=body.wallet, frozen_amount=frozen, **tx_fields(receipt))
