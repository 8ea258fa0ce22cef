"""The read model of a running market: indexed as the chain moves, caught up before it answers.

    live = MarketReadModel(market, ReadModel.sqlite(data_dir / "readmodel.sqlite"))
    live.catch_up()            # index up to the chain's head (on start: whatever was missed)
    live.start()               # a thread keeps it near the head between requests
    register = live.register("THAMES28")            # read-your-writes: catches up first
    live.stop()

Two ways of keeping up, used together: a follower thread indexes whatever the chain mined every
`poll_seconds`, so a read seldom finds much to do; and every read first checks the indexed head
against the chain's and indexes the difference itself, so an answer never misses a write that was
acknowledged before the read began. Indexing is serialised by one lock (the indexer writes one range
per database transaction); reads of the chain go through the chain's own guard (py-evm in this
process is not thread-safe), reads of the database through their own sessions.

Securities the market gains later (created through the gateway) are watched from the block they were
deployed in, found when the market's securities differ from the watched ones. If the chain no longer
holds the blocks the read model was built from (a dev revert, a data directory restored from an older
copy), the read model is rebuilt from block 0; every read checks the newest indexed block's hash
against the chain's, so even a revert followed by as many new blocks is noticed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

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
_log = logging.getLogger(__name__)


class MarketReadModel:
    """A `ReadModel` kept in step with `market`'s chain, its registry and its securities."""

    def __init__(self, market: Market, model: ReadModel, *, poll_seconds: float = DEFAULT_POLL_SECONDS) -> None:
        self.market = market
        self.model = model
        self.poll_seconds = poll_seconds
        self._lock = threading.RLock()
        self._indexer = Indexer(market.chain, model)
        self._watched: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Times the read model was rebuilt because the chain had diverged from it.
        self.rebuilds = 0
        self._watch_market()

    # ------------------------------------------------------------------ keeping up

    def _watch_market(self) -> None:
        """Watches the registry and every security of the market not yet watched (cheap when none is new)."""
        market = self.market
        wanted = {market.registry.address: market.registry.deployed_in_block}
        for token in list(market.securities.values()):
            wanted[token.address] = token.deployed_in_block
        if wanted.keys() <= self._watched:
            return
        with self._lock:
            for address, block in wanted.items():
                if address not in self._watched:
                    # An unknown deployment block means "from the start": slower, never wrong.
                    self._indexer.add_contract(address, from_block=block or 0)
                    self._watched.add(address)

    def catch_up(self, block: int | None = None) -> int:
        """Indexes up to the chain's head unless `block` (default: the head) is indexed already; returns
        the newest indexed block.

        Only what was mined before the call is waited for: the target is the head when the call begins,
        and indexing stops there even if writers have mined more meanwhile (chasing a head that moves
        with every write would make a read wait on writes that began after it). If another thread
        (the follower, another read) indexed the target while this one waited for the lock, nothing
        more is done."""
        self._watch_market()
        target = self.market.chain.block_number() if block is None else block
        indexed = self.model.last_indexed_block()
        if indexed is not None and indexed >= target and not self._diverged():
            return indexed
        with self._lock:
            indexed = self.model.last_indexed_block()
            if indexed is None or indexed < target or self._diverged():
                try:
                    self._indexer.sync(to_block=target)
                except ReadModelDiverged as exc:
                    _log.warning("the read model diverged from the chain (%s): rebuilding it", exc)
                    self._rebuild()
                    self._indexer.sync(to_block=target)
        indexed = self.model.last_indexed_block()
        return -1 if indexed is None else indexed

    def _diverged(self) -> bool:
        """True if the newest block the read model recorded is no longer the chain's block at that height
        (a dev revert followed by as many new blocks): one stored row and one block header to compare."""
        try:
            self._indexer.check_not_diverged()
        except ReadModelDiverged:
            return True
        return False

    def _rebuild(self) -> None:
        self.model.reset()
        self.rebuilds += 1
        self._indexer = Indexer(self.market.chain, self.model)
        self._watched.clear()
        self._watch_market()

    # ------------------------------------------------------------------ reads

    def register(self, security: str, *, block: int | None = None) -> Register:
        """`ReadModel.register` of `security` (address or symbol) now or as of `block`, after catching up."""
        self.catch_up(block)
        return self.model.register(security, block=block)

    def events(self, contract: str, names: Sequence[str], *, block: int | None = None) -> list[IndexedEvent]:
        """`ReadModel.events` of `contract` up to `block` (default: the chain's head), after catching up."""
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
        """`ReadModel.register_page` after catching up (as `register`)."""
        self.catch_up(block)
        return self.model.register_page(security, block=block, jurisdiction=jurisdiction, offset=offset, limit=limit)

    def holder_breakdown(
        self, security: str, *, block: int | None = None, jurisdiction: str | None = None
    ) -> HolderBreakdown:
        """`ReadModel.holder_breakdown` after catching up (as `register`)."""
        self.catch_up(block)
        return self.model.holder_breakdown(security, block=block, jurisdiction=jurisdiction)

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
            thread.join(timeout)

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                self.catch_up()
            except Exception:  # a failed round is retried on the next; a read catches up by itself
                _log.exception("the read model's follower could not index")
            self._stop.wait(self.poll_seconds)

    def __enter__(self) -> MarketReadModel:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
