"""geth's ``callTracer`` call tree, built from py-evm's computations.

py-evm has no tracer hooks, but every message call it runs is a computation that keeps its children
(`ComputationAPI.children`) with their message (sender, target, value, gas, input), output, gas used
and error. `EmbeddedChain.trace_transaction` re-executes a mined transaction on a copy of the state at
its parent block (after the transactions before it in its block) and hands the top computation here.

The revm engine has no call tracer (pyrevm 0.3.7), so `RevmChain.trace_transaction` hands
`trace_on_pyevm` its world as of the end of the parent block (accounts, code, storage: the head state
with the later blocks' undo logs rolled back) and the block's header fields; py-evm re-executes the
block's transactions up to the traced one in a fresh in-memory database, and the tree is built here
the same way. The differential tests (tests/chain/test_revm_trace.py) check both engines give the same tree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth.db.atomic import AtomicDB
from eth.exceptions import (
    InsufficientFunds,
    InvalidInstruction,
    InvalidJumpDestination,
    OutOfGas,
    Revert,
    StackDepthLimit,
    WriteProtection,
)
from eth.vm.chain_context import ChainContext
from eth.vm.forks import PragueVM
from eth.vm.forks.prague.blocks import PragueBlockHeader
from eth_typing import Address, BlockNumber, Hash32
from eth_utils import keccak, to_checksum_address

_EMPTY_CODE_HASH = keccak(b"")

#: py-evm's errors in geth's words (what callTracer's ``error`` says).
_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (Revert, "execution reverted"),
    (OutOfGas, "out of gas"),
    (InvalidInstruction, "invalid opcode"),
    (InvalidJumpDestination, "invalid jump destination"),
    (StackDepthLimit, "max call depth exceeded"),
    (InsufficientFunds, "insufficient balance for transfer"),
    (WriteProtection, "write protection"),
)


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def error_text(error: Exception) -> str:
    for kind, text in _ERRORS:
        if isinstance(error, kind):
            return text
    return type(error).__name__


def call_frame(
    computation: Any, *, parent: Any = None, gas: int | None = None, gas_used: int | None = None
) -> dict[str, Any]:
    """The callTracer frame of `computation` and (recursively) its children. `gas` and `gas_used`
    override the message's own for the top frame (the transaction's gas limit and its receipt's gas
    used, intrinsic gas included, as geth reports them)."""
    msg = computation.msg
    if msg.is_create:
        kind = "CREATE"
    elif msg.code_address != msg.to:
        kind = "DELEGATECALL" if not msg.should_transfer_value else "CALLCODE"
    elif msg.is_static and (parent is None or not parent.msg.is_static):
        kind = "STATICCALL"
    else:
        kind = "CALL"
    sender = parent.msg.storage_address if kind == "DELEGATECALL" and parent is not None else msg.sender
    to = msg.storage_address if kind == "CREATE" else msg.code_address
    frame: dict[str, Any] = {
        "type": kind,
        "from": to_checksum_address(sender),
        "to": to_checksum_address(to),
    }
    if kind in ("CALL", "CALLCODE", "CREATE"):
        frame["value"] = hex(msg.value)
    frame["gas"] = hex(msg.gas if gas is None else gas)
    frame["gasUsed"] = hex(computation.get_gas_used() if gas_used is None else gas_used)
    frame["input"] = _hex(msg.code if kind == "CREATE" else msg.data_as_bytes)
    output = bytes(computation.output)
    if output:
        frame["output"] = _hex(output)
    if computation.is_error:
        frame["error"] = error_text(computation.error)
    calls = [call_frame(child, parent=computation) for child in computation.children]
    if calls:
        frame["calls"] = calls
    return frame


@dataclass(frozen=True)
class BlockContext:
    """What a block's transactions see of their block (its header's fields): the py-evm header a
    re-execution runs under."""

    number: int
    timestamp: int
    coinbase: bytes
    base_fee: int
    gas_limit: int
    prevrandao: bytes
    parent_hash: bytes


@dataclass(frozen=True)
class PyEvmWorld:
    """A chain's world as py-evm re-executes on it: `accounts` (lower-case address -> balance, nonce, code
    hash; code by hash in `codes`), `storage` ((address, slot) -> value), under `block`'s header, with
    `previous_hashes` (newest first: the parent's hash, then its parent's, ...) answering BLOCKHASH."""

    chain_id: int
    accounts: Mapping[str, tuple[int, int, bytes]]
    codes: Mapping[bytes, bytes]
    storage: Mapping[tuple[str, int], int]
    block: BlockContext
    previous_hashes: Sequence[bytes]


def canonical_address(address: str) -> Address:
    """A hex address as py-evm takes it (20 bytes)."""
    return Address(bytes.fromhex(address.removeprefix("0x")))


def replay_for_trace(state: Any, transactions: Sequence[Any], wanted: bytes, *, gas_used: int) -> dict[str, Any] | None:
    """Applies a block's `transactions` (py-evm signed transactions) to `state` (py-evm's state as of
    the end of the parent block, under the block's header) in order, up to the one whose hash is
    `wanted`, and returns that one's callTracer frame; None when the block does not hold it. Each
    transaction starts from the changes of the earlier ones locked in, as a block is applied
    (`VM.apply_transaction`): EIP-2200's "original" storage values are those at the transaction's start."""
    for transaction in transactions:
        state.lock_changes()
        computation = state.apply_transaction(transaction)
        if bytes(transaction.hash) == wanted:
            return call_frame(computation, gas=transaction.gas, gas_used=gas_used)
    return None


def world_on_pyevm(world: PyEvmWorld) -> Any:
    """A fresh in-memory py-evm state (the embedded chain's fork, Prague) under a header with the world's
    block's fields, holding its accounts and storage, its changes locked (they are what the first
    transaction's EIP-2200 "original" values read)."""
    block = world.block
    header = PragueBlockHeader(
        difficulty=0,
        block_number=BlockNumber(block.number),
        gas_limit=block.gas_limit,
        timestamp=block.timestamp,
        coinbase=Address(block.coinbase),
        parent_hash=Hash32(block.parent_hash),
        mix_hash=Hash32(block.prevrandao),
        base_fee_per_gas=block.base_fee,
    )
    hashes = tuple(Hash32(h) for h in world.previous_hashes)
    state = PragueVM.build_state(AtomicDB(), header, ChainContext(world.chain_id), hashes)
    for address, (balance, nonce, code_hash) in world.accounts.items():
        if (balance, nonce, code_hash) == (0, 0, _EMPTY_CODE_HASH):
            continue  # an account that did not exist then (or was emptied): absent, as on a node
        canonical = canonical_address(address)
        state.set_balance(canonical, balance)
        state.set_nonce(canonical, nonce)
        if code_hash != _EMPTY_CODE_HASH:
            state.set_code(canonical, world.codes[code_hash])
    for (address, slot), value in world.storage.items():
        if value:
            state.set_storage(canonical_address(address), slot, value)
    # Locked, not persisted: the loaded world becomes what the first transaction's EIP-2200 "original"
    # values read, without building the state and storage tries (persisting took 92% of a trace:
    # 1.06 s of 1.15 s for the 1,417 slots of the uk-us-sandbox seed). No state root is needed.
    state.lock_changes()
    return state


def trace_on_pyevm(
    world: PyEvmWorld, *, raw_transactions: Sequence[bytes], wanted: bytes, gas_used: int
) -> dict[str, Any] | None:
    """The callTracer frame of transaction `wanted` of a block, re-executed by py-evm on a fresh
    in-memory state holding the world as of the end of the block's parent (`world_on_pyevm`). The
    block's `raw_transactions` before it run first, under a header with the block's own fields.
    Nothing outside the fresh database is written."""
    state = world_on_pyevm(world)
    builder = PragueVM.get_transaction_builder()
    return replay_for_trace(state, [builder.decode(raw) for raw in raw_transactions], wanted, gas_used=gas_used)
