"""The chain's logs kept in memory, so ``eth_getLogs`` (and log filters and subscriptions) answer from an
index instead of scanning blocks under the chain's write lock.

The index follows the chain: before answering, `LogIndex.sync` reads only the blocks mined since the
last call, with `Chain.get_logs`, in chunks of `chunk_blocks` blocks (on the embedded chain each chunk
holds the chain's lock on its own, so writers go in between), and appends what they hold. Each block
is read once in the life of the process; a query then takes the index's own lock just long enough to
slice the logs of its block range (a binary search on block numbers) and filters them outside it.

A dev revert (``EmbeddedChain.revert``) can take blocks back: before each catch-up the index compares
the hash of the newest block it indexed with the chain's block at that height, and when they differ
drops what it holds after the newest of its blocks that is still canonical, then reads on from there.

Memory: about 0.5 KB per log (a chain of 100,000 transfers with 3 logs each holds about 150 MB); the
sandbox's chains are far smaller. The index is per process: two gateways each keep their own.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from sandbox.chain.base import Chain, iter_chunks

#: Blocks read per `Chain.get_logs` call while catching up (on the embedded chain: per hold of its lock,
#: so a writer waits for one chunk at most).
DEFAULT_CHUNK_BLOCKS = 32


@dataclass(frozen=True, slots=True)
class IndexedLog:
    """One log as the index keeps it (everything JSON-RPC answers for it)."""

    block_number: int
    block_hash: str
    transaction_index: int
    transaction_hash: str
    log_index: int
    address: str  # checksummed
    topics: tuple[bytes, ...]
    data: bytes

    def matches(self, addresses: frozenset[str] | None, topics: Sequence[frozenset[bytes] | None]) -> bool:
        """geth's rule: the address is one of `addresses` (None: any), and per position the topic is
        one of that position's set (None: any); a log with fewer topics than the filter names never
        matches."""
        if addresses is not None and self.address not in addresses:
            return False
        if len(topics) > len(self.topics):
            return False
        return all(allowed is None or topic in allowed for topic, allowed in zip(self.topics, topics, strict=False))

    def to_wire(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "topics": ["0x" + t.hex() for t in self.topics],
            "data": "0x" + self.data.hex(),
            "blockNumber": hex(self.block_number),
            "blockHash": self.block_hash,
            "transactionHash": self.transaction_hash,
            "transactionIndex": hex(self.transaction_index),
            "logIndex": hex(self.log_index),
            "removed": False,
        }


#: A block's hash and its transactions' hashes in block order, or None for no such block.
BlockLookup = Callable[[int], "tuple[str, list[str]] | None"]


class LogIndex:
    """Every log of `chain`, indexed by block number, kept up to date on demand (`sync`). `block` looks
    a block up (its hash, to notice reverts; its transactions, for a backend whose logs do not say
    their position): the JSON-RPC handler gives its own, the one place above the chain package that
    reads the engine directly."""

    def __init__(self, chain: Chain, block: BlockLookup, *, chunk_blocks: int = DEFAULT_CHUNK_BLOCKS) -> None:
        if chunk_blocks < 1:
            raise ValueError("chunk_blocks must be at least 1")
        self._chain = chain
        self._block = block
        self._chunk_blocks = chunk_blocks
        self._lock = threading.Lock()  # the lists below; held for a slice or an append only
        self._sync_lock = threading.Lock()  # one catch-up at a time
        self._numbers: list[int] = []  # block number of each log, ascending (for bisect)
        self._logs: list[IndexedLog] = []
        self._indexed_to = -1  # every log of blocks 0..indexed_to is in the lists
        self._tip_hash: str | None = None  # the hash of block `indexed_to` when it was indexed

    @property
    def indexed_to(self) -> int:
        """The newest block whose logs are all in the index (-1 before the first `sync`)."""
        return self._indexed_to

    def __len__(self) -> int:
        return len(self._logs)

    def sync(self, head: int | None = None) -> int:
        """Indexes the blocks after `indexed_to` up to `head` (default: the chain's newest block now)
        and returns the newest block indexed. Blocks a dev revert took back are dropped first."""
        with self._sync_lock:
            self._follow_reverts()
            target = self._chain.block_number() if head is None else head
            if target <= self._indexed_to:
                return self._indexed_to
            for low, high in iter_chunks(self._indexed_to + 1, target, self._chunk_blocks):
                entries = [self._entry(log) for log in self._chain.get_logs(low, high)]
                entries.sort(key=lambda e: (e.block_number, e.transaction_index, e.log_index))
                with self._lock:
                    self._logs.extend(entries)
                    self._numbers.extend(e.block_number for e in entries)
                    self._indexed_to = high
            self._tip_hash = self._hash_of(self._indexed_to)
            return self._indexed_to

    def logs(
        self,
        start: int,
        stop: int,
        addresses: Iterable[str] | None = None,
        topics: Sequence[frozenset[bytes] | None] = (),
    ) -> list[IndexedLog]:
        """The indexed logs of blocks `start`..`stop` (inclusive) that match, in chain order. Call
        `sync` first for an answer up to the head."""
        wanted = frozenset(to_checksum_address(a) for a in addresses) if addresses is not None else None
        with self._lock:
            low = bisect.bisect_left(self._numbers, start)
            high = bisect.bisect_right(self._numbers, stop)
            candidates = self._logs[low:high]
        return [log for log in candidates if log.matches(wanted, topics)]

    # ------------------------------------------------------------------ internals

    def _entry(self, log: Any) -> IndexedLog:
        if log.block_hash is None or log.transaction_index is None:  # a backend that does not say
            found = self._block(log.block_number)
            if found is None:
                raise LookupError(f"block {log.block_number} of a log is gone")
            block_hash, hashes = found
            tx_index = hashes.index(log.transaction_hash)
        else:
            block_hash, tx_index = log.block_hash, log.transaction_index
        return IndexedLog(
            block_number=log.block_number,
            block_hash=block_hash,
            transaction_index=tx_index,
            transaction_hash=log.transaction_hash,
            log_index=log.log_index,
            address=to_checksum_address(log.address),
            topics=tuple(log.topics),
            data=bytes(log.data),
        )

    def _hash_of(self, number: int) -> str | None:
        if number < 0:
            return None
        found = self._block(number)
        return None if found is None else found[0]

    def _follow_reverts(self) -> None:
        """Drops the blocks a revert took back (the newest indexed block is no longer the chain's)."""
        if self._indexed_to < 0 or self._hash_of(self._indexed_to) == self._tip_hash:
            return
        with self._lock:
            logs = list(self._logs)
        keep_to, keep = -1, 0
        # The newest indexed block with logs that is still canonical: everything up to it stands.
        index = len(logs)
        while index > 0:
            number, block_hash = logs[index - 1].block_number, logs[index - 1].block_hash
            if self._hash_of(number) == block_hash:
                keep_to, keep = number, index
                break
            while index > 0 and logs[index - 1].block_number == number:
                index -= 1
        with self._lock:
            del self._logs[keep:]
            del self._numbers[keep:]
            self._indexed_to = keep_to
        self._tip_hash = self._hash_of(keep_to)
