"""Turning a receipt into the fields every state-changing response carries."""

from __future__ import annotations

from typing import Any

from sandbox.chain.base import Receipt


def tx_fields(receipt: Receipt) -> dict[str, Any]:
    return {
        "tx_hash": receipt.transaction_hash,
        "block_number": receipt.block_number,
        "block_timestamp": receipt.block_timestamp,
        "gas_used": receipt.gas_used,
    }
