"""``debug_traceTransaction`` (callTracer) on both engines: every transaction of a seed scenario traced
through the gateway's JSON-RPC handler, one after the other. On revm each trace re-executes on py-evm
over the revm world as of the parent block (`RevmChain.trace_transaction`); the figures are wall time
per trace (median, p90, max, and the first) and, on revm, the time
the engine's lock is held to copy the world (`RevmChain._world_at`). Also checks that both engines
give the same trees, transaction for transaction.

    .venv/bin/python -m bench trace [seed.yaml ...]     # default: seeds/demo.yaml seeds/uk-us-sandbox.yaml
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._machine import cpu_model
from sandbox.chain.base import Chain
from sandbox.chain.embedded import EmbeddedChain
from sandbox.chain.revm_engine import RevmChain
from sandbox.market import load_scenario
from sandbox.scenario import Scenario
from sandbox_gateway.rpc_server import RpcHandler

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def _hashes(chain: Chain) -> list[str]:
    out = []
    for number in range(1, chain.block_number() + 1):
        out.extend("0x" + bytes(h).hex() for h in chain.w3.eth.get_block(number)["transactions"])  # type: ignore[arg-type]
    return out


def _traces(chain: Chain) -> tuple[list[dict[str, Any]], list[float]]:
    handler = RpcHandler(chain)  # type: ignore[arg-type]
    trees, times = [], []
    for tx_hash in _hashes(chain):
        started = time.perf_counter()
        reply = handler.handle_one(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "debug_traceTransaction",
                "params": [tx_hash, {"tracer": "callTracer"}],
            }
        )
        times.append(time.perf_counter() - started)
        assert reply is not None and "result" in reply, reply
        trees.append(reply["result"])
    return trees, times


def _figures(times: list[float]) -> str:
    ms = sorted(1000 * t for t in times)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    return (
        f"median {statistics.median(ms):.1f} ms, p90 {p90:.1f} ms, max {ms[-1]:.1f} ms (first {1000 * times[0]:.1f} ms)"
    )


def main() -> None:
    seeds = [Path(a) for a in sys.argv[1:] if a.endswith(".yaml")] or [
        SEEDS / "demo.yaml",
        SEEDS / "uk-us-sandbox.yaml",
    ]
    with open("/proc/loadavg", encoding="utf-8") as loadavg:
        load_before = loadavg.read().strip()
    print("$ python -m bench trace " + " ".join(str(s) for s in seeds))
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}, nproc {os.cpu_count()}, {cpu_model()}, "
        f"Python {platform.python_version()}; /proc/loadavg {load_before}",
        flush=True,
    )
    for seed in seeds:
        scenario = Scenario.from_file(seed)
        n = max(20, scenario.accounts_needed)
        revm, pyevm = RevmChain(num_accounts=n), EmbeddedChain(num_accounts=n)
        load_scenario(revm, scenario)
        load_scenario(pyevm, scenario)
        revm_trees, revm_times = _traces(revm)
        pyevm_trees, pyevm_times = _traces(pyevm)
        lock = []
        for block in range(revm.block_number()):
            started = time.perf_counter()
            with revm._evm_lock:
                revm._world_at(block)
            lock.append(time.perf_counter() - started)
        same = sum(a == b for a, b in zip(revm_trees, pyevm_trees, strict=True))
        print(
            f"{seed.name}: {revm.block_number()} blocks, {len(revm_trees)} transactions, "
            f"{len(revm._accounts_db)} accounts, {len(revm._storage)} storage slots"
        )
        held = f"median {1000 * statistics.median(lock):.2f} ms, max {1000 * max(lock):.2f} ms"
        print(f"  revm   trace: {_figures(revm_times)}; world copy under the lock: {held}")
        print(f"  py-evm trace: {_figures(pyevm_times)}")
        print(f"  identical trees: {same} of {len(revm_trees)}", flush=True)
    with open("/proc/loadavg", encoding="utf-8") as loadavg:
        print(f"/proc/loadavg after: {loadavg.read().strip()}")


if __name__ == "__main__":
    main()
