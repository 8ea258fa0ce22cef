"""Benchmark: read-model indexer throughput (events/s) on the embedded chain.

Builds the demo market, sends N transactions (mostly transfers between the demo's investors, with a
registry update every 20th for the audit trail), then indexes the whole chain into a fresh database
and prints events/s, with the time spent reading the chain (get_logs, get_block) apart from the rest
(decoding and database writes). Then the "follow" case: a database one transaction behind is synced
after every new block.

    .venv/bin/python -m bench.readmodel_indexer [--transactions 2000] [--postgres] [--engine revm]

On revm the follow case runs twice over the same blocks, into two fresh databases: with the engine's
direct `RevmChain.block` and with the old path through web3 (`Web3Chain.block`: eth_getBlockByNumber
and web3's formatters), and prints the CPU time per block of both.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._machine import header, load_average
from sandbox.chain.base import DevChain
from sandbox.chain.embedded import EmbeddedChain
from sandbox.chain.revm_engine import RevmChain
from sandbox.chain.web3chain import Web3Chain
from sandbox.market import load_scenario
from sandbox.readmodel import Indexer, ReadModel
from sandbox.readmodel.pgserver import TemporaryPostgres
from sandbox.rules import InvestorCategory
from sandbox.scenario import DEMO_SCENARIO, Scenario


class Timer:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        return timed


def build_chain(transactions: int, engine: str = "embedded") -> tuple[DevChain, list[str]]:
    scenario = Scenario.from_file(DEMO_SCENARIO)
    accounts = max(20, scenario.accounts_needed)
    chain: DevChain = RevmChain(num_accounts=accounts) if engine == "revm" else EmbeddedChain(num_accounts=accounts)
    market = load_scenario(chain, scenario)
    spec = max(scenario.securities, key=lambda s: len(s.initial_holdings))
    token = market.security(spec.symbol)
    holders = [market.accounts[k] for k in spec.initial_holdings]
    investors = {i.key: i for i in scenario.investors}
    first_key = next(iter(spec.initial_holdings))
    category = InvestorCategory[investors[first_key].category]
    start = time.perf_counter()
    for i in range(transactions):
        if i % 20 == 19:
            market.registry.update_investor(
                market.accounts[first_key], category, chain.timestamp() + 10**7, sender=market.operator
            )
        else:
            sender = holders[i % len(holders)]
            receiver = holders[(i + 1) % len(holders)]
            token.transfer(receiver, 1, sender=sender)
    elapsed = time.perf_counter() - start
    print(f"chain: {transactions} transactions sent in {elapsed:.1f} s ({transactions / elapsed:.0f} tx/s)")
    return chain, [market.registry.address, *(t.address for t in market.securities.values())]


def full_sync(chain: DevChain, contracts: list[str], url: str, batch: int) -> None:
    with ReadModel(url) as model:
        indexer = Indexer(chain, model, contracts, batch_blocks=batch)
        logs, blocks = Timer(), Timer()
        chain_get_logs = chain.get_logs
        chain.get_logs = logs.wrap(chain_get_logs)  # type: ignore[method-assign]
        indexer._blocks = blocks.wrap(indexer._blocks)  # type: ignore[method-assign]
        try:
            start = time.perf_counter()
            report = indexer.sync()
            elapsed = time.perf_counter() - start
        finally:
            chain.get_logs = chain_get_logs  # type: ignore[method-assign]
        rest = elapsed - logs.seconds - blocks.seconds
        print(
            f"full sync, batch {batch} blocks: {report.events} events over {report.to_block + 1} blocks in "
            f"{elapsed:.2f} s = {report.events / elapsed:,.0f} events/s "
            f"(get_logs {logs.seconds:.2f} s in {logs.calls} calls, get_block {blocks.seconds:.2f} s, "
            f"decode + database {rest:.2f} s = {report.events / rest:,.0f} events/s)"
        )
        start = time.perf_counter()
        again = indexer.reindex(0, report.to_block)
        elapsed = time.perf_counter() - start
        print(f"re-index of the same blocks: {again.events} new, {again.skipped} skipped in {elapsed:.2f} s")


def follow(chain: DevChain, contracts: list[str], url: str, blocks: int, label: str = "") -> None:
    head = chain.block_number()
    with ReadModel(url) as model:
        indexer = Indexer(chain, model, contracts)
        indexer.sync(to_block=head - blocks)
        start = time.perf_counter()
        cpu = time.process_time()
        events = 0
        for block in range(head - blocks + 1, head + 1):
            events += indexer.sync(to_block=block).events
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        print(
            f"follow{label}: {blocks} syncs of one block each, {events} events in {elapsed:.2f} s = "
            f"{elapsed / blocks * 1000:.2f} ms per sync ({cpu / blocks * 1000:.2f} ms CPU), "
            f"{events / elapsed:,.0f} events/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument(
        "--postgres", action="store_true", help="index into a throwaway PostgreSQL server, not SQLite files"
    )
    parser.add_argument("--engine", choices=("embedded", "revm"), default="embedded")
    args = parser.parse_args()
    print(header("bench.readmodel_indexer", sys.argv[1:]))
    chain, contracts = build_chain(args.transactions, args.engine)
    if args.postgres:
        with TemporaryPostgres() as server:
            run(chain, contracts, server.create_database)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(chain, contracts, lambda name: f"sqlite:///{Path(tmp) / name}.sqlite")


def run(chain: DevChain, contracts: list[str], database: Callable[[str], str]) -> None:
    """`database(name)` gives the URL of a new, empty database."""
    for batch in (500, 100):
        full_sync(chain, contracts, database(f"full_{batch}"), batch)
    if not isinstance(chain, RevmChain):
        follow(chain, contracts, database("follow"), 200)
        return
    direct = chain.block
    numbers = range(1, chain.block_number() + 1)
    for _ in range(3):  # the call alone, alternated
        cpu = time.process_time()
        for number in numbers:
            direct(number)
        mid = time.process_time()
        for number in numbers:
            Web3Chain.block(chain, number)
        end = time.process_time()
        print(
            f"block() alone over {len(numbers)} blocks: direct {(mid - cpu) / len(numbers) * 1e6:.0f} us CPU, "
            f"through web3 {(end - mid) / len(numbers) * 1e6:.0f} us CPU per block"
        )
    for round_ in range(3):  # alternated, so both see the same load
        follow(chain, contracts, database(f"follow_direct_{round_}"), 200, " (revm, direct block())")
        chain.block = lambda number: Web3Chain.block(chain, number)  # type: ignore[method-assign]
        try:
            follow(chain, contracts, database(f"follow_web3_{round_}"), 200, " (revm, block() through web3)")
        finally:
            chain.block = direct  # type: ignore[method-assign]
    print(f"load average at the end (/proc/loadavg): {load_average()}")


if __name__ == "__main__":
    main()
