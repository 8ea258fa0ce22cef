"""`Idempotency-Key`: a retry (also after a restart) returns the first answer and sends nothing; concurrent
duplicates send one transaction; a key reused for another request is refused; keys are per principal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sandbox.market import Market
from sandbox_gateway.app import create_app
from sandbox_gateway.deps import AnyPrincipal
from sandbox_gateway.idempotency import DATABASE_FILE, IdempotencyStore
from sandbox_gateway.problems import install_problem_handlers
from sandbox_gateway.settings import Settings
from tests.api.conftest import bearer

SYMBOL = "THAMES28"
PROBLEM = "application/problem+json"


def _transfer(
    client: TestClient, key: str, api_key: str, to: str, amount: int = 3, idempotency_key: str | None = None
) -> httpx.Response:
    headers = bearer(api_key)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return client.post(f"/securities/{SYMBOL}/transfers", json={"to": to, "amount": amount}, headers=headers)


def _balances(market: Market) -> tuple[int, int]:
    token = market.security(SYMBOL)
    return token.balance_of(market.accounts["alice"]), token.balance_of(market.accounts["bob"])


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code


@pytest.fixture
def gateway(market: Market, tmp_path: Path) -> Iterator[TestClient]:
    """A gateway keeping its idempotency records in a data directory."""
    with TestClient(create_app(Settings(data_dir=tmp_path), market=market)) as client:
        yield client


def test_a_retry_returns_the_first_answer_and_sends_nothing(
    gateway: TestClient, market: Market, keys: dict[str, str]
) -> None:
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    before = _balances(market)
    first = _transfer(gateway, "alice", keys["alice"], bob, idempotency_key="pay-bob-1")
    assert first.status_code == 201, first.text
    head = market.chain.block_number()
    retry = _transfer(gateway, "alice", keys["alice"], bob, idempotency_key="pay-bob-1")
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert retry.json() == first.json()
    assert market.chain.block_number() == head  # nothing was sent
    assert _balances(market) == (before[0] - 3, before[1] + 3)
    assert first.json()["from"] == alice


def test_a_refusal_is_remembered_too(gateway: TestClient, market: Market, keys: dict[str, str]) -> None:
    """A transaction the chain refused was mined (its nonce is spent): its answer is the first result."""
    stranger = "0x000000000000000000000000000000000000dEaD"
    first = _transfer(gateway, "alice", keys["alice"], stranger, idempotency_key="to-nobody")
    assert first.status_code == 409, first.text
    head = market.chain.block_number()
    retry = _transfer(gateway, "alice", keys["alice"], stranger, idempotency_key="to-nobody")
    assert retry.status_code == 409
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert market.chain.block_number() == head


def test_a_retry_after_a_restart_returns_the_first_answer(market: Market, keys: dict[str, str], tmp_path: Path) -> None:
    bob = market.accounts["bob"]
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings, market=market)) as first_gateway:
        first = _transfer(first_gateway, "alice", keys["alice"], bob, idempotency_key="survives")
    assert first.status_code == 201, first.text
    assert (tmp_path / DATABASE_FILE).is_file()
    head, balances = market.chain.block_number(), _balances(market)
    # A new app over the same chain and data directory: a new process as far as the records go.
    with TestClient(create_app(settings, market=market)) as restarted:
        retry = _transfer(restarted, "alice", keys["alice"], bob, idempotency_key="survives")
        assert retry.status_code == 201
        assert retry.json() == first.json()
        assert retry.headers["idempotent-replayed"] == "true"
        # and the key still refuses another request after the restart
        _problem(_transfer(restarted, "alice", keys["alice"], bob, 4, "survives"), 422, "IDEMPOTENCY_KEY_REUSED")
    assert market.chain.block_number() == head
    assert _balances(market) == balances


def test_without_a_data_directory_records_live_with_the_app(market: Market, keys: dict[str, str]) -> None:
    app = create_app(Settings(), market=market)
    bob = market.accounts["bob"]
    with TestClient(app) as client:
        first = _transfer(client, "alice", keys["alice"], bob, idempotency_key="in-memory")
        head = market.chain.block_number()
    with TestClient(app) as client:  # the same app, started again
        retry = _transfer(client, "alice", keys["alice"], bob, idempotency_key="in-memory")
    assert retry.json() == first.json()
    assert market.chain.block_number() == head


def test_the_same_key_for_a_different_request_is_refused(
    gateway: TestClient, market: Market, keys: dict[str, str]
) -> None:
    bob, carol = market.accounts["bob"], market.accounts["carol"]
    assert _transfer(gateway, "alice", keys["alice"], bob, 3, "once").status_code == 201
    head, balances = market.chain.block_number(), _balances(market)
    _problem(_transfer(gateway, "alice", keys["alice"], bob, 4, "once"), 422, "IDEMPOTENCY_KEY_REUSED")
    _problem(_transfer(gateway, "alice", keys["alice"], carol, 3, "once"), 422, "IDEMPOTENCY_KEY_REUSED")
    assert market.chain.block_number() == head
    assert _balances(market) == balances


def test_keys_are_scoped_per_principal(gateway: TestClient, market: Market, keys: dict[str, str]) -> None:
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    before = _balances(market)
    head = market.chain.block_number()
    a = _transfer(gateway, "alice", keys["alice"], bob, 5, "shared-key")
    b = _transfer(gateway, "bob", keys["bob"], alice, 2, "shared-key")
    assert a.status_code == b.status_code == 201
    assert "idempotent-replayed" not in b.headers
    assert market.chain.block_number() == head + 2
    assert _balances(market) == (before[0] - 5 + 2, before[1] + 5 - 2)


def test_an_invalid_key_is_refused(gateway: TestClient, market: Market, keys: dict[str, str]) -> None:
    head = market.chain.block_number()
    response = _transfer(gateway, "alice", keys["alice"], market.accounts["bob"], 1, "k" * 256)
    _problem(response, 422, "IDEMPOTENCY_KEY_INVALID")
    assert market.chain.block_number() == head


def test_unauthenticated_requests_are_not_remembered(gateway: TestClient, market: Market) -> None:
    response = _transfer(gateway, "x", "not-a-key", market.accounts["bob"], 1, "k1")
    _problem(response, 401, "INVALID_API_KEY")


async def _concurrent_duplicates(app: FastAPI, api_key: str, to: str, copies: int) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        headers = {**bearer(api_key), "Idempotency-Key": "concurrent"}
        return list(
            await asyncio.gather(
                *(
                    client.post(f"/securities/{SYMBOL}/transfers", json={"to": to, "amount": 7}, headers=headers)
                    for _ in range(copies)
                )
            )
        )


def test_concurrent_duplicates_send_one_transaction(market: Market, keys: dict[str, str], tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path), market=market)
    before, head = _balances(market), market.chain.block_number()
    responses = asyncio.run(_concurrent_duplicates(app, keys["alice"], market.accounts["bob"], 4))
    assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 3
    assert len({r.json()["tx_hash"] for r in responses}) == 1
    assert market.chain.block_number() == head + 1
    assert _balances(market) == (before[0] - 7, before[1] + 7)


def test_a_duplicate_of_a_request_still_running_elsewhere_gets_409(
    market: Market, keys: dict[str, str], tmp_path: Path
) -> None:
    """A key claimed by another gateway process sharing the data directory, not answered within the
    wait: 409, and nothing sent."""
    other_process = IdempotencyStore.open(tmp_path)
    settings = Settings(data_dir=tmp_path, idempotency_wait_seconds=0.2)
    bob = market.accounts["bob"]
    with TestClient(create_app(settings, market=market)) as client:
        # What the other process claimed: exactly this request (same fingerprint), still running.
        body: dict[str, Any] = {"to": bob, "amount": 3}
        request = client.build_request(
            "POST", f"/securities/{SYMBOL}/transfers", json=body, headers=bearer(keys["alice"])
        )
        store: IdempotencyStore = client.app.state.idempotency  # type: ignore[attr-defined]
        assert store.instance != other_process.instance
        fingerprint = _fingerprint(request)
        assert other_process.claim("alice", "elsewhere", fingerprint) is None
        head = market.chain.block_number()
        _problem(_transfer(client, "alice", keys["alice"], bob, 3, "elsewhere"), 409, "IDEMPOTENCY_IN_PROGRESS")
        assert market.chain.block_number() == head
    other_process.close()


def _fingerprint(request: httpx.Request) -> str:
    import hashlib

    return hashlib.sha256(
        json.dumps([request.method, request.url.path, request.url.query.decode("latin-1")]).encode()
        + b"\n"
        + request.content
    ).hexdigest()


def test_a_claim_interrupted_by_a_stop_is_not_run_again(market: Market, keys: dict[str, str], tmp_path: Path) -> None:
    """A gateway stopped mid-request leaves a claim with no answer: its outcome is unknown, so a retry
    is refused (409) rather than risk a second transaction."""
    crashed = IdempotencyStore.open(tmp_path)
    bob = market.accounts["bob"]
    settings = Settings(data_dir=tmp_path, idempotency_wait_seconds=0.05)
    with TestClient(create_app(settings, market=market)) as client:
        request = client.build_request(
            "POST", f"/securities/{SYMBOL}/transfers", json={"to": bob, "amount": 3}, headers=bearer(keys["alice"])
        )
        assert crashed.claim("alice", "interrupted", _fingerprint(request)) is None
        crashed.close()
        head = market.chain.block_number()
        response = _transfer(client, "alice", keys["alice"], bob, 3, "interrupted")
        _problem(response, 409, "IDEMPOTENCY_IN_PROGRESS")
        assert market.chain.block_number() == head


def test_records_are_purged_after_the_retention(tmp_path: Path) -> None:
    store = IdempotencyStore.open(tmp_path)
    assert store.claim("alice", "old", "f" * 64) is None
    assert store.purge(older_than=0) == 0
    assert store.get("alice", "old") is not None
    assert store.purge(older_than=10**12) == 1
    assert store.get("alice", "old") is None
    store.close()


# ---------------------------------------------------------------- incomplete bodies (issue 10, item 8)


def _asgi(
    app: FastAPI, method: str, path: str, headers: list[tuple[str, str]], chunks: list[bytes], *, disconnect: bool
) -> list[dict[str, Any]]:
    """One request straight through the ASGI app, the body arriving in `chunks` (as a server hands it
    on), followed by the client disconnecting (`disconnect`) or by the end of the body. Returns what
    the app sent."""
    incoming: list[dict[str, Any]] = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    if not disconnect:
        incoming[-1]["more_body"] = False
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("gateway", 80),
        "app": app,
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return sent


def _status(sent: list[dict[str, Any]]) -> int | None:
    return next((int(m["status"]) for m in sent if m["type"] == "http.response.start"), None)


@pytest.mark.parametrize("disconnect", [True, False], ids=["client-disconnects", "body-shorter-than-length"])
def test_an_upload_cut_short_runs_nothing_and_leaves_the_key_free(
    market: Market, keys: dict[str, str], tmp_path: Path, disconnect: bool
) -> None:
    """A client that goes away mid-upload (or sends less than its Content-Length) burns nothing: the
    truncated body is not run, nothing is stored under the key, and the full retry runs (once)."""
    app = create_app(Settings(data_dir=tmp_path), market=market)
    store: IdempotencyStore = app.state.idempotency
    bob = market.accounts["bob"]
    body = json.dumps({"to": bob, "amount": 3}).encode()
    headers = [
        ("authorization", f"Bearer {keys['alice']}"),
        ("content-type", "application/json"),
        ("content-length", str(len(body))),
        ("idempotency-key", "cut-short"),
    ]
    before, head = _balances(market), market.chain.block_number()
    sent = _asgi(
        app, "POST", f"/securities/{SYMBOL}/transfers", headers, [body[: len(body) // 2]], disconnect=disconnect
    )
    if disconnect:
        assert sent == []  # nobody left to answer
    else:
        assert _status(sent) == 400
        assert json.loads(b"".join(m.get("body", b"") for m in sent))["code"] == "REQUEST_BODY_INCOMPLETE"
    assert store.get("alice", "cut-short") is None
    assert market.chain.block_number() == head
    with TestClient(app) as client:
        retry = _transfer(client, "alice", keys["alice"], bob, 3, "cut-short")
        assert retry.status_code == 201, retry.text
        assert "idempotent-replayed" not in retry.headers
        again = _transfer(client, "alice", keys["alice"], bob, 3, "cut-short")
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == retry.json()
    assert market.chain.block_number() == head + 1  # exactly one transaction
    assert _balances(market) == (before[0] - 3, before[1] + 3)


def test_an_answer_is_stored_before_it_is_sent(market: Market, keys: dict[str, str], tmp_path: Path) -> None:
    """By the time the first byte of the answer leaves the gateway, the record is committed: the store
    is read from the `send` the answer's start goes through."""
    app = create_app(Settings(data_dir=tmp_path), market=market)
    other_process = IdempotencyStore.open(tmp_path)  # reads what is committed, as a restart would
    body = json.dumps({"to": market.accounts["bob"], "amount": 2}).encode()
    headers = [
        ("authorization", f"Bearer {keys['alice']}"),
        ("content-type", "application/json"),
        ("content-length", str(len(body))),
        ("idempotency-key", "stored-first"),
    ]
    seen_at_start: list[Any] = []
    incoming = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen_at_start.append(other_process.get("alice", "stored-first"))

    path = f"/securities/{SYMBOL}/transfers"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("gateway", 80),
        "app": app,
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    (claim,) = seen_at_start
    assert claim is not None and claim.response is not None
    assert claim.response.status == 201
    other_process.close()


# ---------------------------------------------------------------- duplicate credentials (issue 10, item 8)


def _send_raw_headers(
    client: TestClient, method: str, path: str, headers: list[tuple[str, str]], payload: Any = None
) -> httpx.Response:
    """Sends `headers` exactly as given, repeated names included, straight through the app (an HTTP
    client merges repeated headers into one comma-joined value)."""
    body = b"" if payload is None else json.dumps(payload).encode()
    extra = [("content-type", "application/json"), ("content-length", str(len(body)))] if payload is not None else []
    sent = _asgi(client.app, method, path, [*headers, *extra], [body], disconnect=False)  # type: ignore[arg-type]
    status = _status(sent)
    assert status is not None
    start = next(m for m in sent if m["type"] == "http.response.start")
    return httpx.Response(
        status,
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]],
        content=b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
    )


def test_two_authorization_headers_are_refused_before_anything_runs(
    gateway: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """Two Authorization headers used to run as one principal (the route reads the first) and be
    remembered under the other (the middleware read the last): refused, nothing sent, nothing stored."""
    bob = market.accounts["bob"]
    store: IdempotencyStore = gateway.app.state.idempotency  # type: ignore[attr-defined]
    head, balances = market.chain.block_number(), _balances(market)
    for first, second in (("alice", "bob"), ("bob", "alice"), ("alice", "alice")):
        for idempotency_key in ("two-keys", None):
            headers = [("Authorization", f"Bearer {keys[first]}"), ("Authorization", f"Bearer {keys[second]}")]
            if idempotency_key is not None:
                headers.append(("Idempotency-Key", idempotency_key))
            response = _send_raw_headers(
                gateway, "POST", f"/securities/{SYMBOL}/transfers", headers, payload={"to": bob, "amount": 1}
            )
            _problem(response, 400, "AMBIGUOUS_CREDENTIALS")
    # reads too: every route
    headers = [("Authorization", f"Bearer {keys['alice']}"), ("Authorization", "Bearer nonsense")]
    _problem(_send_raw_headers(gateway, "GET", f"/securities/{SYMBOL}", headers), 400, "AMBIGUOUS_CREDENTIALS")
    assert market.chain.block_number() == head
    assert _balances(market) == balances
    assert store.get("alice", "two-keys") is None and store.get("bob", "two-keys") is None
    # and the key is still free for a proper request
    response = _transfer(gateway, "alice", keys["alice"], bob, 1, "two-keys")
    assert response.status_code == 201 and "idempotent-replayed" not in response.headers


def test_two_idempotency_keys_are_refused(gateway: TestClient, market: Market, keys: dict[str, str]) -> None:
    head = market.chain.block_number()
    headers = [("Authorization", f"Bearer {keys['alice']}"), ("Idempotency-Key", "one"), ("Idempotency-Key", "two")]
    response = _send_raw_headers(
        gateway, "POST", f"/securities/{SYMBOL}/transfers", headers, payload={"to": market.accounts["bob"], "amount": 1}
    )
    _problem(response, 422, "IDEMPOTENCY_KEY_INVALID")
    assert market.chain.block_number() == head


def test_the_principal_dependency_refuses_two_authorization_headers(gateway: TestClient, keys: dict[str, str]) -> None:
    """`get_principal` refuses too, so a route is covered whatever middleware it sits behind."""
    app = FastAPI()
    install_problem_handlers(app)
    app.state.principals = gateway.app.state.principals  # type: ignore[attr-defined]

    @app.get("/whoami")
    async def whoami(principal: AnyPrincipal) -> dict[str, str]:
        return {"key": principal.key}

    with TestClient(app) as client:
        assert client.get("/whoami", headers=bearer(keys["alice"])).json() == {"key": "alice"}
        headers = [("Authorization", f"Bearer {keys['alice']}"), ("Authorization", f"Bearer {keys['bob']}")]
        _problem(_send_raw_headers(client, "GET", "/whoami", headers), 400, "AMBIGUOUS_CREDENTIALS")
