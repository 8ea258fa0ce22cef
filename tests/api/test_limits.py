"""`sandbox_gateway.limits.RequestLimits` as an ASGI middleware, driven message by message: what reaches the app,
what is read of a refused body, and the depth scan."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sandbox.market import Market
from sandbox_gateway.app import create_app
from sandbox_gateway.limits import RequestLimits, json_depth
from sandbox_gateway.settings import Settings
from tests.api.conftest import bearer


class App:
    """An inner app that records the body it was handed."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _run(
    middleware: RequestLimits, messages: list[dict[str, Any]], headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Runs one request; returns what was sent back and how many messages the middleware received."""
    sent: list[dict[str, Any]] = []
    queue = list(messages)
    taken = 0

    async def receive() -> dict[str, Any]:
        nonlocal taken
        taken += 1
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": headers or []}
    asyncio.run(middleware(scope, receive, send))
    return sent, taken


def _status(sent: list[dict[str, Any]]) -> int:
    return int(sent[0]["status"])


def _code(sent: list[dict[str, Any]]) -> str:
    return str(json.loads(sent[1]["body"])["code"])


def test_the_app_gets_the_body_as_sent() -> None:
    app = App()
    parts = [b'{"a": "[[[[', b'", "b": [1, 2]}']
    messages = [{"type": "http.request", "body": p, "more_body": i == 0} for i, p in enumerate(parts)]
    sent, _ = _run(RequestLimits(app, max_body=1024, max_depth=2), messages)
    assert _status(sent) == 200
    assert app.bodies == [b"".join(parts)]


def test_a_body_streamed_past_the_cap_is_refused_and_not_read_further() -> None:
    app = App()
    chunk = {"type": "http.request", "body": b"1" * 1000, "more_body": True}
    sent, taken = _run(RequestLimits(app, max_body=2500, max_depth=8), [dict(chunk) for _ in range(100)])
    assert (_status(sent), _code(sent)) == (413, "BODY_TOO_LARGE")
    assert taken == 3  # 3,000 bytes read of the 100,000 offered
    assert app.bodies == []


def test_a_declared_length_past_the_cap_is_refused_unread() -> None:
    app = App()
    headers = [(b"content-length", b"1000000")]
    sent, taken = _run(RequestLimits(app, max_body=1000, max_depth=8), [], headers)
    assert (_status(sent), _code(sent)) == (413, "BODY_TOO_LARGE")
    assert taken == 0
    assert app.bodies == []


@pytest.mark.parametrize("lengths", [[b"abc"], [b"-1"], [b"10", b"11"]])
def test_a_length_that_is_not_one_number_is_refused(lengths: list[bytes]) -> None:
    app = App()
    sent, _ = _run(RequestLimits(app, max_body=1000, max_depth=8), [], [(b"content-length", v) for v in lengths])
    assert (_status(sent), _code(sent)) == (400, "INVALID_CONTENT_LENGTH")
    assert app.bodies == []


def test_a_client_that_leaves_mid_upload_runs_nothing() -> None:
    app = App()
    messages = [{"type": "http.request", "body": b'{"amount": 1', "more_body": True}, {"type": "http.disconnect"}]
    sent, _ = _run(RequestLimits(app, max_body=1000, max_depth=8), messages)
    assert sent == []
    assert app.bodies == []


def test_two_authorization_headers_are_refused_before_the_body_is_read() -> None:
    app = App()
    headers = [(b"authorization", b"Bearer a"), (b"Authorization", b"Bearer b")]
    sent, taken = _run(RequestLimits(app, max_body=1000, max_depth=8), [], headers)
    assert (_status(sent), _code(sent)) == (400, "AMBIGUOUS_CREDENTIALS")
    assert taken == 0


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"7", 0),
        (b"{}", 1),
        (b'[[1], {"a": [2]}]', 3),
        (b'"[[[["', 0),
        (b'["\\"[[[", "]]]"]', 1),
        (b'["\\\\", [[1]]]', 3),
        (b'{"a": "[", "b": {"c": "{"}}', 2),
        (b'"unterminated [[[', 0),
        (b'["a\\', 1),
        (b"[" * 100_000, 100_000),
        ('{"name": "\u00fc[\u00fc"}'.encode(), 1),
    ],
)
def test_depth_counts_brackets_outside_strings(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


def test_a_body_not_in_utf8_is_refused_before_parsing() -> None:
    app = App()
    body = json.dumps(["\u0122", [[[1]]]]).encode("utf-16")
    sent, _ = _run(RequestLimits(app, max_body=1000, max_depth=8), [{"type": "http.request", "body": body}])
    assert (_status(sent), _code(sent)) == (400, "BODY_NOT_UTF8")


def test_the_gateway_takes_its_limits_from_settings(market: Market, keys: dict[str, str]) -> None:
    app = create_app(Settings(max_body_bytes=2048, max_json_depth=8), market=market)
    with TestClient(app) as client:
        holders = {"holders": [market.accounts["alice"]] * 60}  # about 2.7 kB
        too_large = client.post(
            "/securities/HUDS/distributions/1/payments", json=holders, headers=bearer(keys["hudson"])
        )
        assert too_large.status_code == 413
        deep = client.post(
            "/operator/time-travel", json={"seconds": [[[[[[[[[1]]]]]]]]]}, headers=bearer(keys["operator"])
        )
        assert (deep.status_code, deep.json()["code"]) == (400, "BODY_TOO_DEEP")


def test_the_largest_legitimate_bodies_fit_the_defaults(client: TestClient, market: Market) -> None:
    """A payment run for the most holders a request may name, and a JSON-RPC batch of 1,000 calls."""
    settings = Settings()
    holders = json.dumps({"holders": [market.accounts["alice"]] * 200}).encode()
    call = {"to": market.accounts["alice"], "data": "0x70a08231" + "00" * 32}
    batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_call", "params": [call, "latest"]} for i in range(1000)]
    for body in (holders, json.dumps(batch).encode()):
        assert len(body) <= settings.max_body_bytes
        assert json_depth(body) <= settings.max_json_depth
