"""The console's pages for a 10,000-holder security (target: server time p99 <= 150 ms per page), and the
event stream's delay from block to browser (target <= 1 s).

The server is `bench.gateway_positions`'s: the demo market on an embedded chain, a SQLite read model, and
10,000 synthetic holders of THAMES28 written into the read model's tables; it serves the whole gateway
(console included) with uvicorn in its own process. The client signs in to the console as the FCA, the SEC
and Thames (real sessions, cookies) and fetches each page one request after the other: wall-clock p50/p99
as the client sees them (the server's time plus a loopback round trip) and the server process's CPU time
per page.

The stream: the client follows GET /events as the FCA while it freezes and releases a wallet through the
API, 20 times; for each it reports the time from the API's answer (the block is mined by then) to the
event's arrival on the stream, and from sending the request.

    .venv/bin/python -m bench.console_pages [--holders 10000] [--queries 50]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import queue
import re
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from bench.gateway_positions import SECURITY, _free_port, _percentile, _synthesise


def _server(control: Connection, port: int, holders: int, folder: str, engine: str | None = None) -> None:
    import uvicorn

    from sandbox.chain.factory import in_process_chain
    from sandbox.market import load_scenario
    from sandbox.readmodel import ReadModel
    from sandbox.scenario import DEMO_SCENARIO, Scenario
    from sandbox_gateway.app import create_app
    from sandbox_gateway.settings import Settings

    market = load_scenario(in_process_chain(engine, num_accounts=20), Scenario.from_file(DEMO_SCENARIO))
    model = ReadModel.sqlite(Path(folder) / "readmodel.sqlite")
    app = create_app(Settings(), market=market, read_model=model)
    head = model.last_indexed_block()
    assert head is not None
    _synthesise(model, market.security(SECURITY).address, market.registry.address, holders, head)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    control.send(("ready", head, market.wallets["bob"][0]))
    while control.recv() == "cpu":
        control.send(time.process_time())
    server.should_exit = True
    thread.join(timeout=10)
    model.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--holders", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--engine", default=None, help="embedded (py-evm) or revm; default: SANDBOX_ENGINE's")
    argv = argv if argv is not None else []
    args = parser.parse_args(argv)

    from bench._machine import header, load_average
    from sandbox.chain.factory import default_engine
    from sandbox.scenario import DEMO_SCENARIO, Scenario

    engine = args.engine or default_engine()
    print(header("bench.console_pages", argv), flush=True)

    scenario = Scenario.from_file(DEMO_SCENARIO)
    keys = {p.key: p.api_key for p in [*scenario.regulators, *scenario.issuers]}
    ctx = mp.get_context("spawn")
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        control, server_end = ctx.Pipe()
        server = ctx.Process(target=_server, args=(server_end, port, args.holders, folder, engine))
        server.start()
        _, _head, bob = control.recv()
        print(
            f"engine {engine}; {args.holders:,} synthetic holders of {SECURITY} (+ the demo's) in a SQLite read "
            f"model; {args.queries} sequential requests per page"
        )
        try:
            _pages(port, keys, args.queries, control)
            _stream(port, keys, bob, args.events)
        finally:
            control.send("stop")
            server.join()
    print(f"load average at end (/proc/loadavg): {load_average()}")


def _pages(port: int, keys: dict[str, str], queries: int, control: Connection) -> None:
    import httpx

    def server_cpu() -> float:
        control.send("cpu")
        return float(control.recv())

    at = str(int(time.time()) - 10 * 86_400)
    cases = [
        ("overview", "fca", "/console/overview", {}),
        ("approvals inbox", "fca", "/console/inbox", {}),
        (f"{SECURITY} cap table + positions, home regulator", "fca", f"/console/securities/{SECURITY}", {}),
        (f"{SECURITY} cap table + positions, foreign regulator", "sec", f"/console/securities/{SECURITY}", {}),
        (f"{SECURITY} positions page at offset 9,000", "fca", f"/console/securities/{SECURITY}", {"offset": "9000"}),
        (f"{SECURITY} as of a past time", "fca", f"/console/securities/{SECURITY}", {"at": at}),
        (f"{SECURITY} live refresh (fragment)", "fca", f"/console/securities/{SECURITY}/live", {}),
        ("audit trail, first page", "fca", "/console/audit", {}),
        ("issuer's securities and corporate actions", "thames", "/console/issuer", {}),
        (f"{SECURITY} holdings report, CSV (every holder)", "fca", f"/console/reports/holdings/{SECURITY}.csv", {}),
    ]
    clients: dict[str, httpx.Client] = {}
    try:
        for who in {who for _, who, _, _ in cases}:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120, follow_redirects=True)
            form = client.get("/console/login")  # the sign-in form's CSRF token, as a browser reads it
            found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            if found is None:
                raise RuntimeError("the sign-in form carries no CSRF token")
            login = {"api_key": keys[who], "csrf_token": found.group(1)}
            client.post("/console/login", data=login).raise_for_status()
            clients[who] = client
        for label, who, path, params in cases:
            http = clients[who]
            response = http.get(path, params=params)  # warm-up, and a check
            if response.status_code != 200 or "/console/login" in str(response.url):
                raise RuntimeError(f"{label}: {response.status_code} {response.text[:300]}")
            wall: list[float] = []
            cpu_before = server_cpu()
            for _ in range(queries):
                t0 = time.perf_counter()
                response = http.get(path, params=params)
                wall.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
            cpu = (server_cpu() - cpu_before) * 1000 / queries
            wall.sort()
            print(
                f"  {label:<52} p50 {_percentile(wall, 0.5):6.1f} ms  p99 {_percentile(wall, 0.99):6.1f} ms"
                f"  server CPU {cpu:5.1f} ms/page  ({len(response.content) / 1024:,.0f} KiB)",
                flush=True,
            )
    finally:
        for client in clients.values():
            client.close()


def _stream(port: int, keys: dict[str, str], wallet: str, count: int) -> None:
    import httpx

    arrivals: queue.Queue[tuple[str, float]] = queue.Queue()
    stop = threading.Event()

    def follow() -> None:
        headers = {"Authorization": f"Bearer {keys['fca']}"}
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=None) as http,
            http.stream("GET", "/events", headers=headers) as stream,
        ):
            try:
                for line in stream.iter_lines():
                    if line.startswith("event: "):
                        arrivals.put((line[len("event: ") :], time.perf_counter()))
                    elif line.startswith(": events after"):
                        arrivals.put(("open", time.perf_counter()))
                    if stop.is_set():
                        return
            except httpx.HTTPError:
                return  # the server stopped

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    arrivals.get(timeout=60)  # the stream is open
    after_block: list[float] = []
    after_send: list[float] = []
    headers = {"Authorization": f"Bearer {keys['fca']}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        for n in range(count):
            t0 = time.perf_counter()
            if n % 2 == 0:
                answer = http.post(f"/securities/{SECURITY}/frozen-wallets", json={"wallet": wallet}, headers=headers)
            else:
                answer = http.delete(f"/securities/{SECURITY}/frozen-wallets/{wallet}", headers=headers)
            t1 = time.perf_counter()
            answer.raise_for_status()
            while True:
                name, t2 = arrivals.get(timeout=30)
                if re.fullmatch(r"AddressFrozen", name):
                    break
            after_block.append((t2 - t1) * 1000)
            after_send.append((t2 - t0) * 1000)
    stop.set()
    after_block.sort()
    after_send.sort()
    print(
        f"  event stream, block mined -> event received (n={count})        p50 {_percentile(after_block, 0.5):6.1f} ms"
        f"  p99 {_percentile(after_block, 0.99):6.1f} ms  max {after_block[-1]:6.1f} ms",
        flush=True,
    )
    print(
        f"  event stream, request sent -> event received                   p50 {_percentile(after_send, 0.5):6.1f} ms"
        f"  p99 {_percentile(after_send, 0.99):6.1f} ms  max {after_send[-1]:6.1f} ms",
        flush=True,
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
