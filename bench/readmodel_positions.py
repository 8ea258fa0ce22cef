"""Benchmark: read-model queries on a security with 10,000 holders (target: p99 <= 100 ms on SQLite).

The holders' rows are synthesised straight into the read model's tables with SQLAlchemy bulk inserts
(indexing 10,000 real holders would first need 10,000 registrations and mints on the embedded chain,
about ten minutes at its 30-60 tx/s): 10,000 investors (GB and US, every category, a tenth of them with
a second wallet and a tenth re-categorised half-way), 1,000 blocks, and for each holder 3 to 5 balance
changes at random blocks, plus a second security with 5,000 holders in the same tables. The generated
history is also kept in Python, and the answers of the read model are checked against it before timing.

    .venv/bin/python -m bench.readmodel_positions [--holders 10000] [--queries 200] [--postgres]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import insert

from sandbox.readmodel import ReadModel
from sandbox.readmodel._schema import (
    BalancePeriod,
    BlockRow,
    ContractRow,
    InvestorRow,
    InvestorVersion,
    Meta,
    WalletRow,
)
from sandbox.readmodel.pgserver import TemporaryPostgres
from sandbox.rules import CATEGORIES_BY_JURISDICTION, Jurisdiction

BLOCKS = 1_000
GENESIS = 1_767_225_600
SECONDS_PER_BLOCK = 12


def address(n: int) -> str:
    return to_checksum_address(f"0x{n:040x}")


History = dict[str, list[tuple[int, int]]]  # wallet → [(from block, balance after)]


def synthesise(model: ReadModel, holders: int, rng: random.Random) -> tuple[History, dict[str, str]]:
    """Writes the rows; returns token A's history per wallet and wallet → identity."""
    with model.session() as session:
        session.merge(Meta(key="chain_id", value="131277322940537"))
        session.add_all(
            [
                ContractRow(address=address(1), kind="contract", indexed_to=BLOCKS),
                ContractRow(address=address(2), kind="token", symbol="BIG", name="Big", decimals=0, indexed_to=BLOCKS),
                ContractRow(
                    address=address(3), kind="token", symbol="OTHER", name="Other", decimals=0, indexed_to=BLOCKS
                ),
            ]
        )
    with model.session() as session:
        session.execute(
            insert(BlockRow),
            [
                {"number": n, "timestamp": GENESIS + n * SECONDS_PER_BLOCK, "hash": f"0x{n:064x}"}
                for n in range(BLOCKS + 1)
            ],
        )
    investors: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    wallets: list[dict[str, Any]] = []
    owner: dict[str, str] = {}
    for i in range(holders):
        identity = address(0x10_0000 + i)
        jurisdiction = Jurisdiction.GB if i % 2 else Jurisdiction.US
        categories = sorted(CATEGORIES_BY_JURISDICTION[jurisdiction])
        category = int(categories[i % len(categories)])
        row = {
            "identity": identity,
            "registry_address": address(1),
            "jurisdiction": int(jurisdiction),
            "category": category,
            "status": 1,
            "kyc_valid_until": GENESIS + 10**8,
            "registered_block": 1,
        }
        version = {k: row[k] for k in ("identity", "jurisdiction", "category", "status", "kyc_valid_until")}
        versions.append({**version, "block_number": 1, "tx_index": 0, "log_index": i})
        if i % 10 == 0:  # re-categorised half-way
            row["category"] = int(categories[(i + 1) % len(categories)])
            versions.append(
                {**version, "category": row["category"], "block_number": 500, "tx_index": 0, "log_index": i}
            )
        investors.append(row)
        wallets.append({"wallet": identity, "identity": identity, "block_number": 1})
        owner[identity] = identity
        if i % 10 == 3:  # a second wallet
            second = address(0x80_0000 + i)
            wallets.append({"wallet": second, "identity": identity, "block_number": 2})
            owner[second] = identity
    with model.session() as session:
        session.execute(insert(InvestorRow), investors)
        session.execute(insert(InvestorVersion), versions)
        session.execute(insert(WalletRow), wallets)

    history: History = {}
    for contract_id, count in ((2, holders), (3, holders // 2)):
        rows: list[dict[str, Any]] = []
        holder_wallets = list(owner)[: count + count // 10]
        for wallet in holder_wallets:
            changes = sorted(rng.sample(range(1, BLOCKS + 1), rng.randint(3, 5)))
            balance = 0
            periods: list[tuple[int, int]] = []
            for n, block in enumerate(changes):
                balance = rng.randint(1, 10**24) if n == 0 else max(1, balance + rng.randint(-(10**23), 10**23))
                periods.append((block, balance))
            for n, (block, balance) in enumerate(periods):
                end = periods[n + 1][0] if n + 1 < len(periods) else None
                rows.append(
                    {
                        "contract_id": contract_id,
                        "wallet": wallet,
                        "from_block": block,
                        "to_block": end,
                        "balance": balance,
                        "investor": owner[wallet],
                    }
                )
            if contract_id == 2:
                history[wallet] = periods
        with model.session() as session:
            for start in range(0, len(rows), 5_000):
                session.execute(insert(BalancePeriod), rows[start : start + 5_000])
    return history, owner


def expected(history: History, block: int | None) -> dict[str, int]:
    out = {}
    for wallet, periods in history.items():
        balance = 0
        for start, value in periods:
            if block is None or start <= block:
                balance = value
        if balance:
            out[wallet] = balance
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted `values`."""
    return values[max(0, math.ceil(q * len(values)) - 1)]


def timed(label: str, queries: int, fn: Callable[[int], int]) -> None:
    """Runs `fn` `queries` times; prints wall-clock p50/p99/max and the process's CPU time p50/p99
    (on a shared machine the wall clock also counts time spent waiting for a core)."""
    wall: list[float] = []
    cpu: list[float] = []
    rows = 0
    for i in range(queries):
        start, start_cpu = time.perf_counter(), time.process_time()
        rows = fn(i)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    wall.sort()
    cpu.sort()
    print(
        f"{label:<40} wall p50 {percentile(wall, 0.5):6.1f} ms  p99 {percentile(wall, 0.99):6.1f} ms  "
        f"max {wall[-1]:6.1f} ms | cpu p50 {percentile(cpu, 0.5):6.1f} ms  p99 {percentile(cpu, 0.99):6.1f} ms"
        f"  ({rows} rows)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holders", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="use a throwaway PostgreSQL server (Debian package)")
    args = parser.parse_args()
    if args.postgres:
        with TemporaryPostgres() as server:
            run(args, server.create_database("bench_positions"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(args, f"sqlite:///{Path(tmp) / 'positions.sqlite'}")


def run(args: argparse.Namespace, url: str) -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    rng = random.Random(5)
    with ReadModel(url) as model:
        start = time.perf_counter()
        history, _owner = synthesise(model, args.holders, rng)
        elapsed = time.perf_counter() - start
        print(f"synthesised {args.holders} holders' rows in {elapsed:.1f} s ({model.engine.dialect.name})")
        # the read model's answers agree with the generated history
        for block in (None, 1, 250, 500, 999, BLOCKS):
            as_of = {} if block is None else {"block": block}
            got = {p.wallet: p.balance for p in model.positions("BIG", **as_of)}
            assert got == expected(history, block), f"as of {block}"
        now = model.positions("BIG")
        print(f"verified positions now ({len(now)} holders) and as of 5 past blocks against the generated history")
        blocks = [rng.randint(100, BLOCKS) for _ in range(args.queries)]
        wallets = list(history)
        timed("positions now", args.queries, lambda i: len(model.positions("BIG")))
        timed(
            "positions as of a block",
            args.queries,
            lambda i: len(model.positions("BIG", block=blocks[i])),
        )
        timed(
            "positions as of a time",
            args.queries,
            lambda i: len(model.positions("BIG", at=GENESIS + blocks[i] * SECONDS_PER_BLOCK + 5)),
        )
        timed("cap table now", args.queries, lambda i: len(model.cap_table("BIG").holders))
        timed(
            "cap table as of a block",
            args.queries,
            lambda i: len(model.cap_table("BIG", block=blocks[i]).holders),
        )
        timed(
            "one investor's positions as of a block",
            args.queries,
            lambda i: len(model.investor_positions(wallets[i * 37 % len(wallets)], block=blocks[i])),
        )
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
