"""Transactions per second on each in-process engine through the same `Chain` seam, in one run:
py-evm (`EmbeddedChain`) and revm (`RevmChain`), for a plain OpenZeppelin ERC-20 transfer and for our
compliant transfer (THAMES28 of the demo scenario: every rule of the security checked), and the ratios
issue 15 asks for (ours on revm >= 10x ours on py-evm; ours >= 0.8x ERC-20 on the same engine).

Each figure is sequential signed transfers, each waiting for its receipt, sent through the facades
(`token.transfer(..., sender=)` -> `chain.transact`), the median of ROUNDS rounds; the gas of the last
transfer is printed beside it (identical on both engines). Within a round the two kinds alternate in
batches of BATCH transfers on the same chain, so both see the same load from other processes, the same
chain length and the same garbage collections: the ratio is measured side by side, not one after the
other. `python -m bench engines` (3 rounds) or `python -m bench.engines --rounds N`.

Each engine is measured twice: with Python's cyclic garbage collector as the process leaves it, and after
`gc.freeze()` of everything loading built, as `sandbox serve` does once it has started. The collector's
full passes rescan every long-lived object (the imported libraries, the loaded market); our transfer
allocates more per transaction than a plain ERC-20 transfer (a larger journal to read back), so it meets
those passes more often, and on revm, where a transfer costs ~0.15 ms, they move the ratio by a few hundredths.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench._machine import cpu_model
from sandbox.chain.factory import in_process_chain
from sandbox.contracts.base import ContractFacade
from sandbox.market import load_scenario
from sandbox.scenario import DEMO_SCENARIO as DEMO
from sandbox.scenario import Scenario

ROUNDS = 3
#: Transfers per round: enough for about a second of work on each engine.
TRANSFERS = {"embedded": 60, "revm": 1_000}
#: Transfers of one kind before the other kind's turn (see the module's docstring).
BATCH = 20


class PlainERC20(ContractFacade):
    artifact_name = "PlainERC20"


def _batch(send: Any, count: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, gas of the last) of `count` transfers."""
    gas = 0
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        gas = send()
    return time.perf_counter() - start, time.process_time() - cpu, gas


def measure(engine: str, rounds: int, *, frozen: bool = False) -> dict[str, tuple[float, int, float, float]]:
    """Per kind: (median tx/s of the rounds, gas of the last transfer, least CPU ms per transfer of a
    round, least CPU ms per transfer of a batch: the figure a loaded machine disturbs least). With
    `frozen`, what loading built is frozen (`gc.freeze()`) before the rounds, as `sandbox serve` does."""
    scenario = Scenario.from_file(DEMO)
    chain = in_process_chain(engine, num_accounts=max(20, scenario.accounts_needed))
    market = load_scenario(chain, scenario)
    operator = market.operator
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    erc20 = PlainERC20.deploy_contract(chain, [10**24], sender=operator)
    erc20._send("transfer", alice, 10**20, sender=operator)
    erc20._send("transfer", bob, 1, sender=alice)  # bob is an existing holder from here on
    thames = market.security("THAMES28")

    def plain() -> int:
        return erc20._send("transfer", bob, 1, sender=alice).gas_used

    def ours() -> int:
        return thames.transfer(bob, 1, sender=alice).gas_used

    plain(), ours()  # warm up: bob already holds both
    if frozen:
        gc.collect()
        gc.freeze()
    try:
        return _rounds(plain, ours, rounds, TRANSFERS[engine])
    finally:
        if frozen:
            gc.unfreeze()


def _rounds(plain: Any, ours: Any, rounds: int, count: int) -> dict[str, tuple[float, int, float, float]]:
    senders = {"erc20": plain, "ours": ours}
    figures: dict[str, list[tuple[float, int, float]]] = {"erc20": [], "ours": []}
    batch = min(BATCH, count)
    least = dict.fromkeys(senders, float("inf"))
    for _ in range(rounds):
        wall = dict.fromkeys(senders, 0.0)
        cpu = dict.fromkeys(senders, 0.0)
        gas = dict.fromkeys(senders, 0)
        for _ in range(count // batch):
            for name, send in senders.items():
                seconds, cpu_seconds, gas[name] = _batch(send, batch)
                wall[name] += seconds
                cpu[name] += cpu_seconds
                least[name] = min(least[name], 1000 * cpu_seconds / batch)
        done = batch * (count // batch)
        for name in senders:
            figures[name].append((done / wall[name], gas[name], 1000 * cpu[name] / done))
    return {
        name: (statistics.median(r for r, _, _ in runs), runs[-1][1], min(c for _, _, c in runs), least[name])
        for name, runs in figures.items()
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"rounds per engine (median; default {ROUNDS})")
    rounds = parser.parse_args([a for a in args if a != "engines"]).rounds
    with open("/proc/loadavg", encoding="utf-8") as loadavg:
        load_before = loadavg.read().strip()
    print(f"$ python -m bench.engines --rounds {rounds}")
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}, nproc {os.cpu_count()}, {cpu_model()}, "
        f"Python {platform.python_version()}; /proc/loadavg {load_before}; median of {rounds} rounds, "
        f"ERC-20 and ours alternating in batches of {BATCH}",
        flush=True,
    )
    for frozen in (False, True):
        print(
            "after gc.freeze() of what loading built (as `sandbox serve` runs):"
            if frozen
            else "with the garbage collector as the process leaves it:"
        )
        _report({engine: measure(engine, rounds, frozen=frozen) for engine in ("embedded", "revm")})
    with open("/proc/loadavg", encoding="utf-8") as loadavg:
        print(f"/proc/loadavg after: {loadavg.read().strip()}")


def _report(results: dict[str, dict[str, tuple[float, int, float, float]]]) -> None:
    header = ("engine", "ERC-20 tx/s", "ours tx/s", "ours/ERC-20", "gas ERC-20", "gas ours", "CPU ms ERC-20/ours")
    print("  {:<10} {:>12} {:>10} {:>12} {:>11} {:>9} {:>19}".format(*header))
    for engine, figures in results.items():
        (erc20, erc20_gas, erc20_cpu, _), (ours, ours_gas, ours_cpu, _) = figures["erc20"], figures["ours"]
        print(
            f"  {engine:<10} {erc20:>12.1f} {ours:>10.1f} {ours / erc20:>12.2f} {erc20_gas:>11,} {ours_gas:>9,} "
            f"{erc20_cpu:>9.3f}/{ours_cpu:.3f}"
        )
    speedup = results["revm"]["ours"][0] / results["embedded"]["ours"][0]
    erc_speedup = results["revm"]["erc20"][0] / results["embedded"]["erc20"][0]
    print(f"  ours on revm / ours on py-evm: {speedup:.1f}x (target >= 10x)")
    print(f"  ERC-20 on revm / ERC-20 on py-evm: {erc_speedup:.1f}x")
    ratio = results["revm"]["ours"][0] / results["revm"]["erc20"][0]
    print(f"  ours / ERC-20 on revm: {ratio:.2f} (target >= 0.8)")
    revm = results["revm"]
    by_cpu = revm["erc20"][2] / revm["ours"][2]
    print(f"  ours / ERC-20 on revm by CPU time per transfer (least CPU of the rounds): {by_cpu:.2f}")
    by_batch = revm["erc20"][3] / revm["ours"][3]
    print(
        f"  ours / ERC-20 on revm by least CPU of a batch of {BATCH}: {by_batch:.2f} "
        f"({1000 * revm['erc20'][3]:.0f} / {1000 * revm['ours'][3]:.0f} us per transfer)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
