"""BLOCKHASH on the revm engine: code that reads it runs on py-evm, with the chain's own block hashes.

pyrevm 0.3.7 keeps revm's block hashes in its database (`CacheDB<EmptyDB>`) and offers no way to put
any there: revm's empty database answers BLOCKHASH(n) with keccak of n's decimal text, which is no hash
this chain reports. So the revm engine (`RevmChain._run`) notes which contract codes hold a BLOCKHASH
instruction (`sandbox.chain.revm_engine.uses_blockhash`, once per code hash; this module, which
imports py-evm, is imported only when such code runs) and, when a transaction or call touched such code
(or deploys init code holding one), executes it again here, on py-evm, the reference EVM, over a copy of
the same world, under the same block header, with the chain's hashes of the 256 blocks before it
(`previous_hashes`): what revm would have done had its database known them. Nothing in the sandbox's
own contracts reads BLOCKHASH, so this costs them nothing; a contract that does pays a py-evm
execution (the whole world is copied in: ~0.1 s for the uk-us-sandbox seed) per transaction or call.

Not covered: a contract created by CREATE/CREATE2 from init code that the creating contract built in
memory from outside data (calldata, storage) and that reads BLOCKHASH in its constructor only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from eth.vm.forks import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_utils import keccak, to_checksum_address

from sandbox.chain.trace import PyEvmWorld, canonical_address, world_on_pyevm

_EMPTY_CODE_HASH = keccak(b"")


@dataclass(frozen=True)
class PyEvmOutcome:
    """What one transaction or call did on py-evm: status, gas, output (return or revert data), logs,
    the created contract, and the accounts and storage slots it changed (against the world it ran on)."""

    success: bool
    gas_used: int
    output: bytes
    logs: tuple[tuple[str, tuple[bytes, ...], bytes], ...]
    contract_address: str | None
    #: lower-case address -> (balance, nonce, code hash, the code when it is new code)
    accounts: dict[str, tuple[int, int, bytes, bytes | None]]
    slots: list[tuple[str, int, int, int]]  # lower-case address, slot, previous, present


def _outcome(
    state: Any,
    computation: Any,
    gas_used: int,
    accounts: Mapping[str, tuple[int, int, bytes]],
    storage: Mapping[tuple[str, int], int],
    *,
    created: bool,
) -> PyEvmOutcome:
    success = not computation.is_error
    if success:
        output = bytes(computation.output)
    else:
        error = computation.error
        output = error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
    account_db = state._account_db  # py-evm keeps which accounts and slots were touched here only
    touched = {"0x" + bytes(a).hex() for a in account_db._accessed_accounts}
    changed: dict[str, tuple[int, int, bytes, bytes | None]] = {}
    for key in touched | set(accounts):
        canonical = canonical_address(key)
        after = (state.get_balance(canonical), state.get_nonce(canonical), bytes(state.get_code_hash(canonical)))
        before = accounts.get(key, (0, 0, _EMPTY_CODE_HASH))
        if after != tuple(before):
            new_code = bytes(state.get_code(canonical)) if after[2] != before[2] else None
            changed[key] = (*after, new_code)
    slots = []
    for address, store in account_db._account_stores.items():
        key = "0x" + bytes(address).hex()
        for slot in sorted(store.get_accessed_slots()):
            previous = storage.get((key, slot), 0)
            present = state.get_storage(address, slot)
            if present != previous:
                slots.append((key, slot, previous, present))
    logs = tuple(
        (to_checksum_address(address), tuple(t.to_bytes(32, "big") for t in topics), bytes(data))
        for address, topics, data in (computation.get_log_entries() if success else ())
    )
    contract = to_checksum_address(computation.msg.storage_address) if created and success else None
    return PyEvmOutcome(success, gas_used, output, logs, contract, changed, slots)


def transaction_on_pyevm(world: PyEvmWorld, raw: bytes) -> PyEvmOutcome:
    """Signed transaction `raw` applied by py-evm on `world` under its block: nonce, fees (the sender pays
    gas used times the effective price, the tip goes to the coinbase) and execution, as a block applies
    it. Nothing outside a fresh database is written."""
    state = world_on_pyevm(world)
    transaction = PragueVM.get_transaction_builder().decode(raw)
    computation = state.apply_transaction(transaction)
    gas_used = PragueVM.finalize_gas_used(transaction, computation)
    return _outcome(state, computation, gas_used, world.accounts, world.storage, created=not transaction.to)


def call_on_pyevm(world: PyEvmWorld, *, sender: str, to: str | None, data: bytes, value: int, gas: int) -> PyEvmOutcome:
    """A message from `sender` executed by py-evm and thrown away, as the revm engine runs a call: no
    fee (a zero gas price and, as revm reads it in a call, a zero base fee), the sender's own nonce."""
    state = world_on_pyevm(replace(world, block=replace(world.block, base_fee=0)))
    origin = canonical_address(sender)
    builder: Any = PragueVM.get_transaction_builder()
    unsigned = builder.new_unsigned_dynamic_fee_transaction(
        chain_id=world.chain_id,
        nonce=state.get_nonce(origin),
        max_fee_per_gas=0,
        max_priority_fee_per_gas=0,
        gas=gas,
        to=canonical_address(to) if to is not None else b"",
        value=value,
        data=data,
        access_list=(),
    )
    transaction: Any = SpoofTransaction(unsigned, from_=origin)
    computation = state.apply_transaction(transaction)
    gas_used = PragueVM.finalize_gas_used(transaction, computation)
    return _outcome(state, computation, gas_used, world.accounts, world.storage, created=to is None)
