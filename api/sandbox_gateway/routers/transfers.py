"""Transfers: a pre-check that sends nothing, and submission by an investor from its own wallet."""

from __future__ import annotations

from fastapi import APIRouter

from sandbox.rules import RULES_BY_CODE
from sandbox_gateway.deps import AnyPrincipal, InvestorPrincipal, MarketDep, security_or_404
from sandbox_gateway.principals import Role
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import Precheck, PrecheckRequest, SymbolPath, TransferRequest, TransferResult
from sandbox_gateway.scope import forbidden, holder_jurisdiction, home_of, issues, not_found, own_wallets, sees_position
from sandbox_gateway.txresult import tx_fields

router = APIRouter(route_class=GatewayRoute, prefix="/securities", tags=["transfers"])


@router.post(
    "/{symbol}/transfers/precheck",
    operation_id="transfers-precheck",
    summary="Would this transfer pass the rules now?",
    description="Runs the security's ERC-1404 pre-check on chain; sends nothing. The sending wallet must be a "
    "position you may see (as for positions): investors check transfers from their own wallets only (403); for "
    "others a wallet out of scope answers as one that does not exist (404), so the answer leaks no balance.",
)
def precheck(symbol: SymbolPath, body: PrecheckRequest, market: MarketDep, principal: AnyPrincipal) -> Precheck:
    token = security_or_404(market, symbol)
    if principal.role is Role.ISSUER and not issues(principal, market, symbol):
        raise not_found("security", symbol)  # as for its positions
    holder = holder_jurisdiction(market, body.from_)
    if not sees_position(principal, market, symbol, home_of(token), holder, body.from_):
        if principal.role is Role.INVESTOR:
            raise forbidden("Investors may only pre-check transfers from their own wallets.")
        raise not_found("wallet", body.from_)
    code = token.detect_transfer_restriction(body.from_, body.to, body.amount)
    rule = RULES_BY_CODE.get(code)
    return Precheck(
        allowed=code == 0,
        code=code,
        rule="SUCCESS" if code == 0 else (rule.name if rule else f"CODE_{code}"),
        message=token.rule_message(code),
    )


@router.post(
    "/{symbol}/transfers",
    operation_id="transfers-create",
    status_code=201,
    summary="Transfer units from one of your wallets",
    description="Every rule of the security applies on chain; a refusal is a 409 problem naming the rule.",
)
def transfer(
    symbol: SymbolPath, body: TransferRequest, market: MarketDep, principal: InvestorPrincipal
) -> TransferResult:
    token = security_or_404(market, symbol)
    # An investor's own account is its first wallet; only another wallet needs the registry's word.
    sender = body.from_ or principal.account
    if sender != principal.account and sender not in own_wallets(principal, market):
        raise forbidden("You may only transfer from your own wallets.")
    receipt = token.transfer(body.to, body.amount, sender=sender)
    return TransferResult(security=symbol, from_=sender, to=body.to, amount=body.amount, **tx_fields(receipt))
