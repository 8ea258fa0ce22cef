"""`Idempotency-Key`: a retry (also after a restart) returns the first answer and sends nothing; concurrent
duplicates send one transaction; a key reused for another request is refused; keys are per principal."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.idempotency import DATABASE_FILE, IdempotencyStore
from api.settings import Settings
from sandbox.market import Market
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
    import json

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
