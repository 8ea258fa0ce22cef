"""The gateway's own audit trail: every request that changed state (who, what, when, tx hash).

On-chain actions are also in the chain's events (and the read model); this log adds who asked the
gateway, through which route, and what it answered. Kept in memory, bounded."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: POST routes that only read (they take a body, but change nothing).
READ_ONLY_OPERATIONS = {"transfers-precheck"}


@dataclass(frozen=True)
class GatewayRequestRecord:
    sequence: int
    at: float
    principal: str | None
    role: str | None
    method: str
    path: str
    status: int
    tx_hash: str | None


class GatewayAuditLog:
    def __init__(self, capacity: int = 100_000) -> None:
        self._records: deque[GatewayRequestRecord] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._sequence = 0

    def record(self, **fields: object) -> None:
        with self._lock:
            self._sequence += 1
            self._records.append(GatewayRequestRecord(sequence=self._sequence, at=time.time(), **fields))  # type: ignore[arg-type]

    def all(self) -> list[GatewayRequestRecord]:
        with self._lock:
            return list(self._records)

    def as_dicts(self) -> list[dict[str, object]]:
        return [asdict(r) for r in self.all()]


class AuditMiddleware:
    """Records successful state-changing requests (status < 400) in the app's `GatewayAuditLog`."""

    def __init__(self, app: ASGIApp, log: GatewayAuditLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        status = 500
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if status >= 400 or getattr(scope.get("route"), "operation_id", None) in READ_ONLY_OPERATIONS:
            return
        principal = scope.get("state", {}).get("principal")
        tx_hash = None
        try:
            body = json.loads(b"".join(chunks) or b"null")
            if isinstance(body, dict) and isinstance(body.get("tx_hash"), str):
                tx_hash = body["tx_hash"]
        except ValueError:
            pass
        self.log.record(
            principal=getattr(principal, "key", None),
            role=getattr(getattr(principal, "role", None), "value", None),
            method=scope["method"],
            path=scope["path"],
            status=status,
            tx_hash=tx_hash,
        )
