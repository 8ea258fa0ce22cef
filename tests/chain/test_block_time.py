"""A transaction's block carries the time it is mined (issue 10, item 9).

py-evm stamps the pending block when its parent is mined; left alone, a transaction sent after an
idle spell ran, and was judged, at the time the previous block was mined. The wall clock is injected
(`now`), so the tests say exactly what time it is without sleeping. Every test runs on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_tester.exceptions import TransactionFailed
from web3.exceptions import ContractCustomError

from sandbox.chain.embedded import EmbeddedChain, _revert_bytes
from sandbox.chain.factory import ENGINES, InProcessChain, in_process_chain
from sandbox.chain.revm_engine import RevmChain
from sandbox.chain.web3chain import _revert_data_from
from sandbox.errors import ContractReverted
from sandbox.market import Market, load_scenario
from sandbox.scenario import Scenario

SYMBOL = "THAMES28"


class Clock:
    """A wall clock the test sets."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(0.0)


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def loaded(demo_scenario: Scenario, clock: Clock, engine: str) -> Market:
    chain = in_process_chain(engine, num_accounts=max(20, demo_scenario.accounts_needed), now=clock)
    return load_scenario(chain, demo_scenario)  # under the fixed clock: reproducible


@pytest.fixture
def market(loaded: Market, clock: Clock) -> Market:
    chain = _in_process(loaded)
    snapshot = loaded.snapshot()
    chain.set_clock("wall")
    try:
        yield loaded
    finally:
        chain.set_clock("fixed")
        loaded.revert(snapshot)


def _in_process(market: Market) -> InProcessChain:
    chain = market.chain
    assert isinstance(chain, EmbeddedChain | RevmChain)
    return chain


def _kyc_expiry(market: Market, *keys: str) -> int:
    return min(market.registry.investor(market.accounts[key]).kyc_valid_until for key in keys)


def test_a_block_after_an_idle_spell_carries_the_time_it_was_mined(market: Market, clock: Clock) -> None:
    chain = _in_process(market)
    token = market.security(SYMBOL)
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    clock.now = chain.timestamp() + 3600.25
    first = token.transfer(bob, 1, sender=alice)
    assert first.block_timestamp == int(clock.now)
    clock.now += 20  # 20 s idle, then the next transaction
    second = token.transfer(bob, 1, sender=alice)
    assert second.block_timestamp == int(clock.now)
    assert chain.timestamp() == int(clock.now)
    # A clock that does not move (or goes back) never stamps a block at or before its parent.
    third = token.transfer(bob, 1, sender=alice)
    clock.now -= 100
    fourth = token.transfer(bob, 1, sender=alice)
    assert (third.block_timestamp, fourth.block_timestamp) == (second.block_timestamp + 1, second.block_timestamp + 2)


def test_a_rule_is_judged_at_the_time_the_transaction_is_mined(market: Market, clock: Clock) -> None:
    """KYC that expires between the last block and the next transaction: the transaction is refused, and
    the pre-check (an eth_call on the pending block) says so before it is sent."""
    chain = _in_process(market)
    token = market.security(SYMBOL)
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    expiry = _kyc_expiry(market, "alice", "bob")
    assert expiry > chain.timestamp() + 60
    clock.now = expiry - 10
    assert token.can_transfer(alice, bob, 1)
    receipt = token.transfer(bob, 1, sender=alice)
    assert receipt.block_timestamp == expiry - 10
    balances = token.balance_of(alice), token.balance_of(bob)
    head = chain.block_number()

    clock.now = expiry + 10  # idle 20 s: the KYC has expired by now
    assert not token.can_transfer(alice, bob, 1)  # the pre-check judges now, as the send will
    with pytest.raises(ContractReverted) as refused:
        token.transfer(bob, 1, sender=alice)
    assert refused.value.error_name == "SenderKycExpired", refused.value
    assert refused.value.args_by_name["checkedAt"] == expiry + 10
    assert chain.block_number() == head + 1  # mined, and failed
    assert chain.block_timestamp(head + 1) == expiry + 10
    assert (token.balance_of(alice), token.balance_of(bob)) == balances


def test_a_gas_estimate_judges_the_time_a_send_would_be_mined(market: Market, clock: Clock) -> None:
    chain = _in_process(market)
    token = market.security(SYMBOL)
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    expiry = _kyc_expiry(market, "alice", "bob")
    clock.now = expiry - 10
    token.transfer(bob, 1, sender=alice)
    tx = {"from": alice, "to": token.address, "data": token._abi.encode_call("transfer", [bob, 1])}
    clock.now = expiry - 5
    assert chain.w3.eth.estimate_gas(tx) > 21_000  # type: ignore[arg-type]
    clock.now = expiry + 10
    with pytest.raises((TransactionFailed, ContractCustomError)) as refused:  # eth-tester's, or web3's on revm
        chain.w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
    error = refused.value
    data = _revert_bytes(error) if isinstance(error, TransactionFailed) else _revert_data_from(error)
    assert data is not None
    reason = chain.decoder.to_exception(data)
    assert reason.error_name == "SenderKycExpired", reason
    assert reason.args_by_name["checkedAt"] == expiry + 10  # judged now, not at the last block's time


def test_the_fixed_clock_stays_one_second_per_block(demo_scenario: Scenario, loaded: Market, clock: Clock) -> None:
    chain = _in_process(loaded)
    assert chain.clock == "fixed"
    snapshot = loaded.snapshot()
    try:
        clock.now = chain.timestamp() + 10_000
        before = chain.timestamp()
        receipt = loaded.security(SYMBOL).transfer(loaded.accounts["bob"], 1, sender=loaded.accounts["alice"])
        assert receipt.block_timestamp == before + 1
        chain.mine(2)
        assert chain.timestamp() == before + 3
    finally:
        loaded.revert(snapshot)


def test_a_persistent_wall_clock_chain_replays_its_recorded_times(tmp_path: Path, engine: str) -> None:
    clock = Clock(2_000_000_000.0)
    with in_process_chain(engine, num_accounts=2, clock="wall", data_dir=tmp_path, now=clock) as chain:
        sender, receiver = chain.accounts[0].address, chain.accounts[1].address
        stamps = []
        for step in (0, 20, 3600):
            clock.now += step
            receipt = chain.transact(sender, receiver, b"", value=1, gas=21_000)
            stamps.append(receipt.block_timestamp)
        chain.mine()
        head = chain.w3.eth.get_block("latest")
    assert stamps == [2_000_000_000, 2_000_000_020, 2_000_003_620]
    clock.now = 2_100_000_000.0  # a restart much later: the replayed blocks keep their recorded times
    with in_process_chain(engine, num_accounts=2, clock="wall", data_dir=tmp_path, now=clock) as reopened:
        assert reopened.w3.eth.get_block("latest")["hash"] == head["hash"]
        assert [reopened.block_timestamp(n) for n in (1, 2, 3)] == stamps
        assert reopened.timestamp() == head["timestamp"] == 2_000_003_621
        receipt = reopened.transact(sender, receiver, b"", value=1, gas=21_000)
        assert receipt.block_timestamp == 2_100_000_000
