"""Time to load a scenario on a fresh embedded chain (fixed clock): the demo and the UK-US sandbox
(44 investors, five securities, seven weeks of history), split into the set-up (registry, tokens,
paying agents, issuance) and the history's replay, with blocks mined and the share of the largest
steps. `python -m bench.scenario_load [RUNS]`."""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import load_scenario
from sandbox.scenario import DEMO_SCENARIO, UK_US_SCENARIO, Scenario

RUNS = 3


def load_once(path: Path) -> dict[str, float]:
    """One load; seconds for the whole load, the set-up and the history, plus blocks mined and the
    seconds spent per kind of history step."""
    spec = Scenario.from_file(path)
    chain = EmbeddedChain(num_accounts=spec.accounts_needed)
    first_history_step = 0
    marks: list[float] = []
    start = time.perf_counter()

    def progress(done: int, total: int, what: str) -> None:
        marks.append(time.perf_counter() - start)

    market = load_scenario(chain, spec, progress=progress)
    total = time.perf_counter() - start
    first_history_step = len(marks) - len(spec.history)
    setup = marks[first_history_step - 1] if first_history_step > 0 else total
    figures = {"total": total, "setup": setup, "history": total - setup, "blocks": float(chain.block_number())}
    per_kind: dict[str, float] = defaultdict(float)
    previous = setup
    for entry, mark in zip(market.history, marks[first_history_step:], strict=True):
        per_kind[entry.kind] += mark - previous
        previous = mark
    figures.update({f"kind:{kind}": seconds for kind, seconds in per_kind.items()})
    return figures


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else RUNS
    for path in (DEMO_SCENARIO, UK_US_SCENARIO):
        results = [load_once(path) for _ in range(runs)]
        spec = Scenario.from_file(path)

        def median(key: str, results: list[dict[str, float]] = results) -> float:
            return statistics.median(r.get(key, 0.0) for r in results)

        totals = [r["total"] for r in results]
        print(
            f"{path.name}: {len(spec.investors)} investors, {len(spec.securities)} securities, "
            f"{len(spec.history)} history steps, {int(median('blocks'))} blocks; {runs} loads"
        )
        print(
            f"  load median {median('total'):.2f} s (min {min(totals):.2f}, max {max(totals):.2f}); "
            f"set-up {median('setup'):.2f} s, history {median('history'):.2f} s; "
            f"{1000 * median('total') / max(median('blocks'), 1):.1f} ms per block"
        )
        kinds = sorted({k for r in results for k in r if k.startswith("kind:")}, key=lambda k: -median(k))
        if kinds:
            print("  history by kind: " + ", ".join(f"{k[5:]} {median(k):.2f} s" for k in kinds))


if __name__ == "__main__":
    main()
