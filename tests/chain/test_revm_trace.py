"""debug_traceTransaction on the revm engine (issues 12 and 15): pyrevm has no call tracer, so a mined
transaction is re-executed by py-evm on the revm chain's world as of its parent block
(`RevmChain.trace_transaction`). Differential: the same transactions on both engines give the same
callTracer tree (type, from, to, value, gas, gasUsed, input, output, error, calls, and the gateway's
decoded revertError), including transactions traced after later blocks changed the same slots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from sandbox.chain.base import Chain, Receipt
from sandbox.chain.groupcommit import PendingWrite
from sandbox.chain.revm_engine import RevmChain
from sandbox.contracts.base import ContractFacade
from sandbox.errors import ContractReverted
from sandbox.market import load_scenario
from sandbox.scenario import Scenario
from sandbox_gateway.rpc_server import RpcHandler
from tests.chain.differential import SEEDS, RecordingEmbedded, RecordingRevm, assert_same_outcomes

STRANGER = to_checksum_address(keccak(b"a wallet no registry knows")[-20:])


class PlainERC20(ContractFacade):
    artifact_name = "PlainERC20"


def _trace(chain: Chain, tx_hash: str) -> dict[str, Any]:
    reply = RpcHandler(chain).handle_one(  # type: ignore[arg-type]
        {"jsonrpc": "2.0", "id": 1, "method": "debug_traceTransaction", "params": [tx_hash, {"tracer": "callTracer"}]}
    )
    assert reply is not None and "result" in reply, reply
    return dict(reply["result"])


def _block_transactions(chain: Chain) -> list[str]:
    """Every mined transaction's hash, block by block, in block order."""
    out = []
    for number in range(1, chain.block_number() + 1):
        block = chain.w3.eth.get_block(number)
        out.extend("0x" + bytes(h).hex() for h in block["transactions"])  # type: ignore[arg-type]
    return out


def test_every_demo_transaction_traces_the_same_on_revm_as_on_py_evm() -> None:
    """The demo scenario on both engines, a refused transfer and a transfer after it, then every
    transaction traced from the first block: the early ones are traced on a world rolled back past
    later changes to the same balances and registry slots."""
    scenario = Scenario.from_file(SEEDS / "demo.yaml")
    n = max(20, scenario.accounts_needed)
    pyevm, revm = RecordingEmbedded(num_accounts=n), RecordingRevm(num_accounts=n)
    for chain in (pyevm, revm):
        market = load_scenario(chain, scenario)
        with pytest.raises(ContractReverted):
            market.security("THAMES28").transfer(STRANGER, 1, sender=market.accounts["alice"])
        market.security("THAMES28").transfer(market.accounts["bob"], 4, sender=market.accounts["alice"])
    assert_same_outcomes(pyevm, revm)
    on_pyevm, on_revm = _block_transactions(pyevm), _block_transactions(revm)
    assert len(on_pyevm) == len(on_revm) > 50
    reverted = 0
    for pyevm_hash, revm_hash in zip(on_pyevm, on_revm, strict=True):
        expected, traced = _trace(pyevm, pyevm_hash), _trace(revm, revm_hash)
        assert traced == expected, f"{revm_hash}: revm {traced}\npy-evm {expected}"
        reverted += "revertError" in traced
    assert reverted == 1  # the refused transfer, with its rule decoded on both


def test_a_transaction_traced_in_a_block_of_several_sees_the_earlier_ones() -> None:
    """A block of three transfers from one holder (group commit): each is traced after the block's earlier
    ones, with the block's own header, and a later block overwriting the same balances changes nothing."""
    chain = RevmChain()
    a, b = chain.accounts[0].address, chain.accounts[1].address
    token = PlainERC20.deploy_contract(chain, [1000], sender=a)
    calls = [(a, token.address, token._abi.encode_call("transfer", [b, amount])) for amount in (600, 300, 200)]
    first, second, third = chain.transact_many(calls)
    assert isinstance(first, Receipt) and isinstance(second, Receipt)
    assert first.block_number == second.block_number == chain.block_number()
    # 1000 - 600 - 300 = 100 left: the third is refused in the same block
    assert isinstance(third, ContractReverted) and third.tx_hash is not None
    token._send("transfer", b, 100, sender=a)  # a later block empties the sender
    traces = [_trace(chain, receipt.transaction_hash) for receipt in (first, second)]
    for receipt, trace in zip((first, second), traces, strict=True):
        assert "error" not in trace and trace["output"] == "0x" + (1).to_bytes(32, "big").hex()
        assert int(trace["gasUsed"], 16) == receipt.gas_used
    refused = _trace(chain, third.tx_hash)
    assert refused["error"] == "execution reverted"
    assert int(refused["gasUsed"], 16) == int(chain.w3.eth.get_transaction_receipt(third.tx_hash)["gasUsed"])  # type: ignore[arg-type]
    assert chain.trace_transaction("0x" + "ab" * 32) is None


def _one_block(chain: RecordingEmbedded | RecordingRevm, writes: list[tuple[str, str, bytes]]) -> list[str]:
    """Mines `writes` ((sender, to, data) each), signed here, as ONE block through the engine's group
    commit (as concurrent callers' writes are), and returns their hashes."""
    keys = {a.address: a.private_key for a in chain.accounts}
    nonces: dict[str, int] = {}
    raws = []
    for sender, to, data in writes:
        nonce = nonces.get(sender, chain.w3.eth.get_transaction_count(sender))  # type: ignore[arg-type]
        nonces[sender] = nonce + 1
        tx = {"type": 2, "chainId": chain.chain_id, "nonce": nonce, "maxFeePerGas": 10**10}
        tx |= {"maxPriorityFeePerGas": 0, "gas": 1_000_000, "to": to, "value": 0, "data": data}
        raws.append(bytes(Account.sign_transaction(tx, keys[sender]).raw_transaction))
    pending = [PendingWrite(raw=raw) for raw in raws]
    with chain._write_lock:
        chain._commit_batch(pending)
    receipts = [w.outcome() for w in pending]
    assert len({r.block_number for r in receipts}) == 1
    return [r.transaction_hash for r in receipts]


def test_a_block_of_several_transfers_traces_each_as_it_ran_on_both_engines() -> None:
    """Three compliant transfers in one block (group commit). Each ran from a cold start (EIP-2929: the
    registry's account and slots cold again at each transaction's start; all three receipts pay the same
    gas), so each trace's registry call costs what the first one's does, on both engines. On the
    revmdefault branch revm refused to trace, and py-evm's trace ran the block's transactions without
    locking each one's changes: the second transfer's registry call read warm and showed 935 gas used
    instead of 4,935."""
    scenario = Scenario.from_file(SEEDS / "demo.yaml")
    n = max(20, scenario.accounts_needed)
    traces = []
    for chain in (RecordingEmbedded(num_accounts=n), RecordingRevm(num_accounts=n)):
        market = load_scenario(chain, scenario)
        token = market.security("THAMES28")
        alice, bob = market.accounts["alice"], market.accounts["bob"]
        to_bob, to_alice = (token._abi.encode_call("transfer", [who, 1]) for who in (bob, alice))
        hashes = _one_block(
            chain, [(alice, token.address, to_bob), (alice, token.address, to_bob), (bob, token.address, to_alice)]
        )
        gas = [int(chain.w3.eth.get_transaction_receipt(h)["gasUsed"]) for h in hashes]  # type: ignore[arg-type]
        assert gas == [gas[0]] * 3
        trees = [_trace(chain, h) for h in hashes]
        assert [int(tree["gasUsed"], 16) for tree in trees] == gas
        registry_gas = [int(tree["calls"][0]["gasUsed"], 16) for tree in trees]
        assert registry_gas == [4_935] * 3
        traces.append(trees)
    assert traces[0] == traces[1]


def test_blockhash_traces_as_it_ran_with_the_chains_block_hash() -> None:
    """A contract returning BLOCKHASH(number - 1): the receipt's output is the hash the chain reports for
    the parent block, and the trace shows the same output."""
    chain = RevmChain()
    a = chain.accounts[0].address
    runtime = bytes.fromhex("600143034060005260206000f3")  # return blockhash(block.number - 1)
    initcode = bytes([0x61]) + len(runtime).to_bytes(2, "big") + bytes.fromhex("80600c6000396000f3") + runtime
    created = chain.transact(a, None, initcode).contract_address
    assert created is not None
    chain.mine(3)
    sent = chain.transact(a, created, b"")
    mined = chain.receipt(bytes.fromhex(sent.transaction_hash[2:]))
    assert mined is not None and mined.output == bytes(chain.w3.eth.get_block(sent.block_number - 1)["hash"])
    assert mined.output != keccak(str(sent.block_number - 1).encode())  # pyrevm's own answer
    trace = chain.trace_transaction(sent.transaction_hash)
    assert trace is not None and trace["output"] == "0x" + mined.output.hex()


def test_a_trace_after_a_restart_is_the_trace_before_it(tmp_path: Path) -> None:
    """The world a trace needs (accounts, code, storage, every block's undo log) comes back with a data
    directory, from the snapshot written at close and from the journal alone; tracing writes nothing
    (the head and the journal are unchanged)."""
    chain = RevmChain(data_dir=tmp_path / "snap", fsync=False)
    a, b = chain.accounts[0].address, chain.accounts[1].address
    token = PlainERC20.deploy_contract(chain, [1000], sender=a)
    first = token._send("transfer", b, 10, sender=a)
    token._send("transfer", b, 20, sender=a)
    files = sorted((f.name, f.stat().st_size) for f in (tmp_path / "snap").rglob("*") if f.is_file())
    before = chain.trace_transaction(first.transaction_hash)
    assert before is not None and before["output"] == "0x" + (1).to_bytes(32, "big").hex()
    assert chain.block_number() == 3
    assert sorted((f.name, f.stat().st_size) for f in (tmp_path / "snap").rglob("*") if f.is_file()) == files
    chain.close()
    reopened = RevmChain(data_dir=tmp_path / "snap", fsync=False)
    assert reopened.trace_transaction(first.transaction_hash) == before
    reopened.close()
    replayed = RevmChain(data_dir=tmp_path / "journal", fsync=False, snapshot_on_close=False)
    token = PlainERC20.deploy_contract(replayed, [1000], sender=a)
    first = token._send("transfer", b, 10, sender=a)
    token._send("transfer", b, 20, sender=a)
    replayed.close()
    again = RevmChain(data_dir=tmp_path / "journal", fsync=False)
    assert again.recovery is not None and again.recovery.snapshot is None
    assert again.trace_transaction(first.transaction_hash) == before
    assert again.block_number() == 3
    again.close()
