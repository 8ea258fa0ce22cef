"""Differential tests: the same transactions on py-evm and on revm give the same gas, status, return
and revert data, logs and resulting state."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.errors import ChainError, ContractReverted
from sandbox.market import Market, load_scenario
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

    monkeypatch.setattr(corporate_world, "in_process_chain", RecordingEmbedded)
    left = corporate_world.build_corporate_world()
    monkeypatch.setattr(corporate_world, "in_process_chain", RecordingRevm)
    right = corporate_world.build_corporate_world()
    assert isinstance(left.chain, RecordingEmbedded)
    assert isinstance(right.chain, RecordingRevm)
    assert_same_outcomes(left.chain, right.chain)
    assert_same_state(left.chain, right.chain)


# ---------------------------------------------------------------------- generated sequences


INVESTORS = ("alice", "bob", "carol", "dan")
#: Generated sequences tried per run (SANDBOX_DIFFERENTIAL_EXAMPLES; more for an exploratory run).
EXAMPLES = int(os.environ.get("SANDBOX_DIFFERENTIAL_EXAMPLES", "12"))
DAY = 86_400

_wallet = st.sampled_from(INVESTORS)
_operation = st.one_of(
    st.tuples(st.just("transfer"), st.sampled_from(("THAMES28", "HUDS", "GBP", "USD")), _wallet, _wallet,
              st.sampled_from((0, 1, 100, 499, 500, 2_000, 10**9))),
    st.tuples(st.just("freeze"), st.sampled_from(("THAMES28", "HUDS")), _wallet, st.booleans()),
    st.tuples(st.just("freeze_partial"), st.sampled_from(("THAMES28", "HUDS")), _wallet,
              st.sampled_from((1, 300, 10**6))),
    st.tuples(st.just("dvp"), st.sampled_from(("THAMES28", "HUDS")), _wallet, _wallet, st.sampled_from((1, 50, 600)),
              st.sampled_from((1, 10_000, 10**12))),
    st.tuples(st.just("coupon"), st.integers(min_value=1, max_value=4)),
    st.tuples(st.just("advance"), st.sampled_from((1, 7, 30, 182))),
    st.tuples(st.just("claim"), _wallet),
    st.tuples(st.just("pause"), st.booleans()),
)  # fmt: skip


def _apply(market: Market, op: tuple[object, ...]) -> str:
    """Runs one operation through the facades; returns what happened (a refusal is an outcome too)."""
    kind = op[0]
    w = market.accounts
    try:
        if kind == "transfer":
            _, asset, src, dst, amount = op
            token = market.securities.get(str(asset)) or market.cash_token(str(asset))
            token.transfer(w[str(dst)], int(amount), sender=w[str(src)])  # type: ignore[call-overload]
        elif kind == "freeze":
            _, symbol, who, flag = op
            market.security(str(symbol)).set_address_frozen(
                w[str(who)], bool(flag), sender=w[market.issuer_of[str(symbol)]]
            )
        elif kind == "freeze_partial":
            _, symbol, who, amount = op
            market.security(str(symbol)).freeze_partial_tokens(
                w[str(who)], int(amount), sender=w[market.issuer_of[str(symbol)]]
            )
        elif kind == "dvp":
            _, symbol, seller, buyer, quantity, price = op
            cash = market.cash_symbol_of["GBP" if symbol == "THAMES28" else "USD"]
            proposed = market.propose_trade(
                proposer=w[str(seller)], seller=w[str(seller)], buyer=w[str(buyer)], security=str(symbol),
                quantity=int(quantity), cash=cash, cash_amount=int(price), deadline=market.chain.timestamp() + DAY,
            )  # fmt: skip
            market.affirm_trade(proposed.trade_id, sender=w[str(buyer)])
            market.settle_trade(proposed.trade_id, sender=w[str(seller)])
        elif kind == "coupon":
            agent = market.paying_agent("THAMES28")
            agent.schedule_coupon(int(str(op[1])), sender=w["thames"])  # type: ignore[union-attr]
        elif kind == "advance":
            market.chain.time_travel(market.chain.timestamp() + int(str(op[1])) * DAY)  # type: ignore[attr-defined]
        elif kind == "claim":
            agent = market.paying_agent("THAMES28")
            count = agent.distribution_count()
            if count:
                with contextlib.suppress(ContractReverted):  # already funded, or not yet fundable
                    market.fund_distribution("THAMES28", count, payer=market.treasuries["thames"])
                agent.claim(count, sender=w[str(op[1])])
        elif kind == "pause":
            token = market.security("HUDS")
            (token.pause if op[1] else token.unpause)(sender=w["hudson"])
    except ContractReverted as exc:
        return f"reverted {exc.error_name}"
    except ChainError as exc:
        return f"refused {type(exc).__name__}"
    return "ok"


@pytest.fixture(scope="module")
def both_demo() -> Iterator[tuple[Market, Market]]:
    scenario = Scenario.from_file(SEEDS / "demo.yaml")
    n = max(20, scenario.accounts_needed)
    pyevm, revm = RecordingEmbedded(num_accounts=n), RecordingRevm(num_accounts=n)
    yield load_scenario(pyevm, scenario), load_scenario(revm, scenario)


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(_operation, min_size=1, max_size=8))
def test_generated_sequences_run_identically_on_py_evm_and_revm(
    both_demo: tuple[Market, Market], operations: list[tuple[object, ...]]
) -> None:
    """Transfers, freezes, DvP trades, coupons and claims, pauses and time travel, in any order: each
    step ends the same way on both engines (success or the same refusal), with the same gas, logs and
    revert data, and leaves the same state."""
    left, right = both_demo
    marks = [m.snapshot() for m in (left, right)]
    assert isinstance(left.chain, RecordingEmbedded) and isinstance(right.chain, RecordingRevm)
    start = (len(left.chain.outcomes), len(right.chain.outcomes))
    try:
        results = [(_apply(left, op), _apply(right, op)) for op in operations]
        for op, (a, b) in zip(operations, results, strict=True):
            assert a == b, f"{op}: py-evm {a}, revm {b}"
        sent_left, sent_right = left.chain.outcomes[start[0] :], right.chain.outcomes[start[1] :]
        assert sent_left == sent_right
        assert left.chain.timestamp() == right.chain.timestamp()
        for symbol, token in left.securities.items():
            other = right.securities[symbol]
            for wallet in left.accounts.values():
                assert token.balance_of(wallet) == other.balance_of(wallet)
                assert token.get_frozen_tokens(wallet) == other.get_frozen_tokens(wallet)
    finally:
        left.revert(marks[0])
        right.revert(marks[1])


def test_calldata_floor_of_prague_is_charged_on_both_engines() -> None:
    """EIP-7623: a transaction carrying more calldata than it executes pays 21,000 + 10 gas per token
    (found by the generated sequences: a DvP proposal refused at once cost 26,040 on py-evm, 24,350 on
    revm 8, which predates Prague's floor)."""
    pyevm, revm = RecordingEmbedded(), RecordingRevm()
    for chain in (pyevm, revm):
        a, b = chain.accounts[0].address, chain.accounts[1].address
        chain.transact(a, b, b"\x01" * 1_000, gas=100_000)  # 37,000 by the standard cost
        chain.transact(a, b, b"\x00" * 1_000 + b"\x01", gas=100_000)  # 25,016 by the standard cost
    assert [o.gas_used for o in revm.outcomes] == [61_000, 31_040]
    assert_same_outcomes(pyevm, revm)
    assert_same_state(pyevm, revm)
