"""The audit trail: every regulatory and agent action on chain (from the read model), and every gateway
request that changed state; each within the caller's scope (`sandbox_gateway.scope.ActionScope`, `sees_request`),
the scope of positions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Request

from sandbox.readmodel import AuditEntry, AuditPage
from sandbox_gateway.audit import GatewayAuditLog
from sandbox_gateway.deps import AnyPrincipal, IndexedDep, MarketDep, ReaderPrincipal, security_or_404
from sandbox_gateway.pagination import PageInfo, Paging, page_of
from sandbox_gateway.principals import Role
from sandbox_gateway.problems import problem_doc
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import (
    ADDRESS_PATTERN,
    SYMBOL_PATTERN,
    AddressQuery,
    ChainAction,
    ChainActionPage,
    GatewayRequest,
    GatewayRequestPage,
)
from sandbox_gateway.scope import ActionScope, issues, not_found, sees_request

#: Rows read from the read model at a time when scoping row by row (its largest page).
_CHUNK = 1000

router = APIRouter(route_class=GatewayRoute, prefix="/audit", tags=["audit"])


@router.get(
    "/requests",
    operation_id="audit-requests",
    summary="State-changing gateway requests (who, what, when, tx hash)",
    description="Newest last. Every principal sees its own requests; the operator sees all; a regulator also "
    "those whose path names a security whose home is its jurisdiction or an investor of its jurisdiction.",
)
def list_requests(
    request: Request,
    market: MarketDep,
    principal: AnyPrincipal,
    paging: Paging,
    actor: Annotated[str | None, Query(max_length=64, description="Only requests by this principal key.")] = None,
    path_prefix: Annotated[str | None, Query(max_length=200, description="Only paths starting with this.")] = None,
) -> GatewayRequestPage:
    log: GatewayAuditLog = request.app.state.audit_log
    records = [
        r
        for r in log.all()
        if (actor is None or r.principal == actor)
        and (path_prefix is None or r.path.startswith(path_prefix))
        and sees_request(principal, market, r.principal, r.path)
    ]
    items, page = page_of(records, paging)
    return GatewayRequestPage(items=[GatewayRequest.model_validate(r, from_attributes=True) for r in items], page=page)


@router.get(
    "/actions",
    operation_id="audit-actions",
    summary="Regulatory and agent actions on chain (who, what, when, tx hash)",
    responses={404: problem_doc("No such security, or not one of yours (SECURITY_NOT_FOUND).")},
    description=(
        "Every event of the registry and the securities that is not a plain transfer or approval: freezes, "
        "suspensions, onboarding, issuance approvals, mints, burns, forced transfers, role changes. Oldest first; "
        "filter by security, actor, target, event, block and time (inclusive bounds). Includes every action "
        "acknowledged before the request. Scoped as positions: the operator sees every action; an issuer the "
        "actions on its securities and on the investors it onboarded; a regulator the actions on securities "
        "whose home is its jurisdiction, those naming a wallet of an investor of its jurisdiction, and the "
        "registry's actions on those investors. Investors have no access."
    ),
)
def list_actions(
    market: MarketDep,
    indexed: IndexedDep,
    principal: ReaderPrincipal,
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
    if security is not None and principal.role is Role.ISSUER and not issues(principal, market, security):
        raise not_found("security", security)  # as for its positions
    indexed.catch_up()

    def trail(offset: int, limit: int) -> AuditPage:
        return indexed.model.audit_trail(
            security=contract,
            actor=actor,
            target=target,
            events=[event] if event else None,
            from_block=from_block,
            to_block=to_block,
            since=since,
            until=until,
            offset=offset,
            limit=limit,
        )

    entries: Sequence[AuditEntry]
    if principal.role is Role.OPERATOR:
        found = trail(paging.offset, paging.limit)
        entries = found.entries
        page = PageInfo(total=found.total, limit=found.limit, offset=found.offset, next_offset=found.next_offset)
    else:
        # The scope is decided row by row (who a row names, and their jurisdictions): filter every matching
        # row, then cut the page.
        scope = ActionScope(principal, market)
        visible: list[AuditEntry] = []
        offset = 0
        while True:
            chunk = trail(offset, _CHUNK)
            visible.extend(e for e in chunk.entries if scope.sees(e.contract, e.target, e.args))
            if chunk.next_offset is None:
                break
            offset = chunk.next_offset
        entries, page = page_of(visible, paging)
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
        for e in entries
    ]
    return ChainActionPage(items=items, page=page)
