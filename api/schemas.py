"""Request and response bodies."""

from __future__ import annotations

from typing import Annotated

from eth_utils import to_checksum_address
from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"


def _checksum(value: str) -> str:
    return str(to_checksum_address(value))


#: A 20-byte hex address; returned in EIP-55 checksum form.
Address = Annotated[
    str,
    Field(pattern=ADDRESS_PATTERN, examples=["0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"]),
    AfterValidator(_checksum),
]
SYMBOL_PATTERN = r"^[A-Z][A-Z0-9]{1,11}$"
SymbolPath = Annotated[str, Path(pattern=SYMBOL_PATTERN, description="Ticker of the security.", examples=["THAMES28"])]
WalletPath = Annotated[
    str,
    Path(
        pattern=ADDRESS_PATTERN,
        description="A wallet address.",
        examples=["0x976EA74026E726554dB657fA54763abd0C3a0aa9"],
    ),
    AfterValidator(_checksum),
]


class Health(BaseModel):
    status: str
    chain_id: int
    block_number: int
    block_timestamp: int
    securities: int


class Position(BaseModel):
    wallet: str
    investor: str | None = Field(description="The investor identity the wallet belongs to.")
    jurisdiction: str | None = Field(description="GB or US, from the investor registry.")
    category: str | None
    balance: int
    frozen: bool


class Positions(BaseModel):
    security: str
    block_number: int
    total_supply: int
    positions: list[Position]


class FreezeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"wallet": "0x976EA74026E726554dB657fA54763abd0C3a0aa9"}]},
    )

    wallet: Address


class FreezeState(BaseModel):
    security: str
    wallet: str
    frozen: bool
    frozen_by_jurisdiction: str | None = Field(
        description="GB or US when a regulator imposed the freeze, 'issuer' for the issuer's agent, "
        "null when not frozen."
    )
    tx_hash: str
    block_number: int
