"""The same signed transactions sent to the embedded chain's `/rpc` and to anvil (1.7.1, pinned in
tools/node): every method issue 12 touched answers with the same shape and the same values where the
chains agree (issue 12). Both chains derive their accounts from the development mnemonic, anvil runs with
the embedded chain's chain id, gas limit, genesis time and balances, so the transactions (and their hashes)
are byte for byte the same; block hashes differ (the chains' headers differ), so each side is asked about
its own blocks. Where the sandbox answers differently on purpose (state overrides: refused), the test says
so."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from starlette.testclient import TestClient
from test_rpc_compat import TOPIC, emitter_transactions

from sandbox.chain.anvil import AnvilNode
from sandbox.chain.embedded import DEFAULT_ACCOUNT_BALANCE, DEFAULT_GENESIS_TIMESTAMP, GENESIS_GAS_LIMIT, EmbeddedChain
from sandbox_gateway.rpc_server import JsonRpcApp, single_key

pytestmark = pytest.mark.node  # a real anvil from tools/node (make node-tools)

KEY = "rpc-parity-key-00000000"
UNKNOWN_HASH = "0x" + "11" * 32


@dataclass
class Side:
    """One node: how to ask it, and the receipts of the transactions sent to it."""

    name: str
    ask: Callable[[str, list[Any]], dict[str, Any]]
    receipts: list[dict[str, Any]]

    def result(self, method: str, *params: Any) -> Any:
        reply = self.ask(method, list(params))
        assert "error" not in reply, (self.name, method, reply)
        return reply["result"]

    def error(self, method: str, *params: Any) -> dict[str, Any]:
        reply = self.ask(method, list(params))
        assert "error" in reply, (self.name, method, reply)
        error: dict[str, Any] = reply["error"]
        return error


@pytest.fixture(scope="module")
def sides(node_tools: Path) -> Iterator[tuple[Side, Side]]:
    chain = EmbeddedChain(num_accounts=3)
    with (
        AnvilNode(
            accounts=3,
            chain_id=chain.chain_id,
            extra_args=(
                "--gas-limit",
                str(GENESIS_GAS_LIMIT),
                "--timestamp",
                str(DEFAULT_GENESIS_TIMESTAMP),
                "--balance",
                str(DEFAULT_ACCOUNT_BALANCE // 10**18),
            ),
        ) as node,
        TestClient(JsonRpcApp(chain, authenticate=single_key(KEY))) as client,
        httpx.Client(timeout=60) as http,
    ):

        def ours(method: str, params: list[Any]) -> dict[str, Any]:
            body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
            out: dict[str, Any] = client.post("/", json=body, headers={"Authorization": f"Bearer {KEY}"}).json()
            return out

        def anvils(method: str, params: list[Any]) -> dict[str, Any]:
            out: dict[str, Any] = http.post(
                node.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
            ).json()
            return out

        pair = (Side("sandbox", ours, []), Side("anvil", anvils, []))
        filters = {side.name: side.result("eth_newFilter", {"topics": [TOPIC]}) for side in pair}
        blocks = {side.name: side.result("eth_newBlockFilter") for side in pair}
        for raw in emitter_transactions(chain.chain_id, chain.accounts[0].private_key):
            hashes = {side.result("eth_sendRawTransaction", "0x" + raw.hex()) for side in pair}
            assert len(hashes) == 1  # the same transaction, the same hash
            for side in pair:
                side.receipts.append(_mined(side, next(iter(hashes))))
        for side in pair:
            side.filters = {"logs": filters[side.name], "blocks": blocks[side.name]}  # type: ignore[attr-defined]
        yield pair


def _mined(side: Side, tx_hash: str) -> dict[str, Any]:
    """The transaction's receipt once mined: anvil answers eth_sendRawTransaction before its automine
    has sealed the block (a busy machine shows it), so ask until the receipt is there."""
    deadline = time.monotonic() + 60
    while (receipt := side.result("eth_getTransactionReceipt", tx_hash)) is None:
        assert time.monotonic() < deadline, f"{side.name} never mined {tx_hash}"
        time.sleep(0.01)
    return cast(dict[str, Any], receipt)


RECEIPT_FIELDS = (
    "status",
    "gasUsed",
    "cumulativeGasUsed",
    "contractAddress",
    "type",
    "effectiveGasPrice",
    "from",
    "to",
    "transactionIndex",
    "blockNumber",
    "transactionHash",
)
LOG_FIELDS = ("address", "topics", "data", "logIndex", "transactionIndex", "transactionHash", "blockNumber", "removed")


def _lower(value: Any) -> Any:
    """Addresses compared without their checksum case (anvil answers in lower case, the sandbox checksummed)."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list):
        return [_lower(v) for v in value]
    if isinstance(value, dict):
        return {k: _lower(v) for k, v in value.items()}
    return value


def _receipt(r: dict[str, Any], *, price: bool = False) -> dict[str, Any]:
    fields = [f for f in RECEIPT_FIELDS if price or f != "effectiveGasPrice"]
    logs = [{k: log[k] for k in LOG_FIELDS} for log in r["logs"]]
    return _lower({k: r[k] for k in fields} | {"logs": logs})


def _base_fee(side: Side, block_number: str) -> int:
    return int(side.result("eth_getBlockByNumber", block_number, False)["baseFeePerGas"], 16)


def test_receipts_agree(sides: tuple[Side, Side]) -> None:
    """Everything but the price: anvil's first block keeps the genesis base fee where py-evm lowers it
    already, so each chain's base fees run one block apart. The price follows each chain's own."""
    ours, anvil = sides
    assert [_receipt(r) for r in ours.receipts] == [_receipt(r) for r in anvil.receipts]
    for side in sides:
        for receipt, tip in zip(side.receipts, (10**9, 2 * 10**9, None), strict=True):
            base = _base_fee(side, receipt["blockNumber"])
            assert int(receipt["effectiveGasPrice"], 16) == (3 * 10**9 if tip is None else base + tip)
        assert side.receipts[0]["to"] is None  # a contract creation


def _state_reads(side: Side, block: Any) -> list[Any]:
    contract, sender = side.receipts[0]["contractAddress"], side.receipts[0]["from"]
    return _lower(
        [
            side.result("eth_getStorageAt", contract, "0x0", block),
            side.result("eth_getCode", contract, block),
            side.result("eth_getTransactionCount", sender, block),
            side.result("eth_call", {"to": contract, "data": "0x"}, block),
        ]
    )


def test_eip1898_block_parameters_agree(sides: tuple[Side, Side]) -> None:
    ours, anvil = sides
    for index in range(3):
        for make in (
            lambda r: {"blockHash": r["blockHash"]},
            lambda r: {"blockHash": r["blockHash"], "requireCanonical": True},
            lambda r: {"blockNumber": r["blockNumber"]},
            lambda r: r["blockNumber"],
        ):
            assert _state_reads(ours, make(ours.receipts[index])) == _state_reads(anvil, make(anvil.receipts[index]))
    for side in sides:  # the balance moves by what each block's transaction paid
        sender, receipt = side.receipts[0]["from"], side.receipts[1]
        before = int(side.result("eth_getBalance", sender, {"blockHash": side.receipts[0]["blockHash"]}), 16)
        after = int(side.result("eth_getBalance", sender, {"blockHash": receipt["blockHash"]}), 16)
        assert before - after == int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    for method, params in [
        ("eth_getBalance", [ours.receipts[0]["from"], {"blockHash": UNKNOWN_HASH}]),
        ("eth_getCode", [ours.receipts[0]["contractAddress"], {"blockHash": UNKNOWN_HASH}]),
        ("eth_getStorageAt", [ours.receipts[0]["contractAddress"], "0x0", {"blockHash": UNKNOWN_HASH}]),
        ("eth_getTransactionCount", [ours.receipts[0]["from"], {"blockHash": UNKNOWN_HASH, "requireCanonical": True}]),
        ("eth_call", [{"to": ours.receipts[0]["contractAddress"]}, {"blockHash": UNKNOWN_HASH}]),
    ]:
        mine, theirs = ours.error(method, *params), anvil.error(method, *params)
        assert (mine["code"], mine["message"]) == (theirs["code"], theirs["message"]), method


def _logs(side: Side, spec: dict[str, Any]) -> list[Any]:
    return [_lower({k: log[k] for k in LOG_FIELDS}) for log in side.result("eth_getLogs", spec)]


def test_get_logs_agree(sides: tuple[Side, Side]) -> None:
    ours, anvil = sides
    for spec in (
        {"fromBlock": "earliest"},
        {"fromBlock": "0x0", "toBlock": "pending"},
        {"fromBlock": "latest"},
        {"fromBlock": "latest", "topics": [TOPIC]},
        {"fromBlock": "earliest", "toBlock": "earliest"},
    ):
        assert _logs(ours, spec) == _logs(anvil, spec), spec
    assert len(_logs(ours, {"fromBlock": "earliest"})) == 2
    # "safe" and "finalized" differ on purpose: anvil pretends a beacon chain (safe = head - 32, finalized =
    # head - 64 blocks); the embedded chain is final as it mines (no reorgs), so both name the head.
    everything = _logs(ours, {"fromBlock": "earliest"})
    for tag in ("safe", "finalized"):
        assert _logs(ours, {"fromBlock": "earliest", "toBlock": tag}) == everything
        assert _logs(anvil, {"fromBlock": "earliest", "toBlock": tag}) == []  # head 3 - 32: genesis
    for index in range(3):
        assert _logs(ours, {"blockHash": ours.receipts[index]["blockHash"]}) == _logs(
            anvil, {"blockHash": anvil.receipts[index]["blockHash"]}
        )
    for spec in ({"blockHash": UNKNOWN_HASH}, {"blockHash": ours.receipts[1]["blockHash"], "fromBlock": "0x0"}):
        assert ours.error("eth_getLogs", spec) == anvil.error("eth_getLogs", spec)


def test_fee_history_agrees(sides: tuple[Side, Side]) -> None:
    """Shapes, the oldest block, the gas-used ratios and the 1559 tips agree; base fees are each chain's
    (one block apart, see above) and the legacy transaction's tip is its price above its block's base fee."""
    answers = [side.result("eth_feeHistory", "0x10", "latest", [0, 10, 50, 90, 100]) for side in sides]
    ours, anvil = answers
    assert ours.keys() <= anvil.keys()  # anvil adds the blob-gas fields
    assert ours["oldestBlock"] == anvil["oldestBlock"] == "0x0"
    assert ours["gasUsedRatio"] == anvil["gasUsedRatio"]
    assert len(ours["baseFeePerGas"]) == len(anvil["baseFeePerGas"]) == 5
    for side, answer in zip(sides, answers, strict=True):
        bases = [_base_fee(side, hex(n)) for n in range(4)]
        assert [int(b, 16) for b in answer["baseFeePerGas"][:4]] == bases
        assert answer["reward"][:3] == [["0x0"] * 5, [hex(10**9)] * 5, [hex(2 * 10**9)] * 5]
        assert answer["reward"][3] == [hex(3 * 10**9 - bases[3])] * 5
    # the next block's base fee from the newest, by EIP-1559's rule, on both
    for side, answer in zip(sides, answers, strict=True):
        head = side.result("eth_getBlockByNumber", "latest", False)
        base, used, target = int(head["baseFeePerGas"], 16), int(head["gasUsed"], 16), int(head["gasLimit"], 16) // 2
        assert int(answer["baseFeePerGas"][4], 16) == base - base * (target - used) // target // 8
    assert [s.result("eth_feeHistory", "0x1", "latest", [])["reward"] for s in sides] == [[], []]


def test_call_overrides_differ_on_purpose(sides: tuple[Side, Side]) -> None:
    """anvil applies a state override; the sandbox refuses it (py-evm through eth-tester cannot), rather
    than answer as if it had applied it."""
    ours, anvil = sides
    contract = ours.receipts[0]["contractAddress"]
    override = {contract: {"code": "0x602a60005260206000f3"}}  # return 42
    assert int(anvil.result("eth_call", {"to": contract}, "latest", override), 16) == 42
    assert ours.error("eth_call", {"to": contract}, "latest", override)["code"] == -32602


def test_filters_agree(sides: tuple[Side, Side]) -> None:
    ours, anvil = sides
    changes = [
        _lower([{k: log[k] for k in LOG_FIELDS} for log in s.result("eth_getFilterChanges", s.filters["logs"])])
        for s in sides
    ]  # type: ignore[attr-defined]
    assert changes[0] == changes[1] and len(changes[0]) == 2
    for side in sides:
        assert side.result("eth_getFilterChanges", side.filters["blocks"]) == [r["blockHash"] for r in side.receipts]  # type: ignore[attr-defined]
        assert side.result("eth_getFilterChanges", side.filters["blocks"]) == []  # type: ignore[attr-defined]
        assert side.result("eth_getFilterChanges", side.filters["logs"]) == []  # type: ignore[attr-defined]
    spec = {"fromBlock": "earliest", "topics": [TOPIC]}
    fresh = [s.result("eth_newFilter", spec) for s in sides]
    assert (
        _lower(
            [
                [{k: log[k] for k in LOG_FIELDS} for log in s.result("eth_getFilterLogs", f)]
                for s, f in zip(sides, fresh, strict=True)
            ]
        )
        == [changes[0]] * 2
    )
    assert [s.result("eth_uninstallFilter", f) for s, f in zip(sides, fresh, strict=True)] == [True, True]
    assert [s.result("eth_uninstallFilter", f) for s, f in zip(sides, fresh, strict=True)] == [False, False]
    assert ours.error("eth_getFilterChanges", fresh[0]) == anvil.error("eth_getFilterChanges", fresh[1])
    pending = [s.result("eth_newPendingTransactionFilter") for s in sides]
    assert [s.result("eth_getFilterChanges", f) for s, f in zip(sides, pending, strict=True)] == [[], []]


def test_block_indexed_reads_agree(sides: tuple[Side, Side]) -> None:
    ours, anvil = sides
    for index in range(3):
        refs = [(s.receipts[index]["blockNumber"], s.receipts[index]["blockHash"]) for s in sides]
        for method, pick in [
            ("eth_getBlockTransactionCountByNumber", lambda r: [r[0]]),
            ("eth_getBlockTransactionCountByHash", lambda r: [r[1]]),
            ("eth_getUncleCountByBlockNumber", lambda r: [r[0]]),
            ("eth_getUncleCountByBlockHash", lambda r: [r[1]]),
        ]:
            assert ours.result(method, *pick(refs[0])) == anvil.result(method, *pick(refs[1])), method
        tx_fields = ("hash", "nonce", "input", "to", "from", "type", "value", "gas", "transactionIndex", "blockNumber")
        for method, pick in [
            ("eth_getTransactionByBlockNumberAndIndex", lambda r: [r[0], "0x0"]),
            ("eth_getTransactionByBlockHashAndIndex", lambda r: [r[1], "0x0"]),
        ]:
            found = [s.result(method, *pick(r)) for s, r in zip(sides, refs, strict=True)]
            assert (
                _lower([{k: tx.get(k) for k in tx_fields} for tx in found])
                == [_lower({k: found[1].get(k) for k in tx_fields})] * 2
            )
            assert [s.result(method, *pick(r)[:1], "0x5") for s, r in zip(sides, refs, strict=True)] == [None, None]
        receipts = [s.result("eth_getBlockReceipts", r[0]) for s, r in zip(sides, refs, strict=True)]
        assert [_receipt(x) for x in receipts[0]] == [_receipt(x) for x in receipts[1]]
        by_hash = [s.result("eth_getBlockReceipts", r[1]) for s, r in zip(sides, refs, strict=True)]
        assert by_hash == receipts
    assert ours.result("eth_getBlockReceipts", "0x0") == anvil.result("eth_getBlockReceipts", "0x0") == []
    assert ours.result("eth_getBlockTransactionCountByHash", UNKNOWN_HASH) is None
    assert anvil.result("eth_getBlockTransactionCountByHash", UNKNOWN_HASH) is None
