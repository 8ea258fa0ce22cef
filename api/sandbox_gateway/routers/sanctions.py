"""Sanctions lists kept on chain: OFSI's (kept by the UK regulators) and OFAC's (kept by the US ones). A
designated investor or wallet can neither send nor receive any security or cash token (the registry
enforces it); the gateway authenticates, scopes to the list's regulators and explains. Every
designation and removal is an action of the audit trail (`/audit/actions`)."""

from __future__ import annotations

from fastapi import APIRouter

from sandbox.market import Market
from sandbox.rules import InvestorStatus, SanctionsRegime
from sandbox_gateway.deps import AnyPrincipal, MarketDep, RegulatorPrincipal
from sandbox_gateway.pagination import Paging, page_of
from sandbox_gateway.principals import Principal
from sandbox_gateway.problems import Problem
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import (
    Designation,
    DesignationChange,
    DesignationRequest,
    SanctionsList,
    SanctionsRegimeName,
    WalletPath,
)
from sandbox_gateway.scope import forbidden
from sandbox_gateway.txresult import tx_fields

router = APIRouter(route_class=GatewayRoute, prefix="/sanctions", tags=["sanctions"])


def _keeper_or_403(principal: Principal, regime: SanctionsRegime) -> None:
    keeper = regime.jurisdiction.name
    if principal.jurisdiction != keeper:
        raise forbidden(
            f"The {regime.name} list is kept by the regulators of {keeper} only (the registry refuses others: "
            "RegulatorOutOfScope)."
        )


def _investor_of(market: Market, party: str) -> str | None:
    if market.registry.investor(party).status is not InvestorStatus.NONE:
        return party
    return market.registry.wallet_record(party).identity


@router.get(
    "/{regime}",
    operation_id="sanctions-list",
    summary="A sanctions list: the designated investors and wallets",
    description="Any participant with a key: sanctions lists are public. Read from the chain, sorted by address.",
)
def list_designations(
    regime: SanctionsRegimeName, market: MarketDep, principal: AnyPrincipal, paging: Paging
) -> SanctionsList:
    which = SanctionsRegime[regime]
    parties = [
        Designation(party=p, investor=_investor_of(market, p)) for p in market.registry.designated_parties(which)
    ]
    items, page = page_of(parties, paging)
    return SanctionsList(regime=regime, kept_by=which.jurisdiction.name, items=items, page=page)


@router.post(
    "/{regime}/designations",
    operation_id="sanctions-designate",
    status_code=201,
    summary="Designate an investor or wallet (the list's regulators)",
    description="A regulator of the list's jurisdiction only (OFSI: GB; OFAC: US; enforced on chain). The party "
    "(an investor's identity, covering all its wallets, or a single wallet) can no longer send or receive.",
)
def designate(
    regime: SanctionsRegimeName, body: DesignationRequest, market: MarketDep, principal: RegulatorPrincipal
) -> DesignationChange:
    which = SanctionsRegime[regime]
    _keeper_or_403(principal, which)
    if which in market.registry.designations_of(body.party):
        raise Problem(409, "ALREADY_DESIGNATED", "Already designated", f"{body.party} is already on the {regime} list.")
    receipt = market.registry.designate(which, body.party, sender=principal.account)
    return DesignationChange(regime=regime, party=body.party, designated=True, **tx_fields(receipt))


@router.delete(
    "/{regime}/designations/{party}",
    operation_id="sanctions-remove",
    summary="Remove a designation (the list's regulators)",
    description="A regulator of the list's jurisdiction only (enforced on chain). The party stays barred while "
    "another list designates it or its investor.",
)
def remove(
    regime: SanctionsRegimeName, party: WalletPath, market: MarketDep, principal: RegulatorPrincipal
) -> DesignationChange:
    which = SanctionsRegime[regime]
    _keeper_or_403(principal, which)
    if which not in market.registry.designations_of(party):
        raise Problem(404, "NOT_DESIGNATED", "Not designated", f"{party} is not on the {regime} list.")
    receipt = market.registry.remove_designation(which, party, sender=principal.account)
    return DesignationChange(regime=regime, party=party, designated=False, **tx_fields(receipt))
