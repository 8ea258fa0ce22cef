"""The audit trail: every regulatory and agent action on chain (from the read model), and every gateway
request that changed state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.audit import GatewayAuditLog
from api.deps import AuditorPrincipal, IndexedDep, MarketDep, security_or_404
from api.pagination import PageInfo, Paging, page_of
from api.problems import PROBLEM_RESPONSES
from api.schemas import (
    ADDRESS_PATTERN,
    SYMBOL_PATTERN,
    AddressQuery,
    ChainAction,
    ChainActionPage,
    GatewayRequest,
    GatewayRequestPage,
)

router = APIRouter(prefix="/audit", tags=["audit"], responses=PROBLEM_RESPONSES)


@router.get(
    "/requests",
    operation_id="audit-requests",
    summary="State-changing gateway requests (who, what, when, tx hash)",
    description="For the operator and regulators. Newest last.",
)
def list_requests(
    request: Request,
    principal: AuditorPrincipal,
    paging: Paging,
    actor: Annotated[str | None, Query(max_length=64, description="Only requests by this principal key.")] = None,
    path_prefix: Annotated[str | None, Query(max_length=200, description="Only paths starting with this.")] = None,
) -> GatewayRequestPage:
    log: GatewayAuditLog = request.app.state.audit_log
    records = [
        r
        for r in log.all()
        if (actor is None or r.principal == actor) and (path_prefix is None or r.path.startswith(path_prefix))
    ]
    items, page = page_of(records, paging)
    return GatewayRequestPage(items=[GatewayRequest.model_validate(r, from_attributes=True) for r in items], page=page)


@router.get(
    "/actions",
    operation_id="audit-actions",
    summary="Regulatory and agent actions on chain (who, what, when, tx hash)",
    description=(
        "For the operator and regulators. Every event of the registry and the securities that is not a plain "
        "transfer or approval: freezes, suspensions, onboarding, issuance approvals, mints, burns, forced "
        "transfers, role changes. Oldest first; filter by security, actor, target, event, block and time "
        "(inclusive bounds). Includes every action acknowledged before the request."
    ),
)
def list_actions(
    market: MarketDep,
    indexed: IndexedDep,
    principal: AuditorPrincipal,
    paging: Paging,
    security: Annotated[str | None, Query(pattern=SYMBOL_PATTERN, description="Only this security's.")] = None,
    actor: Annotated[
        str | None, Query(pattern=ADDRESS_PATTERN, description="Only sent by this address."), AddressQuery
    ] = None,
    target: Annotated[
        str | None, Query(pattern=ADDRESS_PATTERN, description="Only about this address."), AddressQuery
    ] = None,
    event: Annotated[
        str | None, Query(pattern=r"^[A-Za-z][A-Za-z0-9]{0,63}$", description="Only this event (ABI name).")
    ] = None,
    from_block: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    to_block: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    since: Annotated[int | None, Query(ge=0, le=2**40, description="Unix time.")] = None,
    until: Annotated[int | None, Query(ge=0, le=2**40, description="Unix time.")] = None,
) -> ChainActionPage:
    contract = security_or_404(market, security).address if security is not None else None
    indexed.catch_up()
    found = indexed.model.audit_trail(
        security=contract,
        actor=actor,
        target=target,
        events=[event] if event else None,
        from_block=from_block,
        to_block=to_block,
        since=since,
        until=until,
        offset=paging.offset,
        limit=paging.limit,
    )
    symbol_of: dict[str, str] = {token.address: symbol for symbol, token in market.securities.items()}
    items = [
        ChainAction(
            event=e.event,
            contract=e.contract,
            security=symbol_of.get(e.contract),
            actor=e.actor,
            target=e.target,
            tx_hash=e.tx_hash,
            block_number=e.block_number,
            log_index=e.log_index,
            timestamp=e.timestamp,
            arguments=dict(e.args),
        )
        for e in found.entries
    ]
    page = PageInfo(total=found.total, limit=found.limit, offset=found.offset, next_offset=found.next_offset)
    return ChainActionPage(items=items, page=page)
