"""Refusals: state-changing requests the gateway or the chain refused (403, 409, 422 answers with a problem
`code`), kept by the gateway (`ConsoleStore`, persisted with the data directory) for the console's refusals
page and the event stream. A refused transfer leaves nothing on chain (it reverts), so this is the only record
of what the rulebook is blocking and how often.

Each refusal keeps what its scope is decided by: the security its path names and every address the request
named (path segments, the JSON or form body) with the author's own wallets. A principal sees a refusal as it
sees the on-chain actions (`sandbox_gateway.scope.ActionScope`): the operator all; a regulator those of a
security whose home is its jurisdiction or that name an investor of its jurisdiction; an issuer those of its
securities; every author its own."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from eth_utils import to_checksum_address
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.market import Market
from sandbox.rules import Jurisdiction
from sandbox_gateway.console.store import ConsoleStore, Refusal
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.scope import ActionScope, own_wallets, sees_investor

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
REFUSED = {403, 409, 422}
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
#: The most addresses kept of one request (a payment run names up to 200).
MAX_PARTIES = 250


def _addresses(value: Any, found: list[str]) -> None:
    if isinstance(value, str):
        if _ADDRESS.fullmatch(value):
            found.append(to_checksum_address(value))
    elif isinstance(value, Mapping):
        for item in value.values():
            _addresses(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _addresses(item, found)


def subjects(market: Market, principal: Principal | None, path: str, body: Any) -> tuple[str | None, list[str]]:
    """(security, parties) of a request: the symbol its path names (if a security of the market) and the
    addresses in its path and body, with the author's own wallets (a refused transfer's sender)."""
    parts = path.strip("/").split("/")
    if parts and parts[0] == "console":
        parts = parts[1:]
    security = None
    if len(parts) >= 2 and parts[0] in ("securities", "issuer", "inbox") and parts[1] in market.securities:
        security = parts[1]
    found: list[str] = []
    _addresses([p for p in parts if _ADDRESS.fullmatch(p)], found)
    _addresses(body, found)
    if principal is not None and principal.role is Role.INVESTOR:
        found.extend(own_wallets(principal, market))
    return security, list(dict.fromkeys(found))[:MAX_PARTIES]


def record(
    store: ConsoleStore,
    market: Market,
    principal: Principal | None,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
    detail: str,
) -> int:
    security, parties = subjects(market, principal, path, body)
    return store.record_refusal(
        principal=principal.key if principal is not None else None,
        method=method,
        path=path,
        status=status,
        code=code,
        detail=detail,
        security=security,
        parties=parties,
    )


class RefusalScope:
    """Which refusals a principal sees (see the module's docstring). Registry reads are cached for as long as
    this lives (one page, or one stream's batch)."""

    def __init__(self, principal: Principal, market: Market) -> None:
        self.principal = principal
        self.market = market
        self._actions = ActionScope(principal, market)

    def sees(self, refusal: Refusal) -> bool:
        principal, market = self.principal, self.market
        if principal.role is Role.OPERATOR or refusal.principal == principal.key:
            return True
        if principal.role is Role.INVESTOR:
            return False
        if refusal.security is not None and refusal.security in market.securities:
            contract = market.securities[refusal.security].address
            return self._actions.sees(contract, None, {str(i): p for i, p in enumerate(refusal.parties)})
        if principal.role is Role.REGULATOR:
            return any(self._investor_in_remit(p) for p in refusal.parties)
        return False

    def _investor_in_remit(self, address: str) -> bool:
        record = self.market.registry.wallet_record(address)
        if record.identity is None:
            return False
        return sees_investor(self.principal, record.identity, Jurisdiction(record.jurisdiction).name)

    def visible(self, refusals: Iterable[Refusal]) -> list[Refusal]:
        return [r for r in refusals if self.sees(r)]


class RefusalMiddleware:
    """Records the refused state-changing API requests (their problem's code and sentence, and what they named)
    in the `ConsoleStore`. The console's own forms record their refusals themselves (they answer with pages)."""

    def __init__(self, app: ASGIApp, store: ConsoleStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING or scope["path"].startswith("/console/"):
            await self.app(scope, receive, send)
            return
        status = 0
        problem = False
        chunks: list[bytes] = []
        request_body: list[bytes] = []

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_body.append(message.get("body", b""))
            return message

        async def capture(message: Message) -> None:
            nonlocal status, problem
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = dict(message.get("headers", []))
                problem = headers.get(b"content-type", b"").startswith(b"application/problem+json")
            elif message["type"] == "http.response.body" and problem and status in REFUSED:
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receiving, capture)
        if not problem or status not in REFUSED:
            return
        try:
            answer = json.loads(b"".join(chunks) or b"null")
        except ValueError:
            return
        if not isinstance(answer, dict) or not isinstance(answer.get("code"), str):
            return
        try:
            body = json.loads(b"".join(request_body) or b"null")
        except ValueError:
            body = None
        principal = scope.get("state", {}).get("principal")
        market = scope["app"].state.market
        record(
            self.store,
            market,
            principal if isinstance(principal, Principal) else None,
            scope["method"],
            scope["path"],
            body,
            status,
            answer["code"],
            str(answer.get("detail", "")),
        )
