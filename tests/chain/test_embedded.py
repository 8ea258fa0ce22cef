"""The embedded backend: determinism, dev powers, and reverts normalised into one project error."""

from __future__ import annotations

import threading

import pytest
from eth_abi import encode

from sandbox.abi import load_artifact
from sandbox.chain import Chain, DevChain
from sandbox.chain.embedded import DEFAULT_GENESIS_TIMESTAMP, EmbeddedChain
from sandbox.contracts.base import ContractFacade
from sandbox.errors import ChainError, ContractReverted


class Plain(ContractFacade):
    artifact_name = "PlainERC20"


@pytest.fixture(scope="module")
def fresh() -> EmbeddedChain:
    return EmbeddedChain(num_accounts=3)


def _deploy_plain(chain: EmbeddedChain, supply: int = 10**24) -> Plain:
    return Plain.deploy_contract(chain, [supply], sender=chain.accounts[0].address)


def test_backend_implements_both_protocols(fresh: EmbeddedChain) -> None:
    assert isinstance(fresh, Chain)
    assert isinstance(fresh, DevChain)


def test_accounts_and_genesis_are_deterministic() -> None:
    a, b = EmbeddedChain(num_accounts=2), EmbeddedChain(num_accounts=2)
    # The development mnemonic shared with anvil and Hardhat.
    assert a.accounts[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert [x.address for x in a.accounts] == [x.address for x in b.accounts]
    assert a.timestamp() == DEFAULT_GENESIS_TIMESTAMP
    token_a, token_b = _deploy_plain(a), _deploy_plain(b)
    assert token_a.address == token_b.address
    assert a.w3.eth.get_block("latest")["hash"] == b.w3.eth.get_block("latest")["hash"]


def test_fixed_clock_advances_one_second_per_block() -> None:
    chain = EmbeddedChain(num_accounts=1)
    _deploy_plain(chain)
    _deploy_plain(chain)
    assert chain.block_number() == 2
    assert chain.timestamp() == DEFAULT_GENESIS_TIMESTAMP + 2


def test_snapshot_and_revert_restore_state_and_nonces(fresh: EmbeddedChain) -> None:
    token = _deploy_plain(fresh)
    sender, receiver = fresh.accounts[0].address, fresh.accounts[1].address
    snapshot = fresh.snapshot()
    height = fresh.block_number()
    token._send("transfer", receiver, 5, sender=sender)
    assert token._read("balanceOf", receiver) == 5
    fresh.revert(snapshot)
    assert fresh.block_number() == height
    assert token._read("balanceOf", receiver) == 0
    # The nonce cache was reset: sending again works.
    token._send("transfer", receiver, 7, sender=sender)
    assert token._read("balanceOf", receiver) == 7


def test_time_travel_sets_the_next_block_time_and_refuses_the_past(fresh: EmbeddedChain) -> None:
    target = fresh.timestamp() + 30 * 86_400
    fresh.time_travel(target)
    assert fresh.timestamp() == target
    with pytest.raises(ChainError, match="cannot travel"):
        fresh.time_travel(target - 1)


def test_reverts_are_decoded_from_calls_and_from_mined_transactions(fresh: EmbeddedChain) -> None:
    token = _deploy_plain(fresh, supply=100)
    sender, receiver = fresh.accounts[0].address, fresh.accounts[1].address
    with pytest.raises(ContractReverted) as in_call:
        fresh.call(token.address, token._abi.encode_call("transfer", [receiver, 101]), sender=sender)
    assert in_call.value.error_name == "ERC20InsufficientBalance"
    assert in_call.value.args_by_name == {"sender": sender, "balance": 100, "needed": 101}
    height = fresh.block_number()
    with pytest.raises(ContractReverted) as in_tx:
        token._send("transfer", receiver, 101, sender=sender)
    assert in_tx.value.error_name == "ERC20InsufficientBalance"
    assert in_tx.value.args_by_name["needed"] == 101
    assert in_tx.value.tx_hash is not None
    assert fresh.block_number() == height + 1  # the failed transaction was mined, and changed no balance
    assert token._read("balanceOf", sender) == 100
    # The nonce was spent by the failed transaction; the next one goes through.
    token._send("transfer", receiver, 1, sender=sender)


def test_concurrent_senders_get_ordered_nonces(fresh: EmbeddedChain) -> None:
    token = _deploy_plain(fresh, supply=1_000)
    sender, receiver = fresh.accounts[0].address, fresh.accounts[2].address
    errors: list[BaseException] = []

    def send_many() -> None:
        try:
            for _ in range(10):
                token._send("transfer", receiver, 1, sender=sender)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert token._read("balanceOf", receiver) == 40


def test_unknown_sender_is_a_clear_error(fresh: EmbeddedChain) -> None:
    plain = load_artifact("PlainERC20")
    data = bytes.fromhex(plain.bytecode[2:]) + encode(["uint256"], [1])
    with pytest.raises(ChainError, match="holds no key"):
        fresh.transact("0x000000000000000000000000000000000000dEaD", None, data)
