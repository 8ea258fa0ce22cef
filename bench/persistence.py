"""Persistence and chain growth (issue 5): run ``python -m bench.persistence`` (about 6 minutes on 2 cores).

Prints, for the embedded chain:
1. plain ERC-20 transfers/s after 100 and after 10,000 prior transactions, in memory and persistent
   (journal fsynced per block);
2. restart time of a persistent chain after 10,000 transactions: journal only (every block replayed),
   from a snapshot with an empty journal, and from a snapshot plus 1,000 journalled blocks (the most a
   restart replays with the default ``snapshot_every``); the time to write that snapshot;
3. per-test fixture cost: ``snapshot()`` + ``revert()`` around one transfer on the demo market, in
   memory and persistent (the revert is journalled).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sandbox.chain.embedded import EmbeddedChain
from sandbox.contracts.base import ContractFacade
from sandbox.market import load_scenario
from sandbox.scenario import DEMO_SCENARIO, Scenario

SUPPLY = 10**24
NO_SNAPSHOTS = 10**9


class Plain(ContractFacade):
    artifact_name = "PlainERC20"


class Transfers:
    """A token on `chain` and a stream of transfers from account 0 to the others."""

    def __init__(self, chain: EmbeddedChain) -> None:
        self.chain = chain
        self.owner = chain.accounts[0].address
        self.others = [a.address for a in chain.accounts[1:]]
        self.token = Plain.deploy_contract(chain, [SUPPLY], sender=self.owner)
        self.sent = 1

    def send(self, count: int) -> tuple[float, float]:
        """Sends `count` transfers; returns transfers per second of wall time and of this process's CPU
        time (the machine is shared: CPU time is the steadier figure)."""
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            self.token._send("transfer", self.others[self.sent % len(self.others)], 1, sender=self.owner)
            self.sent += 1
        return count / (time.perf_counter() - wall), count / (time.process_time() - cpu)


def growth(small: int, large: int, window: int, rounds: int, data_dir: Path | None, *, fsync: bool = True) -> None:
    """Transfers/s on a chain with `small` and one with `large` prior transactions, measured in
    alternating windows so that both see the same load on a shared machine."""
    chains = {}
    for prior in (large, small):
        where = data_dir / str(prior) if data_dir is not None else None
        stream = Transfers(EmbeddedChain(data_dir=where, snapshot_every=NO_SNAPSHOTS, fsync=fsync))
        stream.send(prior - 1)  # the deployment was the first
        chains[prior] = stream
    rates: dict[int, list[tuple[float, float]]] = {small: [], large: []}
    for _ in range(rounds):
        for prior, stream in chains.items():
            rates[prior].append(stream.send(window))
    label = "in memory"
    if data_dir is not None:
        label = "persistent (journal fsynced per block)" if fsync else "persistent, fsync=False"
    for prior in (small, large):
        wall = statistics.median(r[0] for r in rates[prior])
        cpu = statistics.median(r[1] for r in rates[prior])
        print(f"{label}, {prior} prior transactions: {wall:.1f} transfers/s wall, {cpu:.1f} per CPU second")
    for stream in chains.values():
        stream.chain.close()


def open_timed(data_dir: Path) -> tuple[EmbeddedChain, str]:
    """Opens the persistent chain in `data_dir`; returns it and the wall and CPU seconds it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    chain = EmbeddedChain(data_dir=data_dir, snapshot_every=NO_SNAPSHOTS)
    return chain, f"{time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU"


def restart(data_dir: Path, total: int, tail: int) -> None:
    """`data_dir` holds `total` transactions, journal only (from `growth`). Times exclude imports."""
    chain, took = open_timed(data_dir)
    assert chain.recovery is not None
    print(f"restart after {total} transactions, journal only ({len(chain.recovery.records)} blocks replayed): {took}")
    wall, cpu = time.perf_counter(), time.process_time()
    chain.checkpoint()
    size = sum(p.stat().st_size for p in data_dir.glob("snapshot-*"))
    print(
        f"writing the snapshot after {total} transactions ({size / 1e6:.1f} MB): "
        f"{time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU"
    )
    chain.close()
    chain, took = open_timed(data_dir)
    print(f"restart after {total} transactions from the snapshot, empty journal: {took}")
    stream = Transfers(chain)  # one more deployment, then transfers journalled after the snapshot
    stream.send(tail - 1)
    chain.close()
    chain, took = open_timed(data_dir)
    assert chain.recovery is not None
    print(f"restart from the snapshot + {len(chain.recovery.records)} journalled blocks: {took}")
    chain.close()


def fixture_cost(samples: int, data_dir: Path | None) -> None:
    """snapshot() + revert() around one transfer on the demo market, as a per-test fixture does."""
    scenario = Scenario.from_file(DEMO_SCENARIO)
    chain = EmbeddedChain(num_accounts=scenario.accounts_needed, data_dir=data_dir, snapshot_every=NO_SNAPSHOTS)
    market = load_scenario(chain, scenario)
    symbol = next(iter(market.securities))
    token = market.security(symbol)
    spec = next(s for s in scenario.securities if s.symbol == symbol)
    holder, receiver = list(spec.holdings)[:2]
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(samples):
        w0, c0 = time.perf_counter(), time.process_time()
        marker = chain.snapshot()
        w1, c1 = time.perf_counter(), time.process_time()
        token.transfer(market.accounts[receiver], 1, sender=market.accounts[holder])
        w2, c2 = time.perf_counter(), time.process_time()
        chain.revert(marker)
        w3, c3 = time.perf_counter(), time.process_time()
        wall.append((w1 - w0) + (w3 - w2))
        cpu.append((c1 - c0) + (c3 - c2))
    chain.close()
    wall.sort()
    label = "in memory" if data_dir is None else "persistent (revert journalled)"
    print(
        f"fixture snapshot()+revert(), {label}: median {statistics.median(wall) * 1e3:.1f} ms wall "
        f"(p95 {wall[int(0.95 * (len(wall) - 1))] * 1e3:.1f} ms), {statistics.median(cpu) * 1e3:.1f} ms CPU"
    )


def main(argv: Sequence[str] = ()) -> None:
    """Runs with the defaults when called by ``python -m bench``; ``python -m bench.persistence`` takes
    options (``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100, help="prior transactions of the young chain")
    parser.add_argument("--large", type=int, default=10_000, help="prior transactions of the old chain")
    parser.add_argument("--window", type=int, default=100, help="transfers per measured window")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tail", type=int, default=1_000, help="blocks journalled after the snapshot")
    parser.add_argument("--fixture-samples", type=int, default=100)
    parser.add_argument("--no-fsync-too", action="store_true", help="also measure fsync=False")
    parser.add_argument("--only-growth", action="store_true", help="skip the fixture and restart figures")
    args = parser.parse_args(list(argv))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f} at start"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-persistence-"))
    try:
        if not args.only_growth:
            fixture_cost(args.fixture_samples, None)
            fixture_cost(args.fixture_samples, tmp / "fixture")
        growth(args.small, args.large, args.window, args.rounds, None)
        growth(args.small, args.large, args.window, args.rounds, tmp / "growth")
        if args.no_fsync_too:
            growth(args.small, args.large, args.window, args.rounds, tmp / "nofsync", fsync=False)
        if not args.only_growth:
            restart(tmp / "growth" / str(args.large), args.large + args.window * args.rounds, args.tail)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
