"""Positions and cap tables of a security, now or as of a past block or time."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.asof import AsOf, frozen_at, resolve_as_of
from api.deps import MarketDep, ReaderPrincipal, security_or_404
from api.pagination import PageParams, Paging, page_of
from api.principals import Principal, Role
from api.problems import PROBLEM_RESPONSES
from api.schemas import CapTable, CapTableBucket, Position, Positions, SymbolPath
from api.scope import home_of, issues, not_found, sees_position
from sandbox.history import holders_of
from sandbox.market import Market
from sandbox.rules import InvestorCategory, Jurisdiction

router = APIRouter(prefix="/securities", tags=["positions"], responses=PROBLEM_RESPONSES)


def _positions(market: Market, principal: Principal, symbol: str, block: int) -> list[Position]:
    token = security_or_404(market, symbol)
    if principal.role is Role.ISSUER and not issues(principal, market, symbol):
        raise not_found("security", symbol)  # out of scope for a read: no existence leak
    home = home_of(token)
    out: list[Position] = []
    for wallet in holders_of(token, to_block=block):
        balance = token.balance_of(wallet, block=block)
        if balance == 0:
            continue
        record = market.registry.wallet_record(wallet)
        jurisdiction = Jurisdiction(record.jurisdiction).name if record.identity else None
        if not sees_position(principal, market, symbol, home, jurisdiction, wallet):
            continue
        out.append(
            Position(
                security=symbol,
                wallet=wallet,
                investor=record.identity,
                jurisdiction=jurisdiction,
                category=InvestorCategory(record.category).name if record.identity else None,
                balance=balance,
                frozen=frozen_at(token, wallet, block),
            )
        )
    return out


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
    symbol: SymbolPath, market: MarketDep, principal: ReaderPrincipal, paging: Paging, as_of: AsOf
) -> Positions:
    block, stamp = resolve_as_of(market, as_of)
    items, page = page_of(_positions(market, principal, symbol, block), paging)
    token = market.securities[symbol]
    return Positions(
        security=symbol,
        block_number=block,
        block_timestamp=stamp,
        total_supply=token.total_supply(block=block),
        items=items,
        page=page,
    )


def _cap_table(market: Market, principal: Principal, symbol: str, block: int, stamp: int) -> CapTable:
    positions = _positions(market, principal, symbol, block)
    buckets: dict[tuple[str | None, str | None], tuple[set[str], int]] = defaultdict(lambda: (set(), 0))
    by_jurisdiction: dict[str, int] = defaultdict(int)
    by_category: dict[str, int] = defaultdict(int)
    investors: set[str] = set()
    for p in positions:
        holders, balance = buckets[(p.jurisdiction, p.category)]
        holder = p.investor or p.wallet
        holders.add(holder)
        investors.add(holder)
        buckets[(p.jurisdiction, p.category)] = (holders, balance + p.balance)
        by_jurisdiction[p.jurisdiction or "UNREGISTERED"] += p.balance
        by_category[p.category or "UNREGISTERED"] += p.balance
    return CapTable(
        security=symbol,
        block_number=block,
        block_timestamp=stamp,
        total_supply=market.securities[symbol].total_supply(block=block),
        holders=len(investors),
        by_jurisdiction=dict(by_jurisdiction),
        by_category=dict(by_category),
        buckets=[
            CapTableBucket(jurisdiction=j, category=c, holders=len(h), balance=b)
            for (j, c), (h, b) in sorted(buckets.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or ""))
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
    principal: ReaderPrincipal,
    as_of: AsOf,
    format: Annotated[str, Query(pattern="^(json|csv)$", description="json (default) or csv.")] = "json",
) -> CapTable | Response:
    block, stamp = resolve_as_of(market, as_of)
    if format == "csv":
        every = PageParams(limit=2**31, offset=0)
        rows, _ = page_of(_positions(market, principal, symbol, block), every)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["security", "block", "wallet", "investor", "jurisdiction", "category", "balance", "frozen"])
        for p in rows:
            writer.writerow([symbol, block, p.wallet, p.investor, p.jurisdiction, p.category, p.balance, p.frozen])
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{symbol}-cap-table-{block}.csv"'},
        )
    return _cap_table(market, principal, symbol, block, stamp)
