"""Transfers per second of a SecurityToken (demo scenario, compliant UK→UK transfers) on each backend:
the embedded chain in-process, anvil through RpcChain (one caller, then 4 threads), and the embedded
chain through its own JSON-RPC endpoint (RpcChain as the client).

    .venv/bin/python -m bench.rpc_throughput [--transfers 300]
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

from sandbox.chain import Chain, RpcChain
from sandbox.chain.anvil import AnvilNode
from sandbox.chain.embedded import EmbeddedChain
from sandbox.contracts.security_token import SecurityToken
from sandbox.market import load_scenario
from sandbox.scenario import Scenario
from sandbox_gateway.rpc_server import ServerThread, create_rpc_app, single_key

DEMO = Path(__file__).resolve().parents[1] / "seeds" / "demo.yaml"


def _run(chain: Chain, transfers: int, threads: int = 1) -> tuple[float, float, int]:
    """(seconds to load the demo, transfers per second, gas of one transfer)."""
    started = time.perf_counter()
    market = load_scenario(chain, Scenario.from_file(DEMO))
    loaded = time.perf_counter() - started
    token = SecurityToken(chain, market.security("THAMES28").address)
    pairs = [("alice", "bob"), ("bob", "alice"), ("carol", "dan"), ("dan", "carol")]
    gas = token.transfer(market.accounts["bob"], 1, sender=market.accounts["alice"]).gas_used
    per_thread = transfers // threads

    def work(index: int) -> None:
        sender, receiver = pairs[index % len(pairs)]
        for _ in range(per_thread):
            token.transfer(market.accounts[receiver], 1, sender=market.accounts[sender])

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    return loaded, per_thread * threads / elapsed, gas


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=300)
    n = parser.parse_args().transfers
    rows: list[tuple[str, float, float, int]] = []
    rows.append(("embedded, in-process", *_run(EmbeddedChain(), n)))
    with AnvilNode() as node:
        rows.append(("anvil 1.7.1 via RpcChain, 1 caller", *_run(RpcChain(node.url), n)))
    with AnvilNode() as node:
        rows.append(("anvil 1.7.1 via RpcChain, 4 threads", *_run(RpcChain(node.url), n, threads=4)))
    embedded = EmbeddedChain()
    key = "bench-rpc-key-000000"
    with ServerThread(create_rpc_app(embedded, authenticate=single_key(key))) as server:
        client = RpcChain(server.url, headers={"Authorization": f"Bearer {key}"})
        rows.append(("embedded via its JSON-RPC endpoint, RpcChain client", *_run(client, n)))
    print(f"{n} SecurityToken transfers per backend")
    print("| backend | demo load (s) | transfers/s | gas per transfer |")
    print("| --- | --- | --- | --- |")
    for name, loaded, rate, gas in rows:
        print(f"| {name} | {loaded:.2f} | {rate:.1f} | {gas:,} |")


if __name__ == "__main__":
    main()
