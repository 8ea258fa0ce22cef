"""`sandbox serve --data-dir`: an answered idempotent request survives SIGKILL (issue 10, item 8), and
a transaction's block carries the time it was mined (item 9).

A real `sandbox serve` subprocess on a free loopback port (started and killed as in
tests/test_serve_crash.py, by its PID). The gateway stores an answer before it sends its first byte,
so a client that read as little as the status line of a 201 before the process was SIGKILLed gets
the same 201 replayed after the restart, never 409 ``IDEMPOTENCY_IN_PROGRESS``, and no second
transaction is sent. (Before the fix the answer went out first and the record was written after it:
a kill in between left the key claimed and unanswered.)"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from sandbox.scenario import Scenario
from tests.test_serve_crash import SYMBOL, Server

pytestmark = pytest.mark.slow


def test_a_201_read_before_a_sigkill_is_replayed_after_the_restart(demo_scenario: Scenario, tmp_path: Path) -> None:
    server = Server(tmp_path / "data", tmp_path / "serve.log")
    keys = {i.key: i.api_key for i in demo_scenario.investors if i.api_key}
    as_bob = {"Authorization": f"Bearer {keys['bob']}"}
    as_alice = {"Authorization": f"Bearer {keys['alice']}"}
    server.start()
    try:
        # bob's wallet, as bob sees himself (an investor sees only its own record)
        (bob_record,) = httpx.get(f"{server.url}/investors", headers=as_bob, timeout=60).json()["items"]
        bob = bob_record["wallets"][0]
        transfer = json.dumps({"to": bob, "amount": 3}).encode()  # the same bytes each time
        as_alice["Content-Type"] = "application/json"

        sent_at = time.time()
        status_line, received = _post_and_kill_at_first_line(
            server, f"/securities/{SYMBOL}/transfers", transfer, {**as_alice, "Idempotency-Key": "kill-at-201"}
        )
        assert status_line.startswith(b"HTTP/1.1 201"), status_line

        server.start()
        health = httpx.get(f"{server.url}/health", timeout=30).json()
        retry = httpx.post(
            f"{server.url}/securities/{SYMBOL}/transfers",
            content=transfer,
            headers={**as_alice, "Idempotency-Key": "kill-at-201"},
            timeout=60,
        )
        assert retry.status_code == 201, retry.text
        assert retry.headers["idempotent-replayed"] == "true"
        answer = retry.json()
        assert answer["block_number"] == health["block_number"]  # the transfer is the newest block
        if received.endswith(b"}"):  # the whole first answer arrived before the process died
            assert json.loads(received.partition(b"\r\n\r\n")[2]) == answer
        assert httpx.get(f"{server.url}/health", timeout=30).json()["block_number"] == health["block_number"]
        # Item 9: the block carries the time it was mined, not the time its parent was.
        assert answer["block_timestamp"] >= int(sent_at)

        # Item 9 again, after the restart: never stamped before it was sent. (Not discriminating on its
        # own: seeding mines faster than a block a second, so a fresh sandbox's chain runs some seconds
        # ahead of the wall clock; the dated check with an injected clock is tests/chain/test_block_time.py.)
        sent_at = time.time()
        fresh = httpx.post(
            f"{server.url}/securities/{SYMBOL}/transfers",
            content=transfer,
            headers={**as_alice, "Idempotency-Key": "after-restart"},
            timeout=60,
        )
        assert fresh.status_code == 201, fresh.text
        assert fresh.json()["block_number"] == health["block_number"] + 1
        assert fresh.json()["block_timestamp"] >= int(sent_at)
    finally:
        server.stop()


def _post_and_kill_at_first_line(
    server: Server, path: str, body: bytes, headers: dict[str, str]
) -> tuple[bytes, bytes]:
    """POSTs over a plain socket and SIGKILLs the server the moment the answer's status line has
    arrived; returns the status line and every byte that arrived (the answer may be cut short)."""
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head.append(f"Content-Length: {len(body)}")
    received = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as conn:
        conn.sendall("\r\n".join(head).encode() + b"\r\n\r\n" + body)
        while b"\r\n" not in received:
            chunk = conn.recv(65536)
            assert chunk, f"the server closed the connection without answering: {received!r}"
            received += chunk
        server.kill()
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except OSError:
            pass  # reset by the dying process
    return received.split(b"\r\n", 1)[0], received
