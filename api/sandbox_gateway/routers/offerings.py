"""Offerings of a security: the exemption each sale relies on, its dates, its purchaser ledger and the
Reg S period it starts; issuance happens in one (the issuer opens and issues; regulators read). The
rules are enforced on chain by the security's `OfferingRegistry`: a refused issuance is answered from
its pre-check, before anything is sent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from sandbox.contracts.offerings import Exemption, Offering, OfferingRegistry, OfferingTerms
from sandbox.market import Market
from sandbox.rules import RULES_BY_CODE
from sandbox_gateway.deps import IssuerPrincipal, MarketDep, RegulatorOrIssuerPrincipal, security_or_404
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.problems import Problem
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import (
    MintRequest,
    OfferingCreate,
    OfferingDetail,
    OfferingIssueResult,
    OfferingList,
    SymbolPath,
)
from sandbox_gateway.scope import forbidden, issues
from sandbox_gateway.txresult import tx_fields

router = APIRouter(route_class=GatewayRoute, prefix="/securities", tags=["offerings"])

OfferingIdPath = Annotated[int, Path(ge=1, le=2**32 - 1, description="The offering's id (1, 2, ...).")]

_ZERO = "0x" + "00" * 20


def _detail(symbol: str, offerings: OfferingRegistry, o: Offering) -> OfferingDetail:
    return OfferingDetail(
        security=symbol,
        offering_id=o.offering_id,
        exemption=o.exemption.name,
        equity=o.equity,
        restricted=o.restricted,
        first_offer_at=o.first_offer_at,
        closing_at=o.closing_at,
        period_ends_at=o.period_ends_at,
        purchasers=o.purchasers,
        non_accredited_purchasers=o.non_accredited_purchasers,
        non_accredited_purchasers_counted=offerings.non_accredited_purchasers_counted(o.offering_id),
        issued=o.issued,
    )


def _readable(principal: Principal, market: Market, symbol: str) -> None:
    if principal.role is Role.ISSUER and not issues(principal, market, symbol):
        raise forbidden(f"Only the issuer of {symbol} and regulators read its offerings.")


def _registry_or_404(market: Market, symbol: str) -> OfferingRegistry:
    offerings = market.offerings(symbol)
    if offerings is None:
        raise Problem(404, "NO_OFFERINGS", "No offerings", f"{symbol} has no offerings.")
    return offerings


@router.get(
    "/{symbol}/offerings",
    operation_id="offerings-list",
    summary="A security's offerings (issuer, regulators)",
    description=(
        "The issuer of the security and any regulator: each offering's exemption, dates, Reg S period and "
        "purchaser ledger, as the chain keeps them."
    ),
)
def list_offerings(symbol: SymbolPath, market: MarketDep, principal: RegulatorOrIssuerPrincipal) -> OfferingList:
    security_or_404(market, symbol)
    _readable(principal, market, symbol)
    offerings = market.offerings(symbol)
    if offerings is None:
        return OfferingList(security=symbol, offering_registry=None, reporting_since=0, items=[])
    return OfferingList(
        security=symbol,
        offering_registry=offerings.address,
        reporting_since=offerings.reporting_since(),
        items=[_detail(symbol, offerings, o) for o in offerings.offerings()],
    )


@router.post(
    "/{symbol}/offerings",
    operation_id="offerings-create",
    status_code=201,
    summary="Open an offering (issuer)",
    description=(
        "The security's issuer opens an offering under an exemption, with its first offer and closing; the first "
        "one attaches the security's offering registry, which the chain allows only before anything is issued."
    ),
)
def create_offering(
    symbol: SymbolPath, body: OfferingCreate, market: MarketDep, principal: IssuerPrincipal
) -> OfferingDetail:
    token = security_or_404(market, symbol)
    if not issues(principal, market, symbol):
        raise forbidden(f"Only the issuer of {symbol} may open its offerings.")
    if body.first_offer_at > body.closing_at:
        raise Problem(422, "OFFERING_DATES_REVERSED", "Invalid offering", "The first offer comes after the closing.")
    if market.offerings(symbol) is None and token.total_supply() != 0:
        # The chain refuses it too (OfferingRegistryNotAllowed); answered here so nothing is sent.
        raise Problem(
            409,
            "OFFERINGS_AFTER_ISSUANCE",
            "Offerings must come first",
            f"{symbol} has been issued without offerings; its offering registry can only be attached before "
            "anything is issued.",
        )
    terms = OfferingTerms(Exemption[body.exemption], body.first_offer_at, body.closing_at, body.equity)
    offerings, offering_id = market.open_offering(symbol, terms, sender=principal.account)
    return _detail(symbol, offerings, offerings.offering(offering_id))


@router.post(
    "/{symbol}/offerings/{offering_id}/issue",
    operation_id="offerings-issue",
    status_code=201,
    summary="Issue units in an offering (issuer)",
    description=(
        "The security's issuer sells units in one of its offerings: the offering's rules (open, who may buy, the "
        "Rule 506(b) purchaser ledger, Reg S) and then the security's rulebook apply, on chain."
    ),
)
def issue_in_offering(
    symbol: SymbolPath,
    offering_id: OfferingIdPath,
    body: MintRequest,
    market: MarketDep,
    principal: IssuerPrincipal,
) -> OfferingIssueResult:
    token = security_or_404(market, symbol)
    if not issues(principal, market, symbol):
        raise forbidden(f"Only the issuer of {symbol} may issue it.")
    offerings = _registry_or_404(market, symbol)
    if offering_id > offerings.offering_count():
        raise Problem(404, "OFFERING_NOT_FOUND", "Offering not found", f"{symbol} has no offering {offering_id}.")
    # Refuse before sending anything: the offering's pre-check, then the security's own (a mint).
    code = offerings.detect_issuance_restriction(offering_id, body.to, body.amount)
    if code == 0:
        code = token.detect_transfer_restriction(_ZERO, body.to, body.amount)
    if code != 0:
        rule = RULES_BY_CODE.get(code)
        name = rule.name if rule else f"RULE_{code:#04x}"
        raise Problem(409, name, "Refused by the rulebook", token.rule_message(code), rule_code=code)
    receipt = offerings.issue(offering_id, body.to, body.amount, sender=principal.account)
    return OfferingIssueResult(
        security=symbol, to=body.to, amount=body.amount, offering_id=offering_id, **tx_fields(receipt)
    )
