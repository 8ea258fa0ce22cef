"""Every custom error of every compiled ABI decodes from its revert data into `ContractReverted` with its
name and arguments (catches selector clashes and types the decoder mishandles)."""

from __future__ import annotations

from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from sandbox.abi import artifact_names, canonical_signature, canonical_type, load_artifact
from sandbox.chain.revert import RevertDecoder
from sandbox.errors import ContractReverted


def sample(abi_type: str, seed: int) -> tuple[Any, Any]:
    """A value of `abi_type` to encode, and what the decoder should give back for it."""
    if abi_type.endswith("]"):
        element, size = abi_type[: abi_type.rindex("[")], abi_type[abi_type.rindex("[") + 1 : -1]
        pairs = [sample(element, seed + i) for i in range(int(size) if size else 2)]
        return [p[0] for p in pairs], tuple(p[1] for p in pairs)
    if abi_type.startswith("("):
        pairs = [sample(t, seed + i) for i, t in enumerate(_split(abi_type))]
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
    if abi_type == "address":
        raw = "0x" + f"{seed % 256:02x}" * 20
        return raw, to_checksum_address(raw)
    if abi_type == "bool":
        return True, True
    if abi_type == "string":
        return f"text {seed}", f"text {seed}"
    if abi_type.startswith("bytes"):
        raw = bytes((seed + i) % 256 for i in range(int(abi_type[5:] or 3)))
        return raw, "0x" + raw.hex()
    bits = int(abi_type.lstrip("uint") or 256)
    value = 2**bits - 1 - seed if abi_type.startswith("uint") else -(2 ** (bits - 1)) + seed
    return value, value


def _split(tuple_type: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in tuple_type[1:-1]:
        if char == "," and depth == 0:
            parts, current = [*parts, current], ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    return [*parts, current] if current else parts


def revert_data(item: dict[str, Any], seed: int) -> tuple[bytes, dict[str, Any]]:
    types = [canonical_type(i) for i in item["inputs"]]
    pairs = [sample(t, seed + 7 * n) for n, t in enumerate(types)]
    data = function_signature_to_4byte_selector(canonical_signature(item)) + encode(types, [p[0] for p in pairs])
    names = [i["name"] or f"arg{n}" for n, i in enumerate(item["inputs"])]
    return data, {name: p[1] for name, p in zip(names, pairs, strict=True)}


def test_every_custom_error_of_every_artifact_decodes() -> None:
    decoder = RevertDecoder()
    checked = 0
    for contract in artifact_names():
        for item in load_artifact(contract).abi:
            if item.get("type") != "error":
                continue
            data, expected = revert_data(item, seed=checked % 200 + 1)
            exc = decoder.to_exception(data, tx_hash="0x" + "ee" * 32)
            assert isinstance(exc, ContractReverted)
            where = f"{contract}.{canonical_signature(item)}"
            assert exc.error_name == item["name"], where
            assert exc.args_by_name == expected, where
            assert exc.data == data and exc.tx_hash == "0x" + "ee" * 32
            checked += 1
    assert checked > 50  # the contracts declare their rules as custom errors


def test_nested_arguments_and_builtin_reverts() -> None:
    item = {
        "type": "error",
        "name": "Nested",
        "inputs": [
            {"name": "wallets", "type": "address[]"},
            {"name": "", "type": "bytes32[2]"},
            {
                "name": "entry",
                "type": "tuple",
                "components": [{"name": "who", "type": "address"}, {"name": "tags", "type": "bytes4[]"}],
            },
            {"name": "note", "type": "string"},
            {"name": "delta", "type": "int24"},
        ],
    }
    decoder = RevertDecoder([item])
    data, expected = revert_data(item, seed=3)
    assert decoder.decode(data) == ("Nested", expected)
    assert expected["entry"][0] == to_checksum_address("0x" + "11" * 20)  # addresses checksummed in structs
    assert decoder.decode(function_signature_to_4byte_selector("Error(string)") + encode(["string"], ["no"])) == (
        "Error",
        {"reason": "no"},
    )
    assert decoder.decode(function_signature_to_4byte_selector("Panic(uint256)") + encode(["uint256"], [0x11])) == (
        "Panic",
        {"code": 0x11},
    )
    unknown = decoder.to_exception(b"\xde\xad\xbe\xef")
    assert (unknown.error_name, unknown.args_by_name) == (None, {})
    truncated = decoder.to_exception(data[:40])  # malformed: named, arguments left on the raw data
    assert (truncated.error_name, truncated.args_by_name, truncated.data) == ("Nested", {}, data[:40])
