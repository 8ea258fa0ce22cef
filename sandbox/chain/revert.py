"""Decoding revert data into the custom error it encodes (web3.py only gives hex)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from sandbox.abi import all_error_abis, canonical_signature, canonical_type
from sandbox.errors import ContractReverted

_ERROR_STRING = function_signature_to_4byte_selector("Error(string)")
_PANIC = function_signature_to_4byte_selector("Panic(uint256)")


class RevertDecoder:
    """Maps 4-byte error selectors to custom errors known from the compiled artifacts."""

    def __init__(self, error_abis: Iterable[dict[str, Any]] | None = None) -> None:
        self._by_selector: dict[bytes, dict[str, Any]] = {}
        for item in error_abis if error_abis is not None else all_error_abis():
            selector = function_signature_to_4byte_selector(canonical_signature(item))
            self._by_selector.setdefault(selector, item)

    def decode(self, data: bytes) -> tuple[str | None, dict[str, Any]]:
        """Error name and arguments by name; ``(None, {})`` when the data matches nothing known."""
        selector, body = data[:4], data[4:]
        if selector == _ERROR_STRING:
            (reason,) = decode(["string"], body)
            return "Error", {"reason": reason}
        if selector == _PANIC:
            (code,) = decode(["uint256"], body)
            return "Panic", {"code": code}
        item = self._by_selector.get(selector)
        if item is None:
            return None, {}
        types = [canonical_type(i) for i in item["inputs"]]
        try:
            values = decode(types, body)
        except Exception:  # malformed revert data: name the error, keep the raw bytes on the exception
            return item["name"], {}
        names = [i["name"] or f"arg{n}" for n, i in enumerate(item["inputs"])]
        return item["name"], {n: _plain(v, t) for n, v, t in zip(names, values, types, strict=True)}

    def to_exception(self, data: bytes, *, tx_hash: str | None = None) -> ContractReverted:
        name, args = self.decode(data)
        return ContractReverted(name, args, data, tx_hash=tx_hash)


def _plain(value: Any, abi_type: str) -> Any:
    """Addresses checksummed and bytes as 0x-hex, at any depth of arrays and structs."""
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if abi_type.endswith("]"):
        element = abi_type[: abi_type.rindex("[")]
        return tuple(_plain(v, element) for v in value)
    if abi_type.startswith("("):
        return tuple(_plain(v, t) for v, t in zip(value, _components(abi_type), strict=True))
    return value


def _components(tuple_type: str) -> list[str]:
    """``"(uint8,(address,bool)[])"`` → ``["uint8", "(address,bool)[]"]``."""
    parts, depth, current = [], 0, ""
    for char in tuple_type[1:-1]:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    return [*parts, current] if current else parts
