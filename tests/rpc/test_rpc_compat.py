"""What wallets and indexers send to `/rpc` beyond the basics (issue 12): EIP-1898 block parameters,
eth_getLogs by block hash and tags, eth_feeHistory computed from the blocks, eth_call overrides refused,
filters scoped to the API key that made them, and the block-indexed reads. In process, over HTTP (the
endpoint's ASGI app with a bearer key); `test_rpc_anvil_parity.py` sends the same transactions to anvil."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from rlp import encode
from starlette.testclient import TestClient

from sandbox.chain.embedded import EmbeddedChain
from sandbox_gateway.rpc_server import JsonRpcApp, RpcHandler

KEY_A = "rpc-compat-key-aaaaaaaa"
KEY_B = "rpc-compat-key-bbbbbbbb"
TOPIC = "0x" + "aa" * 32
#: Runtime: store calldata word 0 in slot 0, then LOG1(calldata, TOPIC). Init code copies it out.
RUNTIME = bytes.fromhex("3660006000376000356000557f" + "aa" * 32 + "366000a100")
INIT = bytes.fromhex(f"60{len(RUNTIME):02x}600c60003960{len(RUNTIME):02x}6000f3") + RUNTIME


def keys_authenticate(presented: str) -> object | None:
    return presented if presented in (KEY_A, KEY_B) else None


def emitter_transactions(chain_id: int, private_key: bytes, start_nonce: int = 0) -> list[bytes]:
    """Signed: deploy the emitter, then set 7 (tip 2 gwei), then a legacy set 9 (gas price 3 gwei)."""
    sender = Account.from_key(private_key).address
    contract = to_checksum_address(keccak(encode([bytes.fromhex(sender[2:]), start_nonce]))[-20:])
    txs: list[dict[str, Any]] = [
        {"nonce": start_nonce, "gas": 200_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "data": INIT},
        {
            "nonce": start_nonce + 1,
            "gas": 100_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 2 * 10**9,
            "to": contract,
            "data": (7).to_bytes(32, "big"),
        },
        {
            "nonce": start_nonce + 2,
            "gas": 100_000,
            "gasPrice": 3 * 10**9,
            "to": contract,
            "data": (9).to_bytes(32, "big"),
        },
    ]
    out = []
    for fields in txs:
        tx = {"chainId": chain_id, "value": 0, **fields}
        if "maxFeePerGas" in tx:
            tx["type"] = 2
        out.append(bytes(Account.sign_transaction(tx, private_key).raw_transaction))
    return out


@dataclass
class Endpoint:
    client: TestClient
    chain: EmbeddedChain
    contract: str
    sender: str
    receipts: list[dict[str, Any]]

    def reply(self, method: str, *params: Any, key: str = KEY_A) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        response = self.client.post("/", json=body, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.text
        out: dict[str, Any] = response.json()
        return out

    def result(self, method: str, *params: Any, key: str = KEY_A) -> Any:
        reply = self.reply(method, *params, key=key)
        assert "error" not in reply, reply
        return reply["result"]

    def error(self, method: str, *params: Any, key: str = KEY_A) -> dict[str, Any]:
        reply = self.reply(method, *params, key=key)
        assert "error" in reply, reply
        error: dict[str, Any] = reply["error"]
        return error


@pytest.fixture(scope="module")
def ep() -> Iterator[Endpoint]:
    chain = EmbeddedChain(num_accounts=3)
    app = JsonRpcApp(chain, authenticate=keys_authenticate)
    with TestClient(app) as client:
        endpoint = Endpoint(client, chain, "", chain.accounts[0].address, [])
        for raw in emitter_transactions(chain.chain_id, chain.accounts[0].private_key):
            tx_hash = endpoint.result("eth_sendRawTransaction", "0x" + raw.hex())
            endpoint.receipts.append(endpoint.result("eth_getTransactionReceipt", tx_hash))
        endpoint.contract = endpoint.receipts[0]["contractAddress"]
        yield endpoint


def _word(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


# ---------------------------------------------------------------------- EIP-1898 and logs


def test_block_hash_parameters_read_the_state_of_that_block(ep: Endpoint) -> None:
    deployed, set7, set9 = ep.receipts
    at7 = {"blockHash": set7["blockHash"]}
    canon7 = {"blockHash": set7["blockHash"], "requireCanonical": True}
    assert ep.result("eth_getStorageAt", ep.contract, "0x0", at7) == _word(7)
    assert ep.result("eth_getStorageAt", ep.contract, "0x0", canon7) == _word(7)
    assert ep.result("eth_getStorageAt", ep.contract, "0x0", {"blockNumber": set9["blockNumber"]}) == _word(9)
    assert ep.result("eth_getStorageAt", ep.contract, "0x0", {"blockHash": deployed["blockHash"]}) == _word(0)
    assert ep.result("eth_getTransactionCount", ep.sender, at7) == "0x2"
    assert ep.result("eth_getTransactionCount", ep.sender, {"blockNumber": "0x0"}) == "0x0"
    assert ep.result("eth_getCode", ep.contract, {"blockHash": deployed["blockHash"]}) == "0x" + RUNTIME.hex()
    assert ep.result("eth_getCode", ep.contract, {"blockNumber": "0x0"}) == "0x"
    before = int(ep.result("eth_getBalance", ep.sender, {"blockHash": deployed["blockHash"]}), 16)
    after = int(ep.result("eth_getBalance", ep.sender, at7), 16)
    assert before - after == int(set7["gasUsed"], 16) * int(set7["effectiveGasPrice"], 16)
    assert ep.result("eth_call", {"to": ep.contract, "data": "0x"}, at7) == "0x"


def test_an_unknown_block_hash_is_resource_not_found_as_on_anvil(ep: Endpoint) -> None:
    unknown = {"blockHash": "0x" + "11" * 32}
    for method, params in [
        ("eth_getBalance", [ep.sender, unknown]),
        ("eth_getCode", [ep.contract, unknown]),
        ("eth_getTransactionCount", [ep.sender, {**unknown, "requireCanonical": True}]),
        ("eth_getStorageAt", [ep.contract, "0x0", unknown]),
        ("eth_call", [{"to": ep.contract}, unknown]),
    ]:
        error = ep.error(method, *params)
        assert (error["code"], error["message"]) == (-32001, "Resource not found"), method


def test_get_logs_by_block_hash_excludes_a_range_as_geth_does(ep: Endpoint) -> None:
    set7 = ep.receipts[1]
    logs = ep.result("eth_getLogs", {"blockHash": set7["blockHash"]})
    assert [log["data"] for log in logs] == [_word(7)]
    assert logs[0]["blockHash"] == set7["blockHash"]
    error = ep.error("eth_getLogs", {"blockHash": set7["blockHash"], "fromBlock": "0x0"})
    assert error["code"] == -32602 and "blockHash and fromBlock/toBlock" in error["message"]
    assert ep.error("eth_getLogs", {"blockHash": "0x" + "11" * 32}) == {"code": -32000, "message": "unknown block"}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"fromBlock": "earliest"}, [7, 9]),
        ({"fromBlock": "earliest", "toBlock": "safe"}, [7, 9]),
        ({"fromBlock": "0x0", "toBlock": "finalized"}, [7, 9]),
        ({"fromBlock": "0x0", "toBlock": "pending"}, [7, 9]),
        ({"fromBlock": "safe"}, [9]),
        ({"fromBlock": "finalized", "toBlock": "latest"}, [9]),
        ({"fromBlock": "earliest", "toBlock": "earliest"}, []),
    ],
)
def test_get_logs_block_tags(ep: Endpoint, spec: dict[str, Any], expected: list[int]) -> None:
    logs = ep.result("eth_getLogs", {**spec, "address": ep.contract})
    assert [int(log["data"], 16) for log in logs] == expected


# ---------------------------------------------------------------------- eth_feeHistory


def test_fee_history_is_computed_from_the_blocks(ep: Endpoint) -> None:
    head = int(ep.result("eth_blockNumber"), 16)
    history = ep.result("eth_feeHistory", "0x2", "latest", [0, 50, 100])
    assert history["oldestBlock"] == hex(head - 1)
    blocks = [ep.result("eth_getBlockByNumber", hex(n), False) for n in (head - 1, head)]
    assert history["baseFeePerGas"][:2] == [b["baseFeePerGas"] for b in blocks]
    assert len(history["baseFeePerGas"]) == 3  # blockCount + 1: the next block's too
    head_block = blocks[1]
    base, used, target = (int(head_block[k], 16) for k in ("baseFeePerGas", "gasUsed", "gasLimit"))
    target //= 2
    assert int(history["baseFeePerGas"][2], 16) == base - base * (target - used) // target // 8
    assert history["gasUsedRatio"] == [int(b["gasUsed"], 16) / int(b["gasLimit"], 16) for b in blocks]
    # block head-1 holds the set-7 transaction (tip 2 gwei, under its 10 gwei cap); head the legacy one
    # at 3 gwei, whose tip is what it pays above the base fee.
    assert history["reward"][0] == [hex(2 * 10**9)] * 3
    legacy_tip = 3 * 10**9 - base
    assert history["reward"][1] == [hex(legacy_tip)] * 3


def test_fee_history_near_genesis_and_empty_blocks(ep: Endpoint) -> None:
    history = ep.result("eth_feeHistory", "0x10", "0x0", [25, 75])
    assert history["oldestBlock"] == "0x0"
    assert len(history["baseFeePerGas"]) == 2 and len(history["gasUsedRatio"]) == 1
    assert history["reward"] == [["0x0", "0x0"]]  # an empty block: zeros, as geth answers
    assert ep.result("eth_feeHistory", "0x1", "latest", [])["reward"] == []
    assert ep.error("eth_feeHistory", "0x1", "latest", [75, 25])["code"] == -32602
    assert ep.error("eth_feeHistory", "0x1", "latest", [101])["code"] == -32602


# ---------------------------------------------------------------------- eth_call overrides


def test_call_state_and_block_overrides_are_refused_not_ignored(ep: Endpoint) -> None:
    call = {"to": ep.contract, "data": "0x"}
    error = ep.error("eth_call", call, "latest", {ep.contract: {"code": "0x60016000f3"}})
    assert error["code"] == -32602 and "state override is not supported" in error["message"]
    error = ep.error("eth_call", call, "latest", None, {"number": "0x5"})
    assert error["code"] == -32602 and "block override is not supported" in error["message"]
    error = ep.error("eth_estimateGas", call, "latest", {ep.contract: {"balance": "0x1"}})
    assert error["code"] == -32602 and "state override is not supported" in error["message"]
    assert ep.result("eth_call", call, "latest", {}) == "0x"  # an empty override changes nothing
    assert ep.result("eth_call", call, "latest", None) == "0x"


# ---------------------------------------------------------------------- filters


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fresh() -> Iterator[tuple[Endpoint, FakeClock]]:
    """A chain of its own (filters see its new blocks) with a clock the test moves."""
    chain = EmbeddedChain(num_accounts=3)
    clock = FakeClock()
    app = JsonRpcApp(chain, authenticate=keys_authenticate)
    app.handler = RpcHandler(chain, clock=clock)
    with TestClient(app) as client:
        yield Endpoint(client, chain, "", chain.accounts[0].address, []), clock


def _send_all(ep: Endpoint, raws: list[bytes]) -> list[dict[str, Any]]:
    out = []
    for raw in raws:
        tx_hash = ep.result("eth_sendRawTransaction", "0x" + raw.hex())
        out.append(ep.result("eth_getTransactionReceipt", tx_hash))
    return out


def test_filters_report_what_is_new_since_the_last_poll(fresh: tuple[Endpoint, FakeClock]) -> None:
    ep, _ = fresh
    raws = emitter_transactions(ep.chain.chain_id, ep.chain.accounts[0].private_key)
    logs_filter = ep.result("eth_newFilter", {"topics": [TOPIC]})
    blocks_filter = ep.result("eth_newBlockFilter")
    pending_filter = ep.result("eth_newPendingTransactionFilter")
    assert ep.result("eth_getFilterChanges", logs_filter) == []
    receipts = _send_all(ep, raws[:2])
    changes = ep.result("eth_getFilterChanges", logs_filter)
    assert [(c["data"], c["blockHash"]) for c in changes] == [(_word(7), receipts[1]["blockHash"])]
    assert ep.result("eth_getFilterChanges", blocks_filter) == [r["blockHash"] for r in receipts]
    assert ep.result("eth_getFilterChanges", logs_filter) == []  # nothing new since
    assert ep.result("eth_getFilterChanges", blocks_filter) == []
    assert ep.result("eth_getFilterChanges", pending_filter) == []  # mined as they arrive: never pending
    third = _send_all(ep, raws[2:])[0]
    assert [c["data"] for c in ep.result("eth_getFilterChanges", logs_filter)] == [_word(9)]
    assert ep.result("eth_getFilterChanges", blocks_filter) == [third["blockHash"]]
    # eth_getFilterLogs: everything the criteria match (fromBlock defaults to latest, as eth_getLogs)
    ranged = ep.result("eth_newFilter", {"fromBlock": "earliest", "address": receipts[0]["contractAddress"]})
    assert [c["data"] for c in ep.result("eth_getFilterLogs", ranged)] == [_word(7), _word(9)]
    assert ep.error("eth_getFilterLogs", blocks_filter) == {"code": -32000, "message": "filter not found"}
    assert ep.result("eth_uninstallFilter", logs_filter) is True
    assert ep.result("eth_uninstallFilter", logs_filter) is False
    assert ep.error("eth_getFilterChanges", logs_filter) == {"code": -32000, "message": "filter not found"}


def test_a_filter_belongs_to_the_key_that_installed_it(fresh: tuple[Endpoint, FakeClock]) -> None:
    ep, _ = fresh
    mine = ep.result("eth_newBlockFilter", key=KEY_A)
    assert ep.error("eth_getFilterChanges", mine, key=KEY_B) == {"code": -32000, "message": "filter not found"}
    assert ep.error("eth_getFilterLogs", mine, key=KEY_B)["message"] == "filter not found"
    assert ep.result("eth_uninstallFilter", mine, key=KEY_B) is False
    assert ep.result("eth_getFilterChanges", mine, key=KEY_A) == []  # still there for its owner


def test_filters_expire_after_five_idle_minutes(fresh: tuple[Endpoint, FakeClock]) -> None:
    ep, clock = fresh
    polled = ep.result("eth_newBlockFilter")
    idle = ep.result("eth_newBlockFilter")
    clock.now += 200
    assert ep.result("eth_getFilterChanges", polled) == []  # a poll resets its idle time
    clock.now += 200
    assert ep.result("eth_getFilterChanges", polled) == []
    assert ep.error("eth_getFilterChanges", idle) == {"code": -32000, "message": "filter not found"}


def test_filters_per_key_are_bounded(fresh: tuple[Endpoint, FakeClock]) -> None:
    from sandbox_gateway.rpc_server import MAX_FILTERS_PER_KEY

    ep, _ = fresh
    ids = [ep.result("eth_newBlockFilter") for _ in range(MAX_FILTERS_PER_KEY)]
    error = ep.error("eth_newFilter", {})
    assert error["code"] == -32005 and "uninstall" in error["message"]
    assert ep.result("eth_newBlockFilter", key=KEY_B).startswith("0x")  # another key has its own quota
    assert ep.result("eth_uninstallFilter", ids[0]) is True
    assert ep.result("eth_newFilter", {}).startswith("0x")


def test_new_filter_refuses_bad_criteria_at_once(ep: Endpoint) -> None:
    assert ep.error("eth_newFilter", {"address": "0x1234"})["code"] == -32602
    assert ep.error("eth_newFilter", {"blockHash": "0x" + "11" * 32})["code"] == -32602
    assert ep.error("eth_newFilter", {"fromBlock": "soon"})["code"] == -32602


# ---------------------------------------------------------------------- blocks by index


def test_block_indexed_reads(ep: Endpoint) -> None:
    deployed, set7, _ = ep.receipts
    number, block_hash = set7["blockNumber"], set7["blockHash"]
    assert ep.result("eth_getBlockTransactionCountByHash", block_hash) == "0x1"
    assert ep.result("eth_getBlockTransactionCountByNumber", number) == "0x1"
    assert ep.result("eth_getBlockTransactionCountByNumber", "0x0") == "0x0"
    assert ep.result("eth_getBlockTransactionCountByHash", "0x" + "11" * 32) is None
    by_hash = ep.result("eth_getTransactionByBlockHashAndIndex", block_hash, "0x0")
    by_number = ep.result("eth_getTransactionByBlockNumberAndIndex", number, "0x0")
    assert by_hash == by_number == ep.result("eth_getTransactionByHash", set7["transactionHash"])
    assert ep.result("eth_getTransactionByBlockNumberAndIndex", number, "0x1") is None
    assert ep.result("eth_getTransactionByBlockHashAndIndex", "0x" + "11" * 32, "0x0") is None
    assert ep.result("eth_getUncleCountByBlockHash", block_hash) == "0x0"
    assert ep.result("eth_getUncleCountByBlockNumber", "latest") == "0x0"
    assert ep.result("eth_getUncleByBlockNumberAndIndex", "latest", "0x0") is None
    for ref in (number, block_hash, {"blockHash": block_hash}, {"blockNumber": number}):
        assert ep.result("eth_getBlockReceipts", ref) == [set7]
    assert ep.result("eth_getBlockReceipts", deployed["blockNumber"]) == [deployed]
    assert ep.result("eth_getBlockReceipts", "0x0") == []
    assert ep.result("eth_getBlockReceipts", "0x99") is None
    assert ep.result("eth_getBlockReceipts", "0x" + "11" * 32) is None


def test_a_contract_creation_is_sent_to_null(ep: Endpoint) -> None:
    deployed = ep.receipts[0]
    assert deployed["to"] is None  # eth-tester says "": clients read that as an address
    assert ep.result("eth_getTransactionByHash", deployed["transactionHash"])["to"] is None
    assert ep.result("eth_getBlockReceipts", deployed["blockNumber"])[0]["to"] is None
