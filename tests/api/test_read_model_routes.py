"""The gateway over the event-indexed read model answers as the gateway over the chain does.

Two apps serve the same market: one reads positions and cap tables from the chain's logs and state,
the other from a `ReadModel` (SQLite, indexed from scratch for each test). Neither runs its follower
thread here (no lifespan), so every answer of the second comes from its catch-up before reading:
writes acknowledged a moment earlier must be in it (read-your-writes)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sandbox.market import Market
from sandbox.readmodel import ReadModel
from sandbox_gateway.app import create_app
from sandbox_gateway.settings import Settings
from tests.api import test_story as story
from tests.api.conftest import bearer

#: The home regulator and the other one, the issuer of one security (out of scope of the other) and a
#: cash issuer (out of scope of both): every scoping branch.
READERS = ("fca", "sec", "thames", "albion")
INVESTORS = ("alice", "bob", "carol", "dan")


@pytest.fixture
def indexed_client(market: Market, tmp_path: Path) -> Iterator[TestClient]:
    model = ReadModel.sqlite(tmp_path / "readmodel.sqlite")
    try:
        yield TestClient(create_app(Settings(), market=market, read_model=model), raise_server_exceptions=False)
    finally:
        model.close()


def _get(client: TestClient, path: str, key: str, **params: Any) -> Any:
    response = client.get(path, headers=bearer(key), params=params)
    if response.headers["content-type"].startswith("text/csv"):
        rows = list(csv.reader(io.StringIO(response.text)))
        return response.status_code, rows[0] if rows else None, sorted(map(tuple, rows[1:]))
    body = response.json()
    if response.status_code == 200 and "items" in body and path.endswith("/positions") and "total_supply" in body:
        body["items"] = sorted(body["items"], key=lambda p: p["wallet"])  # the read model orders by size
    return response.status_code, body


def _assert_same_answers(
    plain: TestClient, indexed: TestClient, market: Market, keys: dict[str, str], **as_of: int
) -> int:
    """Compares every positions, cap-table (JSON and CSV) and investor-positions answer; returns how many."""
    compared = 0
    for symbol in sorted(market.securities):
        for reader in READERS:
            for path, params in (
                (f"/securities/{symbol}/positions", {}),
                (f"/securities/{symbol}/cap-table", {"format": "csv" if reader == "thames" else "json"}),
            ):
                expected = _get(plain, path, keys[reader], **params, **as_of)
                assert _get(indexed, path, keys[reader], **params, **as_of) == expected, (reader, path, params)
                compared += 1
    for investor in INVESTORS:
        path = f"/investors/{market.accounts[investor]}/positions"
        for reader in ("fca", "sec", investor):
            expected = _get(plain, path, keys[reader], **as_of)
            assert _get(indexed, path, keys[reader], **as_of) == expected, (reader, path)
            compared += 1
    return compared


@pytest.mark.slow
def test_read_model_answers_as_the_chain_now_and_as_of_the_past(
    client: TestClient, indexed_client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    assert _assert_same_answers(client, indexed_client, market, keys) > 20
    loaded = market.chain.block_number()
    loaded_at = market.chain.timestamp()

    # Writes through the indexed gateway, each read back from it at once.
    alice, carol, dan = (market.accounts[k] for k in ("alice", "carol", "dan"))
    bob = market.accounts["bob"]
    moves = [("alice", "THAMES28", bob, 700), ("carol", "THAMES28", dan, 150), ("bob", "THAMES28", alice, 5)]
    for sender, symbol, to, amount in moves:
        sent = indexed_client.post(
            f"/securities/{symbol}/transfers", json={"to": to, "amount": amount}, headers=bearer(keys[sender])
        )
        assert sent.status_code == 201, sent.text
        status, body = _get(indexed_client, f"/securities/{symbol}/positions", keys["operator"])
        assert status == 200 and body["block_number"] == sent.json()["block_number"]
        held = {p["wallet"]: p["balance"] for p in body["items"]}
        assert held[to] == market.security(symbol).balance_of(to)
    frozen = indexed_client.post(
        "/securities/THAMES28/frozen-wallets", json={"wallet": carol}, headers=bearer(keys["fca"])
    )
    assert frozen.status_code == 201, frozen.text
    _, body = _get(indexed_client, "/securities/THAMES28/positions", keys["fca"])
    assert {p["wallet"]: p["frozen"] for p in body["items"]}[carol] is True

    assert _assert_same_answers(client, indexed_client, market, keys) > 20
    assert _assert_same_answers(client, indexed_client, market, keys, block=loaded) > 20
    for path in ("/securities/THAMES28/positions", "/securities/THAMES28/cap-table"):
        expected = _get(client, path, keys["fca"], at=loaded_at)
        assert expected[0] == 200 and _get(indexed_client, path, keys["fca"], at=loaded_at) == expected


def test_errors_are_the_same_on_the_read_model(
    client: TestClient, indexed_client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    head = market.chain.block_number()
    for params in ({"block": head + 5}, {"block": 1, "at": 1}, {"at": 1}):
        for path in ("/securities/THAMES28/positions", "/securities/THAMES28/cap-table"):
            expected = _get(client, path, keys["fca"], **params)
            assert expected[0] == 422
            assert _get(indexed_client, path, keys["fca"], **params) == expected
    assert _get(indexed_client, "/securities/NOPE1/positions", keys["fca"])[0] == 404
    assert _get(indexed_client, "/securities/HUDS/positions", keys["thames"])[0] == 404  # another issuer's


@pytest.mark.slow
def test_the_story_over_the_read_model(indexed_client: TestClient, market: Market, keys: dict[str, str]) -> None:
    """The whole UK-US story (a security created through the gateway, the cap table before and after)."""
    story.test_reg_s_bond_from_issuance_to_freeze(indexed_client, market, keys)


def test_the_follower_keeps_up_while_the_app_runs(market: Market, tmp_path: Path, keys: dict[str, str]) -> None:
    model = ReadModel.sqlite(tmp_path / "readmodel.sqlite")
    try:
        with TestClient(create_app(Settings(), market=market, read_model=model)) as indexed:
            sent = indexed.post(
                "/securities/THAMES28/transfers",
                json={"to": market.accounts["bob"], "amount": 1},
                headers=bearer(keys["alice"]),
            )
            assert sent.status_code == 201, sent.text
            block = sent.json()["block_number"]
            live = indexed.app.state.read_side  # type: ignore[attr-defined]
            assert live is not None and live._thread is not None and live._thread.is_alive()
            deadline = time.monotonic() + 120  # generous: on a busy machine the follower may wait long for a CPU
            while time.monotonic() < deadline:  # the follower indexes it without any read asking
                if (model.last_indexed_block() or -1) >= block:
                    break
                live._stop.wait(0.05)
            assert (model.last_indexed_block() or -1) >= block
        assert live._thread is None  # stopped with the app
    finally:
        model.close()


def test_the_on_chain_audit_trail_names_who_did_what(
    client: TestClient, indexed_client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    carol = market.accounts["carol"]
    frozen = indexed_client.post(
        "/securities/THAMES28/frozen-wallets", json={"wallet": carol}, headers=bearer(keys["fca"])
    )
    assert frozen.status_code == 201, frozen.text
    tx_hash = frozen.json()["tx_hash"]
    # Read-your-writes, on the app's read model and on the throwaway one of an app without a read model.
    for gateway in (indexed_client, client):
        status, body = _get(gateway, "/audit/actions", keys["sec"], event="AddressFrozen", security="THAMES28")
        assert status == 200
        assert [(a["tx_hash"], a["actor"], a["target"], a["security"]) for a in body["items"]] == [
            (tx_hash, market.accounts["fca"], carol, "THAMES28")
        ]
        assert body["items"][0]["arguments"]["isFrozen"] is True
    everything = _get(indexed_client, "/audit/actions", keys["operator"], limit=500)[1]
    assert everything == _get(client, "/audit/actions", keys["operator"], limit=500)[1]
    assert everything["page"]["total"] == len(everything["items"]) > 20  # onboarding, approvals, mints, ...
    assert {"InvestorRegistered", "IssuanceApproved", "AddressFrozen"} <= {a["event"] for a in everything["items"]}
    assert all(
        a["event"] not in ("Transfer", "Approval") or "0x" + "0" * 40 in a["arguments"].values()
        for a in everything["items"]
    )
    second = _get(indexed_client, "/audit/actions", keys["operator"], limit=5, offset=5)[1]
    assert second["items"] == everything["items"][5:10] and second["page"]["next_offset"] == 10
    by_fca = _get(indexed_client, "/audit/actions", keys["fca"], actor=market.accounts["fca"])[1]
    assert {a["actor"] for a in by_fca["items"]} == {market.accounts["fca"]}
    assert _get(indexed_client, "/audit/actions", keys["fca"], security="NOPE1")[0] == 404
    # An issuer sees its securities' actions only; investors see none.
    by_thames = _get(indexed_client, "/audit/actions", keys["thames"], limit=500)[1]["items"]
    assert by_thames and {a["security"] for a in by_thames} <= {"THAMES28", None}
    assert _get(indexed_client, "/audit/actions", keys["alice"])[0] == 403


def test_audit_block_bounds_stay_within_what_databases_store(indexed_client: TestClient, keys: dict[str, str]) -> None:
    # Found by schemathesis: 2**63 does not fit SQLite's INTEGER; the bound is 2**63 - 1.
    status, body = _get(indexed_client, "/audit/actions", keys["operator"], from_block=2**63 - 1)
    assert status == 200 and body["items"] == []
    assert _get(indexed_client, "/audit/actions", keys["operator"], to_block=2**63)[0] == 422
