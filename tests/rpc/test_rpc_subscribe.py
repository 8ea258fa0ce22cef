"""eth_subscribe / eth_unsubscribe over WebSocket on the JSON-RPC path (issue 12), with a real
WebSocket client (the `websockets` package) against uvicorn: authenticated on the upgrade request,
newHeads and logs (address and topics filters), bounded per connection."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_utils import keccak
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from sandbox.chain.anvil import NODE_TOOLS_DIR
from sandbox.chain.embedded import DEFAULT_MNEMONIC, EmbeddedChain
from sandbox.market import Market, load_scenario
from sandbox.scenario import Scenario
from sandbox_gateway.app import create_app
from sandbox_gateway.rpc_server import (
    MAX_SUBSCRIPTIONS_PER_CONNECTION,
    ServerThread,
    create_rpc_app,
    mount_rpc,
    single_key,
)
from sandbox_gateway.settings import Settings

KEY = "subscribe-test-key-0000000000"
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
#: Seconds a test waits for one message at most (generous: the machine is shared).
WAIT = 120


@dataclass
class Client:
    """A WebSocket JSON-RPC client that keeps the notifications it reads while waiting for replies."""

    ws: ClientConnection
    notifications: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1

    def call(self, method: str, params: list[Any]) -> dict[str, Any]:
        request_id = self.next_id
        self.next_id += 1
        self.ws.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=WAIT))
            if message.get("id") == request_id:
                return dict(message)
            self.notifications.append(message)

    def notification(self) -> dict[str, Any]:
        if self.notifications:
            return self.notifications.pop(0)
        return dict(json.loads(self.ws.recv(timeout=WAIT)))


@pytest.fixture(scope="module")
def served(demo: Scenario) -> Iterator[tuple[Market, str]]:
    chain = EmbeddedChain(num_accounts=20)
    market = load_scenario(chain, demo)
    with ServerThread(create_rpc_app(chain, authenticate=single_key(KEY))) as server:
        yield market, server.url


def _ws_url(http_url: str) -> str:
    return "ws" + http_url.removeprefix("http") + "/"


def test_the_upgrade_is_refused_without_a_valid_key(served: tuple[Market, str]) -> None:
    _, url = served
    for headers in ({}, {"Authorization": "Bearer not-the-key-000000000"}, {"Authorization": f"Basic {KEY}"}):
        with pytest.raises(InvalidStatus) as refused:
            connect(_ws_url(url), additional_headers=headers, open_timeout=WAIT)
        assert refused.value.response.status_code == 401
        body = json.loads(refused.value.response.body or b"{}")
        assert body["error"]["code"] == -32001
        assert body["error"]["data"]["code"] in ("AUTHENTICATION_REQUIRED", "INVALID_API_KEY")


def test_new_heads_and_filtered_logs_are_pushed(served: tuple[Market, str]) -> None:
    market, url = served
    thames, other = market.security("THAMES28"), next(iter(market.cash.values()))
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    with connect(_ws_url(url), additional_headers={"Authorization": f"Bearer {KEY}"}, open_timeout=WAIT) as ws:
        client = Client(ws)
        heads = client.call("eth_subscribe", ["newHeads"])["result"]
        thames_transfers = client.call("eth_subscribe", ["logs", {"address": thames.address, "topics": [TRANSFER]}])[
            "result"
        ]
        other_token = client.call("eth_subscribe", ["logs", {"address": [other.address]}])["result"]
        assert len({heads, thames_transfers, other_token}) == 3

        first = thames.transfer(bob, 2, sender=alice)
        head = client.notification()
        assert head["method"] == "eth_subscription" and head["params"]["subscription"] == heads
        assert int(head["params"]["result"]["number"], 16) == first.block_number
        block = client.call("eth_getBlockByNumber", [hex(first.block_number), False])["result"]
        assert head["params"]["result"]["hash"] == block["hash"]
        assert "transactions" not in head["params"]["result"]
        log = client.notification()
        assert log["params"]["subscription"] == thames_transfers
        expected = client.call(
            "eth_getLogs",
            [{"blockHash": block["hash"], "address": thames.address, "topics": [TRANSFER]}],
        )["result"]
        assert [log["params"]["result"]] == expected

        # A block with a GBP cash transfer: its notifications come after every one of the first block,
        # so none for the cash token's subscription came with the THAMES28 transfer.
        second = other.transfer(bob, 1, sender=alice)
        seen = [client.notification() for _ in range(2)]
        assert [n["params"]["subscription"] for n in seen] == [heads, other_token]
        assert int(seen[0]["params"]["result"]["number"], 16) == second.block_number
        assert seen[1]["params"]["result"]["transactionHash"] == second.transaction_hash
        assert seen[1]["params"]["result"]["address"] == other.address

        assert client.call("eth_unsubscribe", [thames_transfers])["result"] is True
        assert client.call("eth_unsubscribe", [thames_transfers])["result"] is False
        # Every other method works on the same connection.
        assert int(client.call("eth_blockNumber", [])["result"], 16) >= second.block_number


def test_subscriptions_are_bounded_per_connection_and_checked(served: tuple[Market, str]) -> None:
    _, url = served
    with connect(_ws_url(url), additional_headers={"Authorization": f"Bearer {KEY}"}, open_timeout=WAIT) as ws:
        client = Client(ws)
        ids = [client.call("eth_subscribe", ["newHeads"])["result"] for _ in range(MAX_SUBSCRIPTIONS_PER_CONNECTION)]
        assert len(set(ids)) == MAX_SUBSCRIPTIONS_PER_CONNECTION
        refused = client.call("eth_subscribe", ["newHeads"])["error"]
        assert refused["code"] == -32005
        assert "eth_unsubscribe some first" in refused["message"]
        assert client.call("eth_unsubscribe", [ids[0]])["result"] is True
        assert client.call("eth_subscribe", ["newHeads"])["result"].startswith("0x")
        assert client.call("eth_subscribe", ["syncing"])["error"]["code"] == -32602
        assert client.call("eth_subscribe", ["logs", {"address": "0x1234"}])["error"]["code"] == -32602


def test_eth_subscribe_over_http_names_the_websocket(served: tuple[Market, str]) -> None:
    _, url = served
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}
    reply = httpx.post(url + "/", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=WAIT).json()
    assert reply["error"]["code"] == -32601
    assert "WebSocket" in reply["error"]["message"]


def test_the_gateway_serves_subscriptions_on_rpc_with_its_api_keys(demo: Scenario) -> None:
    chain = EmbeddedChain(num_accounts=20)
    market = load_scenario(chain, demo)
    gateway = create_app(Settings(), market=market)
    mount_rpc(gateway, chain, "/rpc", authenticate=gateway.state.principals.authenticate)  # as `serve` does
    alice_key = next(i.api_key for i in demo.investors if i.key == "alice")
    with ServerThread(gateway) as server:
        ws_url = "ws" + server.url.removeprefix("http") + "/rpc"
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url, open_timeout=WAIT)
        assert refused.value.response.status_code == 401
        with connect(ws_url, additional_headers={"Authorization": f"Bearer {alice_key}"}, open_timeout=WAIT) as ws:
            client = Client(ws)
            heads = client.call("eth_subscribe", ["newHeads"])["result"]
            receipt = market.security("THAMES28").transfer(market.accounts["bob"], 1, sender=market.accounts["alice"])
            note = client.notification()
            assert note["params"]["subscription"] == heads
            assert int(note["params"]["result"]["number"], 16) == receipt.block_number


@pytest.mark.node
def test_ethers_websocket_provider_gets_blocks_and_events(node_tools: Path, demo: Scenario) -> None:
    """ethers.js v6 (npm, pinned in tools/node): WebSocketProvider with the bearer key on the upgrade,
    `provider.on("block")` and `contract.on(Transfer)` (eth_subscribe newHeads and logs), and a signed
    transfer sent over the same connection."""
    chain = EmbeddedChain(num_accounts=20, mnemonic=DEFAULT_MNEMONIC)
    market = load_scenario(chain, demo)
    token = market.security("THAMES28")
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    with ServerThread(create_rpc_app(chain, authenticate=single_key(KEY))) as server:
        request = {
            "url": _ws_url(server.url),
            "abiPath": str(resources.files("sandbox.artifacts").joinpath("SecurityToken.json")),
            "token": token.address,
            "mnemonic": DEFAULT_MNEMONIC,
            "senderIndex": [a.address for a in chain.accounts].index(alice),
            "to": bob,
            "amount": 9,
            "apiKey": KEY,
        }
        done = subprocess.run(
            ["node", str(NODE_TOOLS_DIR / "ethers-ws-check.mjs"), json.dumps(request)],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == 1
    assert out["transferEvent"] == {
        "from": alice,
        "to": bob,
        "value": "9",
        "transactionHash": out["hash"],
        "blockNumber": out["blockNumber"],
    }
    assert out["blockNumber"] in out["blocks"]
