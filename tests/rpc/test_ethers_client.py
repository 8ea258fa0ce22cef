"""ethers.js v6 (npm, pinned in tools/node) — a client nobody here wrote — on the embedded chain's
JSON-RPC endpoint: it reads balances, sends a signed transfer and gets the custom error of a refused
one decoded with the token's ABI. The same script runs against anvil, so what it expects is what a
real node gives."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from eth_utils import function_signature_to_4byte_selector

from sandbox.chain import RpcChain, Web3Chain
from sandbox.chain.anvil import NODE_TOOLS_DIR, AnvilNode
from sandbox.chain.embedded import DEFAULT_MNEMONIC, EmbeddedChain
from sandbox.market import load_scenario
from sandbox.scenario import Scenario
from sandbox_gateway.rpc_server import ServerThread, create_rpc_app, single_key

API_KEY = "ethers-test-api-key-0001"

pytestmark = pytest.mark.node


@pytest.fixture(params=["embedded-endpoint", "anvil"])
def endpoint(request: pytest.FixtureRequest) -> Iterator[tuple[Web3Chain, str]]:
    """A chain and the JSON-RPC URL ethers talks to: the sandbox's endpoint over the embedded chain
    (the point of the test; built with the development mnemonic so the script knows the keys, and
    behind a bearer API key, as under `sandbox serve`), and anvil as the reference a real node gives."""
    if request.param == "embedded-endpoint":
        chain = EmbeddedChain(num_accounts=20, mnemonic=DEFAULT_MNEMONIC)
        with ServerThread(create_rpc_app(chain, authenticate=single_key(API_KEY))) as server:
            yield chain, server.url
        return
    node: AnvilNode = request.getfixturevalue("anvil")
    rpc = RpcChain(node.url, num_accounts=20)
    start = rpc.snapshot()
    yield rpc, node.url
    rpc.revert(start)


def test_ethers_reads_transfers_and_decodes_the_refusal(
    node_tools: Path, endpoint: tuple[Web3Chain, str], demo: Scenario, stranger: str
) -> None:
    chain, url = endpoint
    market = load_scenario(chain, demo)
    token = market.security("THAMES28")
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    alice_index = [a.address for a in chain.accounts].index(alice)
    alice_0, bob_0 = token.balance_of(alice), token.balance_of(bob)
    abi_path = resources.files("sandbox.artifacts").joinpath("SecurityToken.json")
    request = {
        "url": url,
        "abiPath": str(abi_path),
        "token": token.address,
        "mnemonic": DEFAULT_MNEMONIC,
        "senderIndex": alice_index,
        "to": bob,
        "amount": 25,
        "stranger": stranger,
        "apiKey": API_KEY,  # anvil ignores it
    }
    done = subprocess.run(
        ["node", str(NODE_TOOLS_DIR / "ethers-check.mjs"), json.dumps(request)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)

    # ethers saw the chain the sandbox sees.
    assert out["sender"] == alice
    assert out["chainId"] == str(chain.chain_id)
    assert out["symbol"] == "THAMES28"
    assert (int(out["senderBefore"]), int(out["toBefore"])) == (alice_0, bob_0)
    # Its signed transfer moved the balance, seen by ethers and by the sandbox.
    assert out["transfer"]["status"] == 1
    assert out["transferEvents"] == ["Transfer"]
    assert (int(out["senderAfter"]), int(out["toAfter"])) == (alice_0 - 25, bob_0 + 25)
    assert (token.balance_of(alice), token.balance_of(bob)) == (alice_0 - 25, bob_0 + 25)
    # The refused transfer surfaced to ethers as the custom error, decoded with the ABI.
    refused = out["refused"]
    assert refused["code"] == "CALL_EXCEPTION"
    assert refused["parsedName"] == "ReceiverNotRegistered"
    assert refused["parsedArgs"] == [stranger]
    assert refused["data"].startswith(
        "0x" + function_signature_to_4byte_selector("ReceiverNotRegistered(address)").hex()
    )
    # Sent anyway with a fixed gas limit, it is mined and fails, as on any node.
    failure = out["minedFailure"]
    assert failure["code"] == "CALL_EXCEPTION"
    assert failure["status"] == 0
    assert failure["receiptHash"] == failure["hash"]
    assert chain.w3.eth.get_transaction_receipt(failure["hash"])["status"] == 0
    assert int(out["senderFinal"]) == alice_0 - 25 == token.balance_of(alice)
