"""Refusals: state-changing API requests the gateway or the chain refused (403, 409, 422 answers with a
problem `code`), kept in memory for the console's refusals page. A refused transfer leaves nothing on
chain (it reverts), so this is the only record of what the rulebook is blocking and how often."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
REFUSED = {403, 409, 422}


@dataclass(frozen=True)
class Refusal:
    at: float
    principal: str | None
    method: str
    path: str
    status: int
    code: str
    detail: str


class RefusalLog:
    def __init__(self, capacity: int = 100_000) -> None:
        self._records: deque[Refusal] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def record(self, refusal: Refusal) -> None:
        with self._lock:
            self._records.append(refusal)

    def all(self) -> list[Refusal]:
        with self._lock:
            return list(self._records)


class RefusalMiddleware:
    """Records the refused state-changing requests (their problem's code and sentence) in a `RefusalLog`."""

    def __init__(self, app: ASGIApp, log: RefusalLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        status = 0
        problem = False
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, problem
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = dict(message.get("headers", []))
                problem = headers.get(b"content-type", b"").startswith(b"application/problem+json")
            elif message["type"] == "http.response.body" and problem and status in REFUSED:
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if not problem or status not in REFUSED:
            return
        try:
            body = json.loads(b"".join(chunks) or b"null")
        except ValueError:
            return
        if not isinstance(body, dict) or not isinstance(body.get("code"), str):
            return
        principal = scope.get("state", {}).get("principal")
        self.log.record(
            Refusal(
                at=time.time(),
                principal=getattr(principal, "key", None),
                method=scope["method"],
                path=scope["path"],
                status=status,
                code=body["code"],
                detail=str(body.get("detail", "")),
            )
        )
