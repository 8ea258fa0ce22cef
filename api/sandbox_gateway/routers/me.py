"""Who am I: the principal an API key (or a console session) stands for."""

from __future__ import annotations

from fastapi import APIRouter

from sandbox_gateway.deps import AnyPrincipal
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import Me

router = APIRouter(route_class=GatewayRoute, tags=["me"])


@router.get(
    "/me",
    operation_id="me-get",
    summary="Who am I (name, role, jurisdiction, account)",
    description="Any principal with a key: the principal the key authenticates, as the gateway scopes it.",
)
async def me(principal: AnyPrincipal) -> Me:
    return Me(
        key=principal.key,
        name=principal.name,
        role=principal.role.value,
        jurisdiction=principal.jurisdiction,
        account=principal.account,
    )
