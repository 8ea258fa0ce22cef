"""The embedded chain's JSON-RPC endpoint, spoken to raw (httpx) and through RpcChain (web3.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, keccak
from fastapi import FastAPI

from sandbox.chain import RpcChain
from sandbox.chain.base import Receipt
from sandbox.chain.embedded import EmbeddedChain
from sandbox.contracts.base import ContractFacade
from sandbox.errors import ContractReverted, DevFeatureUnavailable
from sandbox.market import Market, load_scenario
from sandbox.scenario import Scenario
from sandbox_gateway.rpc_server import ServerThread, create_rpc_app, mount_rpc, single_key

RECEIVER_NOT_REGISTERED = function_signature_to_4byte_selector("ReceiverNotRegistered(address)")
API_KEY = "rpc-server-test-key-0001"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


class CountingChain(EmbeddedChain):
    """The real embedded chain, counting what reaches its single write path."""

    raw_submissions = 0

    def send_raw_transaction(self, raw: bytes) -> Receipt:
        self.raw_submissions += 1
        return super().send_raw_transaction(raw)


@dataclass
class Served:
    chain: CountingChain
    market: Market
    url: str

    def rpc(self, method: str, *params: Any) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}
        response = httpx.post(self.url, json=body, headers=AUTH, timeout=30)
        assert response.status_code == 200
        reply: dict[str, Any] = response.json()
        assert reply["id"] == 7
        return reply


@pytest.fixture(scope="module")
def served(demo: Scenario) -> Iterator[Served]:
    chain = CountingChain(num_accounts=demo.accounts_needed)
    market = load_scenario(chain, demo)
    with ServerThread(create_rpc_app(chain, authenticate=single_key(API_KEY))) as server:
        yield Served(chain, market, server.url)


def _transfer_data(to: str, amount: int) -> str:
    return "0x" + ContractFacade._abi_for("SecurityToken").encode_call("transfer", [to, amount]).hex()


def test_reads_batches_and_errors(served: Served) -> None:
    chain = served.chain
    assert served.rpc("eth_chainId")["result"] == hex(chain.chain_id)
    assert served.rpc("eth_blockNumber")["result"] == hex(chain.block_number())
    block = served.rpc("eth_getBlockByNumber", "latest", False)["result"]
    assert int(block["timestamp"], 16) == chain.timestamp()
    assert block["hash"].startswith("0x") and len(block["hash"]) == 66
    assert served.rpc("eth_getBlockByNumber", hex(10**6), False)["result"] is None

    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "method": "eth_blockNumber", "params": []},  # a notification: no reply
        {"jsonrpc": "2.0", "id": "b", "method": "no_such_method", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_getBalance", "params": ["0x12", "latest"]},
        {"id": 4, "method": "eth_chainId"},
    ]
    replies = {r["id"]: r for r in httpx.post(served.url, json=batch, headers=AUTH, timeout=30).json()}
    assert set(replies) == {1, "b", 3, None}
    assert replies[1]["result"] == hex(chain.chain_id)
    assert replies["b"]["error"]["code"] == -32601
    assert replies[3]["error"]["code"] == -32602
    assert replies[None]["error"]["code"] == -32600

    assert served.rpc("evm_snapshot")["error"]["code"] == -32601  # no rewinding a shared sandbox
    assert httpx.post(served.url, content=b"{not json", headers=AUTH, timeout=30).json()["error"]["code"] == -32700
    assert httpx.post(served.url, json=[], headers=AUTH, timeout=30).json()["error"]["code"] == -32600
    assert httpx.get(served.url, headers=AUTH, timeout=30).status_code == 405


def test_blocks_transactions_receipts_and_logs_in_wire_format(served: Served) -> None:
    """What web3.py hands back from eth-tester is put back into the shape geth and anvil send."""
    token = served.market.security("THAMES28")
    receipt = token.transfer(served.market.accounts["bob"], 2, sender=served.market.accounts["alice"])
    block = served.rpc("eth_getBlockByNumber", hex(receipt.block_number), True)["result"]
    [tx] = block["transactions"]
    assert tx["hash"] == receipt.transaction_hash
    assert {"blockHash", "blockNumber", "transactionIndex", "input", "chainId", "maxFeePerGas"} <= set(tx)
    assert not [key for key in (*block, *tx) if "_" in key]
    assert len(block["logsBloom"]) == 2 + 512
    by_hash = served.rpc("eth_getBlockByHash", block["hash"], False)["result"]
    assert by_hash["transactions"] == [receipt.transaction_hash]

    wire = served.rpc("eth_getTransactionReceipt", receipt.transaction_hash)["result"]
    assert wire["logsBloom"] == block["logsBloom"]  # the only transaction of its block
    assert not [key for key in wire if "_" in key]

    transfer_topic = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
    logs = served.rpc(
        "eth_getLogs",
        {
            "fromBlock": hex(receipt.block_number),
            "toBlock": "latest",
            "address": token.address,
            "topics": [transfer_topic],
        },
    )["result"]
    assert [(log["transactionHash"], log["removed"]) for log in logs][:1] == [(receipt.transaction_hash, False)]
    assert wire["logs"] == logs[:1]


def test_call_and_estimate_reverts_carry_the_revert_data(served: Served, stranger: str) -> None:
    token = served.market.security("THAMES28")
    alice = served.market.accounts["alice"]
    tx = {"from": alice, "to": token.address, "data": _transfer_data(stranger, 1)}
    for method, params in (("eth_call", (tx, "latest")), ("eth_estimateGas", (tx,))):
        error = served.rpc(method, *params)["error"]
        assert error["code"] == 3, method
        assert error["message"].startswith("execution reverted: ReceiverNotRegistered")
        data = bytes.fromhex(error["data"][2:])
        assert data[:4] == RECEIVER_NOT_REGISTERED
        assert data[4:] == bytes(12) + bytes.fromhex(stranger[2:])
    ok = {"from": alice, "to": token.address, "data": _transfer_data(served.market.accounts["bob"], 1)}
    assert int(served.rpc("eth_estimateGas", ok)["result"], 16) > 21_000
    balance = served.rpc("eth_call", {"to": token.address, "data": _balance_data(alice)}, "latest")
    assert int(balance["result"], 16) == token.balance_of(alice)


def _balance_data(account: str) -> str:
    return "0x" + ContractFacade._abi_for("SecurityToken").encode_call("balanceOf", [account]).hex()


def test_raw_transactions_go_through_the_chain_write_path(served: Served, stranger: str) -> None:
    chain, market = served.chain, served.market
    token = market.security("THAMES28")
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    key = next(a.private_key for a in chain.accounts if a.address == alice)
    nonce = int(served.rpc("eth_getTransactionCount", alice, "pending")["result"], 16)
    bob_before = token.balance_of(bob)
    submissions = chain.raw_submissions

    def signed(to: str, amount: int, nonce: int) -> str:
        tx = {
            "chainId": chain.chain_id,
            "nonce": nonce,
            "to": token.address,
            "data": _transfer_data(to, amount),
            "gas": 300_000,
            "maxFeePerGas": 10**11,
            "maxPriorityFeePerGas": 0,
            "type": 2,
        }
        return "0x" + bytes(Account.sign_transaction(tx, key).raw_transaction).hex()

    good = served.rpc("eth_sendRawTransaction", signed(bob, 40, nonce))["result"]
    bad = served.rpc("eth_sendRawTransaction", signed(stranger, 1, nonce + 1))["result"]
    assert chain.raw_submissions == submissions + 2
    assert token.balance_of(bob) == bob_before + 40
    assert served.rpc("eth_getTransactionReceipt", good)["result"]["status"] == "0x1"
    failed = served.rpc("eth_getTransactionReceipt", bad)["result"]
    assert failed["status"] == "0x0"  # a reverted transaction is mined and has a hash, as on a node
    assert served.rpc("eth_getTransactionByHash", bad)["result"]["hash"] == bad
    # A replayed nonce is refused with an error, and changes nothing.
    replay = served.rpc("eth_sendRawTransaction", signed(bob, 1, nonce))
    assert replay["error"]["code"] == -32000
    assert token.balance_of(bob) == bob_before + 40

    # After the chain is reverted to before the transaction, the endpoint no longer knows it.
    snapshot = chain.snapshot()
    undone = served.rpc("eth_sendRawTransaction", signed(bob, 2, nonce + 2))["result"]
    assert served.rpc("eth_getTransactionReceipt", undone)["result"]["status"] == "0x1"
    chain.revert(snapshot)
    assert served.rpc("eth_getTransactionReceipt", undone)["result"] is None


def test_rpc_chain_works_over_the_endpoint(served: Served, stranger: str) -> None:
    """The sandbox's own JSON-RPC client on its own endpoint: transfers, decoded refusals (for a mined
    failure the endpoint has no debug API, so the replay path is used), and no dev powers."""
    remote = RpcChain(served.url, headers=AUTH)
    token = type(served.market.security("THAMES28"))(remote, served.market.security("THAMES28").address)
    alice, bob = served.market.accounts["alice"], served.market.accounts["bob"]
    before = token.balance_of(bob)
    receipt = token.transfer(bob, 3, sender=alice)
    assert [e.name for e in token.events(receipt)] == ["Transfer"]
    assert token.balance_of(bob) == before + 3 == served.market.security("THAMES28").balance_of(bob)
    with pytest.raises(ContractReverted) as refused:
        token.transfer(stranger, 1, sender=alice)
    assert refused.value.error_name == "ReceiverNotRegistered"
    assert refused.value.rule_code == 0x21
    assert refused.value.tx_hash is not None
    with pytest.raises(DevFeatureUnavailable, match="evm_snapshot"):
        remote.snapshot()
    with pytest.raises(DevFeatureUnavailable, match="evm_mine"):
        remote.mine()
    with pytest.raises(DevFeatureUnavailable, match="evm_increaseTime"):
        remote.time_travel(remote.timestamp() + 60)
    with pytest.raises(DevFeatureUnavailable, match="anvil or Hardhat"):
        remote.revert("0x1")


def test_mounts_into_an_api_app() -> None:
    chain = EmbeddedChain(num_accounts=1)
    api = FastAPI()

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    mount_rpc(api, chain, "/rpc", authenticate=single_key(API_KEY))
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    with ServerThread(api) as server:
        for path in ("/rpc", "/rpc/"):
            reply = httpx.post(server.url + path, json=body, headers=AUTH, timeout=30, follow_redirects=False)
            assert reply.status_code == 200, path
            assert reply.json()["result"] == hex(chain.chain_id)
        assert httpx.get(server.url + "/health", timeout=30).json() == {"status": "ok"}
