"""Issue 10 against a real `sandbox serve` (a subprocess on a free 127.0.0.1 port, stopped by its PID):
nobody acts through `/rpc` without a key, the endpoint signs for nobody, the development mnemonic's
keys are nobody's in a default sandbox, transactions for another chain are refused, and a data
directory keeps its chain keys and the API keys' digests for its owner only."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from sandbox.chain.embedded import EmbeddedChain
from sandbox.chain.rpc import derive_accounts
from sandbox.contracts.base import ContractFacade
from sandbox.scenario import Scenario
from tests.announced import announced_port

pytestmark = pytest.mark.slow

SANDBOX = Path(sys.executable).with_name("sandbox")
TOKEN_ABI = ContractFacade._abi_for("SecurityToken")


class Serve:
    """`sandbox serve` on a free loopback port; `start` waits for /health."""

    def __init__(self, log: Path, *args: str) -> None:
        self.log = log
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> Serve:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        since = len(self.log.read_text()) if self.log.exists() else 0
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [str(SANDBOX), "serve", "--port", "0", *self.args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**env, "COLUMNS": "250"},
            )
        # The port serve bound itself (a probed free port could be taken by another process before serve binds it).
        self.url = f"http://127.0.0.1:{announced_port(self.log, self.proc, timeout=180, since=since)}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"sandbox serve exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"sandbox serve did not answer within 180 s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def post_rpc(self, method: str, params: list[Any], *, key: str | None) -> httpx.Response:
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        return httpx.post(f"{self.url}/rpc", json=body, headers=headers, timeout=60)

    def rpc(self, method: str, *params: Any, key: str) -> Any:
        body = self.post_rpc(method, list(params), key=key).json()
        assert "error" not in body, body
        return body["result"]

    def get(self, path: str, *, key: str) -> Any:
        response = httpx.get(f"{self.url}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def default_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """What `make run` starts: the demo, in memory, no option."""
    server = Serve(tmp_path_factory.mktemp("serve") / "serve.log").start()
    try:
        yield server
    finally:
        server.stop()


def _key(scenario: Scenario, who: str) -> str:
    people = {p.key: p.api_key for p in (*scenario.regulators, *scenario.issuers, *scenario.investors)}
    key = people[who]
    assert key is not None
    return key


def _wallet(server: Serve, investor_key: str) -> str:
    """An investor's first wallet, as the README finds it: its own key lists itself."""
    [me] = server.get("/investors", key=investor_key)["items"]
    return str(me["wallets"][0])


def _position(server: Serve, investor: str, key: str) -> dict[str, Any]:
    """The investor's THAMES28 position, from the gateway's read side."""
    items = server.get(f"/investors/{investor}/positions", key=key)["items"]
    [position] = [p for p in items if p["security"] == "THAMES28"]
    return dict(position)


def _printed_address(server: Serve, api_key: str) -> str:
    found = re.search(rf"{re.escape(api_key)}\s+(0x[0-9a-fA-F]{{40}})", server.log.read_text())
    assert found is not None, server.log.read_text()
    return found.group(1)


def _call_data(function: str, *args: Any) -> str:
    return "0x" + TOKEN_ABI.encode_call(function, list(args)).hex()


def _is_frozen(server: Serve, token: str, wallet: str, key: str) -> bool:
    answer = server.rpc("eth_call", {"to": token, "data": _call_data("isFrozen", wallet)}, "latest", key=key)
    return int(answer, 16) == 1


def _signed(private_key: bytes, *, chain_id: int | None, nonce: int, to: str, data: str) -> str:
    tx: dict[str, Any] = {"nonce": nonce, "to": to, "value": 0, "data": data, "gas": 300_000}
    if chain_id is None:
        tx["gasPrice"] = 10**10
    else:
        tx.update(chainId=chain_id, maxFeePerGas=10**11, maxPriorityFeePerGas=0, type=2)
    return "0x" + bytes(Account.sign_transaction(tx, private_key).raw_transaction).hex()


def test_nobody_freezes_alice_through_rpc_without_her_regulators_key(default_serve: Serve, demo: Scenario) -> None:
    """Issue 10: an unauthenticated eth_sendTransaction from the FCA's address calling
    setAddressFrozen(alice, true) succeeded, and so did one signed with the public test mnemonic."""
    server = default_serve
    alice_key, fca_key = _key(demo, "alice"), _key(demo, "fca")
    alice = _wallet(server, alice_key)
    fca = _printed_address(server, fca_key)
    token = server.get("/securities/THAMES28", key=fca_key)["address"]
    head = int(server.rpc("eth_blockNumber", key=alice_key), 16)
    freeze = {"from": fca, "to": token, "data": _call_data("setAddressFrozen", alice, True), "gas": "0x100000"}

    unauthenticated = server.post_rpc("eth_sendTransaction", [freeze], key=None)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["data"] == {"code": "AUTHENTICATION_REQUIRED"}
    for key in (alice_key, fca_key, demo.operator.api_key):  # with a key, the endpoint still signs for nobody
        refused = server.post_rpc("eth_sendTransaction", [freeze], key=key).json()["error"]
        assert refused["code"] == -32601
        assert "sign the transaction locally" in refused["message"].lower()
    assert server.rpc("eth_accounts", key=alice_key) == []

    # The well-known mnemonic's account 1 (the demo's FCA on a reproducible chain) is nobody here.
    public_fca = EmbeddedChain(num_accounts=2).accounts[1]
    assert public_fca.address != fca
    chain_id = int(server.rpc("eth_chainId", key=alice_key), 16)
    raw = _signed(
        public_fca.private_key, chain_id=chain_id, nonce=0, to=token, data=_call_data("setAddressFrozen", alice, True)
    )
    sent = server.post_rpc("eth_sendRawTransaction", [raw], key=alice_key).json()
    if "result" in sent:  # mined only to fail: the account is no agent of the token
        assert server.rpc("eth_getTransactionReceipt", sent["result"], key=alice_key)["status"] == "0x0"
    else:  # or refused outright: the account has nothing to pay gas with
        assert sent["error"]["code"] == -32000
        assert int(server.rpc("eth_blockNumber", key=alice_key), 16) == head

    assert not _is_frozen(server, token, alice, alice_key)
    assert _position(server, alice, fca_key)["frozen"] is False


def test_rpc_refuses_two_keys_and_unknown_ones_before_reading_the_body(default_serve: Serve, demo: Scenario) -> None:
    url = f"{default_serve.url}/rpc"
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    twice = httpx.Headers(
        [("Authorization", f"Bearer {demo.operator.api_key}"), ("Authorization", f"Bearer {_key(demo, 'alice')}")]
    )
    # Two keys are refused by the request limits in front of every route, /rpc included (sandbox_gateway.limits).
    ambiguous = httpx.post(url, json=body, headers=twice, timeout=60)
    assert (ambiguous.status_code, ambiguous.json()["code"]) == (400, "AMBIGUOUS_CREDENTIALS")
    unknown = httpx.post(url, json=body, headers={"Authorization": "Bearer x" * 3}, timeout=60)
    assert unknown.status_code == 401
    assert unknown.json()["error"]["data"] == {"code": "INVALID_API_KEY"}
    # A hostile body is refused by those limits before anyone parses it, with a key or without.
    deep = httpx.post(url, content=b"[" * 100_000, headers={"Authorization": "Bearer x" * 3}, timeout=60)
    assert (deep.status_code, deep.json()["code"]) == (400, "BODY_TOO_DEEP")
    assert httpx.get(f"{default_serve.url}/health", timeout=60).status_code == 200  # still up


def test_a_data_directory_keeps_its_keys_to_its_owner_and_rpc_takes_only_this_chains_transactions(
    tmp_path: Path, demo: Scenario
) -> None:
    data = tmp_path / "data"
    server = Serve(tmp_path / "serve.log", "--data-dir", str(data)).start()
    try:
        keys_file, deployment = data / "chain-keys.json", data / "deployment.json"
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(deployment.stat().st_mode) == 0o600
        text = deployment.read_text()
        api_keys = [demo.operator.api_key, *(_key(demo, p) for p in ("fca", "sec", "thames", "alice", "bob"))]
        assert not [key for key in api_keys if key in text]
        mnemonic = json.loads(keys_file.read_text())["mnemonic"]  # readable by its owner: this test

        alice_key, bob_key = _key(demo, "alice"), _key(demo, "bob")
        alice, bob = _wallet(server, alice_key), _wallet(server, bob_key)
        [alice_account] = [a for a in derive_accounts(20, mnemonic) if a.address == alice]  # her real key
        token = server.get("/securities/THAMES28", key=alice_key)["address"]
        chain_id = int(server.rpc("eth_chainId", key=alice_key), 16)
        nonce = int(server.rpc("eth_getTransactionCount", alice, "pending", key=alice_key), 16)
        head = int(server.rpc("eth_blockNumber", key=alice_key), 16)
        bob_before = _position(server, bob, bob_key)["balance"]
        transfer = _call_data("transfer", bob, 7)

        for other, message in ((1, "invalid chain id"), (None, "replay-protected")):
            raw = _signed(alice_account.private_key, chain_id=other, nonce=nonce, to=token, data=transfer)
            refused = server.post_rpc("eth_sendRawTransaction", [raw], key=alice_key).json()["error"]
            assert refused["code"] == -32000 and message in refused["message"], refused
        assert int(server.rpc("eth_blockNumber", key=alice_key), 16) == head  # nothing mined

        # Signed locally for this chain, with her own key: a wallet's way in.
        raw = _signed(alice_account.private_key, chain_id=chain_id, nonce=nonce, to=token, data=transfer)
        tx_hash = server.rpc("eth_sendRawTransaction", raw, key=alice_key)
        assert server.rpc("eth_getTransactionReceipt", tx_hash, key=alice_key)["status"] == "0x1"
        assert _position(server, bob, bob_key)["balance"] == bob_before + 7

        server.stop()
        server.start()  # the same directory: the same chain keys, the same API keys
        assert _wallet(server, alice_key) == alice
        assert _position(server, bob, bob_key)["balance"] == bob_before + 7
        assert json.loads(keys_file.read_text())["mnemonic"] == mnemonic
        assert stat.S_IMODE(deployment.stat().st_mode) == 0o600
        assert demo.operator.api_key in server.log.read_text().rsplit("Sandbox ready", 1)[1]  # printed again
    finally:
        server.stop()
