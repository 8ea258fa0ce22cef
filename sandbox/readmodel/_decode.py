"""Decoding any log of the sandbox's contracts, from the compiled artifacts.

The indexer does not know the contracts' events in advance: it decodes with every artifact the package
ships (`sandbox.abi.artifact_names`), so events added to the contracts later are indexed without a
change here. Two artifacts may declare an event with the same topic (OpenZeppelin's `RoleGranted`,
ERC-20 `Transfer`); the candidate whose number of indexed parameters fits the log is used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import cache
from typing import Any

from eth_abi.exceptions import DecodingError

from sandbox.abi import artifact_names, canonical_type, load_artifact
from sandbox.chain._txcodec import checksum, keccak
from sandbox.chain.base import Log
from sandbox.contracts.base import _Abi
from sandbox.contracts.event import ContractEvent
from sandbox.contracts.events import EVENTS_BY_TOPIC

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_TRANSFER_TOPIC = keccak(b"Transfer(address,address,uint256)")
_ADDRESS_PADDING = bytes(12)


class LogDecoder:
    """topic0 → the ABIs that declare it, over every artifact of the package."""

    def __init__(self, artifacts: tuple[str, ...] | None = None) -> None:
        self._by_topic: dict[bytes, list[tuple[_Abi, dict[str, Any]]]] = {}
        seen: set[tuple[bytes, int]] = set()
        for name in artifacts if artifacts is not None else artifact_names():
            abi = _Abi(load_artifact(name))
            for topic, item in abi.events_by_topic.items():
                indexed = sum(1 for i in item["inputs"] if i["indexed"])
                if (topic, indexed) in seen:
                    continue
                seen.add((topic, indexed))
                self._by_topic.setdefault(topic, []).append((abi, item))

    def decode(self, log: Log) -> ContractEvent | None:
        """The decoded event, or None when no artifact declares a matching event."""
        if not log.topics:
            return None
        for abi, item in self._by_topic.get(log.topics[0], ()):
            if sum(1 for i in item["inputs"] if i["indexed"]) != len(log.topics) - 1:
                continue
            try:
                return abi.decode_log(log)
            except (DecodingError, ValueError):
                continue
        return None

    def decode_args(self, log: Log) -> tuple[str, dict[str, Any]] | None:
        """The event's name and arguments (as `decode` gives them in `ContractEvent.args`), or None. An
        ERC-20 `Transfer`, most of what a market logs, is read straight from its topics and data."""
        topics = log.topics
        if (
            len(topics) == 3
            and topics[0] == _TRANSFER_TOPIC
            and len(log.data) == 32
            and topics[1][:12] == topics[2][:12] == _ADDRESS_PADDING
        ):
            return "Transfer", {
                "from": checksum("0x" + topics[1][12:].hex()),
                "to": checksum("0x" + topics[2][12:].hex()),
                "value": int.from_bytes(log.data, "big"),
            }
        event = self.decode(log)
        return None if event is None else (event.name, dict(event.args))

    def address_params(self, log: Log) -> tuple[str, ...]:
        """Names of the address-typed parameters of the event `log` decodes to, in ABI order."""
        for kind in EVENTS_BY_TOPIC.get(log.topics[0] if log.topics else b"", ()):
            if kind.matches(log):  # the typed event's names are those its `args` carry
                return tuple(p.name for p in kind.params if p.type == "address")
        for _abi, item in self._by_topic.get(log.topics[0] if log.topics else b"", ()):
            if sum(1 for i in item["inputs"] if i["indexed"]) == len(log.topics) - 1:
                return tuple(i["name"] for i in item["inputs"] if canonical_type(i) == "address")
        return ()


@cache
def default_decoder() -> LogDecoder:
    return LogDecoder()


#: Parameter names that say who acted rather than whom the action was about.
_ACTOR_NAMES = frozenset({"agent", "actor", "owner", "sender", "operator", "caller", "by"})


def target_of(name: str, args: Mapping[str, Any], address_params: tuple[str, ...], actor: str, contract: str) -> str:
    """Whom an action was about: the first address argument that does not name the actor; the
    contract itself when there is none (e.g. `Paused(account)` sent by that very account)."""
    for param in address_params:
        value = args.get(param)
        if not isinstance(value, str) or param in _ACTOR_NAMES or value == ZERO_ADDRESS:
            continue
        if value == actor and name in ("Paused", "Unpaused"):
            continue
        return value
    return contract


def jsonable(value: Any) -> Any:
    """Event arguments as JSON: bytes as 0x-hex, tuples as lists, structs as objects, integers beyond
    2**53 as strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**53) <= value <= 2**53 else str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a struct of a typed event
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value
