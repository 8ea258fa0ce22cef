"""Reads never wait on writes; read-your-writes holds for the caller who wrote (issue 15).

The app serves a SQLite read model with its follower thread running (the lifespan starts it). To make a
read model that lags the chain without any timing, each story holds the read model's indexing lock, as the
follower does while it indexes a long range: nothing can be indexed until the story lets go. A reader who
wrote nothing is answered at once, as of the block the read model holds (and says so); the writer's own
read, and a read naming a block in ``X-Sandbox-Min-Block``, wait for that block and then see the write.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from fastapi.testclient import TestClient

from sandbox.market import Market
from sandbox.readmodel import MarketReadModel, ReadModel
from sandbox_gateway.app import create_app
from sandbox_gateway.settings import Settings
from tests.api.conftest import bearer

#: Generous: the machine may be loaded by other test processes.
WAIT = 120.0


def _followed(
    market: Market, tmp_path: Path, read_after: Literal["gateway", "caller"], acknowledge_indexed_seconds: float = 0.2
) -> Iterator[TestClient]:
    """The stories below hold the indexing lock while they write: a write's acknowledgement waits for the
    indexing only `acknowledge_indexed_seconds` (default 2 s; short here), then reads wait for it instead."""
    model = ReadModel.sqlite(tmp_path / "readmodel.sqlite")
    settings = Settings(read_after=read_after, acknowledge_indexed_seconds=acknowledge_indexed_seconds)
    try:
        with TestClient(create_app(settings, market=market, read_model=model)) as client:
            yield client
    finally:
        model.close()


@pytest.fixture
def followed(market: Market, tmp_path: Path) -> Iterator[TestClient]:
    """A gateway over `market` with a SQLite read model and its follower thread (the app's lifespan), whose
    reads reflect only their caller's own writes (``SANDBOX_READ_AFTER=caller``)."""
    yield from _followed(market, tmp_path, "caller")


@pytest.fixture
def followed_by_default(market: Market, tmp_path: Path) -> Iterator[TestClient]:
    """The same with the default scope: reads reflect every write the gateway acknowledged before them."""
    yield from _followed(market, tmp_path, Settings().read_after)


@pytest.fixture
def gateway_as_served(market: Market, tmp_path: Path) -> Iterator[TestClient]:
    """The gateway as `sandbox serve` runs it, but with the acknowledgement's bound on the wait for the
    indexing (default 2 s) raised to its maximum, so that a loaded machine cannot make the story depend on
    how fast the follower is."""
    yield from _followed(market, tmp_path, Settings().read_after, 60.0)


def _live(client: TestClient) -> MarketReadModel:
    live = client.app.state.read_side  # type: ignore[attr-defined]
    assert isinstance(live, MarketReadModel) and live._thread is not None and live._thread.is_alive()
    return live


def _in_thread(call: Callable[[], httpx.Response]) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    thread.start()
    return thread, answers


def _caught_up(client: TestClient, market: Market, key: str) -> int:
    """Waits (by asking for it) until the read model holds the chain's head; returns it."""
    head = market.chain.block_number()
    answer = client.get("/securities/THAMES28/positions", headers={**bearer(key), "X-Sandbox-Min-Block": str(head)})
    assert answer.status_code == 200, answer.text
    assert int(answer.headers["X-Sandbox-Indexed-Block"]) >= head
    return head


def _balances(body: dict[str, Any]) -> dict[str, int]:
    return {p["wallet"]: p["balance"] for p in body["items"]}


def test_a_stale_reader_is_answered_at_once_and_told_which_block_while_the_writer_sees_its_write(
    followed: TestClient, market: Market, keys: dict[str, str]
) -> None:
    live = _live(followed)
    before = _caught_up(followed, market, keys["fca"])
    bob = market.accounts["bob"]
    bob_had = market.security("THAMES28").balance_of(bob)
    with live._lock:  # the read model can index nothing more until the end of this block
        sent = followed.post(
            "/securities/THAMES28/transfers", json={"to": bob, "amount": 7}, headers=bearer(keys["alice"])
        )
        assert sent.status_code == 201, sent.text
        written = sent.json()["block_number"]
        assert written > before

        # The FCA wrote nothing: it is answered from the read model as it is, without waiting for the write.
        reader, stale = _in_thread(lambda: followed.get("/securities/THAMES28/positions", headers=bearer(keys["fca"])))
        reader.join(WAIT)
        assert not reader.is_alive(), "a reader who wrote nothing waited for someone else's write"
        (answer,) = stale
        assert answer.status_code == 200, answer.text
        assert answer.json()["block_number"] == before < written
        assert int(answer.headers["X-Sandbox-Indexed-Block"]) == before
        assert _balances(answer.json())[bob] == bob_had

        # Alice reads her own write: her read waits until the read model holds its block.
        own, mine = _in_thread(
            lambda: followed.get(f"/investors/{market.accounts['alice']}/positions", headers=bearer(keys["alice"]))
        )
        # So does a reader naming the write's block (as a client told of it by the writer would).
        named, theirs = _in_thread(
            lambda: followed.get(
                "/securities/THAMES28/positions",
                headers={**bearer(keys["thames"]), "X-Sandbox-Min-Block": str(written)},
            )
        )
    own.join(WAIT)
    named.join(WAIT)
    assert not own.is_alive() and not named.is_alive()
    (answer,) = mine
    assert answer.status_code == 200, answer.text
    assert int(answer.headers["X-Sandbox-Indexed-Block"]) >= written
    held = {p["security"]: p["balance"] for p in answer.json()["items"]}
    assert held["THAMES28"] == market.security("THAMES28").balance_of(market.accounts["alice"])
    (answer,) = theirs
    assert answer.status_code == 200, answer.text
    assert answer.json()["block_number"] >= written
    assert _balances(answer.json())[bob] == bob_had + 7


def test_the_writer_reads_its_write_at_once_with_no_other_reader_in_between(
    followed: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """Write then read, one after the other, as an integration test or a script does: no sleep, no retry."""
    bob = market.accounts["bob"]
    for amount in (1, 2, 3):
        sent = followed.post(
            "/securities/THAMES28/transfers", json={"to": bob, "amount": amount}, headers=bearer(keys["alice"])
        )
        assert sent.status_code == 201, sent.text
        cap = followed.get("/securities/THAMES28/cap-table", headers=bearer(keys["thames"]))
        # the issuer did not write: its answer may be older, but never newer than the chain
        assert cap.status_code == 200 and cap.json()["block_number"] <= market.chain.block_number()
        mine = followed.get(f"/investors/{market.accounts['alice']}/positions", headers=bearer(keys["alice"]))
        assert mine.status_code == 200, mine.text
        assert int(mine.headers["X-Sandbox-Indexed-Block"]) >= sent.json()["block_number"]
        held = {p["security"]: p["balance"] for p in mine.json()["items"]}
        assert held["THAMES28"] == market.security("THAMES28").balance_of(market.accounts["alice"])


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("soon", "MIN_BLOCK_INVALID"),
        ("-1", "MIN_BLOCK_INVALID"),
        ("1e3", "MIN_BLOCK_INVALID"),
        ("", "MIN_BLOCK_INVALID"),
    ],
)
def test_a_minimum_block_that_is_no_block_number_is_refused(
    followed: TestClient, keys: dict[str, str], value: str, code: str
) -> None:
    answer = followed.get(
        "/securities/THAMES28/positions", headers={**bearer(keys["fca"]), "X-Sandbox-Min-Block": value}
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == code


def test_a_minimum_block_not_mined_yet_is_refused_rather_than_waited_for(
    followed: TestClient, market: Market, keys: dict[str, str]
) -> None:
    head = market.chain.block_number()
    answer = followed.get(
        "/securities/THAMES28/cap-table", headers={**bearer(keys["fca"]), "X-Sandbox-Min-Block": str(head + 1)}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "MIN_BLOCK_NOT_MINED"
    assert str(head) in answer.json()["detail"]
    assert market.chain.block_number() == head  # nothing was sent


def test_a_console_session_starts_from_every_write_acknowledged_before_it_signed_in(
    followed: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """The console's pages read the same way: a session's first page reflects at least the chain's head when
    it signed in, so a supervisor who signs in after an investor's transfer sees it (no reload, no retry)."""
    from tests.api.test_console import post_login

    live = _live(followed)
    bob = market.accounts["bob"]
    with live._lock:  # nothing is indexed until the session's read waits for it
        sent = followed.post(
            "/securities/THAMES28/transfers", json={"to": bob, "amount": 9}, headers=bearer(keys["alice"])
        )
        assert sent.status_code == 201, sent.text

        def supervisor() -> httpx.Response:
            browser = TestClient(
                followed.app
            )  # a cookie jar of its own; no second lifespan (it would stop the follower)
            assert post_login(browser, keys["fca"]).status_code == 303
            return browser.get("/console/securities/THAMES28")

        session, pages = _in_thread(supervisor)
    session.join(WAIT)
    assert not session.is_alive()
    (page,) = pages
    assert page.status_code == 200, page.text[:300]
    assert int(page.headers["X-Sandbox-Indexed-Block"]) >= sent.json()["block_number"]
    row = re.search(rf'<tr data-wallet="{bob}">.*?<td class="num">([^<]+)</td>', page.text)
    assert row is not None
    assert row.group(1) == f"{market.security('THAMES28').balance_of(bob):,}"


def test_a_write_that_answers_with_what_it_wrote_reads_it_back_from_the_read_model(
    followed: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """A request that writes and then reads its own write within the same request (the held transfer it
    requested, with its id) waits for the read model to hold it, however far behind the follower is."""
    live = _live(followed)
    carol = market.accounts["carol"]
    with live._lock:  # the follower indexes nothing until the request is under way
        request, answers = _in_thread(
            lambda: followed.post(
                "/securities/THAMES28/cross-border-transfers",
                json={"to": carol, "amount": 600},
                headers=bearer(keys["alice"]),
            )
        )
    request.join(WAIT)
    assert not request.is_alive()
    (answer,) = answers
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["transfer"]["status"] == "PENDING" and body["transfer"]["amount"] == 600
    listed = followed.get("/cross-border-transfers", params={"status": "PENDING"}, headers=bearer(keys["alice"]))
    assert body["transfer"]["transfer_id"] in [t["transfer_id"] for t in listed.json()["items"]]


def test_by_default_a_read_reflects_every_write_the_gateway_acknowledged_before_it(
    followed_by_default: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """Alice is told her transfer is done; the FCA, who wrote nothing, reads next and sees it: no sleep, no
    retry, no header (what an integration test that writes as one principal and reads as another expects)."""
    live = _live(followed_by_default)
    bob = market.accounts["bob"]
    for amount in (1, 2, 3):
        with live._lock:  # the write is acknowledged while the read model can index nothing
            sent = followed_by_default.post(
                "/securities/THAMES28/transfers", json={"to": bob, "amount": amount}, headers=bearer(keys["alice"])
            )
            assert sent.status_code == 201, sent.text
            reader, answers = _in_thread(
                lambda: followed_by_default.get("/securities/THAMES28/positions", headers=bearer(keys["fca"]))
            )
        reader.join(WAIT)
        assert not reader.is_alive()
        (answer,) = answers
        assert answer.status_code == 200, answer.text
        assert answer.json()["block_number"] >= sent.json()["block_number"]
        assert _balances(answer.json())[bob] == market.security("THAMES28").balance_of(bob)


def test_by_default_a_read_as_of_a_past_block_waits_for_that_block_not_for_newer_writes(
    followed_by_default: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """While Alice's transfer is acknowledged but cannot be indexed, the FCA's positions and cap table as of
    the block the read model holds are answered at once: nothing written after that block belongs in them.
    Its read of "now", by contrast, waits for the transfer and shows it."""
    live = _live(followed_by_default)
    before = _caught_up(followed_by_default, market, keys["fca"])
    bob = market.accounts["bob"]
    bob_had = market.security("THAMES28").balance_of(bob)
    past = {"block": str(before)}
    with live._lock:  # the read model can index nothing more until the end of this block
        sent = followed_by_default.post(
            "/securities/THAMES28/transfers", json={"to": bob, "amount": 5}, headers=bearer(keys["alice"])
        )
        assert sent.status_code == 201, sent.text
        assert sent.json()["block_number"] > before
        reader, answers = _in_thread(
            lambda: followed_by_default.get("/securities/THAMES28/positions", params=past, headers=bearer(keys["fca"]))
        )
        reader.join(WAIT)
        assert not reader.is_alive(), "a read as of a past block waited for a write mined after it"
        tabler, tables = _in_thread(
            lambda: followed_by_default.get("/securities/THAMES28/cap-table", params=past, headers=bearer(keys["fca"]))
        )
        tabler.join(WAIT)
        assert not tabler.is_alive(), "a cap table as of a past block waited for a write mined after it"
        now, nows = _in_thread(
            lambda: followed_by_default.get("/securities/THAMES28/positions", headers=bearer(keys["fca"]))
        )
    (answer,) = answers
    assert answer.status_code == 200, answer.text
    assert answer.json()["block_number"] == before
    assert _balances(answer.json())[bob] == bob_had
    assert int(answer.headers["X-Sandbox-Indexed-Block"]) >= before
    (table,) = tables
    assert table.status_code == 200, table.text
    assert table.json()["block_number"] == before
    assert table.json()["total_supply"] == answer.json()["total_supply"]
    now.join(WAIT)
    assert not now.is_alive()
    (current,) = nows
    assert current.status_code == 200, current.text
    assert current.json()["block_number"] >= sent.json()["block_number"]
    assert _balances(current.json())[bob] == bob_had + 5


def test_a_write_is_acknowledged_once_indexed_so_the_next_reader_waits_for_nothing(
    gateway_as_served: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """The follower is made to gather blocks for a minute between rounds (as if many writers kept it busy).
    Alice's transfer is acknowledged only once the read model holds its block, so the FCA, who reads next,
    finds it there: its read has nothing to wait for. On main the acknowledgement went out at once and the
    read model still lacked the block (the FCA's read then waited for the follower)."""
    live = _live(gateway_as_served)
    _caught_up(gateway_as_served, market, keys["fca"])
    live.batch_seconds = 60.0
    live.poll_seconds = 60.0
    live.written()  # the follower's next round starts now, then it gathers for a minute unless a read waits
    bob = market.accounts["bob"]
    for amount in (1, 2):
        sent = gateway_as_served.post(
            "/securities/THAMES28/transfers", json={"to": bob, "amount": amount}, headers=bearer(keys["alice"])
        )
        assert sent.status_code == 201, sent.text
        written = sent.json()["block_number"]
        assert live.indexed_block() >= written  # indexed before it was acknowledged
        answer = gateway_as_served.get("/securities/THAMES28/positions", headers=bearer(keys["fca"]))
        assert answer.status_code == 200, answer.text
        assert answer.json()["block_number"] >= written
        assert _balances(answer.json())[bob] == market.security("THAMES28").balance_of(bob)
