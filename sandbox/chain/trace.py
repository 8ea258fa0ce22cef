"""geth's ``callTracer`` call tree, built from py-evm's computations.

py-evm has no tracer hooks, but every message call it runs is a computation that keeps its children
(`ComputationAPI.children`) with their message (sender, target, value, gas, input), output, gas used
and error. `EmbeddedChain.trace_transaction` re-executes a mined transaction on a copy of the state at
its parent block (after the transactions before it in its block) and hands the top computation here.
"""

from __future__ import annotations

from typing import Any

from eth.exceptions import (
    InsufficientFunds,
    InvalidInstruction,
    InvalidJumpDestination,
    OutOfGas,
    Revert,
    StackDepthLimit,
    WriteProtection,
)
from eth_utils import to_checksum_address

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
