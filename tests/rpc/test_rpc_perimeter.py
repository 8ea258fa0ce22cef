"""Who may do what on the chain's JSON-RPC endpoint (issue 10), in process: the gateway's app with
`/rpc` mounted as `sandbox serve` mounts it, the authorization matrix of methods by principals, the
chain id of raw transactions, and `eth_getLogs`'s chunks and bounds. `tests/rpc/test_serve_rpc.py`
does the same against a real `sandbox serve` process."""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_utils import keccak
from fastapi.testclient import TestClient

from sandbox.chain.base import Log
from sandbox.chain.embedded import DEFAULT_MNEMONIC, EmbeddedChain
from sandbox.contracts.base import ContractFacade
from sandbox.errors import ChainError
from sandbox.market import Market, load_scenario
from sandbox.scenario import Scenario
from sandbox_gateway.app import create_app
from sandbox_gateway.rpc_server import RpcHandler, mount_rpc, to_wire
from sandbox_gateway.settings import Settings
from tests.announced import RPC_READY, announced_port

#: A funded account of the chain the demo does not use: the sender of the raw transactions below.
SPARE_ACCOUNT = 19
TOKEN_ABI = ContractFacade._abi_for("SecurityToken")


@dataclass
class World:
    market: Market
    chain: EmbeddedChain
    client: TestClient
    keys: dict[str, str | None]

    def post(self, principal: str, method: str, params: list[Any]) -> httpx.Response:
        key = self.keys[principal]
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        return self.client.post("/rpc", json=body, headers=headers)


@pytest.fixture(scope="module")
def world(demo: Scenario) -> Iterator[World]:
    chain = EmbeddedChain(num_accounts=SPARE_ACCOUNT + 1, mnemonic=DEFAULT_MNEMONIC)
    market = load_scenario(chain, demo)
    gateway = create_app(Settings(), market=market)
    mount_rpc(gateway, chain, "/rpc", authenticate=gateway.state.principals.authenticate)  # as `serve` does
    keys: dict[str, str | None] = {
        "no key": None,
        "bad key": "not-a-key-of-this-sandbox-0000",
        "investor": next(i.api_key for i in demo.investors if i.key == "alice"),
        "issuer": next(i.api_key for i in demo.issuers if i.key == "thames"),
        "regulator": next(r.api_key for r in demo.regulators if r.key == "fca"),
        "operator": demo.operator.api_key,
    }
    with TestClient(gateway) as client:
        yield World(market, chain, client, keys)


def _signed(chain: EmbeddedChain, *, chain_id: int | None, to: str, data: bytes = b"") -> str:
    """A transaction of the spare account, signed for `chain_id` (None: legacy, without one)."""
    spare = chain.accounts[SPARE_ACCOUNT]
    tx: dict[str, Any] = {
        "nonce": chain.w3.eth.get_transaction_count(spare.address, "pending"),
        "to": to,
        "value": 0,
        "data": data,
        "gas": 100_000,
    }
    if chain_id is None:
        tx["gasPrice"] = 10**10
    else:
        tx.update(chainId=chain_id, maxFeePerGas=10**11, maxPriorityFeePerGas=0, type=2)
    return "0x" + bytes(Account.sign_transaction(tx, spare.private_key).raw_transaction).hex()


def _freeze_alice(w: World) -> dict[str, Any]:
    """What the issue did unauthenticated: the FCA's setAddressFrozen(alice, true) on THAMES28."""
    token = w.market.security("THAMES28")
    data = TOKEN_ABI.encode_call("setAddressFrozen", [w.market.accounts["alice"], True])
    return {"from": w.market.accounts["fca"], "to": token.address, "data": "0x" + data.hex(), "gas": "0x100000"}


def _alice_balance(w: World) -> int:
    return w.market.security("THAMES28").balance_of(w.market.accounts["alice"])


def _balance_call(w: World) -> dict[str, Any]:
    data = TOKEN_ABI.encode_call("balanceOf", [w.market.accounts["alice"]])
    return {"to": w.market.security("THAMES28").address, "data": "0x" + data.hex()}


@dataclass(frozen=True)
class Result:
    """The call succeeds with exactly `expected(world, params)`."""

    expected: Callable[[World, list[Any]], Any]


@dataclass(frozen=True)
class Refused:
    """The call is answered with this JSON-RPC error code and a message matching `pattern`."""

    code: int
    pattern: str


SIGN_LOCALLY = r"is not available: this sandbox signs for no account over JSON-RPC\. Sign the transaction locally"
#: method name → (params, outcome for every valid key). Roles do not differ on /rpc: reads show the one
#: shared ledger; a raw transaction's signature, not the API key, says who acts; nobody gets the
#: endpoint to sign.
MATRIX: dict[str, tuple[Callable[[World], list[Any]], Result | Refused]] = {
    "eth_chainId": (lambda w: [], Result(lambda w, p: hex(w.chain.chain_id))),
    "eth_blockNumber": (lambda w: [], Result(lambda w, p: hex(w.chain.block_number()))),
    "eth_getBalance": (
        lambda w: [w.market.accounts["fca"], "latest"],
        Result(lambda w, p: hex(w.chain.w3.eth.get_balance(p[0]))),
    ),
    "eth_call": (
        lambda w: [_balance_call(w), "latest"],
        Result(lambda w, p: "0x" + _alice_balance(w).to_bytes(32).hex()),
    ),
    "eth_getLogs": (
        lambda w: [{"fromBlock": "0x1", "toBlock": "0x1"}],
        Result(lambda w, p: _tester_logs(w.chain, {"fromBlock": 1, "toBlock": 1})),
    ),
    "eth_accounts": (lambda w: [], Result(lambda w, p: [])),
    "eth_sendRawTransaction": (
        lambda w: [_signed(w.chain, chain_id=w.chain.chain_id, to=w.chain.accounts[SPARE_ACCOUNT].address)],
        Result(lambda w, p: "0x" + keccak(bytes.fromhex(p[0][2:])).hex()),
    ),
    "eth_sendRawTransaction (chain 1)": (
        lambda w: [_signed(w.chain, chain_id=1, to=w.chain.accounts[SPARE_ACCOUNT].address)],
        Refused(-32000, r"^invalid chain id: the transaction is signed for chain 1, not \d+$"),
    ),
    "eth_sendRawTransaction (no chain id)": (
        lambda w: [_signed(w.chain, chain_id=None, to=w.chain.accounts[SPARE_ACCOUNT].address)],
        Refused(-32000, r"^only replay-protected \(EIP-155\) transactions are accepted"),
    ),
    "eth_sendTransaction": (lambda w: [_freeze_alice(w)], Refused(-32601, "^eth_sendTransaction " + SIGN_LOCALLY)),
    "eth_signTransaction": (lambda w: [_freeze_alice(w)], Refused(-32601, "^eth_signTransaction " + SIGN_LOCALLY)),
    "eth_sign": (lambda w: [w.market.accounts["fca"], "0xdeadbeef"], Refused(-32601, "^eth_sign " + SIGN_LOCALLY)),
    "eth_signTypedData_v4": (
        lambda w: [w.market.accounts["fca"], "{}"],
        Refused(-32601, "^eth_signTypedData_v4 " + SIGN_LOCALLY),
    ),
    "personal_sign": (
        lambda w: ["0xdeadbeef", w.market.accounts["fca"]],
        Refused(-32601, "^personal_sign " + SIGN_LOCALLY),
    ),
    "personal_unlockAccount": (
        lambda w: [w.market.accounts["fca"], "", 600],
        Refused(-32601, "^personal_unlockAccount " + SIGN_LOCALLY),
    ),
    "eth_call (state override)": (
        lambda w: [_balance_call(w), "latest", {w.market.accounts["alice"]: {"balance": "0x1"}}],
        Refused(-32602, "^state override is not supported"),
    ),
    "eth_getBlockTransactionCountByNumber": (lambda w: ["0x1"], Result(lambda w, p: "0x1")),
    "eth_getUncleCountByBlockNumber": (lambda w: ["latest"], Result(lambda w, p: "0x0")),
    "eth_getFilterChanges": (lambda w: ["0x7fffffff"], Refused(-32000, "^filter not found$")),
    "eth_uninstallFilter": (lambda w: ["0x7fffffff"], Result(lambda w, p: False)),
    "evm_snapshot": (lambda w: [], Refused(-32601, "^the method evm_snapshot does not exist/is not available$")),
    "evm_revert": (lambda w: ["0x1"], Refused(-32601, "^the method evm_revert does not exist/is not available$")),
}
PRINCIPALS = ("no key", "bad key", "investor", "issuer", "regulator", "operator")


def _tester_logs(chain: EmbeddedChain, spec: Any) -> list[dict[str, Any]]:
    """eth-tester's own eth_getLogs answer, in wire format: what the endpoint must answer."""
    with chain._read_guard():
        logs = chain.w3.eth.get_logs(spec)
    return [{k: v for k, v in to_wire(dict(log)).items() if k != "type"} | {"removed": False} for log in logs]


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("case", list(MATRIX))
def test_rpc_authorization_matrix(world: World, case: str, principal: str) -> None:
    method = case.split(" ", maxsplit=1)[0]
    make_params, outcome = MATRIX[case]
    params = make_params(world)
    head = world.chain.block_number()
    token = world.market.security("THAMES28")
    response = world.post(principal, method, params)
    body = response.json()

    if principal in ("no key", "bad key"):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert body["error"]["code"] == -32001
        reason = "AUTHENTICATION_REQUIRED" if principal == "no key" else "INVALID_API_KEY"
        assert body["error"]["data"] == {"code": reason}
        assert "result" not in body
        assert world.chain.block_number() == head  # nothing sent
    elif isinstance(outcome, Refused):
        assert response.status_code == 200
        assert body["error"]["code"] == outcome.code, body
        assert re.search(outcome.pattern, body["error"]["message"]), body
        assert world.chain.block_number() == head  # nothing sent, nothing mined
    else:
        assert response.status_code == 200
        assert "error" not in body, body
        assert body["result"] == outcome.expected(world, params)
    assert not token.is_frozen(world.market.accounts["alice"])


def test_rpc_wants_exactly_one_bearer_key(world: World) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    key = world.keys["operator"]
    for headers in ({"Authorization": f"Basic {key}"}, {"Authorization": "Bearer "}):
        response = world.client.post("/rpc", json=body, headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["data"] == {"code": "AUTHENTICATION_REQUIRED"}
    # Two keys (the test client joins repeated headers into one; test_serve_rpc sends two lines).
    twice = httpx.Headers([("Authorization", f"Bearer {key}"), ("Authorization", f"Bearer {world.keys['investor']}")])
    assert world.client.post("/rpc", json=body, headers=twice).status_code == 401
    # Refused before the body is read: not even a parse error for garbage.
    garbage = world.client.post("/rpc", content=b"[[[[", headers={"Authorization": "Bearer nope-nope-nope-nope"})
    assert garbage.status_code == 401
    assert world.client.get("/rpc").status_code == 401


def test_the_gateway_audit_names_who_used_rpc(world: World) -> None:
    spare = world.chain.accounts[SPARE_ACCOUNT].address
    raw = _signed(world.chain, chain_id=world.chain.chain_id, to=spare)
    assert "result" in world.post("investor", "eth_sendRawTransaction", [raw]).json()
    record = world.client.app.state.audit_log.all()[-1]  # type: ignore[attr-defined]
    assert (record.principal, record.role, record.method, record.path) == ("alice", "investor", "POST", "/rpc")


# ---------------------------------------------------------------------- raw transactions, any entry point


def test_the_chain_refuses_raw_transactions_not_signed_for_it(demo: Scenario) -> None:
    """Issue 10: a transaction signed for chain 1 was mined. Checked in the chain's own write path, so
    the gateway, a facade and the JSON-RPC endpoint all refuse it."""
    chain = EmbeddedChain(num_accounts=SPARE_ACCOUNT + 1)
    spare = chain.accounts[SPARE_ACCOUNT].address
    head = chain.block_number()
    for chain_id, refusal in ((1, "invalid chain id"), (None, "replay-protected")):
        with pytest.raises(ChainError, match=refusal):
            chain.send_raw_transaction(bytes.fromhex(_signed(chain, chain_id=chain_id, to=spare)[2:]))
        assert chain.block_number() == head
    with pytest.raises(ChainError, match="not a signed transaction"):
        chain.send_raw_transaction(b"\x02\xc0junk")
    receipt = chain.send_raw_transaction(bytes.fromhex(_signed(chain, chain_id=chain.chain_id, to=spare)[2:]))
    assert receipt.block_number == head + 1


# ---------------------------------------------------------------------- eth_getLogs


class ObservedChain(EmbeddedChain):
    """The embedded chain, telling when a thread lets go of its lock and what each log read saw."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._depth = threading.local()
        self.after_release: Callable[[], None] | None = None
        self.during_read: Callable[[], None] | None = None
        #: (from_block, to_block, chain head) of every get_logs call.
        self.reads: list[tuple[int, int, int]] = []

    @contextmanager
    def _observed(self) -> Iterator[None]:
        depth = getattr(self._depth, "n", 0)
        self._depth.n = depth + 1
        try:
            with self._write_lock:
                yield
        finally:
            self._depth.n = depth
        if depth == 0 and self.after_release is not None:
            self.after_release()  # the lock is free here

    def _read_guard(self) -> AbstractContextManager[Any]:
        return self._observed()

    def get_logs(self, from_block: int, to_block: int, addresses: Any = None) -> list[Log]:
        self.reads.append((from_block, to_block, self.block_number()))
        if self.during_read is not None:
            self.during_read()  # as if a writer came while this chunk is being read
        return super().get_logs(from_block, to_block, addresses)


def _get_logs(handler: RpcHandler, spec: dict[str, Any]) -> dict[str, Any]:
    reply = handler.handle_one({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [spec]})
    assert reply is not None
    return reply


def test_get_logs_lets_writers_in_between_its_chunks(demo: Scenario) -> None:
    """Issue 10: a full-range eth_getLogs held the chain's lock throughout (90 s), stalling every
    transfer. Now the log index reads mined blocks off the write lock (issue 15): a transfer sent while
    a chunk is being read goes through at once, and the next chunk sees its block."""
    chain = ObservedChain(num_accounts=20)
    market = load_scenario(chain, demo)
    token = market.security("THAMES28")
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    head = chain.block_number()
    handler = RpcHandler(chain, log_chunk_blocks=8)
    reader = threading.current_thread()
    transferred = threading.Event()

    def transfer() -> None:
        token.transfer(bob, 1, sender=alice)
        transferred.set()

    def during_read() -> None:
        if threading.current_thread() is reader and not transferred.is_set():
            writer = threading.Thread(target=transfer)
            writer.start()
            writer.join(timeout=120)  # a reader holding the write lock would make this wait in vain
            assert transferred.is_set(), "a transfer waited for eth_getLogs"

    chain.during_read = during_read
    reply = _get_logs(handler, {"fromBlock": "0x0", "toBlock": hex(head)})
    chain.during_read = None
    assert transferred.is_set()
    assert [(low, high) for low, high, _ in chain.reads] == [(low, min(low + 7, head)) for low in range(0, head + 1, 8)]
    assert len(chain.reads) == math.ceil((head + 1) / 8) > 2
    assert chain.reads[0][2] == head and chain.reads[1][2] == head + 1  # the transfer went in meanwhile
    # The answer is the range asked for (the new block is after it), the same as eth-tester's own.
    assert reply["result"] == _tester_logs(chain, {"fromBlock": 0, "toBlock": head})


def test_get_logs_bounds_the_range_and_the_answer(demo: Scenario) -> None:
    chain = EmbeddedChain(num_accounts=20)
    market = load_scenario(chain, demo)
    token = market.security("THAMES28")
    head = chain.block_number()
    handler = RpcHandler(chain, log_chunk_blocks=4, max_log_blocks=10, max_log_results=3)

    wide = _get_logs(handler, {"fromBlock": "0x0", "toBlock": "latest"})["error"]
    assert wide["code"] == -32005
    assert wide["message"] == (
        f"eth_getLogs spans {head + 1} blocks; at most 10 per call: ask for narrower block ranges"
    )
    assert wide["data"] == {"maxBlockRange": "0xa"}
    busy = _get_logs(handler, {"fromBlock": "0x1", "toBlock": "0xa"})["error"]
    assert busy["code"] == -32005 and busy["data"] == {"maxResults": "0x3"}
    assert busy["message"].startswith("eth_getLogs matches more than 3 logs")
    backwards = _get_logs(handler, {"fromBlock": "0x5", "toBlock": "0x4"})["error"]
    assert backwards["code"] == -32602

    # Within the bounds: the same logs as eth-tester's own filter, topics and address included.
    transfer_topic = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
    spec = {"fromBlock": hex(head - 9), "toBlock": "latest", "address": token.address, "topics": [transfer_topic]}
    receipt = token.transfer(market.accounts["bob"], 2, sender=market.accounts["alice"])
    spec["fromBlock"] = hex(receipt.block_number - 9)
    ours = _get_logs(handler, spec)["result"]
    theirs = {"fromBlock": receipt.block_number - 9, "toBlock": "latest", "address": token.address}
    assert ours == _tester_logs(chain, theirs | {"topics": [transfer_topic]})
    assert ours[-1]["transactionHash"] == receipt.transaction_hash
    by_hash = _get_logs(handler, {"blockHash": ours[-1]["blockHash"], "topics": [None, None, None, [transfer_topic]]})
    assert by_hash["result"] == []  # a Transfer has three topics, so a fourth never matches


# ---------------------------------------------------------------------- the standalone entry point


@pytest.mark.slow
def test_the_standalone_endpoint_has_random_keys_and_its_own_api_key(tmp_path: Any) -> None:
    log = tmp_path / "rpc.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox_gateway.rpc_server", "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if k != "SANDBOX_RPC_API_KEY"},
        )
    try:
        # The port it bound itself (a probed free port could be taken by another process before it binds it).
        url = f"http://127.0.0.1:{announced_port(log, proc, RPC_READY, timeout=120)}"
        deadline = time.monotonic() + 120
        key = None
        while key is None and time.monotonic() < deadline and proc.poll() is None:
            found = re.search(r"API key \(send as `Authorization: Bearer <key>`\): (\S+)", log.read_text())
            key = found.group(1) if found else None
            time.sleep(0.1)
        assert key is not None, log.read_text()
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_accounts", "params": []}
        # The socket listens before the port is announced: the first request waits in its backlog until uvicorn
        # accepts it (no retry needed; a generous timeout for a busy machine).
        refused = httpx.post(url, json=body, timeout=120)
        assert refused.status_code == 401
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.post(url, json=body, headers=auth, timeout=60).json()["result"] == []
        development_account = EmbeddedChain(num_accounts=1).accounts[0].address
        balance = {"jsonrpc": "2.0", "id": 2, "method": "eth_getBalance", "params": [development_account, "latest"]}
        assert httpx.post(url, json=balance, headers=auth, timeout=60).json()["result"] == "0x0"  # not its keys
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
