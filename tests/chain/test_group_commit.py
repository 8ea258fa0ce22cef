"""Group commit on both in-process engines (py-evm's embedded chain and revm): transactions sent while a
block is being made go into the next block together, in the order they arrived, each with its own
receipt or its own refusal.

The tests make the queue deterministic by holding the chain's write lock (as a block being made does)
while senders arrive one after another, then letting go."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from eth.vm.forks.frontier.state import FrontierState
from eth_account import Account

from sandbox.chain.base import Receipt
from sandbox.chain.embedded import EmbeddedChain
from sandbox.chain.factory import ENGINES, InProcessChain, in_process_chain
from sandbox.chain.groupcommit import refusals_send_nothing
from sandbox.contracts.base import ContractFacade
from sandbox.errors import ChainError, ContractReverted

TIMEOUT = 120.0


class Plain(ContractFacade):
    artifact_name = "PlainERC20"


class Sender(threading.Thread):
    """Runs one write on its own thread and keeps what it returned or raised."""

    def __init__(self, write: Callable[[], Receipt]) -> None:
        super().__init__(daemon=True)
        self._write = write
        self.receipt: Receipt | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.receipt = self._write()
        except BaseException as exc:  # handed to the test
            self.error = exc


def _wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.001)


@contextmanager
def _block_in_the_making(chain: InProcessChain) -> Iterator[Callable[[Callable[[], Receipt]], Sender]]:
    """Holds the write lock (a block being made); yields `arrive(write)`, which starts a sender and
    returns once its write is queued, so arrival order is the order of `arrive` calls. On exit the
    lock is released and every sender is joined."""
    senders: list[Sender] = []

    def arrive(write: Callable[[], Receipt]) -> Sender:
        queued = len(chain._queue)
        sender = Sender(write)
        sender.start()
        senders.append(sender)
        _wait_until(lambda: len(chain._queue) == queued + 1, "the write is queued")
        return sender

    chain._write_lock.acquire()
    try:
        yield arrive
    finally:
        chain._write_lock.release()
        for sender in senders:
            sender.join(TIMEOUT)
            assert not sender.is_alive()


@pytest.fixture(params=ENGINES)
def world(request: pytest.FixtureRequest) -> tuple[InProcessChain, Plain]:
    chain = in_process_chain(request.param, num_accounts=6)
    owner = chain.accounts[0].address
    token = Plain.deploy_contract(chain, [10**6], sender=owner)
    for account in chain.accounts[1:5]:
        token._send("transfer", account.address, 100, sender=owner)
    return chain, token


def _transfer(token: Plain, sender: str, to: str, amount: int) -> Callable[[], Receipt]:
    return lambda: token._send("transfer", to, amount, sender=sender)


def test_concurrent_senders_land_in_one_block_in_arrival_order_each_with_its_own_receipt(
    world: tuple[InProcessChain, Plain],
) -> None:
    chain, token = world
    a = [account.address for account in chain.accounts]
    head = chain.block_number()
    with _block_in_the_making(chain) as arrive:
        senders = [arrive(_transfer(token, a[i], a[5], i)) for i in (4, 1, 3, 2)]
    receipts = [s.receipt for s in senders]
    assert [s.error for s in senders] == [None] * 4
    assert all(r is not None for r in receipts)
    assert chain.block_number() == head + 1
    assert {r.block_number for r in receipts if r is not None} == {head + 1}
    block = chain.w3.eth.get_block(head + 1)
    assert ["0x" + bytes(h).hex() for h in block["transactions"]] == [
        r.transaction_hash for r in receipts if r is not None
    ]
    for sender_index, receipt in zip((4, 1, 3, 2), receipts, strict=True):
        assert receipt is not None
        (log,) = receipt.logs
        assert log.transaction_hash == receipt.transaction_hash
        assert int.from_bytes(log.topics[1], "big") == int(a[sender_index], 16)  # Transfer's `from`
        assert int.from_bytes(log.data, "big") == sender_index
        assert receipt.gas_used == int(chain.w3.eth.get_transaction_receipt(receipt.transaction_hash)["gasUsed"])
    assert token._read("balanceOf", a[5]) == 4 + 1 + 3 + 2


def test_a_refused_and_a_reverted_transaction_in_a_block_leave_the_others_alone(
    world: tuple[InProcessChain, Plain],
) -> None:
    chain, token = world
    a = [account.address for account in chain.accounts]
    penniless = chain.add_account(Account.create().key).address  # no ether for gas: the engine refuses it
    head = chain.block_number()
    with _block_in_the_making(chain) as arrive:
        first = arrive(_transfer(token, a[1], a[5], 100))  # all a[1] holds
        refused = arrive(_transfer(token, penniless, a[5], 0))
        # Only reverts because `first` ran before it in the same block: a[1] holds 0 by then.
        reverted = arrive(_transfer(token, a[1], a[5], 1))
        last = arrive(_transfer(token, a[2], a[5], 7))
    assert first.error is None and last.error is None
    assert first.receipt is not None and last.receipt is not None
    assert isinstance(refused.error, ChainError) and not isinstance(refused.error, ContractReverted)
    assert isinstance(reverted.error, ContractReverted)
    assert reverted.error.error_name == "ERC20InsufficientBalance"
    assert reverted.error.args_by_name == {"sender": a[1], "balance": 0, "needed": 1}
    assert reverted.error.tx_hash is not None
    assert first.receipt.block_number == last.receipt.block_number == head + 1
    assert len(chain.w3.eth.get_block(head + 1)["transactions"]) == 3  # the refused one never ran
    assert (token._read("balanceOf", a[1]), token._read("balanceOf", a[2])) == (0, 93)
    # Nonces stay right after the refusal and the revert: the next sends of both go through.
    assert token._send("transfer", a[5], 0, sender=a[1]).block_number == head + 2
    assert token._send("transfer", a[5], 1, sender=a[2]).block_number == head + 3


def test_a_lone_sender_gets_its_block_at_once(world: tuple[InProcessChain, Plain]) -> None:
    chain, token = world
    a = [account.address for account in chain.accounts]
    head = chain.block_number()
    receipts = [token._send("transfer", a[5], 1, sender=a[1]) for _ in range(3)]
    assert [r.block_number for r in receipts] == [head + 1, head + 2, head + 3]


def test_a_raw_transaction_joins_the_block_with_the_others(world: tuple[InProcessChain, Plain]) -> None:
    chain, token = world
    a = [account.address for account in chain.accounts]
    signer = chain.accounts[3]
    tx: dict[str, Any] = {
        "chainId": chain.chain_id,
        "nonce": chain.w3.eth.get_transaction_count(signer.address),
        "to": a[5],
        "value": 5,
        "gas": 21_000,
        "maxFeePerGas": 100 * 10**9,
        "maxPriorityFeePerGas": 0,
        "type": 2,
    }
    raw = bytes(Account.sign_transaction(tx, signer.private_key).raw_transaction)
    before = chain.w3.eth.get_balance(a[5])
    with _block_in_the_making(chain) as arrive:
        ours = arrive(_transfer(token, a[1], a[5], 3))
        theirs = arrive(lambda: chain.send_raw_transaction(raw))
        ours_again = arrive(_transfer(token, a[3], a[5], 3))  # same sender as the raw one: next nonce
    assert [s.error for s in (ours, theirs, ours_again)] == [None, None, None]
    numbers = {s.receipt.block_number for s in (ours, theirs, ours_again) if s.receipt is not None}
    assert numbers == {chain.block_number()}
    assert chain.w3.eth.get_balance(a[5]) - before == 5


# ---------------------------------------------------------------------- reads off the write lock


def test_reads_do_not_wait_for_a_block_being_made(world: tuple[InProcessChain, Plain]) -> None:
    """Balances, calls at a block, logs and the head are read while a writer holds the write lock (on
    today's main every one of them waits for the lock)."""
    chain, token = world
    a = [account.address for account in chain.accounts]
    head = chain.block_number()
    answers: dict[str, Any] = {}
    done = threading.Event()

    def read() -> None:
        answers["balance"] = token._read("balanceOf", a[1])
        answers["balance_then"] = token._read("balanceOf", a[1], block=1)
        answers["head"] = chain.block_number()
        answers["time"] = chain.block_timestamp(head) == chain.timestamp()
        answers["logs"] = len(chain.get_logs(0, head, [token.address]))
        done.set()

    with _block_in_the_making(chain) as arrive:
        writer = arrive(_transfer(token, a[1], a[5], 40))
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert done.wait(TIMEOUT), "a read waited for the write lock"
        assert writer.receipt is None  # the block was still being made while it read
    assert answers == {"balance": 100, "balance_then": 0, "head": head, "time": True, "logs": 5}
    # Read-your-writes: once the write returned, the writer's own read sees it.
    assert writer.receipt is not None and writer.receipt.block_number == head + 1
    assert token._read("balanceOf", a[1]) == 60


def test_reads_beside_many_writers_always_see_a_whole_block(world: tuple[InProcessChain, Plain]) -> None:
    """Tokens only move between holders: every read of all balances at one block sums to the supply,
    however the reads interleave with blocks being made."""
    chain, token = world
    holders = [account.address for account in chain.accounts]
    supply = token._read("totalSupply")
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(i: int) -> None:
        try:
            for n in range(15):
                token._send("transfer", holders[(i + n) % 5 + 1], 1, sender=holders[i])
        except BaseException as exc:
            errors.append(exc)

    sums: list[int] = []

    def read() -> None:
        try:
            while not stop.is_set():
                block = chain.block_number()
                sums.append(sum(token._read("balanceOf", h, block=block) for h in holders))
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(i,), daemon=True) for i in (1, 2, 3)]
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join(TIMEOUT)
    stop.set()
    reader.join(TIMEOUT)
    assert errors == []
    assert sums and set(sums) == {supply}


def test_within_refusals_send_nothing_a_reverting_transaction_is_never_sent(
    world: tuple[InProcessChain, Plain],
) -> None:
    """The gateway's mode (`refusals_send_nothing`), on both engines: the transaction is dry-run on the pending
    block; a revert raises the contract's error without a transaction hash, and no block, nonce or fee is
    spent; a transaction that passes is sent and mined as usual."""
    chain, token = world
    a = [account.address for account in chain.accounts]
    head, nonce, ether = chain.block_number(), chain.get_transaction_count(a[1]), chain.balance(a[1])
    with refusals_send_nothing():
        with pytest.raises(ContractReverted) as refused:
            token._send("transfer", a[5], 101, sender=a[1])  # a[1] holds 100
        assert refused.value.error_name == "ERC20InsufficientBalance"
        assert refused.value.args_by_name == {"sender": a[1], "balance": 100, "needed": 101}
        assert refused.value.tx_hash is None
        assert (chain.block_number(), chain.get_transaction_count(a[1]), chain.balance(a[1])) == (head, nonce, ether)
        assert token._send("transfer", a[5], 100, sender=a[1]).block_number == head + 1
    with pytest.raises(ContractReverted) as mined:  # outside it, a chain's behaviour: mined and reverted
        token._send("transfer", a[5], 1, sender=a[1])
    assert mined.value.tx_hash is not None
    assert chain.block_number() == head + 2


def test_within_refusals_send_nothing_a_write_an_earlier_one_in_its_block_makes_revert_is_refused_not_mined(
    world: tuple[InProcessChain, Plain],
) -> None:
    """Three writes of a[1] (which holds 100) share a block: the first spends the 100, the second then
    reverts, the third sends 0. The second is taken back out of the block: refused without a transaction
    hash, its nonce left to the third, and the block holds the first and the third. (A dry run on the
    head before queueing passed the second, and it was mined reverted, with a hash.)"""
    chain, token = world
    a = [account.address for account in chain.accounts]
    head, nonce = chain.block_number(), chain.get_transaction_count(a[1])

    def guarded(amount: int) -> Callable[[], Receipt]:
        def write() -> Receipt:
            with refusals_send_nothing():
                return token._send("transfer", a[5], amount, sender=a[1])

        return write

    with _block_in_the_making(chain) as arrive:
        first, second, third = arrive(guarded(100)), arrive(guarded(1)), arrive(guarded(0))
    assert first.error is None and first.receipt is not None
    assert isinstance(second.error, ContractReverted) and second.error.tx_hash is None
    assert second.error.args_by_name == {"sender": a[1], "balance": 0, "needed": 1}
    assert third.error is None and third.receipt is not None  # takes the nonce the refused one left
    assert chain.block_number() == head + 1
    assert [tx.hash for tx in chain.block(head + 1).transactions] == [
        first.receipt.transaction_hash,
        third.receipt.transaction_hash,
    ]
    assert chain.get_transaction_count(a[1]) == nonce + 2
    assert token._read("balanceOf", a[1]) == 0 and token._read("balanceOf", a[5]) == 100
    after = token._send("transfer", a[1], 7, sender=a[5])  # the block after it is an ordinary one
    assert after.block_number == head + 2 and token._read("balanceOf", a[1]) == 7


def test_within_refusals_send_nothing_a_write_is_executed_once(
    world: tuple[InProcessChain, Plain], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal is judged by the execution in the block, not by a dry run before it: a transfer runs
    the EVM once (py-evm's or revm's), passing or refused. (A dry run on a VM of its own was 5.3 ms of a
    UK transfer's 16 ms of CPU on py-evm, 28 ms of a US transfer's 65 ms: bench.gateway_load.)"""
    chain, token = world
    a = [account.address for account in chain.accounts]
    runs: list[str] = []
    if isinstance(chain, EmbeddedChain):
        original = FrontierState.apply_transaction

        def counted(self: Any, transaction: Any) -> Any:
            runs.append("py-evm")
            return original(self, transaction)

        monkeypatch.setattr(FrontierState, "apply_transaction", counted)
    else:
        original_run = type(chain)._run

        def counted_run(self: Any, *args: Any, **kwargs: Any) -> Any:
            runs.append("revm")
            return original_run(self, *args, **kwargs)

        monkeypatch.setattr(type(chain), "_run", counted_run)
    with refusals_send_nothing():
        token._send("transfer", a[5], 10, sender=a[1])
        assert len(runs) == 1
        with pytest.raises(ContractReverted):
            token._send("transfer", a[5], 1_000, sender=a[1])
        assert len(runs) == 2
