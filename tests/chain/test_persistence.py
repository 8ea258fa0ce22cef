"""Crash-safe persistence of both in-process engines (py-evm's embedded chain and revm): restart in
process, torn journal tails, foreign data directories, and a worker process killed with SIGKILL at random moments."""

from __future__ import annotations

import functools
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sandbox.chain.factory import ENGINES, InProcessChain, in_process_chain
from sandbox.chain.persistence import (
    BlockRecord,
    PersistenceError,
    RevertRecord,
    decode_record,
    encode_record,
    frame,
    scan_journal,
)
from sandbox.errors import ContractReverted
from tests.chain._crash_worker import ACCOUNTS, SUPPLY, Plain, planned_transfer, token_address

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each test runs on both engines; `make(**options)` builds a chain of this test's engine."""
    return str(request.param)


@pytest.fixture
def make(engine: str) -> Callable[..., InProcessChain]:
    return functools.partial(in_process_chain, engine)


def _state(chain: InProcessChain, token: Plain) -> dict[str, Any]:
    """Everything a restart must reproduce: the head block (hash covers every header field, state root
    and transactions), ether balances, nonces and token balances."""
    head = chain.w3.eth.get_block("latest")
    addresses = [a.address for a in chain.accounts]
    return {
        "number": head["number"],
        "hash": bytes(head["hash"]),
        "timestamp": head["timestamp"],
        "ether": [chain.w3.eth.get_balance(a) for a in addresses],
        "nonces": [chain.w3.eth.get_transaction_count(a) for a in addresses],
        "tokens": [token._read("balanceOf", a) for a in addresses],
        # Reads as of a past block (revm answers them from each block's undo log, which a snapshot keeps).
        "tokens_at_3": [token._read("balanceOf", a, block=3) for a in addresses] if head["number"] >= 3 else None,
    }


def _busy_history(chain: InProcessChain) -> Plain:
    """Deploys a token and makes every kind of journal record: transfers, a mined failed transaction,
    time travel, empty blocks, a revert."""
    owner, *others = (a.address for a in chain.accounts)
    token = Plain.deploy_contract(chain, [SUPPLY], sender=owner)
    for i in range(6):
        token._send("transfer", others[i % len(others)], 1_000 + i, sender=owner)
    with pytest.raises(ContractReverted):
        token._send("transfer", owner, 10**9, sender=others[0])  # mined with status 0: more than it holds
    chain.time_travel(chain.timestamp() + 86_400)
    chain.mine(2)
    marker = chain.snapshot()
    token._send("transfer", others[1], 5, sender=owner)
    chain.time_travel(chain.timestamp() + 600)
    chain.revert(marker)  # journalled: the restarted chain must not have the last transfer or travel
    token._send("transfer", others[2], 7, sender=owner)
    return token


@pytest.mark.parametrize("snapshot_every", [3, 1_000], ids=["snapshots", "journal-only"])
def test_restart_reproduces_blocks_and_state(
    tmp_path: Path, snapshot_every: int, make: Callable[..., InProcessChain]
) -> None:
    with make(num_accounts=4, data_dir=tmp_path, snapshot_every=snapshot_every, snapshot_on_close=False) as chain:
        token = _busy_history(chain)
        before = _state(chain, token)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert any(n.startswith("snapshot-") for n in names) == (snapshot_every == 3), names

    # The wall clock must not leak into the replay: blocks keep their journalled timestamps.
    with make(num_accounts=4, data_dir=tmp_path, snapshot_every=snapshot_every, clock="wall") as again:
        assert again.recovery is not None and again.recovery.torn_bytes == 0
        token_again = Plain(again, token.address)
        assert _state(again, token_again) == before
        # Nonces come from the restored state, so the restarted chain keeps going.
        receipt = token_again._send("transfer", again.accounts[3].address, 1, sender=again.accounts[0].address)
        assert receipt.block_number == before["number"] + 1
        after = _state(again, token_again)

    with make(num_accounts=4, data_dir=tmp_path, snapshot_every=snapshot_every) as third:
        assert _state(third, Plain(third, token.address)) == after


def test_persistent_chain_mines_the_same_blocks_as_an_in_memory_one(
    tmp_path: Path, make: Callable[..., InProcessChain]
) -> None:
    memory = make(num_accounts=4)
    disk = make(num_accounts=4, data_dir=tmp_path, snapshot_every=4)
    try:
        assert _state(disk, _busy_history(disk)) == _state(memory, _busy_history(memory))
    finally:
        disk.close()


def test_torn_last_record_is_dropped_and_the_journal_truncated(
    tmp_path: Path, make: Callable[..., InProcessChain]
) -> None:
    with make(num_accounts=3, data_dir=tmp_path, snapshot_on_close=False) as chain:
        token = Plain.deploy_contract(chain, [SUPPLY], sender=chain.accounts[0].address)
        acknowledged = _state(chain, token)
        journal = tmp_path / "journal-00000000.log"
        good_size = journal.stat().st_size
        # A record the chain appends next, cut off by a crash in the middle of its write.
        record = frame(encode_record(BlockRecord(2, 1, b"\x01" * 32, b"\x00" * 20, b"\x02" * 32, (b"\x03" * 90,))))
    with journal.open("ab") as handle:
        handle.write(record[: len(record) // 2])

    with make(num_accounts=3, data_dir=tmp_path) as reopened:
        assert reopened.recovery is not None
        assert reopened.recovery.torn_bytes == len(record) // 2
        assert journal.stat().st_size == good_size
        assert _state(reopened, Plain(reopened, token.address)) == acknowledged
        # Appending after the cut works and survives the next restart.
        Plain(reopened, token.address)._send(
            "transfer", reopened.accounts[1].address, 9, sender=token.chain.accounts[0].address
        )
        extended = _state(reopened, Plain(reopened, token.address))
    with make(num_accounts=3, data_dir=tmp_path) as third:
        assert third.recovery is not None and third.recovery.torn_bytes == 0
        assert _state(third, Plain(third, token.address)) == extended


def test_checksum_failure_in_the_last_record_drops_it(tmp_path: Path, make: Callable[..., InProcessChain]) -> None:
    with make(num_accounts=2, data_dir=tmp_path, snapshot_on_close=False) as chain:
        chain.mine(2)
        first_block_hash = bytes(chain.w3.eth.get_block(1)["hash"])
    journal = tmp_path / "journal-00000000.log"
    data = bytearray(journal.read_bytes())
    data[-1] ^= 0xFF  # the last record's payload no longer matches its checksum
    journal.write_bytes(bytes(data))
    with make(num_accounts=2, data_dir=tmp_path) as reopened:
        assert reopened.block_number() == 1
        assert bytes(reopened.w3.eth.get_block(1)["hash"]) == first_block_hash


def test_damage_before_the_last_record_is_refused(tmp_path: Path, make: Callable[..., InProcessChain]) -> None:
    with make(num_accounts=2, data_dir=tmp_path, snapshot_on_close=False) as chain:
        chain.mine(3)
    journal = tmp_path / "journal-00000000.log"
    data = bytearray(journal.read_bytes())
    data[12] ^= 0xFF  # inside the first record: acknowledged records follow it
    journal.write_bytes(bytes(data))
    with pytest.raises(PersistenceError, match="damaged at byte 0"):
        make(num_accounts=2, data_dir=tmp_path)


def test_records_round_trip_and_scan_stops_at_a_torn_header() -> None:
    records = [
        BlockRecord(7, 1_767_225_607, b"\x11" * 32, b"\x22" * 20, b"\x33" * 32, (b"\x02" + b"x" * 100, b"\xf8\x01")),
        BlockRecord(8, 1_767_230_000, b"\x44" * 32, b"\x00" * 20, b"\x55" * 32, ()),
        RevertRecord(3, b"\x66" * 32),
    ]
    for record in records:
        assert decode_record(encode_record(record)) == record
    data = b"".join(frame(encode_record(r)) for r in records)
    assert scan_journal(data).records == records
    torn = scan_journal(data + b"\x00\x00\x01")  # a record header cut after three bytes
    assert torn.records == records and torn.good_length == len(data) and torn.torn_bytes == 3
    zeros = scan_journal(data + bytes(64))  # a file extended by the crash but never written
    assert zeros.records == records and zeros.torn_bytes == 64
    with pytest.raises(PersistenceError):
        scan_journal(data + b"junk-that-is-not-a-record-and-not-zeros-at-all")
    with pytest.raises(PersistenceError, match="unknown journal record kind"):
        decode_record(b"Z123")


def test_a_directory_of_another_chain_is_refused(tmp_path: Path, make: Callable[..., InProcessChain]) -> None:
    make(num_accounts=2, data_dir=tmp_path).close()
    with pytest.raises(PersistenceError, match="different chain"):
        make(num_accounts=3, data_dir=tmp_path)
    with pytest.raises(PersistenceError, match="different chain"):
        make(num_accounts=2, genesis_timestamp=1_800_000_000, data_dir=tmp_path)


def test_a_directory_is_opened_by_one_chain_at_a_time(tmp_path: Path, make: Callable[..., InProcessChain]) -> None:
    with make(num_accounts=2, data_dir=tmp_path), pytest.raises(PersistenceError, match="already open"):
        make(num_accounts=2, data_dir=tmp_path)
    make(num_accounts=2, data_dir=tmp_path).close()  # released on close


def test_a_closed_chain_refuses_to_mine(tmp_path: Path, make: Callable[..., InProcessChain]) -> None:
    chain = make(num_accounts=2, data_dir=tmp_path)
    chain.close()
    with pytest.raises(PersistenceError, match="closed"):
        chain.mine(1)


def test_checkpoint_leaves_nothing_to_replay(tmp_path: Path, make: Callable[..., InProcessChain]) -> None:
    with make(num_accounts=2, data_dir=tmp_path) as chain:
        chain.mine(5)
        chain.checkpoint()
        head = bytes(chain.w3.eth.get_block("latest")["hash"])
    assert sorted(p.name for p in tmp_path.glob("*-*")) == ["journal-00000001.log", "snapshot-00000001.snap"]
    with make(num_accounts=2, data_dir=tmp_path) as reopened:
        assert reopened.recovery is not None and reopened.recovery.records == []
        assert bytes(reopened.w3.eth.get_block("latest")["hash"]) == head


# ---------------------------------------------------------------------------------------------- SIGKILL

ROUNDS = 5
SNAPSHOT_EVERY = 20  # small, so kills also land while snapshots are written and journals rotate


def _wait_for_line(path: Path, prefix: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(line.startswith(prefix) for line in path.read_text().splitlines()):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    raise AssertionError(f"the worker never printed {prefix!r}; stderr:\n{path.with_suffix('.err').read_text()}")


def _acknowledged(path: Path) -> list[tuple[int, str, int, str]]:
    text = path.read_text()
    complete = text[: text.rfind("\n") + 1]  # a line cut by the kill was never fully printed
    acks = []
    for line in complete.splitlines():
        if line.startswith("ACK "):
            _, index, tx_hash, block_number, block_hash = line.split()
            acks.append((int(index), tx_hash, int(block_number), block_hash))
    return acks


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_acknowledged_transfer(
    tmp_path: Path, engine: str, make: Callable[..., InProcessChain]
) -> None:
    data_dir = tmp_path / "chain"
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    acked: dict[int, tuple[str, int, str]] = {}
    for round_ in range(ROUNDS):
        out = tmp_path / f"round{round_}.out"
        with out.open("wb") as stdout, out.with_suffix(".err").open("wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.chain._crash_worker", str(data_dir), str(SNAPSHOT_EVERY), engine],
                cwd=ROOT,
                stdout=stdout,
                stderr=stderr,
            )
        try:
            if round_ % 3 == 1:
                # Kill while the worker recovers: loading the snapshot, replaying, truncating a tail.
                _wait_for_line(out, "OPENING", proc, timeout=300)
                time.sleep(rng.uniform(0.0, 0.4))
            else:
                _wait_for_line(out, "READY", proc, timeout=300)
                time.sleep(rng.uniform(0.05, 1.5))
            assert proc.poll() is None, (
                f"seed {seed}: the worker died by itself:\n{out.with_suffix('.err').read_text()}"
            )
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
        for index, tx_hash, block_number, block_hash in _acknowledged(out):
            acked[index] = (tx_hash, block_number, block_hash)
    assert acked, f"seed {seed}: no transfer was acknowledged in {ROUNDS} rounds"

    with make(num_accounts=ACCOUNTS, data_dir=data_dir, snapshot_every=SNAPSHOT_EVERY) as chain:
        owner = chain.accounts[0].address
        applied = chain.w3.eth.get_transaction_count(owner) - 1  # nonce 0 deployed the token
        print(f"seed {seed}: {len(acked)} transfers acknowledged, {applied} on chain")  # shown with -s
        # Every acknowledged transfer is there; at most one unacknowledged one per round (fsynced, then
        # killed before it was printed) may be there too.
        assert max(acked) < applied, f"seed {seed}: acknowledged up to #{max(acked)}, chain has {applied}"
        assert applied - len(acked) <= ROUNDS, f"seed {seed}"
        for index, (tx_hash, block_number, block_hash) in acked.items():
            block = chain.w3.eth.get_block(block_number)
            assert bytes(block["hash"]).hex() == block_hash, f"seed {seed}: block of transfer #{index} differs"
            assert tx_hash in ["0x" + bytes(t).hex() for t in block["transactions"]], f"seed {seed}: #{index}"
        # Nothing half-applied: balances are exactly those of the first `applied` planned transfers.
        token = Plain(chain, token_address(chain))
        expected = [0] * ACCOUNTS
        for index in range(applied):
            recipient, amount = planned_transfer(index)
            expected[recipient] += amount
        expected[0] = SUPPLY - sum(expected)
        balances = [token._read("balanceOf", a.address) for a in chain.accounts]
        assert balances == expected, f"seed {seed}"
        assert token._read("totalSupply") == SUPPLY == sum(balances)


def test_revert_to_genesis_and_to_an_older_snapshot_survive_a_restart(
    tmp_path: Path, make: Callable[..., InProcessChain]
) -> None:
    with make(num_accounts=3, data_dir=tmp_path, snapshot_every=2) as chain:
        genesis = chain.snapshot()
        chain.mine(3)
        chain.revert(genesis)
        assert chain.block_number() == 0
        token = Plain.deploy_contract(chain, [SUPPLY], sender=chain.accounts[0].address)
        deployed = token._send("transfer", chain.accounts[1].address, 3, sender=chain.accounts[0].address)
        older = chain.snapshot()
        for _ in range(3):  # crosses a snapshot of the store
            token._send("transfer", chain.accounts[2].address, 1, sender=chain.accounts[0].address)
        chain.revert(older)
        state = _state(chain, token)
    with make(num_accounts=3, data_dir=tmp_path, snapshot_every=2) as again:
        assert _state(again, Plain(again, token.address)) == state
        # Transactions mined before the snapshot are still found by hash after the revert and restart.
        assert again.w3.eth.get_transaction_receipt(deployed.transaction_hash)["blockNumber"] == deployed.block_number


def test_without_fsync_records_still_reach_the_journal(tmp_path: Path, make: Callable[..., InProcessChain]) -> None:
    with make(num_accounts=2, data_dir=tmp_path, fsync=False, snapshot_on_close=False) as chain:
        chain.mine(2)
        chain.time_travel(chain.timestamp() + 60)
        head = bytes(chain.w3.eth.get_block("latest")["hash"])
    with make(num_accounts=2, data_dir=tmp_path) as reopened:
        assert reopened.recovery is not None and len(reopened.recovery.records) == 3
        assert bytes(reopened.w3.eth.get_block("latest")["hash"]) == head


def test_a_graceful_close_snapshots_so_a_restart_replays_nothing(
    tmp_path: Path, make: Callable[..., InProcessChain]
) -> None:
    """On today's main a restart after a graceful close re-mines every block since the last scheduled
    snapshot (up to 999)."""
    with make(num_accounts=4, data_dir=tmp_path, snapshot_every=1_000) as chain:
        token = _busy_history(chain)
        before = _state(chain, token)
    with make(num_accounts=4, data_dir=tmp_path, snapshot_every=1_000) as again:
        assert again.recovery is not None and again.recovery.records == []
        assert _state(again, Plain(again, token.address)) == before


def test_a_snapshot_is_due_after_snapshot_seconds_even_with_few_blocks(
    tmp_path: Path, make: Callable[..., InProcessChain]
) -> None:
    with make(num_accounts=4, data_dir=tmp_path, snapshot_every=1_000, snapshot_seconds=0) as chain:
        owner = chain.accounts[0].address
        chain.transact(owner, chain.accounts[1].address, b"", value=1, gas=21_000)
        # `snapshot_seconds=0`: the block just mined was snapshotted at once, nothing is left to replay.
        head = chain.block_number()
    with make(num_accounts=4, data_dir=tmp_path, snapshot_on_close=False) as again:
        assert again.recovery is not None and again.recovery.records == []
        assert again.block_number() == head
