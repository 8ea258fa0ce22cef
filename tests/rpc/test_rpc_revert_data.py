"""Where nodes put revert bytes, as web3.py hands them over in its own exceptions."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractCustomError, ContractLogicError

from sandbox.chain.web3chain import _revert_data_from

DATA = bytes.fromhex("b4c6b004" + "00" * 12 + "a0ee7a142d267c1f36714e4a8f75612f20a79720")


@pytest.mark.parametrize(
    "exc",
    [
        ContractCustomError("0x" + DATA.hex(), data="0x" + DATA.hex()),  # geth, anvil
        ContractLogicError("execution reverted", data={"data": "0x" + DATA.hex()}),  # Hardhat
        ContractLogicError("execution reverted", data={"message": "x", "data": {"data": "0x" + DATA.hex()}}),
        ContractLogicError("execution reverted", data="Reverted 0x" + DATA.hex()),  # older clients
    ],
)
def test_revert_bytes_are_found(exc: Exception) -> None:
    assert _revert_data_from(exc) == DATA


def test_no_revert_bytes() -> None:
    assert _revert_data_from(ContractLogicError("execution reverted", data=None)) is None
    assert _revert_data_from(ContractLogicError("x", data="0xzz")) is None
