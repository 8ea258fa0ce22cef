"""A gateway app served by uvicorn in a thread, on a socket of 127.0.0.1 bound to port 0 by the test: for the
stories that need a real server (concurrent connections, a streamed response)."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from sandbox_gateway.rpc_server import bind_listening_socket
from tests.api.conftest import bearer

#: Generous deadlines for a busy machine (they bound a wait; nothing asserts on how long anything took).
STARTUP_TIMEOUT = 120.0
REQUEST_TIMEOUT = 120.0


class LiveGateway:
    """`app` served by uvicorn in a thread (`with LiveGateway(app) as gateway:`), at `gateway.url`."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._sock = bind_listening_socket("127.0.0.1", 0)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        # A long keep-alive: on a busy machine the connection must not idle out between two requests.
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_keep_alive=int(REQUEST_TIMEOUT))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> LiveGateway:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:  # uvicorn offers no start event to wait on
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT)
        self._sock.close()

    def post(self, path: str, key: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, headers=bearer(key), timeout=REQUEST_TIMEOUT)
