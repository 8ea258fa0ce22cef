"""Turning a receipt into the fields every state-changing response carries."""

from __future__ import annotations

from typing import Any

from sandbox.chain.base import Receipt
from sandbox_gateway.reads import acknowledge


def tx_fields(receipt: Receipt) -> dict[str, Any]:
    acknowledge(receipt.block_number)  # the caller's next reads reflect this block (read-your-writes)
    return {
        "tx_hash": receipt.transaction_hash,
        "block_number": receipt.block_number,
        "block_timestamp": receipt.block_timestamp,
        "gas_used": receipt.gas_used,
    }
