"""The indexer reads an ERC-20 `Transfer` straight from its topics and data (`LogDecoder.decode_args`):
the same name and arguments as the general decoder gives, and the general decoder for anything else."""

from __future__ import annotations

from sandbox.chain.base import Log
from sandbox.readmodel._decode import LogDecoder, default_decoder

TRANSFER = bytes.fromhex("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
ALICE = "0x" + "ab" * 20
BOB = "0x" + "cd" * 20


def _log(topics: tuple[bytes, ...], data: bytes) -> Log:
    return Log(
        address="0x" + "33" * 20,
        topics=topics,
        data=data,
        block_number=7,
        transaction_hash="0x" + "44" * 32,
        log_index=0,
    )


def _general(decoder: LogDecoder, log: Log) -> tuple[str, dict[str, object]] | None:
    event = decoder.decode(log)
    return None if event is None else (event.name, dict(event.args))


def test_an_erc20_transfer_decodes_as_the_general_decoder_decodes_it() -> None:
    decoder = default_decoder()
    for value in (0, 1, 10**18, 2**256 - 1):
        log = _log(
            (TRANSFER, bytes(12) + bytes.fromhex(ALICE[2:]), bytes(12) + bytes.fromhex(BOB[2:])),
            value.to_bytes(32, "big"),
        )
        fast = decoder.decode_args(log)
        assert fast == _general(decoder, log)
        assert fast is not None and fast[1]["value"] == value
        assert fast[1]["from"] != ALICE and fast[1]["from"].lower() == ALICE  # checksummed, as the general one


def test_what_is_not_a_plain_erc20_transfer_goes_to_the_general_decoder() -> None:
    decoder = default_decoder()
    dirty = bytes([1]) + bytes(11) + bytes.fromhex(ALICE[2:])  # an address topic with non-zero padding
    clean = bytes(12) + bytes.fromhex(BOB[2:])
    cases = [
        _log((TRANSFER, dirty, clean), (5).to_bytes(32, "big")),  # refused by eth-abi: recorded raw
        _log((TRANSFER, clean, clean), (5).to_bytes(64, "big")),  # longer data than a uint256
        _log((TRANSFER, clean, clean, (9).to_bytes(32, "big")), b""),  # ERC-721: the token id is indexed
    ]
    for log in cases:
        assert decoder.decode_args(log) == _general(decoder, log)
    assert decoder.decode_args(cases[0]) is None
