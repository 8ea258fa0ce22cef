"""Operator tools for a development sandbox: move the chain's clock."""

from __future__ import annotations

from fastapi import APIRouter

from sandbox.chain.base import DevChain
from sandbox.errors import ChainError
from sandbox_gateway.deps import MarketDep, OperatorPrincipal
from sandbox_gateway.problems import Problem
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import ChainClock, TimeTravel

router = APIRouter(route_class=GatewayRoute, prefix="/operator", tags=["operator"])


@router.post(
    "/time-travel",
    operation_id="operator-time-travel",
    summary="Move the chain's clock forward (embedded chain only)",
    description="Mines a block `seconds` after the newest one. Lock-ups, KYC expiries and offering periods see it.",
)
def time_travel(body: TimeTravel, market: MarketDep, principal: OperatorPrincipal) -> ChainClock:
    chain = market.chain
    if not isinstance(chain, DevChain):
        raise Problem(409, "DEV_FEATURE_UNAVAILABLE", "Not a development chain", "This chain cannot travel in time.")
    try:
        chain.time_travel(chain.timestamp() + body.seconds)
    except ChainError as exc:
        raise Problem(409, "DEV_FEATURE_UNAVAILABLE", "Time travel refused", str(exc)) from None
    return ChainClock(block_number=chain.block_number(), block_timestamp=chain.timestamp())
