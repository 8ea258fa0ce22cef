"""The revm engine's own bookkeeping: blocks, receipts, nonces, fees, raw transactions, reads at past
blocks, snapshots, time travel, persistence and the web3 surface. (That execution matches py-evm is
tests/chain/test_revm_differential.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3.types import RPCEndpoint

from sandbox.chain import connect
from sandbox.chain.base import DevChain
from sandbox.chain.revm_engine import (
    DEFAULT_GENESIS_TIMESTAMP,
    INITIAL_BASE_FEE,
    RevmChain,
    _changed_slots,
    next_base_fee,
)
from sandbox.contracts.base import ContractFacade
from sandbox.errors import ChainError, ContractReverted

SUPPLY = 10**24
#: 2026-02-28T23:59:59Z, the last second of February in a non-leap year.
FEB_28_LAST_SECOND = 1_772_323_199


class PlainERC20(ContractFacade):
    artifact_name = "PlainERC20"


def _token(chain: RevmChain) -> PlainERC20:
    return PlainERC20.deploy_contract(chain, [SUPPLY], sender=chain.accounts[0].address)


def _balance(token: PlainERC20, who: str, block: int | str = "latest") -> int:
    return int(token._read("balanceOf", who, block=block))


def test_connect_revm_gives_a_dev_chain_with_the_embedded_chains_accounts_and_clock() -> None:
    chain = connect("revm")
    assert isinstance(chain, RevmChain)
    assert isinstance(chain, DevChain)
    assert chain.accounts[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert chain.chain_id == 131277322940537
    assert chain.block_number() == 0
    assert chain.timestamp() == DEFAULT_GENESIS_TIMESTAMP
    _token(chain)
    assert chain.block_number() == 1
    assert chain.block_timestamp(1) == DEFAULT_GENESIS_TIMESTAMP + 1


def test_connect_unknown_engine_names_both() -> None:
    with pytest.raises(ChainError, match=r"embedded.*revm"):
        connect("evmone")


def test_receipts_logs_fees_and_nonces_are_kept_per_block() -> None:
    chain = RevmChain()
    a, b = chain.accounts[0].address, chain.accounts[1].address
    token = _token(chain)
    before = chain.w3.eth.get_balance(a)
    receipt = token._send("transfer", b, 5, sender=a)
    assert receipt.block_number == 2
    (log,) = receipt.logs
    assert log.address == token.address and log.data == (5).to_bytes(32, "big")
    raw = chain.w3.eth.get_transaction_receipt(receipt.transaction_hash)
    assert raw["status"] == 1 and raw["gasUsed"] == receipt.gas_used == 51_411
    assert raw["from"] == a and raw["to"] == token.address
    block = chain.w3.eth.get_block(2)
    assert block["gasUsed"] == receipt.gas_used
    parent = chain.mined_block(1)
    assert parent is not None
    assert block["baseFeePerGas"] == next_base_fee(parent.base_fee, parent.gas_used, 60_000_000)
    assert int(raw["logsBloom"].hex(), 16) != 0
    assert before - chain.w3.eth.get_balance(a) == receipt.gas_used * block["baseFeePerGas"]
    assert chain.w3.eth.get_transaction_count(a) == 2
    assert chain.w3.eth.get_block(0)["baseFeePerGas"] == INITIAL_BASE_FEE


def test_a_reverted_transaction_is_mined_spends_its_nonce_and_raises_the_custom_error() -> None:
    chain = RevmChain()
    a, b = chain.accounts[0].address, chain.accounts[1].address
    token = _token(chain)
    with pytest.raises(ContractReverted) as caught:
        token._send("transfer", a, 1, sender=b)
    assert caught.value.error_name == "ERC20InsufficientBalance"
    raw = chain.w3.eth.get_transaction_receipt(caught.value.tx_hash)
    assert raw["status"] == 0 and raw["logs"] == []
    assert chain.w3.eth.get_transaction_count(b) == 1
    assert chain.block_number() == 2


def test_raw_transactions_signed_elsewhere_are_checked_before_anything_is_mined() -> None:
    chain = RevmChain()
    key = chain.accounts[2].private_key
    to = chain.accounts[3].address
    tx = {"to": to, "value": 7, "gas": 21_000, "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 0, "nonce": 0}
    wrong_chain = Account.sign_transaction({**tx, "chainId": 1}, key).raw_transaction
    with pytest.raises(ChainError, match="chain"):
        chain.send_raw_transaction(bytes(wrong_chain))
    wrong_nonce = Account.sign_transaction({**tx, "chainId": chain.chain_id, "nonce": 5}, key).raw_transaction
    with pytest.raises(ChainError, match="nonce"):
        chain.send_raw_transaction(bytes(wrong_nonce))
    assert chain.block_number() == 0
    good = Account.sign_transaction({**tx, "chainId": chain.chain_id}, key)
    receipt = chain.send_raw_transaction(bytes(good.raw_transaction))
    assert receipt.transaction_hash == "0x" + bytes(good.hash).hex()
    assert receipt.gas_used == 21_000
    found = chain.w3.eth.get_transaction(receipt.transaction_hash)
    assert found["from"] == chain.accounts[2].address and found["value"] == 7


def test_reads_at_a_past_block_see_the_state_as_it_was() -> None:
    chain = RevmChain()
    a, b = chain.accounts[0].address, chain.accounts[1].address
    token = _token(chain)
    first = token._send("transfer", b, 5, sender=a).block_number
    token._send("transfer", b, 6, sender=a)
    assert _balance(token, b) == 11
    assert _balance(token, b, first) == 5
    assert _balance(token, b, first - 1) == 0
    assert chain.w3.eth.get_transaction_count(a, first) == 2
    assert chain.w3.eth.get_code(token.address, 0) == b""
    assert _balance(token, b) == 11  # the past read left the head alone


def test_several_calls_in_one_block_each_get_their_own_receipt_or_refusal() -> None:
    chain = RevmChain()
    a, b = chain.accounts[0].address, chain.accounts[1].address
    token = _token(chain)
    transfer = token._abi.encode_call
    results = chain.transact_many(
        [(a, token.address, transfer("transfer", (b, 5))), (b, token.address, transfer("transfer", (a, 50))),
         (b, token.address, transfer("transfer", (a, 2)))]
    )  # fmt: skip
    ok, refused, after = results
    assert isinstance(refused, ContractReverted) and refused.error_name == "ERC20InsufficientBalance"
    assert not isinstance(ok, Exception) and not isinstance(after, Exception)
    assert ok.block_number == after.block_number == 2 == chain.block_number()
    assert len(chain.w3.eth.get_block(2)["transactions"]) == 3
    assert _balance(token, b) == 3


def test_snapshot_and_revert_undo_blocks_state_and_nonces() -> None:
    chain = RevmChain()
    a, b = chain.accounts[0].address, chain.accounts[1].address
    token = _token(chain)
    mark = chain.snapshot()
    balance = chain.w3.eth.get_balance(a)
    token._send("transfer", b, 5, sender=a)
    chain.time_travel(FEB_28_LAST_SECOND)
    chain.revert(mark)
    assert chain.block_number() == 1 and _balance(token, b) == 0
    assert chain.w3.eth.get_balance(a) == balance and chain.w3.eth.get_transaction_count(a) == 1
    receipt = token._send("transfer", b, 1, sender=a)  # the nonce is re-used after the revert
    assert receipt.block_number == 2 and _balance(token, b) == 1


def test_time_travel_stamps_a_block_and_never_goes_back() -> None:
    chain = RevmChain()
    chain.time_travel(FEB_28_LAST_SECOND)
    assert chain.timestamp() == FEB_28_LAST_SECOND
    with pytest.raises(ChainError, match="cannot travel"):
        chain.time_travel(FEB_28_LAST_SECOND)
    _token(chain)
    assert chain.timestamp() == FEB_28_LAST_SECOND + 1  # 2026-03-01T00:00:00Z, the first second after
    chain.mine(2)
    assert chain.block_number() == 4


def test_wall_clock_stamps_blocks_with_the_time_they_are_mined() -> None:
    now = [float(FEB_28_LAST_SECOND)]
    chain = RevmChain(clock="wall", now=lambda: now[0])
    _token(chain)
    assert chain.timestamp() == FEB_28_LAST_SECOND
    now[0] += 60
    chain.mine()
    assert chain.timestamp() == FEB_28_LAST_SECOND + 60


def test_a_data_directory_keeps_every_block_and_revert_across_a_restart(tmp_path: Path) -> None:
    with RevmChain(data_dir=tmp_path) as chain:
        a, b = chain.accounts[0].address, chain.accounts[1].address
        token = _token(chain)
        token._send("transfer", b, 5, sender=a)
        mark = chain.snapshot()
        token._send("transfer", b, 6, sender=a)
        chain.revert(mark)
        chain.time_travel(FEB_28_LAST_SECOND)
        head = chain.w3.eth.get_block("latest")["hash"]
    with RevmChain(data_dir=tmp_path) as reopened:
        assert reopened.w3.eth.get_block("latest")["hash"] == head
        assert reopened.timestamp() == FEB_28_LAST_SECOND
        again = PlainERC20(reopened, token.address)
        assert _balance(again, b) == 5
        again._send("transfer", b, 1, sender=a)
        assert _balance(again, b) == 6


def test_a_data_directory_of_the_other_engine_is_refused(tmp_path: Path) -> None:
    from sandbox.chain.embedded import EmbeddedChain
    from sandbox.chain.persistence import PersistenceError

    EmbeddedChain(data_dir=tmp_path).close()
    with pytest.raises(PersistenceError):
        RevmChain(data_dir=tmp_path)


def test_a_data_directory_opened_with_other_keys_or_accounts_is_refused(tmp_path: Path) -> None:
    from sandbox.chain.persistence import PersistenceError

    RevmChain(data_dir=tmp_path, num_accounts=3).close()
    with pytest.raises(PersistenceError, match="different chain"):
        RevmChain(data_dir=tmp_path, num_accounts=4)
    with pytest.raises(PersistenceError, match="different chain"):
        RevmChain(
            data_dir=tmp_path,
            num_accounts=3,
            mnemonic="legal winner thank year wave sausage worth useful legal winner thank yellow",
        )
    RevmChain(data_dir=tmp_path, num_accounts=3).close()


def test_reading_code_leaves_the_contract_out_of_revms_journal() -> None:
    """A code read at the head loaded the contract into pyrevm's journal for good: every later write to
    its storage then went into the journal and was thrown away with the transaction's checkpoint
    (transfers after it were all "new holder" transfers and balances never moved), and a data directory
    written after such a read could not be replayed (`sandbox serve` reads the registry's code at start)."""
    chain = RevmChain()
    a, b = chain.accounts[0].address, chain.accounts[1].address
    token = _token(chain)
    assert chain.w3.eth.get_code(token.address) != b""
    first = token._send("transfer", b, 1, sender=a)
    second = token._send("transfer", b, 1, sender=a)
    assert (first.gas_used, second.gas_used) == (51_411, 34_311)  # py-evm's figures (bench.gas)
    assert _balance(token, b) == 2


def test_debug_trace_transaction_traces_on_revm() -> None:
    """A mined transaction's callTracer tree on revm (re-executed by py-evm on the world of its parent
    block), through the chain, the gateway's endpoint and the web3 provider; on the revmdefault branch it
    was refused with -32601 "not available on the revm engine". An unknown hash stays "transaction not
    found". (Tree-for-tree equality with py-evm: tests/chain/test_revm_trace.py.)"""
    from sandbox_gateway.rpc_server import RpcHandler

    chain = RevmChain()
    a, b = chain.accounts[0].address, chain.accounts[1].address
    receipt = _token(chain)._send("transfer", b, 5, sender=a)
    trace = chain.trace_transaction(receipt.transaction_hash)
    assert trace is not None
    assert (trace["type"], trace["from"], trace["value"], int(trace["gasUsed"], 16)) == ("CALL", a, "0x0", 51_411)
    assert trace["output"] == "0x" + (1).to_bytes(32, "big").hex() and "error" not in trace
    assert chain.trace_transaction("0x" + "ab" * 32) is None

    def trace_rpc(tx_hash: str) -> dict[str, Any]:
        params = [tx_hash, {"tracer": "callTracer"}]
        reply = RpcHandler(chain).handle_one(
            {"jsonrpc": "2.0", "id": 1, "method": "debug_traceTransaction", "params": params}
        )
        assert reply is not None
        return dict(reply)

    assert trace_rpc(receipt.transaction_hash)["result"] == trace
    assert trace_rpc("0x" + "ab" * 32)["error"] == {"code": -32000, "message": "transaction not found"}
    web3_reply = chain.w3.provider.make_request(
        RPCEndpoint("debug_traceTransaction"), [receipt.transaction_hash, {"tracer": "callTracer"}]
    )
    assert web3_reply["result"] == trace


def test_the_default_engine_is_revm_and_a_py_evm_data_directory_stays_on_py_evm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.chain.embedded import EmbeddedChain
    from sandbox.chain.factory import in_process_chain

    monkeypatch.delenv("SANDBOX_ENGINE", raising=False)
    assert isinstance(connect(), RevmChain)
    # A data directory py-evm made (when it was the default) is reopened on py-evm when no engine is named.
    with EmbeddedChain(num_accounts=2, data_dir=tmp_path / "old") as old:
        old.mine(1)
    with in_process_chain(num_accounts=2, data_dir=tmp_path / "old") as again:
        assert isinstance(again, EmbeddedChain) and again.block_number() == 1
    with in_process_chain(num_accounts=2, data_dir=tmp_path / "new") as new:
        assert isinstance(new, RevmChain)
        new.mine(1)
    with in_process_chain(num_accounts=2, data_dir=tmp_path / "new") as again:
        assert isinstance(again, RevmChain) and again.block_number() == 1
    monkeypatch.setenv("SANDBOX_ENGINE", "embedded")
    assert isinstance(connect(), EmbeddedChain)


class _JournalSpy:
    """Stands in for the chain's pyrevm `EVM`, keeping every journal rendering the chain asks for."""

    def __init__(self, evm: Any) -> None:
        self._evm = evm
        self.renderings: list[str] = []

    @property
    def journal_str(self) -> str:
        text = str(self._evm.journal_str)
        self.renderings.append(text)
        return text

    def __getattr__(self, name: str) -> Any:
        return getattr(self._evm, name)


def test_a_transaction_renders_no_known_contract_code_and_the_code_still_runs() -> None:
    """Issue 15: each transaction's state changes are read from pyrevm's rendering of its journal, which
    printed the code of every contract the transaction touched (88 KB for our compliant transfer, 95% of
    the text; its rendering and parsing were most of what made our transfer cost more than an ERC-20's).
    Code already in revm's database is now left out of the rendering. The code must still run: in later
    transactions, in a later transaction of the same block, and after a read of the code."""
    chain = RevmChain()
    a, b = chain.accounts[0].address, chain.accounts[1].address
    token = _token(chain)
    runtime = chain.code(token.address)
    assert len(runtime) > 1_000
    spy = _JournalSpy(chain._evm)
    chain._evm = spy
    first = token._send("transfer", b, 1, sender=a)
    call = token._abi.encode_call
    same_block = chain.transact_many(
        [(a, token.address, call("transfer", (b, 2))), (b, token.address, call("transfer", (a, 1)))]
    )
    assert chain.code(token.address) == runtime
    after_read = token._send("transfer", b, 4, sender=a)
    assert len(spy.renderings) == 4
    assert all(runtime[:64].hex() not in text for text in spy.renderings)
    assert (first.gas_used, after_read.gas_used) == (51_411, 34_311)  # py-evm's figures (bench.gas)
    assert [r.gas_used for r in same_block if not isinstance(r, Exception)] == [34_311, 34_311]
    assert _balance(token, b) == 1 + 2 - 1 + 4
    assert _balance(token, a) == SUPPLY - 6


def test_a_contract_created_in_a_transaction_keeps_its_code_whole() -> None:
    """A new contract's code is not in revm's database yet: it stays in the rendering, where its length
    is read (pyrevm pads analysed code with zeros), and the chain keeps it byte for byte."""
    chain = RevmChain()
    spy = _JournalSpy(chain._evm)
    chain._evm = spy
    token = _token(chain)
    runtime = chain.code(token.address)
    (rendering,) = spy.renderings
    assert runtime[:64].hex() in rendering
    assert chain.w3.eth.get_code(token.address) == runtime
    assert chain._codes[chain._account(token.address)[2]] == runtime


def test_storage_changes_are_read_from_the_journal_entries_first_value_per_slot() -> None:
    """The journal's tail as pyrevm 0.3.7 renders it: per slot, the first ``had_value: Some(..)`` is the
    value before the transaction; ``had_value: None`` (a slot loaded) and transient storage are not
    changes; a slot written back to its value is no change."""
    token = "0x057ef64e23666f000b34ae31332854acbd1c8544"
    registry = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
    journal = (
        "JournaledState { state: {}, transient_storage: {}, logs: [], depth: 1, journal: [[], "
        f"[StorageChange {{ address: {token}, key: 6, had_value: None }}, "
        f"TransientStorageChange {{ address: {token}, key: 1, had_value: 9 }}, "
        f"StorageChange {{ address: {token}, key: 3439, had_value: Some(2000) }}, "
        f"StorageChange {{ address: {registry}, key: 3439, had_value: Some(7) }}, "
        f"StorageChange {{ address: {token}, key: 3439, had_value: Some(1999) }}, "
        f"StorageChange {{ address: {token}, key: 12, had_value: Some(5) }}]], spec: LATEST }}"
    )
    present = {(token, 3439): 1998, (registry, 3439): 8, (token, 12): 5, (token, 6): 0}

    class Evm:
        def storage(self, address: str, slot: int) -> int:
            return present[(address, slot)]

    assert _changed_slots(Evm(), journal) == [(token, 3439, 2000, 1998), (registry, 3439, 7, 8)]
    with pytest.raises(ChainError, match="pyrevm"):
        _changed_slots(Evm(), "JournaledState { journal: [[had_value: Some(1)]] }")


def test_block_built_directly_equals_the_block_web3_builds_from_eth_get_block_by_number() -> None:
    """`RevmChain.block` reads the engine's blocks directly; `Web3Chain.block` (the old path) builds the
    same `Block` from ``eth_getBlockByNumber(n, True)`` through web3's formatters. Same fields, same
    values: the genesis block, a deployment, a block of three transfers (one refused by the contract and
    mined), an empty block and blocks from two senders, with their logs; and the same refusal for a block
    not yet mined."""
    from web3.exceptions import BlockNotFound

    from sandbox.chain.web3chain import Web3Chain

    chain = RevmChain()
    a, b, c = (account.address for account in chain.accounts[:3])
    token = _token(chain)
    token._send("transfer", b, 10, sender=a)
    data = token._abi.encode_call("transfer", (c, 3))
    too_much = token._abi.encode_call("transfer", (a, 10**30))
    results = chain.transact_many([(a, token.address, data), (b, token.address, too_much), (b, token.address, data)])
    assert isinstance(results[1], ContractReverted)
    chain.mine()
    token._send("transfer", a, 1, sender=c)
    head = chain.block_number()
    assert head == 5
    assert len(chain.block(3).transactions) == 3 and chain.block(4).transactions == ()
    assert chain.get_logs(3, 3) and {tx.sender for tx in chain.block(3).transactions} == {a, b}
    for number in range(head + 1):
        assert chain.block(number) == Web3Chain.block(chain, number)
    with pytest.raises(BlockNotFound):
        Web3Chain.block(chain, head + 1)
    for missing in (head + 1, -1):  # web3 refuses -1 as no block identifier; the embedded chain: not mined
        with pytest.raises(BlockNotFound):
            chain.block(missing)
