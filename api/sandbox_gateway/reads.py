"""What the gateway's reads are answered from, and how fresh: the read model (`sandbox.readmodel`) as its
follower thread has indexed it, never the chain under its write lock, and never older than the writes it must
reflect (read-after-write).

Each request gets a `ReadView` of the app's `MarketReadModel` (`sandbox_gateway.deps.get_indexed`)
whose reads wait only until the read model holds the request's *minimum block*: the larger of the block
of the last acknowledged write it must reflect (`WriteMarks`, kept by `ReadYourWrites`: by default any
write this gateway acknowledged before the read; with ``SANDBOX_READ_AFTER=caller`` only the caller's
own; a console sign-in counts as one, at the chain's head, so a session starts from everything
acknowledged before it) and the block the request names in ``X-Sandbox-Min-Block``. Nobody waits for a
write still in flight, nor for the chain's write lock; and since a write is acknowledged only once the
follower has indexed it (`ReadYourWrites`, bounded by ``SANDBOX_ACKNOWLEDGE_INDEXED_SECONDS``), a read
normally finds every write it must reflect indexed already and waits for nothing. Every answer that read
the read model says, in ``X-Sandbox-Indexed-Block``, the newest block the read model held when it was read
(positions and cap tables say in their body which block they are as of).

Lists come from the read model's indexed events (`sandbox.readmodel.lists`): never a scan of the
chain's logs, and no chain read per listed item.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.readmodel import MarketReadModel, ReadView
from sandbox.readmodel.lists import EventLists, ListedInvestor
from sandbox_gateway.problems import Problem

#: The header in which a client names the block a read must reflect at least (e.g. the block_number a
#: write through another client or the JSON-RPC endpoint returned).
MIN_BLOCK_HEADER = "X-Sandbox-Min-Block"
#: The response header saying which block the read model held when the request read it.
INDEXED_BLOCK_HEADER = "X-Sandbox-Indexed-Block"
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: A mark meaning "the chain's head when the principal next reads" (a write whose block is unknown).
_HEAD = -1


@dataclass
class _Writes:
    """What a state-changing request wrote: the blocks of its receipts (`acknowledge`, from `tx_fields`),
    and how to settle one (`MarketReadModel.settle`: None when no acknowledgement waits for indexing)."""

    blocks: list[int] = field(default_factory=list)
    settle: Callable[[int], object] | None = None
    #: The newest block `settle` was called for in the route's thread (-1: none): `ReadYourWrites` does not
    #: wait for it a second time.
    settled: int = -1


_acknowledged: ContextVar[_Writes | None] = ContextVar("sandbox_acknowledged_blocks", default=None)


def acknowledge(block: int) -> None:
    """Notes that the current request's response acknowledges a transaction mined in `block`; in a route's
    worker thread, also sees the block indexed there and then (`MarketReadModel.settle`), so that
    acknowledging it later (`ReadYourWrites`) needs no other thread."""
    writes = _acknowledged.get()
    if writes is None:
        return
    writes.blocks.append(block)
    if writes.settle is not None and not _in_event_loop():
        writes.settle(block)
        writes.settled = max(writes.settled, block)


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


#: The key under which `WriteMarks` keeps the newest block of any principal's acknowledged write.
_ANYONE = ""


class WriteMarks:
    """Per principal (its key), and for the gateway as a whole: the newest block one of its acknowledged
    writes was mined in.

    `scope` says whose writes a read must reflect: ``"gateway"`` (the default) every write this gateway
    acknowledged before the read began, whoever made it (a regulator reads the transfer an investor was
    just told is done); ``"caller"`` only the caller's own, so that a read never waits for the indexing of
    other callers' writes (the fastest under many concurrent writers)."""

    def __init__(self, scope: str = "gateway") -> None:
        if scope not in ("gateway", "caller"):
            raise ValueError(f"read-after scope must be 'gateway' or 'caller', not {scope!r}")
        self.scope = scope
        self._lock = threading.Lock()
        self._marks: dict[str, int] = {}

    def note(self, principal: str, block: int | None) -> None:
        """`block`: the write's block; None when unknown (then the head at the principal's next read)."""
        with self._lock:
            for key in (principal, _ANYONE):
                known = self._marks.get(key)
                if block is None:
                    self._marks[key] = _HEAD
                elif known is None or (known != _HEAD and known < block):
                    self._marks[key] = block

    def of(self, principal: str, head: Any) -> int | None:
        """The block `principal`'s reads must reflect (None: nothing written that it must see);
        `head()` resolves a mark of unknown block."""
        key = _ANYONE if self.scope == "gateway" else principal
        with self._lock:
            mark = self._marks.get(key)
        if mark != _HEAD:
            return mark
        block = int(head())
        with self._lock:
            if self._marks.get(key) == _HEAD:
                self._marks[key] = block
        return block


class ReadYourWrites:
    """ASGI layer: acknowledges a successful state-changing request once the read model's follower has
    indexed the blocks it wrote (at most `acknowledge_indexed_seconds`: `MarketReadModel.settle`), then
    remembers, per principal, the block of the write (`WriteMarks`), and says on every response that read
    the read model which block it held (``X-Sandbox-Indexed-Block``).

    So a read that arrives after a write was acknowledged, by anyone, normally finds it indexed and waits
    for nothing: reads do not wait on writes, the writes' acknowledgements wait for the indexing (a few
    milliseconds while the follower keeps up). Should the follower lag longer, the write is acknowledged
    anyway and the reads that must reflect it (`WriteMarks.scope`) wait for it."""

    def __init__(self, app: ASGIApp, marks: WriteMarks, state: Any, acknowledge_indexed_seconds: float = 2.0) -> None:
        self.app = app
        self.marks = marks
        self.state = state  # the app's state: its read side is attached after the layers are built
        self.acknowledge_indexed_seconds = acknowledge_indexed_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})  # what `request.state` writes to, shared with the route's requests
        writing = scope["method"] in _STATE_CHANGING
        live: MarketReadModel | None = getattr(self.state, "read_side", None)
        wait = self.acknowledge_indexed_seconds
        writes = _Writes()
        if live is not None and wait > 0:
            writes.settle = lambda block: live.settle(block, wait)
        token = _acknowledged.set(writes) if writing else None

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state") or {}
                principal = state.get("principal")
                if writing and int(message["status"]) < 400 and principal is not None:
                    written = max(writes.blocks) if writes.blocks else None
                    # Normally the route's thread has seen its block indexed (`acknowledge`): no thread hop,
                    # and if it waited in vain there, no second wait here.
                    if live is not None and (written is None or live.indexed_block() < written):
                        live.written()
                        if written is not None and writes.settle is not None and writes.settled < written:
                            await anyio.to_thread.run_sync(live.settle, written, wait)
                    self.marks.note(principal.key, written)
                indexed = state.get("indexed_block")
                if indexed is not None:
                    headers = list(message.get("headers", []))
                    headers.append((INDEXED_BLOCK_HEADER.lower().encode(), str(indexed).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if token is not None:
                _acknowledged.reset(token)


def min_block(request: Request) -> int | None:
    """The block the request's reads must reflect at least: the caller's last acknowledged write's, or
    the one ``X-Sandbox-Min-Block`` names, whichever is later (None: any block will do); in a request that
    writes, the chain's head. A header that is no block number, or names a block not mined yet, is
    refused (422): nothing would ever satisfy it."""
    market = request.app.state.market
    wanted: int | None = None
    raw = request.headers.get(MIN_BLOCK_HEADER)
    if raw is not None:
        text = raw.strip()
        if not text.isdigit() or len(text) > 18:
            raise Problem(
                422,
                "MIN_BLOCK_INVALID",
                "Invalid minimum block",
                f"{MIN_BLOCK_HEADER} must be a block number (a non-negative integer), not {raw[:40]!r}.",
            )
        wanted = int(text)
        head = market.chain.block_number()
        if wanted > head:
            raise Problem(
                422,
                "MIN_BLOCK_NOT_MINED",
                "Block not mined yet",
                f"{MIN_BLOCK_HEADER} names block {wanted}, but the chain's newest block is {head}.",
            )
    if request.method in _STATE_CHANGING:
        # A request that writes reads what it wrote (a route answers with the transfer it just requested,
        # read back from the read model): it waits for the chain's head, as of each of its reads.
        head = market.chain.block_number()
        return head if wanted is None or head > wanted else wanted
    marks: WriteMarks | None = getattr(request.app.state, "write_marks", None)
    principal = getattr(request.state, "principal", None)
    if marks is not None and principal is not None:
        own = marks.of(principal.key, market.chain.block_number)
        if own is not None and (wanted is None or own > wanted):
            wanted = own
    return wanted


def read_view(request: Request, live: MarketReadModel) -> ReadView:
    """The request's `ReadView` of `live`: its reads wait for `min_block(request)` (asked at each read,
    once the route has authenticated the caller) and record the block they answered as of."""

    def wanted() -> int | None:
        return min_block(request)

    view = live.reader(wanted)
    view.on_read = lambda block: setattr(request.state, "indexed_block", block)
    return view


def event_lists(live: ReadView) -> EventLists:
    """The market's lists, from its read model (at least as new as the caller's own writes)."""
    live.catch_up()
    return EventLists(live.model, registry=live.market.registry.address)


def owners_of_wallets(investors: list[ListedInvestor]) -> dict[str, ListedInvestor]:
    """wallet → the investor it is linked to."""
    return {wallet: investor for investor in investors for wallet in investor.wallets}
