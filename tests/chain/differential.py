"""Running the same transactions on py-evm (`EmbeddedChain`) and revm (`RevmChain`) and comparing what
they did: every transaction's status, gas used, return or revert data, logs, block and time, and the
resulting state (storage slots, balances, nonces, code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.chain import embedded
from sandbox.chain.revm_engine import RevmChain
from sandbox.errors import ContractReverted
from sandbox.scenario import SEEDS_DIR

SEEDS = SEEDS_DIR


@dataclass(frozen=True)
class Outcome:
    """What one `transact` did, engine-independently."""

    sender: str
    to: str | None
    status: int
    gas_used: int
    block_number: int
    block_timestamp: int | None
    contract_address: str | None
    logs: tuple[tuple[str, tuple[bytes, ...], bytes], ...]
    revert_data: bytes


class _Recorder:
    """Mixed into an engine class: records the outcome of every `transact`."""

    outcomes: list[Outcome]

    def transact(self, sender: str, to: str | None, data: bytes, *, value: int = 0, gas: int | None = None) -> Any:
        if not hasattr(self, "outcomes"):
            self.outcomes = []
        try:
            receipt = super().transact(sender, to, data, value=value, gas=gas)  # type: ignore[misc]
        except ContractReverted as exc:
            raw = self.w3.eth.get_transaction_receipt(exc.tx_hash)  # type: ignore[attr-defined]
            self.outcomes.append(
                Outcome(
                    sender,
                    to,
                    int(raw["status"]),
                    int(raw["gasUsed"]),
                    int(raw["blockNumber"]),
                    None,
                    None,
                    (),
                    exc.data,
                )
            )
            raise
        self.outcomes.append(
            Outcome(
                sender,
                to,
                1,
                receipt.gas_used,
                receipt.block_number,
                receipt.block_timestamp,
                receipt.contract_address,
                tuple((log.address, log.topics, log.data) for log in receipt.logs),
                b"",
            )
        )
        return receipt


class RecordingEmbedded(_Recorder, embedded.EmbeddedChain):
    pass


class RecordingRevm(_Recorder, RevmChain):
    pass


def first_difference(left: list[Any], right: list[Any]) -> str | None:
    for index, (a, b) in enumerate(zip(left, right, strict=False)):
        if a != b:
            return f"#{index}: py-evm {a!r}\n      revm {b!r}"
    if len(left) != len(right):
        return f"py-evm has {len(left)} entries, revm {len(right)}"
    return None


def assert_same_outcomes(pyevm: RecordingEmbedded, revm: RecordingRevm) -> int:
    """Asserts identical outcomes; returns how many transactions were compared."""
    assert pyevm.outcomes, "nothing was sent"
    difference = first_difference(pyevm.outcomes, revm.outcomes)
    assert difference is None, difference
    return len(pyevm.outcomes)


def assert_same_state(pyevm: RecordingEmbedded, revm: RecordingRevm) -> int:
    """Asserts that every storage slot any revm block wrote, and every account's balance, nonce and code,
    read the same on both chains (through each chain's web3 handle); returns the slots compared."""
    assert pyevm.block_number() == revm.block_number()
    assert pyevm.timestamp() == revm.timestamp()
    slots: set[tuple[str, int]] = set()
    addresses: set[str] = {a.address for a in revm.accounts}
    for block in revm._blocks:
        for address, slot, _previous in block.undo:
            addresses.add(address)
            if slot is not None:
                slots.add((address, slot))
    from eth_utils import to_checksum_address

    for address, slot in sorted(slots):
        where = to_checksum_address(address)
        left = bytes(pyevm.w3.eth.get_storage_at(where, slot))
        right = bytes(revm.w3.eth.get_storage_at(where, slot))
        assert left == right, f"storage {where}[{slot}]: py-evm {left.hex()}, revm {right.hex()}"
    for address in sorted(addresses):
        where = to_checksum_address(address)
        if int(where, 16) == 0:
            continue  # the coinbase: py-evm's system calls touch it, neither engine pays it a tip
        for read in ("get_balance", "get_transaction_count", "get_code"):
            left, right = getattr(pyevm.w3.eth, read)(where), getattr(revm.w3.eth, read)(where)
            assert left == right, f"{read}({where}): py-evm {left!r}, revm {right!r}"
    return len(slots)
