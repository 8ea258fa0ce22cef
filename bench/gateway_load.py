"""Compliant transfers through the gateway (HTTP, several concurrent clients) against raw transfers
through the library, on the same kind of embedded chain, in one run.

Each client is an investor of the demo sending 1 unit of THAMES28 back and forth with another UK
investor, so every transfer passes every rule of the security."""

from __future__ import annotations

import socket
import statistics
import threading
import time

import httpx
import uvicorn

from api.app import create_app
from api.settings import Settings
from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import Market, load_scenario
from sandbox.scenario import Scenario
from seeds import DEMO_SCENARIO

TRANSFERS = 300
CLIENTS = 4


def _market() -> Market:
    return load_scenario(EmbeddedChain(num_accounts=20), Scenario.from_file(DEMO_SCENARIO))


def raw_rate() -> float:
    market = _market()
    token = market.security("THAMES28")
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    start = time.perf_counter()
    for i in range(TRANSFERS):
        sender, receiver = (alice, bob) if i % 2 == 0 else (bob, alice)
        token.transfer(receiver, 1, sender=sender)
    return TRANSFERS / (time.perf_counter() - start)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gateway_rate() -> tuple[float, list[float]]:
    market = _market()
    scenario = market.scenario
    keys = {i.key: i.api_key for i in scenario.investors}
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(Settings(), market=market), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    pairs = [("alice", "bob"), ("bob", "alice"), ("carol", "dan"), ("dan", "carol")][:CLIENTS]
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = TRANSFERS // CLIENTS

    def client(sender: str, receiver: str) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for _ in range(per_client):
                t0 = time.perf_counter()
                response = http.post(
                    "/securities/THAMES28/transfers",
                    json={"to": market.accounts[receiver], "amount": 1},
                    headers={"Authorization": f"Bearer {keys[sender]}"},
                )
                elapsed = time.perf_counter() - t0
                if response.status_code != 201:
                    raise RuntimeError(response.text)
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=client, args=pair) for pair in pairs]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = per_client * len(pairs) / (time.perf_counter() - start)
    server.should_exit = True
    thread.join(timeout=10)
    return rate, latencies


def main() -> None:
    raw = raw_rate()
    through_gateway, latencies = gateway_rate()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"{TRANSFERS} compliant THAMES28 transfers each way, embedded chain, {CLIENTS} HTTP clients")
    print(f"  raw, through the library:        {raw:6.1f} transfers/s")
    print(f"  through the gateway (HTTP):      {through_gateway:6.1f} transfers/s   ratio {through_gateway / raw:.2f}")
    print(f"  gateway latency per transfer:    p50 {p50:.1f} ms   p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
