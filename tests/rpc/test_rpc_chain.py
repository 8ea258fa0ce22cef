"""RpcChain against a real anvil: accounts, nonces under concurrency, confirmations, dev powers,
revert decoding for calls and mined transactions."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.chain import RpcChain, connect
from sandbox.chain.anvil import AnvilNode, ensure_node_tools
from sandbox.chain.embedded import DEFAULT_MNEMONIC as EMBEDDED_MNEMONIC
from sandbox.chain.embedded import EmbeddedChain
from sandbox.chain.revm_engine import RevmChain
from sandbox.chain.rpc import DEFAULT_MNEMONIC, derive_accounts
from sandbox.contracts.base import ContractFacade
from sandbox.errors import ChainError, ContractReverted
from sandbox.market import Market, load_scenario
from sandbox.scenario import Scenario

pytestmark = pytest.mark.node


@pytest.fixture
def chain(anvil: AnvilNode) -> Iterator[RpcChain]:
    rpc = RpcChain(anvil.url, num_accounts=20)  # of the node's 60
    snapshot = rpc.snapshot()
    yield rpc
    rpc.revert(snapshot)


@pytest.fixture
def market(chain: RpcChain, demo: Scenario) -> Market:
    return load_scenario(chain, demo)


def test_accounts_match_the_embedded_chain_and_anvil(chain: RpcChain) -> None:
    assert DEFAULT_MNEMONIC == EMBEDDED_MNEMONIC
    embedded = EmbeddedChain(num_accounts=3)
    assert [a.address for a in chain.accounts[:3]] == [a.address for a in embedded.accounts]
    assert chain.accounts[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    # anvil funds exactly these addresses (it derives them from the same mnemonic).
    node_accounts = chain.w3.eth.accounts
    assert [a.address for a in chain.accounts] == list(node_accounts)[:20]
    assert chain.chain_id == 31337
    assert len(derive_accounts(0)) == 0


def test_concurrent_callers_get_every_transaction_mined_in_nonce_order(chain: RpcChain, anvil: AnvilNode) -> None:
    """Threads on one chain object, and a second chain object (another client using the same keys,
    so its nonces collide with ours) all hammer the same two senders.

    The two clients send different amounts. Had they sent the same transfer, a nonce collision could sign
    byte-identical transactions, which are one transaction (a transaction is its hash): a node seeing both
    arrive at once may accept the second as the first (anvil did, once in many runs: 119 hashes of 120), and
    both clients would be right that "their" transaction was mined."""
    other = RpcChain(anvil.url, num_accounts=2)
    senders = [a.address for a in chain.accounts[:2]]
    sink = chain.accounts[19].address
    start_nonces = {s: chain.w3.eth.get_transaction_count(s) for s in senders}
    sink_before = chain.w3.eth.get_balance(sink)
    per_thread, threads_per_chain = 15, 4
    hashes: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    amounts = {id(chain): 1, id(other): 2}

    def hammer(client: RpcChain, sender: str) -> None:
        try:
            for _ in range(per_thread):
                receipt = client.transact(sender, sink, b"", value=amounts[id(client)], gas=21_000)
                with lock:
                    hashes.append(receipt.transaction_hash)
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=hammer, args=(client, senders[i % 2]))
        for client in (chain, other)
        for i in range(threads_per_chain)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    total = per_thread * threads_per_chain * 2
    assert len(set(hashes)) == total
    assert chain.w3.eth.get_balance(sink) - sink_before == per_thread * threads_per_chain * (1 + 2)
    for sender in senders:
        assert chain.w3.eth.get_transaction_count(sender) - start_nonces[sender] == total // 2


def test_refused_transfer_is_decoded_for_calls_and_mined_transactions(
    chain: RpcChain, market: Market, stranger: str
) -> None:
    token = market.security("THAMES28")
    alice = market.accounts["alice"]
    data = ContractFacade._abi_for("SecurityToken").encode_call("transfer", [stranger, 1])

    with pytest.raises(ContractReverted) as called:
        chain.call(token.address, data, sender=alice)
    assert called.value.error_name == "ReceiverNotRegistered"
    assert called.value.args_by_name == {"wallet": stranger}
    assert called.value.tx_hash is None

    with pytest.raises(ContractReverted) as mined:
        token.transfer(stranger, 1, sender=alice)
    assert mined.value.error_name == "ReceiverNotRegistered"
    assert mined.value.rule_code == 0x21
    assert mined.value.tx_hash is not None
    receipt = chain.w3.eth.get_transaction_receipt(mined.value.tx_hash)
    assert receipt["status"] == 0  # it was mined, and failed
    # The nonce was spent: the next transaction from alice goes through.
    token.transfer(market.accounts["bob"], 1, sender=alice)


def test_get_logs_stops_at_the_confirmation_depth(anvil: AnvilNode, market: Market) -> None:
    confirmed = RpcChain(anvil.url, confirmations=3)
    token = market.security("THAMES28")
    receipt = token.transfer(market.accounts["bob"], 7, sender=market.accounts["alice"])
    head = confirmed.block_number()
    assert head == receipt.block_number
    assert confirmed.confirmed_block_number() == head - 3
    assert confirmed.get_logs(receipt.block_number, head, [token.address]) == []
    confirmed.mine(2)
    assert confirmed.get_logs(receipt.block_number, confirmed.block_number(), [token.address]) == []
    confirmed.mine(1)
    logs = confirmed.get_logs(receipt.block_number, confirmed.block_number(), [token.address])
    assert [e.name for e in token.decode_logs(logs)] == ["Transfer"]
    assert logs == list(receipt.logs)
    with pytest.raises(ChainError, match="≥ 0"):
        RpcChain(anvil.url, confirmations=-1)


def test_dev_powers_on_anvil(chain: RpcChain, market: Market) -> None:
    token = market.security("THAMES28")
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    before = token.balance_of(bob)
    snapshot = chain.snapshot()
    token.transfer(bob, 11, sender=alice)
    assert token.balance_of(bob) == before + 11
    chain.revert(snapshot)
    assert token.balance_of(bob) == before
    token.transfer(bob, 5, sender=alice)  # nonces are re-read after a revert
    assert token.balance_of(bob) == before + 5

    now = chain.timestamp()
    chain.time_travel(now + 90 * 86_400)
    assert chain.timestamp() == now + 90 * 86_400
    with pytest.raises(ChainError, match="cannot travel"):
        chain.time_travel(now)
    height = chain.block_number()
    chain.mine(4)
    assert chain.block_number() == height + 4
    with pytest.raises(ChainError, match="no snapshot"):
        chain.revert("0x999")


def test_connect_picks_the_backend(anvil: AnvilNode, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_ENGINE", raising=False)
    assert isinstance(connect(None), RevmChain)  # the default engine (README "Engines")
    monkeypatch.setenv("SANDBOX_ENGINE", "embedded")
    assert isinstance(connect(None), EmbeddedChain)
    assert isinstance(connect("embedded", num_accounts=2), EmbeddedChain)
    remote = connect(anvil.url, confirmations=1)
    assert isinstance(remote, RpcChain)
    assert remote.confirmations == 1
    with pytest.raises(ChainError, match="http"):
        connect("ws://127.0.0.1:1")
    with pytest.raises(ChainError, match="no JSON-RPC node answers"):
        RpcChain("http://127.0.0.1:9", request_timeout=2)


def test_a_failed_npm_install_is_an_error_not_a_skip(tmp_path: Path) -> None:
    """A lock file out of step with package.json: `npm ci` refuses (locally, before any download)."""
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "t", "version": "1.0.0", "dependencies": {"ethers": "6.17.0"}})
    )
    (tmp_path / "package-lock.json").write_text(
        json.dumps({"name": "t", "version": "1.0.0", "lockfileVersion": 3, "packages": {"": {"name": "t"}}})
    )
    with pytest.raises(ChainError, match="npm ci"):
        ensure_node_tools(tmp_path)
    with pytest.raises(ChainError, match=r"no package-lock\.json"):
        ensure_node_tools(tmp_path / "missing")
