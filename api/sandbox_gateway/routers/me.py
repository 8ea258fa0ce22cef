"""Who am I: the principal an API key (or a console session) stands for."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from sandbox_gateway.deps import AnyPrincipal

router = APIRouter(tags=["me"])


class Me(BaseModel):
    key: str = Field(description="The participant's key in the scenario (`operator` for the operator).")
    name: str
    role: str = Field(description="operator, regulator, issuer or investor.")
    jurisdiction: str | None = Field(description="GB or US; null for the operator.")
    account: str = Field(description="The chain account the gateway signs with for this principal.")


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
