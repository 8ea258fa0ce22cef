"""Group commit on an in-process chain, through the library (no HTTP): ``python -m bench.group_commit``
(``--engine revm`` or ``embedded``; default: the default engine).

Plain ERC-20 transfers (each sender to the next account), first from one caller (the single-caller
rate and its CPU per transfer: group commit must not make it slower), then from N threads at once
(their transfers share blocks). Prints transfers/s, CPU ms per transfer (this process), transfers per
block and the p50/p99 latency of one transfer. Runs on whatever `sandbox` is importable, so the same
file measures another checkout: ``PYTHONPATH=/path/to/checkout python -m bench.group_commit``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import threading
import time
from collections.abc import Sequence

from sandbox.chain.factory import ENGINES, InProcessChain, default_engine, in_process_chain
from sandbox.contracts.base import ContractFacade


class Plain(ContractFacade):
    artifact_name = "PlainERC20"


def run(chain: InProcessChain, token: Plain, senders: Sequence[str], per_sender: int) -> str:
    latencies: list[float] = []
    lock = threading.Lock()
    accounts = [a.address for a in chain.accounts]

    def send(sender: str) -> None:
        receiver = accounts[(accounts.index(sender) + 1) % len(accounts)]
        for _ in range(per_sender):
            started = time.perf_counter()
            token._send("transfer", receiver, 1, sender=sender)
            with lock:
                latencies.append(time.perf_counter() - started)

    head = chain.block_number()
    w0, c0 = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=send, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    n = len(latencies)
    latencies.sort()
    blocks = chain.block_number() - head
    return (
        f"{len(senders)} caller(s): {n / wall:6.1f} transfers/s, {1000 * cpu / n:5.2f} ms CPU/transfer, "
        f"{n / max(blocks, 1):4.2f} transfers/block, latency p50 {1000 * statistics.median(latencies):6.1f} ms "
        f"p99 {1000 * latencies[min(n - 1, int(0.99 * n))]:6.1f} ms"
    )


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--transfers", type=int, default=400, help="transfers per measurement")
    parser.add_argument("--callers", default="1,4,8", help="caller counts, comma-separated")
    parser.add_argument("--engine", choices=ENGINES, default=None, help="in-process engine (default: the default)")
    args = parser.parse_args(list(argv))
    engine = args.engine or default_engine()
    counts = [int(c) for c in args.callers.split(",") if c]
    print(f"$ python -m bench.group_commit --engine {engine} --transfers {args.transfers} --callers {args.callers}")
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f} at start"
    )
    chain = in_process_chain(engine, num_accounts=max(counts) + 1)
    owner = chain.accounts[0].address
    token = Plain.deploy_contract(chain, [10**24], sender=owner)
    for account in chain.accounts[1:]:
        token._send("transfer", account.address, 10**20, sender=owner)
    senders = [a.address for a in chain.accounts[1:]]
    run(chain, token, senders[:1], 50)  # warm-up
    for count in counts:
        print(run(chain, token, senders[:count], max(1, args.transfers // count)), flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
