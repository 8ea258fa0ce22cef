"""Investors: onboarding, updates, wallets, suspension, and their positions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query

from sandbox.chain.base import Receipt
from sandbox.contracts.registry import InvestorAttributes
from sandbox.market import InvalidInvestorAttributes, Market
from sandbox.readmodel import ReadView
from sandbox.readmodel.lists import ListedInvestor
from sandbox.rules import HolderType, InvestorCategory, InvestorStatus, Jurisdiction
from sandbox_gateway.asof import AsOf, resolve_as_of
from sandbox_gateway.deps import AnyPrincipal, IndexedDep, MarketDep, OnboardingPrincipal, RegulatorPrincipal
from sandbox_gateway.pagination import Paging, page_of
from sandbox_gateway.principals import Principal
from sandbox_gateway.problems import Problem
from sandbox_gateway.reads import event_lists
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import (
    IdentityPath,
    Investor,
    InvestorChange,
    InvestorCreate,
    InvestorPage,
    InvestorPositions,
    InvestorUpdate,
    JurisdictionCode,
    Position,
    WalletLink,
)
from sandbox_gateway.scope import (
    changes_investor,
    forbidden,
    home_of,
    not_found,
    sees_investor,
    sees_position,
    wallet_refusal,
)
from sandbox_gateway.txresult import tx_fields

router = APIRouter(route_class=GatewayRoute, prefix="/investors", tags=["investors"])


def load_investor(market: Market, identity: str) -> Investor | None:
    record = market.registry.investor(identity)
    if record.status is InvestorStatus.NONE:
        return None
    return Investor(
        identity=identity,
        jurisdiction=Jurisdiction(record.jurisdiction).name,
        category=record.category.name,
        status=record.status.name,
        kyc_valid_until=record.kyc_valid_until,
        wallets=list(market.registry.wallets_of(identity)),
        holder_type=record.attributes.holder_type.name,
        us_person=record.attributes.us_person,
        qib=record.attributes.qib,
        accredited_until=record.attributes.accredited_until,
    )


def _listed(investor: ListedInvestor) -> Investor:
    return Investor(
        identity=investor.identity,
        jurisdiction=Jurisdiction(investor.jurisdiction).name,
        category=investor.category.name,
        status=investor.status.name,
        kyc_valid_until=investor.kyc_valid_until,
        wallets=list(investor.wallets),
        holder_type=investor.holder_type.name,
        us_person=investor.us_person,
        qib=investor.qib,
        accredited_until=investor.accredited_until,
    )


def _visible_or_404(market: Market, principal: AnyPrincipal, identity: str) -> Investor:
    investor = load_investor(market, identity)
    if investor is None or not sees_investor(principal, identity, investor.jurisdiction):
        raise not_found("investor", identity)
    return investor


def _in_remit_or_403(market: Market, principal: Principal, identity: str) -> None:
    if not changes_investor(principal, market, identity):
        raise forbidden(
            "Only the agent who onboarded this investor (or the operator) may change it; the registry refuses "
            "other agents (RegistryOutsideAgentRemit)."
        )


def _invalid_attributes(reason: str) -> Problem:
    """The registry's refusal (`RegistryQibMustBeEntity`), told before any transaction is sent."""
    return Problem(422, "QIB_MUST_BE_ENTITY", "QIB must be an entity", f"Refused: {reason}. Nothing was changed.")


def _wallet_available_or_409(market: Market, wallet: str, identity: str) -> None:
    refusal = wallet_refusal(market, wallet, identity)
    if refusal is not None:
        raise refusal


@router.post(
    "",
    operation_id="investors-create",
    status_code=201,
    summary="Onboard an investor with a first wallet",
    description="You become the investor's onboarding agent: only you (and the operator) may update it or link "
    "its wallets (enforced on chain). Neither the identity nor the wallet may be another party's account.",
)
def create_investor(body: InvestorCreate, market: MarketDep, principal: OnboardingPrincipal) -> InvestorChange:
    identity = body.identity or body.wallet
    if market.registry.investor(identity).status is not InvestorStatus.NONE:
        raise Problem(
            409, "INVESTOR_ALREADY_REGISTERED", "Investor already registered", f"{identity} is already an investor."
        )
    for account in dict.fromkeys((identity, body.wallet)):
        _wallet_available_or_409(market, account, identity)
    jurisdiction, category = Jurisdiction[body.jurisdiction], InvestorCategory[body.category]
    attributes = None
    if body.gives_attributes:
        attributes = InvestorAttributes.default_for(jurisdiction, category, body.kyc_valid_until).overridden(
            holder_type=None if body.holder_type is None else HolderType[body.holder_type],
            us_person=body.us_person,
            qib=body.qib,
            accredited_until=body.accredited_until,
        )
        if attributes.refusal is not None:
            raise _invalid_attributes(attributes.refusal)
    receipt = market.registry.register_investor(
        identity,
        body.wallet,
        jurisdiction,
        category,
        body.kyc_valid_until,
        attributes=attributes,
        sender=principal.account,
    )
    investor = load_investor(market, identity)
    assert investor is not None
    return InvestorChange(investor=investor, **tx_fields(receipt))


@router.get(
    "",
    operation_id="investors-list",
    description=(
        "Any participant with a key, scoped: the operator sees every investor, a regulator those of its "
        "jurisdiction, an issuer those it onboarded, an investor itself."
    ),
    summary="Investors you may see",
)
def list_investors(
    live: IndexedDep,
    principal: AnyPrincipal,
    paging: Paging,
    jurisdiction: Annotated[JurisdictionCode | None, Query(description="Only investors of this jurisdiction.")] = None,
) -> InvestorPage:
    visible = []
    for listed in event_lists(live).investors():  # from indexed events: no chain read per investor
        investor = _listed(listed)
        if not sees_investor(principal, investor.identity, investor.jurisdiction):
            continue
        if jurisdiction is None or investor.jurisdiction == jurisdiction:
            visible.append(investor)
    items, page = page_of(visible, paging)
    return InvestorPage(items=items, page=page)


@router.get(
    "/{identity}",
    operation_id="investors-get",
    description=(
        "Any participant with a key, within the same scope as the list (operator: all; regulator: its jurisdiction;"
        " issuer: those it onboarded; investor: itself); otherwise 404."
    ),
    summary="One investor",
)
def get_investor(identity: IdentityPath, market: MarketDep, principal: AnyPrincipal) -> Investor:
    return _visible_or_404(market, principal, identity)


@router.patch(
    "/{identity}",
    operation_id="investors-update",
    summary="Update category, KYC expiry or attributes",
    description="The investor's onboarding agent and the operator only (enforced on chain). Attributes (holder "
    "type, US person, QIB, accreditation expiry) are independent of the jurisdiction; the chain refuses a natural "
    "person as QIB; the gateway tells it first (422 QIB_MUST_BE_ENTITY) and sends nothing.",
)
def update_investor(
    identity: IdentityPath, body: InvestorUpdate, market: MarketDep, principal: OnboardingPrincipal
) -> InvestorChange:
    _visible_or_404(market, principal, identity)
    _in_remit_or_403(market, principal, identity)
    try:
        receipt = market.update_investor(  # read-modify-write of the record under the investor's lock
            identity,
            category=None if body.category is None else InvestorCategory[body.category],
            kyc_valid_until=body.kyc_valid_until,
            holder_type=None if body.holder_type is None else HolderType[body.holder_type],
            us_person=body.us_person,
            qib=body.qib,
            accredited_until=body.accredited_until,
            sender=principal.account,
        )
    except InvalidInvestorAttributes as exc:
        raise _invalid_attributes(str(exc)) from None
    return InvestorChange(investor=_visible_or_404(market, principal, identity), **tx_fields(receipt))


@router.post(
    "/{identity}/wallets",
    operation_id="investors-add-wallet",
    status_code=201,
    summary="Link another wallet",
    description="The investor's onboarding agent and the operator only (enforced on chain). The wallet may not be "
    "another party's: not a regulator's, an issuer's or the operator's account, not another investor's, and not "
    "an account whose key the sandbox holds for someone else.",
)
def add_wallet(
    identity: IdentityPath, body: WalletLink, market: MarketDep, principal: OnboardingPrincipal
) -> InvestorChange:
    _visible_or_404(market, principal, identity)
    _in_remit_or_403(market, principal, identity)
    _wallet_available_or_409(market, body.wallet, identity)
    receipt = market.registry.add_wallet(identity, body.wallet, sender=principal.account)
    return InvestorChange(investor=_visible_or_404(market, principal, identity), **tx_fields(receipt))


@router.post(
    "/{identity}/suspension",
    operation_id="investors-suspend",
    summary="Suspend an investor",
    description="A regulator of the investor's jurisdiction only (enforced on chain). A suspended investor can "
    "neither send nor receive.",
)
def suspend(identity: IdentityPath, market: MarketDep, principal: RegulatorPrincipal) -> InvestorChange:
    return _change_suspension(
        market, identity, lambda: market.registry.suspend_investor(identity, sender=principal.account)
    )


@router.delete(
    "/{identity}/suspension",
    operation_id="investors-reinstate",
    description=(
        "A regulator of the investor's jurisdiction lifts the investor's suspension on the chain; other roles are"
        " refused (403), and the chain refuses a regulator of another jurisdiction."
    ),
    summary="Lift a suspension",
)
def reinstate(identity: IdentityPath, market: MarketDep, principal: RegulatorPrincipal) -> InvestorChange:
    return _change_suspension(
        market, identity, lambda: market.registry.reinstate_investor(identity, sender=principal.account)
    )


def _change_suspension(market: Market, identity: str, send: Callable[[], Receipt]) -> InvestorChange:
    """An unknown investor is 404 before anything is sent; the chain decides who may (un)suspend."""
    if load_investor(market, identity) is None:
        raise not_found("investor", identity)
    receipt = send()
    investor = load_investor(market, identity)
    assert investor is not None
    return InvestorChange(investor=investor, **tx_fields(receipt))


@router.get(
    "/{identity}/positions",
    operation_id="investors-positions",
    description=(
        "Any participant with a key, scoped as positions: the investor itself, the regulators of its jurisdiction "
        "or of the security's home, the issuer of the security, the operator."
    ),
    summary="An investor's positions",
)
def investor_positions(
    identity: IdentityPath,
    market: MarketDep,
    live: IndexedDep,
    principal: AnyPrincipal,
    paging: Paging,
    as_of: AsOf,
) -> InvestorPositions:
    investor = _visible_or_404(market, principal, identity)
    if as_of.block is None and as_of.at is None:
        # Now: as of the newest block the read model holds (at least the caller's own last write), not the
        # chain's head, which would make the read wait for everyone's writes.
        block = live.catch_up()
        stamp = market.chain.block_timestamp(block)
    else:
        block, stamp = resolve_as_of(market, as_of)
    out = _read_model_positions(market, live, principal, investor, block)
    items, page = page_of(out, paging)
    return InvestorPositions(investor=identity, block_number=block, block_timestamp=stamp, items=items, page=page)


def _read_model_positions(
    market: Market, live: ReadView, principal: Principal, investor: Investor, block: int
) -> list[Position]:
    """The investor's positions from the read model (caught up to `block` first), in the chain path's
    order: by security symbol, then in the order of the investor's wallets."""
    live.catch_up(block)
    symbol_of: dict[str, str] = {token.address: symbol for symbol, token in market.securities.items()}
    order = {wallet: i for i, wallet in enumerate(investor.wallets)}
    out: list[Position] = []
    for held in live.model.investor_positions(investor.identity, block=block):
        symbol = symbol_of.get(held.security)
        if symbol is None:
            continue
        home = home_of(market.securities[symbol])
        for position in sorted(held.wallets, key=lambda p: order.get(p.wallet, len(order))):
            if position.wallet not in order or not position.balance:
                continue
            if not sees_position(principal, market, symbol, home, investor.jurisdiction, position.wallet):
                continue
            out.append(
                Position(
                    security=symbol,
                    wallet=position.wallet,
                    investor=investor.identity,
                    jurisdiction=investor.jurisdiction,
                    category=investor.category,
                    balance=position.balance,
                    frozen=position.frozen,
                )
            )
    out.sort(key=lambda p: p.security)  # stable: wallets stay in order within a security
    return out
