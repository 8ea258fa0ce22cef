"""A taken port fails at once: `sandbox serve` and `python -m sandbox_gateway.rpc_server` bind before they load,
so a busy port is an error in seconds, never a "ready" followed by a failure to bind (issue 14)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

SANDBOX = Path(sys.executable).with_name("sandbox")


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port this test holds: bound and listening on 127.0.0.1, as another server would."""
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # what uvicorn sets: still refused
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield int(held.getsockname()[1])


def _env() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}, "COLUMNS": "200"}


def test_serve_on_a_taken_port_fails_before_loading(taken_port: int) -> None:
    # The timeout is a hang guard, not a timing assertion: loading the demo takes far longer than the
    # failure, and a failure after the loading would print "Sandbox ready" first.
    result = subprocess.run(
        [str(SANDBOX), "serve", "--port", str(taken_port)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
        check=False,
    )
    printed = result.stdout + result.stderr
    assert result.returncode == 1, printed
    assert f"cannot listen on 127.0.0.1:{taken_port}" in printed
    assert "already in use" in printed
    assert "Sandbox ready" not in printed
    assert "Loading scenario" not in printed  # nothing was loaded: no chain, no deployment
    assert "demo-operator-key" not in printed  # and no key was printed


def test_the_rpc_server_on_a_taken_port_fails_before_building_its_chain(taken_port: int) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox_gateway.rpc_server",
            "--port",
            str(taken_port),
            "--scenario",
            "seeds/demo.yaml",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    printed = result.stdout + result.stderr
    assert result.returncode == 1, printed
    assert f"cannot listen on 127.0.0.1:{taken_port}: the port is already in use" in printed
    assert "JSON-RPC on" not in printed
    assert "registry" not in result.stdout  # the scenario was not deployed


def test_serve_port_zero_serves_on_the_free_port_it_announces(tmp_path: Path) -> None:
    """--port 0 picks a free port, and the welcome names the port really bound (the README test uses it)."""
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(SANDBOX), "serve", "--port", "0"], stdout=out, stderr=subprocess.STDOUT, env=_env()
        )
    try:
        deadline = time.monotonic() + 180
        found = None
        while found is None and time.monotonic() < deadline and proc.poll() is None:
            found = re.search(r"Sandbox ready on http://127\.0\.0\.1:(\d+)", log.read_text())
            time.sleep(0.2)
        assert found is not None, log.read_text()
        port = int(found.group(1))
        assert port != 0
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=60).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
