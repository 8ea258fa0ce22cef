"""The audit trail of the gateway: every request that changed state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.audit import GatewayAuditLog
from api.deps import AuditorPrincipal
from api.pagination import Paging, page_of
from api.problems import PROBLEM_RESPONSES
from api.schemas import GatewayRequest, GatewayRequestPage

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
