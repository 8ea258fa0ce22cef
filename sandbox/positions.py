"""Who holds a security, from its ERC-20 `Transfer` events.

This scans the token's whole log history, which is fine for the demo's size; the event-indexed read
model (`sandbox.readmodel`) is what serves large histories.
"""

from __future__ import annotations

from eth_utils import keccak, to_checksum_address

from sandbox.chain.base import iter_chunks
from sandbox.contracts.security_token import SecurityToken

TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")
_ZERO = "0x0000000000000000000000000000000000000000"
LOG_RANGE = 5_000


def holders_of(token: SecurityToken, *, to_block: int | None = None) -> list[str]:
    """Every wallet that ever received the token up to `to_block`, in order of first receipt."""
    end = token.chain.block_number() if to_block is None else to_block
    seen: dict[str, None] = {}
    for start, stop in iter_chunks(0, end, LOG_RANGE):
        for log in token.chain.get_logs(start, stop, [token.address]):
            if log.topics and log.topics[0] == TRANSFER_TOPIC and len(log.topics) == 3:
                receiver = to_checksum_address(log.topics[2][-20:])
                if receiver != _ZERO:
                    seen.setdefault(receiver, None)
    return list(seen)
