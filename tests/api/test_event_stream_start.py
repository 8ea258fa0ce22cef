"""A live event stream starts where it was when its response began: an event made after the client saw the
stream open (EventSource's `open`, the console's "live") is sent on it.

The stream used to fix its starting point (the read model's newest event, the newest refusal) inside the
response body, after the status line and headers had gone out: a client that saw the stream open and then
acted could have its own event counted as "before the stream" and never sent. On a busy machine that is what
the console's browser tests did (the FCA's page saw "live", the SEC approved through the API, the page never
heard of it). The gateway runs under uvicorn on a socket bound by the test (port 0)."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.market import Market
from sandbox_gateway.app import create_app
from sandbox_gateway.routers.events import EventIds
from sandbox_gateway.settings import Settings
from tests.api.conftest import bearer
from tests.api.live_gateway import LiveGateway

#: Generous deadlines for a busy machine (they bound a wait; nothing asserts on how long anything took).
TIMEOUT = 120.0
#: How long the stream is given to answer while its starting point cannot be fixed: the old gateway answered
#: at once; the fixed one does not answer until the test lets it (this only bounds the wait).
HELD = 5.0


@pytest.fixture
def served(market: Market) -> Iterator[LiveGateway]:
    with LiveGateway(create_app(Settings(), market=market)) as gateway:
        yield gateway


class Listener(threading.Thread):
    """Reads the stream: sets `opened` when its response begins, puts each event's (name, data) on `events`;
    `close` ends it (the server sees its client leave)."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.opened = threading.Event()
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._client = httpx.Client(timeout=httpx.Timeout(TIMEOUT))

    def run(self) -> None:
        try:
            with self._client.stream("GET", f"{self.url}/events", headers=bearer(self.key)) as response:
                assert response.status_code == 200
                self.opened.set()
                name = ""
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        name = line.removeprefix("event: ")
                    elif line.startswith("data: "):
                        self.events.put((name, json.loads(line.removeprefix("data: "))))
        except BaseException as exc:  # handed to the test (or the end of a closed stream)
            self.events.put(("error", exc))

    def close(self) -> None:
        self._client.close()
        self.join(TIMEOUT)


def test_an_event_made_after_the_stream_opened_is_sent(
    served: LiveGateway, market: Market, keys: dict[str, str]
) -> None:
    token = market.security("THAMES28")
    alice, bob = market.wallet("alice"), market.wallet("bob")
    operator = bearer(keys["operator"])
    # The event ids exist and the read model is caught up (a first, finite pull).
    assert httpx.get(f"{served.url}/events", params={"follow": "false"}, headers=operator, timeout=TIMEOUT).is_success
    ids: EventIds = served.app.state.event_ids
    listener = Listener(served.url, keys["operator"])
    first = None
    try:
        # While the stream cannot read its starting point (the ids' lock is held) it must not look open to its
        # client. If it does (the old gateway), the client acts on it: Alice's transfer, indexed at once.
        with ids._lock:
            listener.start()
            if listener.opened.wait(HELD):
                first = token.transfer(bob, 1, sender=alice).transaction_hash
                served.app.state.fallback_read_side.catch_up()
        assert listener.opened.wait(TIMEOUT), "the stream never opened"
        if first is None:  # the stream opened once it knew where it starts: Alice acts now
            first = token.transfer(bob, 1, sender=alice).transaction_hash
        last = token.transfer(bob, 2, sender=alice).transaction_hash
        seen: list[str] = []
        deadline = time.monotonic() + TIMEOUT
        while last not in seen:
            name, data = listener.events.get(timeout=max(deadline - time.monotonic(), 0.001))
            if name == "error":
                raise data
            seen.append(data["tx_hash"])
    finally:
        listener.close()
    assert first in seen, f"Alice's first transfer, made after the stream opened, was not sent: {seen}"
