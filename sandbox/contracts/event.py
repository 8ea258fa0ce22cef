"""The base of every typed event (`sandbox.contracts.events`, generated from the artifacts) and the one
decoder they share.

An event class is a frozen dataclass: the log's metadata (`address`, `transaction_hash`,
`block_number`, `log_index`) and one typed field per event parameter, in snake_case. `name` and
`args` (the parameters keyed by their ABI names) keep the shape of the former untyped event, so code
written as ``event.args["tradeId"]`` keeps working next to ``event.trade_id``.

Values are converted by the fields' annotations: `ChecksumAddress` → checksummed address, a struct
dataclass → built from the decoded tuple, ``tuple[X, ...]`` → each element converted as X; everything
else is what eth-abi decodes (int, bool, bytes, str).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self, get_args, get_origin, get_type_hints

from eth_abi import decode
from eth_typing import ChecksumAddress

from sandbox.chain._txcodec import checksum
from sandbox.chain.base import Log


@dataclass(frozen=True)
class EventParam:
    """One parameter of an event: its ABI name, the dataclass field holding it, its canonical ABI type."""

    name: str
    field: str
    type: str
    indexed: bool = False

    @property
    def hashed(self) -> bool:
        """Indexed dynamic values (strings, bytes, arrays, structs) are logged as their keccak-256 hash."""
        return self.indexed and (self.type in ("string", "bytes") or self.type.endswith("]") or "(" in self.type)


@dataclass(frozen=True, kw_only=True)
class ContractEvent:
    """One decoded event log. Subclasses (one per event signature) add the parameters as fields."""

    address: ChecksumAddress
    transaction_hash: str
    block_number: int
    log_index: int

    #: The Solidity event name, topic0 and parameters (set by each subclass).
    event_name: ClassVar[str] = ""
    topic: ClassVar[bytes] = b""
    params: ClassVar[tuple[EventParam, ...]] = ()
    #: The canonical signature (``"Transfer(address,address,uint256)"``), derived from the above.
    signature: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.signature = f"{cls.event_name}({','.join(p.type for p in cls.params)})"

    @property
    def name(self) -> str:
        """The Solidity event name (``"Transfer"``)."""
        return self.event_name

    @property
    def args(self) -> Mapping[str, Any]:
        """The parameters keyed by their ABI names, in ABI order (``{"from": …, "to": …, "value": …}``)."""
        return {p.name: getattr(self, p.field) for p in self.params}

    @classmethod
    def matches(cls, log: Log) -> bool:
        """Whether `log` has this event's topic and number of indexed parameters."""
        return bool(log.topics) and log.topics[0] == cls.topic and len(log.topics) == 1 + _indexed_count(cls.params)

    @classmethod
    def from_log(cls, log: Log) -> Self:
        """Decodes `log`, which must match this event (`matches`); eth-abi errors propagate."""
        raw = decode_params(cls.params, log)
        converters = _converters(cls)
        fields = {p.field: converters[p.field](raw[p.name]) for p in cls.params}
        return cls(
            address=checksum(log.address),
            transaction_hash=log.transaction_hash,
            block_number=log.block_number,
            log_index=log.log_index,
            **fields,
        )


@dataclass(frozen=True, kw_only=True)
class GenericEvent(ContractEvent):
    """An event of a compiled ABI that has no generated class yet (run `python -m sandbox.codegen`):
    the same `name` and `args`, untyped."""

    abi_name: str
    abi_args: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.abi_name

    @property
    def args(self) -> Mapping[str, Any]:
        return self.abi_args

    @classmethod
    def from_abi(cls, item: Mapping[str, Any], params: tuple[EventParam, ...], log: Log) -> GenericEvent:
        raw = decode_params(params, log)
        return cls(
            address=checksum(log.address),
            transaction_hash=log.transaction_hash,
            block_number=log.block_number,
            log_index=log.log_index,
            abi_name=str(item["name"]),
            abi_args={p.name: _plain(raw[p.name], p.type) for p in params},
        )


def decode_params(params: Iterable[EventParam], log: Log) -> dict[str, Any]:
    """The raw eth-abi values of a log's parameters by ABI name (hashed ones as their 32-byte topic)."""
    params = tuple(params)
    out: dict[str, Any] = {}
    for param, topic in zip((p for p in params if p.indexed), log.topics[1:], strict=True):
        out[param.name] = topic if param.hashed else decode([param.type], topic)[0]
    plain = [p for p in params if not p.indexed]
    for param, value in zip(plain, decode([p.type for p in plain], log.data), strict=True):
        out[param.name] = value
    return out


def events_by_topic(types: Iterable[type[ContractEvent]]) -> dict[bytes, tuple[type[ContractEvent], ...]]:
    """topic0 → the event classes with that topic (more than one only when two ABIs index the same
    signature differently; `ContractEvent.matches` tells them apart)."""
    out: dict[bytes, tuple[type[ContractEvent], ...]] = {}
    for kind in types:
        out[kind.topic] = (*out.get(kind.topic, ()), kind)
    return out


def _indexed_count(params: tuple[EventParam, ...]) -> int:
    return sum(1 for p in params if p.indexed)


def _plain(value: Any, abi_type: str) -> Any:
    if abi_type == "address":
        return checksum(value)
    if abi_type == "address[]":
        return tuple(checksum(v) for v in value)
    return value


Converter = Callable[[Any], Any]


def _converters(kind: type[Any]) -> dict[str, Converter]:
    """Field name → converter from the eth-abi value, by the field's annotation (computed once per class)."""
    found = _CONVERTERS.get(kind)
    if found is None:
        found = _CONVERTERS[kind] = _build_converters(kind)
    return found


_CONVERTERS: dict[type[Any], dict[str, Converter]] = {}


def _build_converters(kind: type[Any]) -> dict[str, Converter]:
    hints = get_type_hints(kind)
    return {f.name: _converter(hints[f.name]) for f in dataclasses.fields(kind)}


def _identity(value: Any) -> Any:
    return value


def _converter(hint: Any) -> Converter:
    if hint is ChecksumAddress:
        return checksum
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        struct = hint
        parts = list(_converters(struct).values())
        return lambda value: struct(*(convert(v) for convert, v in zip(parts, value, strict=True)))
    if get_origin(hint) is tuple:
        element = _converter(get_args(hint)[0])
        if element is _identity:
            return tuple
        return lambda value: tuple(element(v) for v in value)
    return _identity
