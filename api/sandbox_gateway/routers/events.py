"""The live event stream (Server-Sent Events): every indexed chain event a principal may see, as it is
indexed, resumable with `Last-Event-ID`. The console's pages subscribe to it; so can supervisors' own
systems."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from sandbox.market import Market
from sandbox.readmodel import MarketReadModel, SequencedEvent
from sandbox_gateway.deps import AnyPrincipal, get_indexed
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.scope import ActionScope, own_wallets

router = APIRouter(tags=["events"])

#: How often a stream looks for newly indexed events, in seconds (the delay it adds at most).
POLL_SECONDS = 0.2
#: A comment line this often keeps proxies from closing an idle stream.
KEEPALIVE_SECONDS = 15.0
#: Events read from the read model at a time.
BATCH = 500

STREAM_DESCRIPTION = """
A `text/event-stream` (Server-Sent Events) of every chain event the caller may see, in chain order, as the
read model indexes it: transfers, mints, freezes, cross-border requests and decisions, corporate actions,
registry changes. Scoped as the audit trail and positions: the operator sees everything; a regulator what
names a security whose home is its jurisdiction or a wallet of an investor of its jurisdiction; an issuer
what concerns its securities and the investors it onboarded; an investor what names its own wallets.

Each message is

    id: <sequence>
    event: <event name, e.g. CrossBorderTransferRequested>
    data: {"sequence": …, "event": …, "security": …, "contract": …, "actor": …, "target": …,
           "tx_hash": …, "block_number": …, "log_index": …, "timestamp": …, "arguments": {…}}

`id` is the read model's event sequence number: reconnect with `Last-Event-ID: <id>` (EventSource does so by
itself) or `?last_event_id=` to receive everything after it; without either the stream starts with the next
new event. `follow=false` sends what is there after `last_event_id` and ends (a batch pull). A comment line is
sent every 15 s while nothing happens. (A read model rebuilt after a chain revert numbers again from 1.)
"""


def _payload(event: SequencedEvent) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
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


def _next_batch(live: MarketReadModel, after: int) -> Sequence[SequencedEvent]:
    live.catch_up()
    return live.model.events_after(after, limit=BATCH)


def _head(live: MarketReadModel) -> int:
    live.catch_up()
    return live.model.last_event_sequence()


async def event_stream(
    request: Request, principal: Principal, last_event_id: int | None, *, follow: bool = True
) -> AsyncIterator[str]:
    """The stream's messages for `principal` after sequence `last_event_id` (None: from now on)."""
    live = await run_in_threadpool(get_indexed, request)
    market: Market = request.app.state.market
    scope = EventScope(principal, market)
    after = last_event_id if last_event_id is not None else await run_in_threadpool(_head, live)
    yield f"retry: 2000\n: events after {after}\n\n"
    idle = 0.0
    while True:
        batch = await run_in_threadpool(_next_batch, live, after)
        for event in batch:
            after = event.sequence
            if scope.sees(event):
                data = json.dumps(_payload(event), separators=(",", ":"))
                yield f"id: {event.sequence}\nevent: {event.event}\ndata: {data}\n\n"
        if len(batch) == BATCH:
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


def stream_response(
    request: Request, principal: Principal, last_event_id: int | None, *, follow: bool = True
) -> StreamingResponse:
    return StreamingResponse(
        event_stream(request, principal, last_event_id, follow=follow),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def resume_from(header: str | None, query: int | None) -> int | None:
    """The sequence to resume after: the `Last-Event-ID` header (what EventSource sends), else the query."""
    if header is not None and header.strip().isdigit():
        return int(header.strip())
    return query


@router.get(
    "/events",
    operation_id="events-stream",
    summary="Live stream of the chain events you may see (Server-Sent Events)",
    description=STREAM_DESCRIPTION,
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def events(
    request: Request,
    principal: AnyPrincipal,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    last_event_id: Annotated[
        int | None, Query(ge=0, le=2**63 - 1, description="Resume after this sequence number.")
    ] = None,
    follow: Annotated[bool, Query(description="false: send what is there and end.")] = True,
) -> StreamingResponse:
    return stream_response(request, principal, resume_from(last_event_id_header, last_event_id), follow=follow)
