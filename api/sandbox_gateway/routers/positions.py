"""Positions and cap tables of a security, now or as of a past block or time."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from sandbox.contracts.security_token import SecurityToken
from sandbox.errors import ContractNotDeployed
from sandbox.market import Market
from sandbox.readmodel import Holding, ReadView
from sandbox_gateway.asof import AsOf, AsOfParams, resolve_as_of
from sandbox_gateway.deps import IndexedDep, MarketDep, ReaderPrincipal, security_or_404
from sandbox_gateway.pagination import PageInfo, PageParams, Paging
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import CapTable, CapTableBucket, Position, Positions, SymbolPath
from sandbox_gateway.scope import home_of, issues, not_found, sees_position

router = APIRouter(route_class=GatewayRoute, prefix="/securities", tags=["positions"])


@dataclass(frozen=True)
class _Register:
    """A security's positions within the caller's scope, as of one block."""

    block: int
    timestamp: int
    total_supply: int
    holdings: Sequence[Holding]


def _checked_token(market: Market, principal: Principal, symbol: str) -> SecurityToken:
    token = security_or_404(market, symbol)
    if principal.role is Role.ISSUER and not issues(principal, market, symbol):
        raise not_found("security", symbol)  # out of scope for a read: no existence leak
    return token


def _register(market: Market, live: ReadView, principal: Principal, symbol: str, as_of: AsOfParams) -> _Register:
    token = _checked_token(market, principal, symbol)
    home = home_of(token)
    if as_of.block is None and as_of.at is None:
        register = live.register(token.address)  # caught up to the chain's head: read-your-writes
        block, stamp = register.block, market.chain.block_timestamp(register.block)
    else:
        block, stamp = _as_of_deployed(market, token, as_of)
        register = live.register(token.address, block=block)
    visible = [h for h in register.holdings if sees_position(principal, market, symbol, home, h.jurisdiction, h.wallet)]
    return _Register(block, stamp, register.total, visible)


def _as_of_deployed(market: Market, token: SecurityToken, as_of: AsOfParams) -> tuple[int, int]:
    """The block and time `as_of` names, refused (404 NOT_DEPLOYED_AT_BLOCK) before the token existed."""
    block, stamp = resolve_as_of(market, as_of)
    if token.deployed_in_block is not None and block < token.deployed_in_block:
        raise ContractNotDeployed(token.address, block)
    return block, stamp


def _position(symbol: str, holding: Holding) -> Position:
    return Position.model_validate(
        {
            "security": symbol,
            "wallet": holding.wallet,
            "investor": holding.investor,
            "jurisdiction": holding.jurisdiction,
            "category": holding.category,
            "balance": holding.balance,
            "frozen": holding.frozen,
        }
    )


@router.get(
    "/{symbol}/positions",
    operation_id="positions-list",
    summary="Positions of a security",
    description=(
        "The issuer of the security sees every position. A regulator sees every position of a security whose "
        "home jurisdiction is its own, and otherwise the positions of investors of its jurisdiction. "
        "`block` or `at` answers as of a past block or Unix time."
    ),
)
def list_positions(
    symbol: SymbolPath,
    market: MarketDep,
    live: IndexedDep,
    principal: ReaderPrincipal,
    paging: Paging,
    as_of: AsOf,
) -> Positions:
    return _positions_page(market, live, principal, symbol, paging, as_of)


def _positions_page(
    market: Market, live: ReadView, principal: Principal, symbol: str, paging: PageParams, as_of: AsOfParams
) -> Positions:
    """A page of positions cut by the read model's database (scope as a jurisdiction filter), so that a
    page of a 10,000-holder register does not build the other 9,900 positions."""
    token, only = _in_scope_only(market, principal, symbol)
    block = None
    if as_of.block is not None or as_of.at is not None:
        block, _ = _as_of_deployed(market, token, as_of)
    page = live.register_page(token.address, block=block, jurisdiction=only, offset=paging.offset, limit=paging.limit)
    timestamp = page.timestamp if page.timestamp is not None else market.chain.block_timestamp(page.block)
    end = paging.offset + len(page.holdings)
    return Positions(
        security=symbol,
        block_number=page.block,
        block_timestamp=timestamp,
        total_supply=page.total,
        items=[_position(symbol, h) for h in page.holdings],
        page=PageInfo(
            total=page.count,
            limit=paging.limit,
            offset=paging.offset,
            next_offset=end if end < page.count else None,
        ),
    )


def _in_scope_only(market: Market, principal: Principal, symbol: str) -> tuple[SecurityToken, str | None]:
    """The security, and the jurisdiction whose investors alone the caller may see (None: everyone):
    operator, issuer of the security, home regulator see every position; a regulator of another
    jurisdiction those of its own investors (as `sees_position`)."""
    token = _checked_token(market, principal, symbol)
    if principal.role is Role.INVESTOR:  # these routes are for readers of whole registers (ReaderPrincipal)
        raise not_found("security", symbol)
    home = home_of(token)
    if principal.role is Role.REGULATOR and principal.jurisdiction != home:
        return token, principal.jurisdiction
    return token, None


def _cap_table_from(market: Market, live: ReadView, principal: Principal, symbol: str, as_of: AsOfParams) -> CapTable:
    """The cap table's figures aggregated by the read model's database (`holder_breakdown`)."""
    token, only = _in_scope_only(market, principal, symbol)
    block = None
    if as_of.block is not None or as_of.at is not None:
        block, _ = _as_of_deployed(market, token, as_of)
    breakdown = live.holder_breakdown(token.address, block=block, jurisdiction=only)
    by_jurisdiction: dict[str, int] = defaultdict(int)
    by_category: dict[str, int] = defaultdict(int)
    for group in breakdown.groups:
        by_jurisdiction[group.jurisdiction or "UNREGISTERED"] += group.balance
        by_category[group.category or "UNREGISTERED"] += group.balance
    return CapTable(
        security=symbol,
        block_number=breakdown.block,
        block_timestamp=(
            breakdown.timestamp if breakdown.timestamp is not None else market.chain.block_timestamp(breakdown.block)
        ),
        total_supply=breakdown.total,
        holders=sum(g.holders for g in breakdown.groups),
        by_jurisdiction=dict(by_jurisdiction),
        by_category=dict(by_category),
        buckets=[
            CapTableBucket(jurisdiction=g.jurisdiction, category=g.category, holders=g.holders, balance=g.balance)
            for g in breakdown.groups
        ],
    )


@router.get(
    "/{symbol}/cap-table",
    operation_id="positions-cap-table",
    summary="Cap table with breakdowns by jurisdiction and category",
    description="Within the caller's scope, as for positions. `format=csv` returns one row per position.",
    response_model=CapTable,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def cap_table(
    symbol: SymbolPath,
    market: MarketDep,
    live: IndexedDep,
    principal: ReaderPrincipal,
    as_of: AsOf,
    format: Annotated[str, Query(pattern="^(json|csv)$", description="json (default) or csv.")] = "json",
) -> CapTable | Response:
    if format == "json":
        return _cap_table_from(market, live, principal, symbol, as_of)
    register = _register(market, live, principal, symbol, as_of)  # the CSV lists every position in scope
    block = register.block
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["security", "block", "wallet", "investor", "jurisdiction", "category", "balance", "frozen"])
    for p in register.holdings:
        writer.writerow([symbol, block, p.wallet, p.investor, p.jurisdiction, p.category, p.balance, p.frozen])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{symbol}-cap-table-{block}.csv"'},
    )
