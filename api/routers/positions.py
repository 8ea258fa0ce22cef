"""Positions of a security, seen by its issuer and, within their scope, by regulators."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import MarketDep, RegulatorOrIssuerPrincipal, security_or_404
from api.principals import Role
from api.problems import Problem
from api.schemas import Position, Positions, SymbolPath
from sandbox.positions import holders_of
from sandbox.rules import InvestorCategory, Jurisdiction

router = APIRouter(prefix="/securities", tags=["positions"])


@router.get(
    "/{symbol}/positions",
    operation_id="positions-list",
    summary="Positions of a security",
    description=(
        "The issuer of the security sees every position. A regulator sees every position of a security whose "
        "home jurisdiction is its own, and otherwise the positions of investors of its jurisdiction."
    ),
)
def list_positions(symbol: SymbolPath, market: MarketDep, principal: RegulatorOrIssuerPrincipal) -> Positions:
    token = security_or_404(market, symbol)
    home = Jurisdiction(token.home_jurisdiction()).name
    if principal.role is Role.ISSUER and market.issuer_of.get(symbol) != principal.key:
        # Out of scope for a read: 404, so that nothing leaks about securities of other issuers.
        raise Problem(404, "SECURITY_NOT_FOUND", "Security not found", f"There is no security {symbol!r}.")
    block = market.chain.block_number()
    positions: list[Position] = []
    for wallet in holders_of(token, to_block=block):
        balance = token.balance_of(wallet, block=block)
        if balance == 0:
            continue
        record = market.registry.wallet_record(wallet)
        jurisdiction = Jurisdiction(record.jurisdiction).name if record.identity else None
        if principal.role is Role.REGULATOR and principal.jurisdiction not in (home, jurisdiction):
            continue
        positions.append(
            Position(
                wallet=wallet,
                investor=record.identity,
                jurisdiction=jurisdiction,
                category=InvestorCategory(record.category).name if record.identity else None,
                balance=balance,
                frozen=token.is_frozen(wallet),
            )
        )
    return Positions(
        security=symbol, block_number=block, total_supply=token.total_supply(block=block), positions=positions
    )
