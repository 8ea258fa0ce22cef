"""Gas of the demo bond's transfers (issue #15, "the bond's transfer"), beside a plain ERC-20 in one run.

Run: `.venv/bin/python -m bench.gas_bond`. Exact figures (receipts' gas_used) on one embedded chain
with the demo scenario loaded: THAMES28 (record dates on, its paying agent wired; rules: UK
professional / US accredited holders, cross-border threshold, holder cap) transferred repeatedly
between two holders before any record date, then after its first coupon's record instant has passed
(the parties' first checkpoints, then the repeat transfer), against OpenZeppelin's ERC-20 repeat
transfer. `bench.gas_corporate` gives the same figures for a token with every rule configured.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bench._machine import machine_block
from sandbox.contracts.base import ContractFacade
from sandbox.contracts.corporate_actions import BondPayingAgent
from sandbox.market import load_embedded
from sandbox.scenario import DEMO_SCENARIO, Scenario

TARGET_FACTOR = 1.5


class PlainERC20(ContractFacade):
    artifact_name = "PlainERC20"


def measure() -> tuple[int, list[tuple[str, int]], int]:
    """The plain ERC-20 repeat transfer, THAMES28's rows and its first coupon's record instant."""
    market = load_embedded(Scenario.from_file(DEMO_SCENARIO))
    chain = market.chain
    operator = market.operator
    alice, bob = market.wallet("alice"), market.wallet("bob")

    plain = PlainERC20.deploy_contract(chain, [10**24], sender=operator)
    plain._send("transfer", alice, 10**6, sender=operator)
    plain._send("transfer", bob, 1, sender=alice)
    erc20 = plain._send("transfer", bob, 1, sender=alice).gas_used

    bond = market.security("THAMES28")
    agent = market.paying_agent("THAMES28")
    assert isinstance(agent, BondPayingAgent)
    rows: list[tuple[str, int]] = []
    bond.transfer(bob, 1, sender=alice)
    rows.append(("THAMES28 repeat transfer, no record date scheduled", bond.transfer(bob, 1, sender=alice).gas_used))
    agent.schedule_coupon(0, sender=market.accounts["thames"])
    _, _, record_key = agent.coupon_period(0)
    rows.append(("THAMES28 repeat transfer, record date ahead", bond.transfer(bob, 1, sender=alice).gas_used))
    chain.time_travel(record_key + 60)  # type: ignore[attr-defined]
    rows.append(
        (
            "THAMES28 first transfer after the record instant (roll + both checkpoints)",
            bond.transfer(bob, 1, sender=alice).gas_used,
        )
    )
    rows.append(("THAMES28 repeat transfer after the record instant", bond.transfer(bob, 1, sender=alice).gas_used))
    return erc20, rows, record_key


def main() -> None:
    erc20, rows, record_key = measure()
    print(machine_block("python -m bench.gas_bond"))
    at = datetime.fromtimestamp(record_key + 1, UTC).isoformat()
    print(f"record instant of coupon 1: {at}; plain OZ ERC-20 repeat transfer: {erc20:,} gas")
    print("| operation | gas | / ERC-20 |")
    print("| --- | ---: | ---: |")
    for name, gas in rows:
        print(f"| {name} | {gas:,} | {gas / erc20:.3f} |")
    print(f"target: <= {TARGET_FACTOR} x ERC-20 = {int(TARGET_FACTOR * erc20):,} gas")


if __name__ == "__main__":
    main()
