"""`Idempotency-Key` for every state-changing request: a retry returns the first result and never sends
a second transaction.

The key is scoped to the caller (a digest of its credentials), so two callers cannot collide. A retry
with the same key but a different request is refused (422 `IDEMPOTENCY_KEY_REUSED`); a retry that
arrives while the first is still running waits for it. Results are kept in memory, for the most recent
`capacity` keys; a restart of the gateway forgets them (the chain does not forget the transactions).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import PROBLEM_JSON

HEADER = b"idempotency-key"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY_LENGTH = 255


@dataclass
class _Stored:
    fingerprint: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, capacity: int = 10_000) -> None:
        self.app = app
        self.capacity = capacity
        self._results: OrderedDict[str, _Stored] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(HEADER)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            await _problem(
                send, 422, "IDEMPOTENCY_KEY_INVALID", f"An Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters."
            )
            return
        body = await _read_body(receive)
        caller = hashlib.sha256(headers.get(b"authorization", b"")).hexdigest()
        slot = f"{caller}:{key}"
        fingerprint = hashlib.sha256(
            json.dumps([scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")]).encode()
            + body
        ).hexdigest()
        lock = self._locks.setdefault(slot, asyncio.Lock())
        async with lock:
            stored = self._results.get(slot)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    await _problem(
                        send,
                        422,
                        "IDEMPOTENCY_KEY_REUSED",
                        "This Idempotency-Key was already used for a different request.",
                    )
                    return
                self._results.move_to_end(slot)
                await _replay(send, stored)
                return
            captured: dict[str, object] = {}
            chunks: list[bytes] = []

            async def capture(message: Message) -> None:
                if message["type"] == "http.response.start":
                    captured["status"] = message["status"]
                    captured["headers"] = list(message.get("headers", []))
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))
                await send(message)

            await self.app(scope, _replay_body(body), capture)
            status = int(captured.get("status", 500))  # type: ignore[call-overload]
            # Server errors are not remembered: the request may be retried for real.
            if status < 500:
                self._results[slot] = _Stored(fingerprint, status, captured.get("headers", []), b"".join(chunks))  # type: ignore[arg-type]
                while len(self._results) > self.capacity:
                    old, _ = self._results.popitem(last=False)
                    self._locks.pop(old, None)


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(parts)
        elif message["type"] == "http.disconnect":
            return b"".join(parts)


def _replay_body(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _replay(send: Send, stored: _Stored) -> None:
    headers = MutableHeaders(raw=list(stored.headers))
    headers["idempotent-replayed"] = "true"
    await send({"type": "http.response.start", "status": stored.status, "headers": headers.raw})
    await send({"type": "http.response.body", "body": stored.body})


async def _problem(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps(
        {
            "type": f"https://sandbox.example/problems/{code.lower().replace('_', '-')}",
            "title": "Invalid Idempotency-Key",
            "status": status,
            "detail": detail,
            "code": code,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
