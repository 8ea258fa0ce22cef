"""BLOCKHASH(n) answers the hash the chain reports for block n (``eth_getBlockByNumber(n).hash``) for
the 256 blocks before the current one and 0 outside that window, on py-evm and on revm alike (revm's
own database would answer keccak of n's decimal text: `sandbox.chain.blockhash`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from sandbox.chain.base import DevChain
from sandbox.chain.embedded import EmbeddedChain
from sandbox.chain.revm_engine import RevmChain, uses_blockhash

#: blockhash(n) for n = the first calldata word: stored at slot n, logged (LOG0) and returned.
#: PUSH1 0 CALLDATALOAD DUP1 BLOCKHASH SWAP1 DUP2 SWAP1 SSTORE, PUSH1 0 MSTORE, PUSH1 32 PUSH1 0 LOG0,
#: PUSH1 32 PUSH1 0 RETURN
RUNTIME = bytes.fromhex("60003580409081905560005260206000a060206000f3")
#: returns (without storing) blockhash of the calldata word
READER = bytes.fromhex("6000354060005260206000f3")


def _initcode(runtime: bytes) -> bytes:
    return bytes([0x61]) + len(runtime).to_bytes(2, "big") + bytes.fromhex("80600c6000396000f3") + runtime


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def _hash(chain: DevChain, number: int) -> bytes:
    return bytes(chain.w3.eth.get_block(number)["hash"])  # type: ignore[attr-defined]


def _run_story(chain: DevChain) -> dict[str, Any]:
    """Deploys both contracts, mines past 256 blocks, then asks for blocks at and around the window's
    edges by transaction (in block head + 1) and by call (on the head's state, in the head's block)."""
    a = chain.accounts[0].address
    keeper = chain.transact(a, None, _initcode(RUNTIME)).contract_address
    reader = chain.transact(a, None, _initcode(READER)).contract_address
    assert keeper is not None and reader is not None
    chain.mine(300)
    head = chain.block_number()  # the next transaction is mined in block head + 1
    seen: dict[str, Any] = {"head": head, "tx": {}, "call": {}, "gas": []}
    # In block head + 1: head (the parent) and head - 255 are in the window, head - 256 is the first out,
    # head + 1 (the block itself) and later are 0.
    for n in (head, head - 1, head - 255, head - 256, head + 1, 0):
        receipt = chain.transact(a, keeper, _word(n))
        block = receipt.block_number
        (log,) = receipt.logs
        seen["tx"][n] = (block, log.data)
        seen["gas"].append(receipt.gas_used)
    now = chain.block_number()
    for n in (now - 1, now - 256, now - 257, now, 0):
        seen["call"][n] = chain.call(reader, _word(n))
    seen["call_at_past_block"] = chain.call(reader, _word(head - 1), block=head)
    seen["now"] = now
    return seen


def _check_against_own_hashes(chain: DevChain, seen: dict[str, Any]) -> None:
    for n, (block, data) in seen["tx"].items():
        expected = _hash(chain, n) if block - 256 <= n < block else bytes(32)
        assert data == expected, (n, block)
    now = seen["now"]
    for n, output in seen["call"].items():
        expected = _hash(chain, n) if now - 256 <= n < now else bytes(32)
        assert output == expected, n
    assert seen["call_at_past_block"] == _hash(chain, seen["head"] - 1)


def test_blockhash_is_the_chains_block_hash_within_256_blocks_and_0_outside_on_both_engines() -> None:
    results = []
    for chain in (EmbeddedChain(), RevmChain()):
        seen = _run_story(chain)
        _check_against_own_hashes(chain, seen)
        head = seen["head"]
        assert seen["tx"][head][1] != bytes(32) and seen["tx"][head - 256][1] == bytes(32)
        results.append(seen)
    pyevm, revm = results
    assert pyevm["gas"] == revm["gas"]  # same gas for every BLOCKHASH transaction
    assert pyevm["head"] == revm["head"] and pyevm["tx"].keys() == revm["tx"].keys()


def test_revm_blockhash_is_not_keccak_of_the_decimal_number_and_state_and_logs_follow() -> None:
    """The regression on revm alone: pyrevm answered keccak(b"<n>"); the transaction's log, its storage
    write and a read at a past block all carry the chain's own hash of block n."""
    chain = RevmChain()
    a = chain.accounts[0].address
    keeper = chain.transact(a, None, _initcode(RUNTIME)).contract_address
    assert keeper is not None
    chain.mine(5)
    receipt = chain.transact(a, keeper, _word(3))
    (log,) = receipt.logs
    assert log.data == _hash(chain, 3) != keccak(b"3")
    assert chain.storage(keeper, 3) == int.from_bytes(_hash(chain, 3), "big")
    assert chain.storage(keeper, 3, receipt.block_number - 1) == 0
    assert chain.nonce(a) == 2 and chain.w3.eth.get_transaction_receipt(receipt.transaction_hash)["status"] == 1


def test_uses_blockhash_reads_instructions_not_push_data() -> None:
    assert uses_blockhash(READER) and uses_blockhash(_initcode(RUNTIME))
    assert not uses_blockhash(bytes.fromhex("6040600052"))  # PUSH1 0x40 PUSH1 0 MSTORE: 0x40 is data
    assert not uses_blockhash(bytes.fromhex("7f" + "40" * 32 + "00"))  # PUSH32 of 0x40 bytes
    assert not uses_blockhash(b"")


@pytest.mark.parametrize("snapshot_on_close", [True, False], ids=["from-snapshot", "from-journal"])
def test_blockhash_answers_the_same_after_a_restart(tmp_path: Path, snapshot_on_close: bool) -> None:
    """Reopened from its snapshot or by replaying its journal, the chain has the same blocks and state
    (the replayed BLOCKHASH transaction gives the journalled block hash), and still knows which code reads
    BLOCKHASH: a new transaction stores the chain's hash, not keccak of the number."""
    chain = RevmChain(data_dir=tmp_path / "chain", fsync=False, snapshot_on_close=snapshot_on_close)
    a = chain.accounts[0].address
    keeper = chain.transact(a, None, _initcode(RUNTIME)).contract_address
    assert keeper is not None
    chain.mine(3)
    chain.transact(a, keeper, _word(2))
    stored, head = chain.storage(keeper, 2), chain.block_number()
    chain.close()
    again = RevmChain(data_dir=tmp_path / "chain", fsync=False)
    assert again.block_number() == head and again.storage(keeper, 2) == stored == int.from_bytes(_hash(again, 2), "big")
    (log,) = again.transact(a, keeper, _word(head)).logs
    assert log.data == _hash(again, head) != keccak(str(head).encode())
    again.close()
