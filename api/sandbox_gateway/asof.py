"""`?block=` / `?at=` on reads: answers as of a past block or time."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

from sandbox.contracts.security_token import SecurityToken
from sandbox.history import block_at_or_before
from sandbox.market import Market
from sandbox_gateway.problems import Problem


class AsOfParams(BaseModel):
    block: int | None
    at: int | None


async def as_of_params(
    block: Annotated[int | None, Query(ge=0, le=2**63, description="Answer as of this block number.")] = None,
    at: Annotated[int | None, Query(ge=0, le=2**40, description="Answer as of this Unix time.")] = None,
) -> AsOfParams:
    return AsOfParams(block=block, at=at)


AsOf = Annotated[AsOfParams, Depends(as_of_params)]


def resolve_as_of(market: Market, as_of: AsOfParams) -> tuple[int, int]:
    """(block number, block timestamp) to answer at."""
    chain = market.chain
    head = chain.block_number()
    if as_of.block is not None and as_of.at is not None:
        raise Problem(422, "AS_OF_AMBIGUOUS", "Ambiguous point in time", "Give either `block` or `at`, not both.")
    if as_of.at is not None:
        found = block_at_or_before(chain, as_of.at)
        if found is None:
            raise Problem(
                422, "AS_OF_BEFORE_GENESIS", "Before the chain began", f"No block exists at or before {as_of.at}."
            )
        return found.number, found.timestamp
    block = head if as_of.block is None else as_of.block
    if block > head:
        raise Problem(
            422, "AS_OF_IN_FUTURE", "Block not mined yet", f"Block {block} is beyond the newest block {head}."
        )
    return block, chain.block_timestamp(block)


def frozen_at(token: SecurityToken, wallet: str, block: int) -> bool:
    """ERC-3643 `isFrozen` as of `block`."""
    return token.is_frozen(wallet, block=block)
