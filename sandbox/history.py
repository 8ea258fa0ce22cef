"""Answers read from the chain's event history by scanning logs, for the library's own use where no read
model exists (replaying a scenario on a freshly deployed market) and for tests.

The gateway never scans: it reads the event-indexed read model (`sandbox.readmodel`, through
`sandbox_gateway.reads`). Block numbers bound every scan so answers are consistent "as of" a block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar, overload

from eth_utils import keccak, to_checksum_address

from sandbox.chain.base import Chain, iter_chunks
from sandbox.contracts.base import ContractFacade
from sandbox.contracts.event import ContractEvent
from sandbox.contracts.security_token import SecurityToken

TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
LOG_RANGE = 5_000


E = TypeVar("E", bound=ContractEvent)


@overload
def events_of(facade: ContractFacade, kind: type[E], *, to_block: int | None = None) -> list[E]: ...
@overload
def events_of(
    facade: ContractFacade, kind: str | None = None, *, to_block: int | None = None
) -> list[ContractEvent]: ...
def events_of(
    facade: ContractFacade, kind: str | type[ContractEvent] | None = None, *, to_block: int | None = None
) -> list[Any]:
    """Every event `facade`'s contract emitted up to `to_block`, oldest first; optionally only those of
    one event class (``events_of(token, Transfer)``) or name."""
    end = facade.chain.block_number() if to_block is None else to_block
    out: list[ContractEvent] = []
    for start, stop in iter_chunks(0, end, LOG_RANGE):
        out += facade.decode_logs(facade.chain.get_logs(start, stop, [facade.address]), kind)
    return out


def holders_of(token: SecurityToken, *, to_block: int | None = None) -> list[str]:
    """Every wallet that ever received the token up to `to_block`, in order of first receipt."""
    end = token.chain.block_number() if to_block is None else to_block
    seen: dict[str, None] = {}
    for start, stop in iter_chunks(0, end, LOG_RANGE):
        for log in token.chain.get_logs(start, stop, [token.address]):
            if log.topics and log.topics[0] == TRANSFER_TOPIC and len(log.topics) == 3:
                receiver = to_checksum_address(log.topics[2][-20:])
                if receiver != ZERO_ADDRESS:
                    seen.setdefault(receiver, None)
    return list(seen)


@dataclass(frozen=True)
class BlockRef:
    number: int
    timestamp: int


def block_at_or_before(chain: Chain, timestamp: int) -> BlockRef | None:
    """The newest block whose timestamp is ≤ `timestamp` (binary search; None if before genesis)."""
    low, high = 0, chain.block_number()
    stamp = chain.block_timestamp(low)
    if stamp > timestamp:
        return None
    found = BlockRef(low, stamp)
    while low < high:
        mid = (low + high + 1) // 2
        stamp = chain.block_timestamp(mid)
        if stamp <= timestamp:
            low, found = mid, BlockRef(mid, stamp)
        else:
            high = mid - 1
    return found
