"""Differential tests: the same transactions on py-evm and on revm give the same gas, status, return
and revert data, logs and resulting state."""

from __future__ import annotations

import pytest

from sandbox.market import load_scenario
from sandbox.scenario import Scenario
from tests.chain.differential import (
    SEEDS,
    RecordingEmbedded,
    RecordingRevm,
    assert_same_outcomes,
    assert_same_state,
)


def _load_both(path: str, accounts: int = 20) -> tuple[RecordingEmbedded, RecordingRevm]:
    scenario = Scenario.from_file(SEEDS / path)
    n = max(accounts, scenario.accounts_needed)
    pyevm, revm = RecordingEmbedded(num_accounts=n), RecordingRevm(num_accounts=n)
    load_scenario(pyevm, scenario)
    load_scenario(revm, scenario)
    return pyevm, revm


def test_demo_scenario_runs_identically_on_py_evm_and_revm() -> None:
    pyevm, revm = _load_both("demo.yaml")
    assert assert_same_outcomes(pyevm, revm) > 50
    assert assert_same_state(pyevm, revm) > 100


@pytest.mark.slow
def test_uk_us_scenario_history_runs_identically_on_py_evm_and_revm() -> None:
    """Seven weeks of history: DvP trades and batches, refusals by the rulebook (reverted
    transactions), cross-border approvals, freezes, coupons and dividends, time travel."""
    pyevm, revm = _load_both("uk-us-sandbox.yaml")
    outcomes = pyevm.outcomes
    assert any(o.status == 0 for o in outcomes) or len(outcomes) > 500
    assert_same_outcomes(pyevm, revm)
    assert_same_state(pyevm, revm)


def test_corporate_world_runs_identically_on_py_evm_and_revm(monkeypatch: pytest.MonkeyPatch) -> None:
    """The corporate-action tests' world (registry, bond and equity, paying agents), built on each engine."""
    from tests.contracts import corporate_world

    monkeypatch.setattr(corporate_world, "EmbeddedChain", RecordingEmbedded)
    left = corporate_world.build_corporate_world()
    monkeypatch.setattr(corporate_world, "EmbeddedChain", RecordingRevm)
    right = corporate_world.build_corporate_world()
    assert isinstance(left.chain, RecordingEmbedded)
    assert isinstance(right.chain, RecordingRevm)
    assert_same_outcomes(left.chain, right.chain)
    assert_same_state(left.chain, right.chain)
