"""Liveness: the only route that needs no key."""

from __future__ import annotations

from fastapi import APIRouter

from sandbox_gateway.deps import MarketDep
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import Health

router = APIRouter(route_class=GatewayRoute, tags=["health"])


@router.get(
    "/health",
    operation_id="health-get",
    description=(
        "Anyone, without a key: whether the gateway is up, with its chain's id, newest block and time, and how many"
        " securities it serves."
    ),
    summary="Is the sandbox up, and where is its chain?",
)
def health(market: MarketDep) -> Health:
    chain = market.chain
    return Health(
        status="ok",
        chain_id=chain.chain_id,
        block_number=chain.block_number(),
        block_timestamp=chain.timestamp(),
        securities=len(market.securities),
    )
