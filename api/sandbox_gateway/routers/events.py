"""The live event stream (Server-Sent Events): every indexed chain event a principal may see, as it is
indexed, and every refused request in its remit, as it is refused; resumable with `Last-Event-ID`. The console's
pages subscribe to it; so can supervisors' own systems.

An event's id is the read model's sequence number plus a base the gateway keeps (`EventIds`): when the read
model is rebuilt after a chain revert its sequence starts again from 1, and the base moves above every id
already sent, so ids never restart and a client resuming with an id from before the revert misses nothing."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from sandbox.market import Market
from sandbox.readmodel import ReadView, SequencedEvent
from sandbox_gateway.console.refusals import RefusalScope
from sandbox_gateway.console.store import ConsoleStore, Refusal
from sandbox_gateway.deps import AnyPrincipal, get_indexed
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.scope import ActionScope, own_wallets

router = APIRouter(route_class=GatewayRoute, tags=["events"])

#: How often a stream looks for newly indexed events, in seconds (the delay it adds at most).
POLL_SECONDS = 0.2
#: A comment line this often keeps proxies from closing an idle stream.
KEEPALIVE_SECONDS = 15.0
#: Events read from the read model at a time.
BATCH = 500

STREAM_DESCRIPTION = """
A `text/event-stream` (Server-Sent Events) of every chain event the caller may see, in chain order, as the
read model indexes it: transfers, mints, freezes, cross-border requests and decisions, corporate actions,
registry changes; and of every request the rulebook refused in the caller's remit (`event: Refused`), as it is
refused. Scoped as the audit trail and positions: the operator sees everything; a regulator what names a
security whose home is its jurisdiction or a wallet of an investor of its jurisdiction; an issuer what
concerns its securities and the investors it onboarded; an investor what names its own wallets (and its own
refused requests).

A chain event's message is

    id: <event id>:<refusal id>
    event: <event name, e.g. CrossBorderTransferRequested>
    data: {"sequence": <event id>, "event": …, "security": …, "contract": …, "actor": …, "target": …,
           "tx_hash": …, "block_number": …, "log_index": …, "timestamp": …, "arguments": {…}}

and a refusal's

    id: <event id>:<refusal id>
    event: Refused
    data: {"refusal": <refusal id>, "at": <Unix time>, "principal": …, "request": "POST /securities/…",
           "status": 409, "code": "SENDER_FROZEN", "detail": …, "security": …, "parties": […]}

`id` is a cursor: the last chain event's id and the last refusal's id sent so far. Reconnect with
`Last-Event-ID: <id>` (EventSource does so by itself) or `?last_event_id=` to receive everything after it (an
id without `:<refusal id>` resumes the chain events only, refusals from now); without either the stream starts
with what happens next. `follow=false` sends what is there after `last_event_id` and ends (a batch pull). A
comment line is sent every 15 s while nothing happens.

Event ids only grow: when the chain is reverted (a development revert) the read model is rebuilt, and the
events it indexes again get new ids above every id sent before. A client resuming with an id from before the
revert is sent the chain's events again from the start of the rebuilt read model (those that survived the
revert come again with new ids; `tx_hash` and `log_index` identify an event), then what follows: nothing is
missed. Refusals are kept by the gateway (with `--data-dir`, across restarts).
"""

#: Keys of the id base and the highest id read, in the console's store.
_BASE = "event_id_base"
_HIGH = "event_id_high"
_CURSOR = re.compile(r"^(\d{1,18})(?::(\d{1,18}))?$")


class EventIds:
    """Stream ids of the read model's events: the read model's sequence number plus a base. The base moves above
    the highest id ever read whenever the read model is found rebuilt (its sequence restarted): in this process
    (`MarketReadModel.rebuilds` grew), or before it (the read model holds fewer events than were read). Base and
    highest id are kept in the console's store, so they survive a restart with a data directory."""

    def __init__(self, store: ConsoleStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._base = int(store.get(_BASE) or 0)
        self._high = int(store.get(_HIGH) or 0)
        self._seen: tuple[int, int] | None = None

    def base(self, live: ReadView) -> int:
        """The base of `live`'s present sequence numbers."""
        generation = (id(live.live), live.rebuilds)  # the read model, not this request's view of it
        with self._lock:
            if generation != self._seen:
                first = self._seen is None
                self._seen = generation
                restarted = not first or live.rebuilds > 0
                lost = self._base + live.model.last_event_sequence() < self._high
                if (restarted or lost) and self._high > self._base:
                    self._base = self._high
                    self._store.put(_BASE, str(self._base))
            return self._base

    def read(self, event_id: int) -> None:
        """Records that ids up to `event_id` have been read (sent or not, they are never given again)."""
        with self._lock:
            if event_id > self._high:
                self._high = event_id
                self._store.put(_HIGH, str(event_id))


def event_ids(request: Request) -> EventIds:
    state = request.app.state
    with _IDS_LOCK:
        ids: EventIds | None = getattr(state, "event_ids", None)
        if ids is None:
            ids = state.event_ids = EventIds(state.console_store)
    return ids


_IDS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Cursor:
    """Where a stream is: the last chain event id and the last refusal id sent (None: from now)."""

    event: int | None
    refusal: int | None

    def text(self) -> str:
        return f"{self.event or 0}:{self.refusal or 0}"


def _payload(event: SequencedEvent, event_id: int) -> dict[str, Any]:
    return {
        "sequence": event_id,
        "event": event.event,
        "security": event.symbol,
        "contract": event.contract,
        "actor": event.actor,
        "target": event.target,
        "tx_hash": event.tx_hash,
        "block_number": event.block_number,
        "log_index": event.log_index,
        "timestamp": event.timestamp,
        "arguments": dict(event.args),  # stored as JSON already
    }


def _refusal_payload(refusal: Refusal) -> dict[str, Any]:
    return {
        "refusal": refusal.id,
        "at": refusal.at,
        "principal": refusal.principal,
        "request": f"{refusal.method} {refusal.path}",
        "status": refusal.status,
        "code": refusal.code,
        "detail": refusal.detail,
        "security": refusal.security,
        "parties": list(refusal.parties),
    }


class EventScope:
    """Which events a principal sees: `ActionScope` (the audit trail's), and for an investor the events that
    name one of its own wallets."""

    def __init__(self, principal: Principal, market: Market) -> None:
        self.principal = principal
        self._actions = ActionScope(principal, market)
        self._own = set(own_wallets(principal, market)) if principal.role is Role.INVESTOR else set()

    def sees(self, event: SequencedEvent) -> bool:
        if self.principal.role is Role.INVESTOR:
            named = {event.target, *(v for v in event.args.values() if isinstance(v, str))}
            return bool(named & self._own)
        return self._actions.sees(event.contract, event.target, event.args)


def _next_batch(live: ReadView, ids: EventIds, after: int) -> tuple[int, Sequence[SequencedEvent]]:
    """(base, events) after stream id `after`: the read model's events with their base."""
    live.catch_up()
    while True:
        rebuilds = live.rebuilds
        base = ids.base(live)
        batch = live.model.events_after(max(after - base, 0), limit=BATCH)
        if live.rebuilds == rebuilds:  # not rebuilt meanwhile (by the follower thread)
            break
    if batch:
        ids.read(base + batch[-1].sequence)
    return base, batch


def _head(live: ReadView, ids: EventIds) -> int:
    live.catch_up()
    head = ids.base(live) + live.model.last_event_sequence()
    ids.read(head)  # a stream resumes after it: never given again
    return head


async def event_stream(
    request: Request, principal: Principal, cursor: Cursor, *, follow: bool = True
) -> AsyncIterator[str]:
    """The stream's messages for `principal` after `cursor`."""
    live = await run_in_threadpool(get_indexed, request)
    market: Market = request.app.state.market
    store: ConsoleStore = request.app.state.console_store
    ids = event_ids(request)
    scope = EventScope(principal, market)
    after = cursor.event if cursor.event is not None else await run_in_threadpool(_head, live, ids)
    refused_after = cursor.refusal if cursor.refusal is not None else await run_in_threadpool(store.last_refusal_id)
    position = Cursor(after, refused_after)
    yield f"retry: 2000\n: events after {position.text()}\n\n"
    idle = 0.0
    while True:
        base, batch = await run_in_threadpool(_next_batch, live, ids, after)
        for event in batch:
            after = base + event.sequence
            if scope.sees(event):
                data = json.dumps(_payload(event, after), separators=(",", ":"))
                yield f"id: {Cursor(after, refused_after).text()}\nevent: {event.event}\ndata: {data}\n\n"
        refusals = await run_in_threadpool(store.refusals_after, refused_after, limit=BATCH)
        if refusals:
            refusal_scope = RefusalScope(principal, market)
            for refusal in refusals:
                refused_after = refusal.id
                if await run_in_threadpool(refusal_scope.sees, refusal):
                    data = json.dumps(_refusal_payload(refusal), separators=(",", ":"))
                    yield f"id: {Cursor(after, refused_after).text()}\nevent: Refused\ndata: {data}\n\n"
        if len(batch) == BATCH or len(refusals) == BATCH:
            continue
        if not follow:
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(POLL_SECONDS)
        idle += POLL_SECONDS
        if idle >= KEEPALIVE_SECONDS:
            idle = 0.0
            yield ": keep-alive\n\n"


async def starting_point(request: Request, cursor: Cursor) -> Cursor:
    """`cursor` with "from now" (None) replaced by the newest event and refusal there are now."""
    if cursor.event is not None and cursor.refusal is not None:
        return cursor
    event = cursor.event
    if event is None:
        live = await run_in_threadpool(get_indexed, request)
        event = await run_in_threadpool(_head, live, event_ids(request))
    refusal = cursor.refusal
    if refusal is None:
        store: ConsoleStore = request.app.state.console_store
        refusal = await run_in_threadpool(store.last_refusal_id)
    return Cursor(event, refusal)


async def stream_response(
    request: Request, principal: Principal, cursor: Cursor, *, follow: bool = True
) -> StreamingResponse:
    """The stream after `cursor`. Where a stream "from now" starts is fixed before its response begins: a client
    that sees the stream open (EventSource's `open`, the console's "live") and then acts is sent what its action
    caused. (Fixed inside the body, after the headers had gone out, an event made in between was counted as
    before the stream and never sent: the console's live updates missed it on a busy machine.)"""
    cursor = await starting_point(request, cursor)
    return StreamingResponse(
        event_stream(request, principal, cursor, follow=follow),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def resume_from(header: str | None, query: str | None) -> Cursor:
    """Where to resume: the `Last-Event-ID` header (what EventSource sends back), else the query (`E` or
    `E:R`); a header that is not one of this stream's ids is ignored, as before this stream had refusals."""
    for value in (header, query):
        found = _CURSOR.match(value.strip()) if value is not None else None
        if found is not None:
            refusal = found.group(2)
            return Cursor(int(found.group(1)), None if refusal is None else int(refusal))
    return Cursor(None, None)


@router.get(
    "/events",
    operation_id="events-stream",
    summary="Live stream of the chain events and refusals you may see (Server-Sent Events)",
    description=STREAM_DESCRIPTION,
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def events(
    request: Request,
    principal: AnyPrincipal,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
    last_event_id: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=r"^\d{1,18}(:\d{1,18})?$",
            description="Resume after this id (`<event id>` or `<event id>:<refusal id>`).",
        ),
    ] = None,
    follow: Annotated[bool, Query(description="false: send what is there and end.")] = True,
) -> StreamingResponse:
    return await stream_response(request, principal, resume_from(last_event_id_header, last_event_id), follow=follow)
