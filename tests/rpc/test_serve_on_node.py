"""`sandbox serve` on an external node (issue 12): the gateway deploys the demo on anvil, keeps its read
model on PostgreSQL, and serves the UK-US story over HTTP; a second gateway process attaches to the same
deployment (its data directory holds a copy of the first one's deployment.json) and shares the read
model, and each sees what the other wrote. Real processes, a real anvil and a real PostgreSQL on
127.0.0.1, free ports, stopped by PID."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_utils import keccak

from sandbox.chain.anvil import AnvilNode
from sandbox.chain.embedded import DEFAULT_HD_PATH, DEFAULT_MNEMONIC
from sandbox.readmodel import pgserver
from sandbox.scenario import Scenario
from tests.announced import announced_port

pytestmark = [pytest.mark.node, pytest.mark.postgres, pytest.mark.slow]

SANDBOX = Path(sys.executable).with_name("sandbox")
#: Seconds a gateway may take to deploy the demo on anvil and answer /health (a busy machine is slow).
START_TIMEOUT = 600
TIMEOUT = 120
#: Transfers each concurrent client sends.
ROUNDS = 8
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


@dataclass
class Gateway:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, key: str, *, min_block: int | None = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"}
        if min_block is not None:  # a write made through the other gateway, which this one never saw
            headers["X-Sandbox-Min-Block"] = str(min_block)
        return httpx.get(self.url + path, params=params, headers=headers, timeout=TIMEOUT)

    def post(self, path: str, key: str, body: Any = None) -> httpx.Response:
        return httpx.post(self.url + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)


def _start(data_dir: Path, chain_url: str, database_url: str) -> Gateway:
    log = data_dir.with_suffix(".log")
    env = {**os.environ, "SANDBOX_CHAIN_URL": chain_url, "SANDBOX_DATABASE_URL": database_url, "COLUMNS": "200"}
    since = len(log.read_text()) if log.exists() else 0
    with log.open("a") as out:
        proc = subprocess.Popen(
            [str(SANDBOX), "serve", "--port", "0", "--data-dir", str(data_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    # The port serve bound itself (a probed free port could be taken by another process before serve binds it).
    try:
        port = announced_port(log, proc, timeout=START_TIMEOUT, since=since)
    except BaseException:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        raise
    gateway = Gateway(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sandbox serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(gateway.url + "/health", timeout=5).status_code == 200:
                return gateway
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # polling a starting process: not a synchronisation of the test's own steps
    gateway.stop()
    pytest.fail(f"sandbox serve did not answer within {START_TIMEOUT} s:\n{log.read_text()}")


@dataclass
class World:
    node: AnvilNode
    database_url: str
    first: Gateway
    first_dir: Path
    keys: dict[str, str]
    accounts: dict[str, str]


@pytest.fixture(scope="module")
def world(demo: Scenario, node_tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("serve-on-node")
    database = pgserver.TemporaryPostgres()
    database.start()
    try:
        with AnvilNode(accounts=20) as node:
            database_url = database.create_database("gateways")
            first = _start(root / "first", node.url, database_url)
            try:
                keys = {"operator": demo.operator.api_key}
                keys |= {r.key: r.api_key for r in demo.regulators}
                keys |= {i.key: i.api_key for i in demo.issuers}
                keys |= {i.key: i.api_key for i in demo.investors if i.api_key}
                accounts = _accounts(demo)
                yield World(node, database_url, first, root / "first", keys, accounts)
            finally:
                first.stop()
    finally:
        database.stop()


def _accounts(scenario: Scenario) -> dict[str, str]:
    """Each demo investor's wallet: the development mnemonic's account the scenario gives it (the
    gateway signs with anvil's accounts)."""
    Account.enable_unaudited_hdwallet_features()
    return {
        i.key: Account.from_mnemonic(DEFAULT_MNEMONIC, account_path=f"{DEFAULT_HD_PATH}/{i.account}").address
        for i in scenario.investors
    }


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _positions(gateway: Gateway, key: str, symbol: str, *, min_block: int | None = None) -> dict[str, int]:
    items = _ok(gateway.get(f"/securities/{symbol}/positions", key, min_block=min_block))["items"]
    return {p["wallet"]: p["balance"] for p in items}


def test_the_uk_us_story_over_http_on_anvil(world: World) -> None:
    gateway, key, wallet = world.first, world.keys, world.accounts
    thames = "/securities/THAMES28"
    before = _positions(gateway, key["fca"], "THAMES28")
    # The demo's holdings as seeded (Carol's may have moved already: the other test of this module trades hers).
    assert before[wallet["alice"]] == 5000 and before[wallet["bob"]] == 3000

    # A UK-to-UK transfer goes straight through.
    _ok(gateway.post(f"{thames}/transfers", key["alice"], {"to": wallet["bob"], "amount": 100}), 201)
    # A cross-border transfer of 600 (the threshold is 500) is held until both regulators approve.
    plain = gateway.post(f"{thames}/transfers", key["alice"], {"to": wallet["carol"], "amount": 600})
    assert plain.status_code == 409 and plain.json()["code"] == "CROSS_BORDER_APPROVAL_REQUIRED"
    held = _ok(
        gateway.post(f"{thames}/cross-border-transfers", key["alice"], {"to": wallet["carol"], "amount": 600}), 201
    )
    transfer_id = held["transfer"]["transfer_id"]
    assert (
        _ok(gateway.post(f"{thames}/cross-border-transfers/{transfer_id}/approve", key["fca"]))["transfer"]["status"]
        == "PENDING"
    )
    assert (
        _ok(gateway.post(f"{thames}/cross-border-transfers/{transfer_id}/approve", key["sec"]))["transfer"]["status"]
        == "SETTLED"
    )

    # A DvP trade in sterling: bob sells 50 units to alice for 5,000.00 pounds; both legs or nothing.
    trade = _ok(
        gateway.post(
            "/settlements",
            key["bob"],
            {
                "side": "sell",
                "counterparty": wallet["alice"],
                "security": "THAMES28",
                "quantity": 50,
                "cash": "GBPS",
                "cash_amount": 500_000,
            },
        ),
        201,
    )["trade"]
    _ok(gateway.post(f"/settlements/{trade['trade_id']}/affirm", key["alice"]))
    assert _ok(gateway.post(f"/settlements/{trade['trade_id']}/settle", key["alice"]))["outcome"]["settled"] is True

    # The FCA freezes bob; his transfer is refused on chain, naming the rule.
    _ok(gateway.post(f"{thames}/frozen-wallets", key["fca"], {"wallet": wallet["bob"]}), 201)
    refused = gateway.post(f"{thames}/transfers", key["bob"], {"to": wallet["alice"], "amount": 1})
    assert refused.status_code == 409 and refused.json()["error"] == "SenderFrozen"

    # The read model (on PostgreSQL) answers what the chain holds.
    after = _positions(gateway, key["fca"], "THAMES28")
    assert after[wallet["alice"]] == 5000 - 100 - 600 + 50
    assert after[wallet["bob"]] == 3000 + 100 - 50
    assert after[wallet["carol"]] == before[wallet["carol"]] + 600


def test_two_gateways_on_one_node_and_one_database_see_each_others_writes(world: World, tmp_path: Path) -> None:
    first, key, wallet = world.first, world.keys, world.accounts
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    shutil.copy(world.first_dir / "deployment.json", second_dir / "deployment.json")
    second = _start(second_dir, world.node.url, world.database_url)
    try:
        assert "Attached to scenario demo" in second.log.read_text()
        thames = "/securities/THAMES28"
        start = _positions(second, key["fca"], "THAMES28")
        assert start == _positions(first, key["fca"], "THAMES28")

        # Writes through each gateway, read through the other (dan and carol: neither frozen).
        # A gateway waits for the writes it acknowledged itself; a write through the other one is named by
        # its block (X-Sandbox-Min-Block), as the README says.
        sent = _ok(second.post(f"{thames}/transfers", key["dan"], {"to": wallet["carol"], "amount": 7}), 201)
        seen_by_first = _positions(first, key["fca"], "THAMES28", min_block=sent["block_number"])
        assert seen_by_first[wallet["dan"]] == start[wallet["dan"]] - 7
        sent = _ok(first.post(f"{thames}/transfers", key["carol"], {"to": wallet["dan"], "amount": 3}), 201)
        seen_by_second = _positions(second, key["fca"], "THAMES28", min_block=sent["block_number"])
        assert seen_by_second[wallet["dan"]] == start[wallet["dan"]] - 7 + 3
        assert seen_by_second == _positions(first, key["fca"], "THAMES28")

        # Concurrent clients, one per gateway, each with its own sender (a gateway numbers its own
        # transactions: see the README): every acknowledged write is on chain once, and both read
        # models agree.
        head = int(_ok(first.post("/rpc", key["dan"], _rpc("eth_blockNumber")))["result"], 16)
        acknowledged: list[str] = []
        errors: list[str] = []

        def send(gateway: Gateway, sender: str, receiver: str, amount: int) -> None:
            for _ in range(ROUNDS):
                reply = gateway.post(f"{thames}/transfers", key[sender], {"to": wallet[receiver], "amount": amount})
                if reply.status_code == 201:
                    acknowledged.append(reply.json()["tx_hash"])
                else:
                    errors.append(reply.text)

        workers = [
            threading.Thread(target=send, args=(first, "carol", "dan", 1)),
            threading.Thread(target=send, args=(second, "dan", "carol", 2)),
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=600)
        assert errors == [] and len(acknowledged) == len(set(acknowledged)) == 2 * ROUNDS
        logs = _ok(
            second.post(
                "/rpc",
                key["dan"],
                _rpc("eth_getLogs", {"fromBlock": hex(head + 1), "toBlock": "latest", "topics": [TRANSFER]}),
            )
        )["result"]
        assert sorted(log["transactionHash"] for log in logs) == sorted(acknowledged)
        expected = dict(seen_by_second)
        expected[wallet["dan"]] += ROUNDS * (1 - 2)
        expected[wallet["carol"]] += ROUNDS * (2 - 1)
        newest = max(int(log["blockNumber"], 16) for log in logs)  # each gateway made half of these writes
        assert _positions(first, key["fca"], "THAMES28", min_block=newest) == expected
        assert _positions(second, key["fca"], "THAMES28", min_block=newest) == expected
    finally:
        second.stop()


def _rpc(method: str, *params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
