"""The read model of a running market: indexed as the chain moves, by one follower thread.

    live = MarketReadModel(market, ReadModel.sqlite(data_dir / "readmodel.sqlite"))
    live.catch_up()            # index up to the chain's head (on start: whatever was missed)
    live.start()               # the follower: indexes what the chain mines, as soon as it is woken
    live.settle(block, 2.0)    # before acknowledging a write mined in `block`: see it indexed
    live.written(block)        # a write was acknowledged in `block`: wake the follower
    reader = live.reader(lambda: block)          # one caller's view: never older than its own writes
    register = reader.register("THAMES28")       # waits (bounded) only until `block` is indexed
    live.stop()

Reads never wait on writes. While the follower runs, it indexes (many blocks per database transaction,
woken by an acknowledged write not yet indexed and every `poll_seconds` besides; it also checkpoints a
SQLite read model about once a second); a writer's thread indexes only to see its own write indexed
before it is acknowledged (`settle`: when nobody else is indexing, else it waits). A read answers
from the read model as indexed, saying which block that is: it waits only until the read model has
reached the block its caller asked for (a `ReadView`'s `min_block`: the gateway gives the block of
the caller's own last acknowledged write, or the block a client names), so read-your-writes holds for
the caller who wrote, and nobody waits for the writes of others. A wait is bounded
(`wait_seconds`); past it the read indexes up to its block itself, so an answer is never older than
asked. Without a follower (a library user, a test's throwaway read model), nobody else indexes: every
read indexes up to the chain's head itself, as the only way to see what was acknowledged before it
began. Indexing is serialised by one lock; reads of the database go through their own sessions, one
snapshot per read (`ReadModel.session`), so a read never sees half of what the follower commits.

Securities the market gains later (created through the gateway) are watched from the block they were
deployed in, found when the market's securities differ from the watched ones. If the chain no longer
holds the blocks the read model was built from (a dev revert, a data directory restored from an older
copy), the read model is rebuilt from block 0; every read checks the newest indexed block's hash
against the chain's, so even a revert followed by as many new blocks is noticed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from sandbox.market import Market
from sandbox.readmodel._indexer import Indexer
from sandbox.readmodel._model import (
    HolderBreakdown,
    IndexedEvent,
    ReadModel,
    ReadModelDiverged,
    Register,
    RegisterPage,
)

#: Seconds between two looks at the chain by the follower thread. Short, so that while writers keep the
#: chain moving the follower indexes a few blocks at a time and a read seldom finds any left to index;
#: a look that finds nothing new costs about a millisecond (the head, the newest indexed block's hash).
DEFAULT_POLL_SECONDS = 0.1
#: Longest a read waits for the follower to index the block its caller asked for, before it indexes that
#: block itself (generous: the follower normally gets there within one round).
DEFAULT_WAIT_SECONDS = 5.0
#: Shortest time between the starts of two rounds of the follower while no read waits: the blocks mined
#: meanwhile are indexed together (fewer database transactions and looks at the chain per block).
DEFAULT_BATCH_SECONDS = 0.05
#: Seconds between two checkpoints of the read model by the follower (`ReadModel.checkpoint`).
CHECKPOINT_SECONDS = 1.0
_log = logging.getLogger(__name__)


class _CaughtUpReads:
    """The read model's queries, each after `catch_up` (the follower's own, or a caller's view's): shared by
    `MarketReadModel` and `ReadView`, which differ only in what they wait for."""

    model: ReadModel

    def catch_up(self, block: int | None = None) -> int:
        raise NotImplementedError

    def register(self, security: str, *, block: int | None = None) -> Register:
        """`ReadModel.register` of `security` (address or symbol) now or as of `block`."""
        self.catch_up(block)
        return self.model.register(security, block=block)

    def events(self, contract: str, names: Sequence[str], *, block: int | None = None) -> list[IndexedEvent]:
        """`ReadModel.events` of `contract` up to `block` (default: the newest block caught up to)."""
        indexed = self.catch_up(block)
        return self.model.events(contract, names, block=indexed if block is None else block)

    def register_page(
        self,
        security: str,
        *,
        block: int | None = None,
        jurisdiction: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> RegisterPage:
        """`ReadModel.register_page` (as `register`)."""
        self.catch_up(block)
        return self.model.register_page(security, block=block, jurisdiction=jurisdiction, offset=offset, limit=limit)

    def holder_breakdown(
        self, security: str, *, block: int | None = None, jurisdiction: str | None = None
    ) -> HolderBreakdown:
        """`ReadModel.holder_breakdown` (as `register`)."""
        self.catch_up(block)
        return self.model.holder_breakdown(security, block=block, jurisdiction=jurisdiction)


class MarketReadModel(_CaughtUpReads):
    """A `ReadModel` kept in step with `market`'s chain, its registry and its securities."""

    def __init__(
        self,
        market: Market,
        model: ReadModel,
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        batch_seconds: float = DEFAULT_BATCH_SECONDS,
    ) -> None:
        self.market = market
        self.model = model
        self.poll_seconds = poll_seconds
        self.wait_seconds = wait_seconds
        self.batch_seconds = batch_seconds
        self._lock = threading.RLock()
        #: Notified whenever the indexed block moves (`_indexed` is its last known value, -1: unknown).
        self._progress = threading.Condition()
        self._indexed = -1
        self._wake = threading.Event()
        self._urgent = threading.Event()  # a read waits for a block: no batching delay
        self._indexer = Indexer(market.chain, model)
        self._watched: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Times the read model was rebuilt because the chain had diverged from it.
        self.rebuilds = 0
        self._watch_market()

    # ------------------------------------------------------------------ keeping up

    def _watch_market(self) -> bool:
        """Watches the registry and every security of the market not yet watched (cheap when none is new);
        True if it watched one more (the indexed block may then be lower than it was)."""
        market = self.market
        wanted = {market.registry.address: market.registry.deployed_in_block}
        for token in list(market.securities.values()):
            wanted[token.address] = token.deployed_in_block
        if wanted.keys() <= self._watched:
            return False
        with self._lock:
            for address, block in wanted.items():
                if address not in self._watched:
                    # An unknown deployment block means "from the start": slower, never wrong.
                    self._indexer.add_contract(address, from_block=block or 0)
                    self._watched.add(address)
            self._indexed_now()
        return True

    def _indexed_now(self, indexed: int | None = None) -> int:
        """The newest indexed block (`indexed`, or else as the database says), remembered, and told to
        waiting reads."""
        if indexed is None:
            indexed = self.model.last_indexed_block()
        value = -1 if indexed is None else indexed
        with self._progress:
            self._indexed = value
            self._progress.notify_all()
        return value

    def catch_up(self, block: int | None = None) -> int:
        """Indexes up to the chain's head unless `block` (default: the head) is indexed already; returns
        the newest indexed block.

        Only what was mined before the call is waited for: the target is the head when the call begins,
        and indexing stops there even if writers have mined more meanwhile (chasing a head that moves
        with every write would make a read wait on writes that began after it). If another thread
        (the follower, another read) indexed the target while this one waited for the lock, nothing
        more is done.

        Whether the target is indexed is known without the database: the block the last `sync` left
        indexed is remembered, with the newest recorded block, whose hash is compared with the chain's
        (a dev revert followed by as many new blocks is noticed all the same). A round that has work
        is one database transaction (`Indexer.sync`)."""
        self._watch_market()
        target = self.market.chain.block_number() if block is None else block
        if self._holds(target):
            return self._indexed
        with self._lock:
            if self._holds(target):
                return self._indexed
            try:
                report = self._indexer.sync(to_block=target)
            except ReadModelDiverged as exc:
                _log.warning("the read model diverged from the chain (%s): rebuilding it", exc)
                self._rebuild()
                report = self._indexer.sync(to_block=target)
            return self._indexed_now(report.indexed_to)

    def _holds(self, target: int) -> bool:
        """True if the read model is known to hold `target` and its newest block is still the chain's."""
        return self._indexed >= target and not self._diverged()

    def _diverged(self) -> bool:
        """True if the newest block the read model recorded is no longer the chain's block at that height
        (a dev revert followed by as many new blocks): one block header to compare with the block the last
        round recorded (`Indexer.recorded`; before any round, the database's newest)."""
        try:
            self._indexer.check_not_diverged()
        except ReadModelDiverged:
            return True
        return False

    def _rebuild(self) -> None:
        self._indexed = -1  # unknown until indexed again: reads ask the database meanwhile
        self.model.reset()
        self.rebuilds += 1
        self._indexer = Indexer(self.market.chain, self.model)
        self._watched.clear()
        self._watch_market()

    # ------------------------------------------------------------------ reads

    @property
    def following(self) -> bool:
        """True while the follower thread runs (then reads do not index, unless their wait runs out)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def indexed_block(self) -> int:
        """The newest block the read model holds (-1: none), as last seen: no chain read, no lock."""
        return self._indexed if self._indexed >= 0 else self._indexed_now()

    def written(self, block: int | None = None) -> None:
        """A write was acknowledged (in `block`): the follower indexes it now rather than at its next poll."""
        self._wake.set()

    def reach(self, block: int | None) -> int:
        """What a read does before it reads; returns the newest indexed block, the one it answers as of.

        With the follower running: nothing if the read model holds `block` (None: any block will do);
        otherwise it wakes the follower and waits until it has indexed `block`, at most `wait_seconds`,
        then indexes up to `block` itself. Without a follower: indexes up to the chain's head (`catch_up`)."""
        if not self.following:
            return self.catch_up()
        if self._watch_market():  # a security created since the last round: watched from its first block
            self._wake.set()
        indexed = self.indexed_block()
        if block is None or indexed >= block:
            return indexed
        indexed = self._await_follower(block, self.wait_seconds)
        if indexed >= block:
            return indexed
        _log.warning(
            "the follower had not indexed block %d within %.1f s: the read indexes it", block, self.wait_seconds
        )
        return self.catch_up(block)

    def settle(self, block: int, timeout: float) -> bool:
        """Makes sure, within `timeout` seconds, that the read model holds `block`; True when it does. The
        gateway calls it before it acknowledges a write, so that a read arriving after the acknowledgement
        finds the write indexed and waits for nothing; should the follower lag longer, the write is
        acknowledged anyway and the reads that must reflect it wait for it (`reach`).

        While the follower runs, the calling thread indexes up to the chain's head itself when nobody else
        is indexing (no thread to wake and wait for: one writer's acknowledgement costs one round, in its
        own thread), and otherwise waits for whoever is indexing. Without a follower it does nothing (every
        read then indexes for itself)."""
        deadline = time.monotonic() + timeout
        while self.indexed_block() < block and self.following:
            if self._lock.acquire(blocking=False):
                try:
                    self.catch_up()
                except Exception:  # the write stands whatever the read model says: acknowledged all the same
                    _log.exception("the read model could not index block %d before its acknowledgement", block)
                    break
                finally:
                    self._lock.release()
                continue
            left = deadline - time.monotonic()
            if left <= 0 or self._await_follower(block, left) >= block:
                break
        return self.indexed_block() >= block

    def _await_follower(self, block: int, timeout: float) -> int:
        """Wakes the follower for a round at once and waits, at most `timeout` seconds (or until it stops),
        until it has indexed `block`; returns the newest indexed block then."""
        self._urgent.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        with self._progress:
            while self._indexed < block and self.following:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._progress.wait(left)
            return self._indexed

    def reader(self, min_block: Callable[[], int | None]) -> ReadView:
        """One caller's view (`ReadView`): its reads wait for the read model to reach ``min_block()``."""
        return ReadView(self, min_block)

    # ------------------------------------------------------------------ the follower thread

    def start(self) -> None:
        """Starts the follower thread (once; `stop` ends it)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._follow, name="read-model-follower", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            self._urgent.set()
            thread.join(timeout)

    def _follow(self) -> None:
        checkpointed = time.monotonic()
        while not self._stop.is_set():
            began = time.monotonic()
            self._wake.clear()  # a write acknowledged from now on wakes the next round
            self._urgent.clear()
            try:
                self.catch_up()
            except Exception:  # a failed round is retried on the next; a waiting read indexes by itself
                _log.exception("the read model's follower could not index")
            if began - checkpointed >= CHECKPOINT_SECONDS:
                checkpointed = began
                try:
                    self.model.checkpoint()  # here, not in a commit that a write's acknowledgement waits for
                except Exception:
                    _log.exception("the read model's follower could not checkpoint")
            self._wake.wait(self.poll_seconds)
            # While writes keep coming, gather `batch_seconds` of them into one round (one database
            # transaction, one look at the chain) rather than a round per block, unless a read waits.
            rest = self.batch_seconds - (time.monotonic() - began)
            if rest > 0 and not self._stop.is_set():
                self._urgent.wait(rest)
        with self._progress:
            self._progress.notify_all()  # reads waiting for it index by themselves

    def __enter__(self) -> MarketReadModel:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class ReadView(_CaughtUpReads):
    """One caller's reads of a `MarketReadModel`: each waits until the read model holds the block
    ``min_block()`` names (None: any), and answers as of the newest indexed block; or, asked for a past
    block, waits until that block is indexed and answers as of it. `block` is the block the last read
    answered as of.

    `min_block` is called at each read, not before: the gateway's answer to it is the block of the
    caller's own last acknowledged write (read-your-writes) or the block the request names, and within a
    request that writes, the chain's head (what the request wrote is then read back)."""

    def __init__(self, live: MarketReadModel, min_block: Callable[[], int | None]) -> None:
        self.live = live
        self.market = live.market
        self.model = live.model
        self._min_block = min_block
        self.block: int | None = None
        #: Called with the newest indexed block at each read (the gateway puts it in a response header).
        self.on_read: Callable[[int], None] | None = None

    @property
    def rebuilds(self) -> int:
        return self.live.rebuilds

    def catch_up(self, block: int | None = None) -> int:
        """Makes sure the read model holds the caller's block, or `block` (a past block to read as of);
        returns the newest indexed block.

        A read as of `block` waits for `block` alone: its answer is what the chain held then, which no
        later write changes, and every write mined at or before `block` is indexed once `block` is. So it
        reflects every write its caller must see that can be part of it, without waiting for the newest
        ones (the caller's block is still asked for: the gateway refuses a bad minimum block there)."""
        asked = self._min_block()
        wanted = asked if block is None else block
        indexed = self.live.reach(wanted)
        self.block = indexed if block is None else block
        if self.on_read is not None:
            self.on_read(indexed)
        return indexed
