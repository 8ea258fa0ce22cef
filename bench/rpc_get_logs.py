"""Whole-chain ``eth_getLogs`` on the embedded chain's JSON-RPC handler: the demo scenario plus N
transfers, then the same whole-chain query three times (the first one also brings the log index up to
date), and the longest time a transfer sent meanwhile waited for the chain's lock.

    .venv/bin/python -m bench.rpc_get_logs [--transfers 1000]

Runs against any version of `sandbox_gateway.rpc_server` (before the log index too), so the figures
before and after a change come from the same script.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Any

from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import load_scenario
from sandbox.scenario import Scenario
from sandbox_gateway.rpc_server import RpcHandler

DEMO = Path(__file__).resolve().parents[1] / "seeds" / "demo.yaml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=1000)
    n = parser.parse_args().transfers
    chain = EmbeddedChain(num_accounts=20)
    market = load_scenario(chain, Scenario.from_file(DEMO))
    token = market.security("THAMES28")
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    for i in range(n):
        sender, receiver = (alice, bob) if i % 2 == 0 else (bob, alice)
        token.transfer(receiver, 1, sender=sender)
    head = chain.block_number()
    handler = RpcHandler(chain)
    request: dict[str, Any] = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "eth_getLogs",
        "params": [{"fromBlock": "0x0", "toBlock": hex(head)}],
    }
    waits: list[float] = []
    stop = threading.Event()

    def writer() -> None:  # a transfer every 50 ms while the queries run: how long each waited
        while not stop.is_set():
            started = time.perf_counter()
            token.transfer(bob, 1, sender=alice)
            waits.append(time.perf_counter() - started)
            stop.wait(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    times: list[float] = []
    count = 0
    try:
        for _ in range(3):
            started = time.perf_counter()
            reply = handler.handle_one(request)
            times.append(time.perf_counter() - started)
            assert reply is not None
            if "error" in reply:
                print(f"error: {reply['error']}")
                return
            count = len(reply["result"])
    finally:
        stop.set()
        thread.join()
    print(f"chain of {head + 1} blocks, {count} logs; whole-chain eth_getLogs:")
    print("| query | seconds |")
    print("| --- | --- |")
    for i, seconds in enumerate(times, 1):
        print(f"| {i} | {seconds:.3f} |")
    print(f"transfers sent meanwhile: {len(waits)}, longest {max(waits, default=0):.3f} s")


if __name__ == "__main__":
    main()
