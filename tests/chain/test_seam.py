"""The chain seam is sealed: the library above `sandbox.chain` and the gateway reach the chain through
the methods of `Chain`, never through an engine's own handle or a private member."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from web3.exceptions import BlockNotFound

from sandbox.chain import Block, BlockTransaction, Chain
from sandbox.chain.embedded import EmbeddedChain
from sandbox.contracts.base import ContractFacade

ROOT = Path(__file__).resolve().parents[2]
#: An engine's web3 handle, the chain's private read guard, a facade's private read, eth-tester itself.
LEAKS = re.compile(r"\.w3\b|\b_read_guard\b|\._read\(|\b_tester\b")


class Plain(ContractFacade):
    artifact_name = "PlainERC20"


def test_nothing_above_the_chain_package_reaches_into_it() -> None:
    """The JSON-RPC endpoint included: it serves the node's reads through `NodeChain`'s methods."""
    leaks = []
    for folder in ("sandbox", "api"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("sandbox/chain/"):
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#", 1)[0]
                if LEAKS.search(code) and not re.search(r"\bself\._read\(", code):
                    leaks.append(f"{relative}:{number}: {line.strip()}")
    assert leaks == []


def test_block_code_balance_and_gas_price_through_the_seam() -> None:
    chain = EmbeddedChain(num_accounts=2)
    assert isinstance(chain, Chain)
    owner, other = (a.address for a in chain.accounts)
    before = chain.balance(other)
    token = Plain.deploy_contract(chain, [1_000], sender=owner)
    receipt = chain.transact(owner, other, b"", value=7, gas=21_000)
    assert chain.balance(other) == before + 7
    assert chain.balance(other, block=receipt.block_number - 1) == before
    assert chain.code(token.address) == bytes(chain.w3.eth.get_code(token.address))  # type: ignore[arg-type]
    assert chain.code(token.address, block=0) == b""
    assert chain.code(other) == b""
    block = chain.block(receipt.block_number)
    web3_block = chain.w3.eth.get_block(receipt.block_number)
    assert block == Block(
        number=receipt.block_number,
        hash="0x" + bytes(web3_block["hash"]).hex(),
        timestamp=receipt.block_timestamp,
        transactions=(BlockTransaction(receipt.transaction_hash, owner),),
    )
    assert chain.gas_price() == chain.w3.eth.gas_price
    with pytest.raises(BlockNotFound):
        chain.block(receipt.block_number + 1)


def test_rpc_chain_polls_for_a_receipt_at_growing_intervals_not_a_fixed_sleep() -> None:
    """Today's main sleeps a fixed 20 ms between lookups; the first lookup is now immediate and the
    pauses grow from 1 ms to the cap."""
    from itertools import islice

    from sandbox.chain.rpc import receipt_poll_delays

    assert list(islice(receipt_poll_delays(0.02), 7)) == [0.001, 0.002, 0.004, 0.008, 0.016, 0.02, 0.02]
    assert list(islice(receipt_poll_delays(0.0005), 2)) == [0.0005, 0.0005]
