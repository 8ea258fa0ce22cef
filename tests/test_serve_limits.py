"""A hostile body cannot take the sandbox down (issue 10, critical item 2).

A real `sandbox serve` process (in memory: the case where a crash loses everything) on a free loopback
port, and the standalone JSON-RPC server, receive a body of 100,000 nested ``[`` (about 200 kB, no key):
before the request limits it overflowed the C stack in the JSON parser and killed the process with
SIGSEGV. Each answers a 4xx problem+json and goes on answering. A 10 MB body is answered 413 without
being read: the test declares 10 MB and sends none of it (or streams 1.5 MB of a chunked body and
stops), and gets its answer all the same. Processes are stopped by their PID; only 127.0.0.1 is used.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.scenario import DEMO_SCENARIO, Scenario
from tests.announced import RPC_READY, SERVE_READY, announced_port

pytestmark = pytest.mark.slow

SANDBOX = Path(sys.executable).with_name("sandbox")
OPERATOR_KEY = Scenario.from_file(DEMO_SCENARIO).operator.api_key
RPC_KEY = "edge-limits-standalone-key"
DEEP = b"[" * 100_000
TEN_MB = 10 * 1024 * 1024


class Process:
    def __init__(self, argv: list[str], announcement: str, ready_path: str, log: Path) -> None:
        """`argv` binds `--port 0`; the port it bound is read from its log (`announcement`)."""
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"}
            )
        self.port = announced_port(log, self.proc, announcement, timeout=180)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"{argv[0]} exited with {self.proc.returncode}:\n{log.read_text()}")
            try:
                httpx.request("GET" if ready_path == "/health" else "POST", self.url + ready_path, timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail(f"{argv} did not answer within 180 s:\n{log.read_text()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    process = Process([str(SANDBOX), "serve", "--port", "0"], SERVE_READY, "/health", log)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def rpc_alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    log = tmp_path_factory.mktemp("rpc") / "rpc.log"
    argv = [
        sys.executable,
        "-m",
        "sandbox_gateway.rpc_server",
        "--port",
        "0",
        "--accounts",
        "2",
        "--api-key",
        RPC_KEY,
    ]
    process = Process(argv, RPC_READY, "/", log)
    try:
        yield process
    finally:
        process.stop()


def _chain_id(url: str, key: str) -> str:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    answer = httpx.post(url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["result"])


def _assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def _raw_exchange(port: int, head: bytes, body: bytes) -> bytes:
    """Sends `head` and `body` on a fresh connection, then reads the answer's status line and headers."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        # The server may answer and close before it has taken everything sent: what it answered counts.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.sendall(head + body)
        with contextlib.suppress(ConnectionResetError):
            while b"\r\n\r\n" not in received:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                received += chunk
    return received


@pytest.mark.parametrize("path", ["/securities", "/investors", "/rpc"])
def test_deep_body_is_refused_and_serve_survives(serve: Process, path: str) -> None:
    before = _chain_id(serve.url + "/rpc", OPERATOR_KEY)
    # With no key, and with a valid one: either way the body is refused before anything parses it.
    for headers in ({}, {"Authorization": f"Bearer {OPERATOR_KEY}"}):
        response = httpx.post(serve.url + path, content=DEEP, headers=headers, timeout=60)
        _assert_problem(response, 400, "BODY_TOO_DEEP")
        assert serve.alive(), serve.log.read_text()
    assert httpx.get(serve.url + "/health", timeout=30).status_code == 200
    assert _chain_id(serve.url + "/rpc", OPERATOR_KEY) == before


def test_ten_megabytes_declared_are_refused_unread(serve: Process) -> None:
    head = (
        f"POST /securities HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {TEN_MB}\r\n\r\n"
    ).encode()
    # Not one byte of the body is sent: an answer proves the server did not wait to read it.
    answer = _raw_exchange(serve.port, head, b"")
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:300]
    assert b"application/problem+json" in answer
    assert serve.alive()
    assert httpx.get(serve.url + "/health", timeout=30).status_code == 200


def test_chunked_body_past_the_cap_is_refused_without_reading_the_rest(serve: Process) -> None:
    head = (
        b"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"1" * 65536
    body = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") * 24  # 1.5 MiB, and the body never ends
    answer = _raw_exchange(serve.port, head, body)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:300]
    assert serve.alive()
    assert httpx.get(serve.url + "/health", timeout=30).status_code == 200


def test_standalone_rpc_server_refuses_a_deep_body_and_survives(rpc_alone: Process) -> None:
    before = _chain_id(rpc_alone.url, RPC_KEY)
    response = httpx.post(rpc_alone.url, content=DEEP, headers={"Authorization": f"Bearer {RPC_KEY}"}, timeout=60)
    _assert_problem(response, 400, "BODY_TOO_DEEP")
    assert rpc_alone.alive(), rpc_alone.log.read_text()
    assert _chain_id(rpc_alone.url, RPC_KEY) == before
