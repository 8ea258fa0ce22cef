"""The typed-facade base: encode with the ABI, send through the chain seam, decode results and events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Self, TypeVar, cast, overload

from eth_abi import decode, encode
from eth_utils import event_abi_to_log_topic, function_signature_to_4byte_selector, keccak, to_checksum_address

from sandbox.abi import Artifact, canonical_signature, canonical_type, load_artifact
from sandbox.chain.base import Chain, Log, Receipt
from sandbox.contracts.event import ContractEvent, EventParam, GenericEvent
from sandbox.contracts.events import EVENTS_BY_TOPIC
from sandbox.errors import ContractNotDeployed, ContractReverted, SandboxError

E = TypeVar("E", bound=ContractEvent)


def decode_event(log: Log) -> ContractEvent | None:
    """The typed event (`sandbox.contracts.events`) that `log` encodes, or None when no generated class
    matches its topic and indexed layout."""
    if not log.topics:
        return None
    for kind in EVENTS_BY_TOPIC.get(log.topics[0], ()):
        if kind.matches(log):
            return kind.from_log(log)
    return None


def _selected(event: ContractEvent, kind: str | type[ContractEvent] | None) -> bool:
    if kind is None:
        return True
    if isinstance(kind, str):
        return event.name == kind
    return isinstance(event, kind)


class _Abi:
    """Selectors, types and topics of one artifact, computed once per contract class."""

    def __init__(self, artifact: Artifact, *, fallback_artifacts: Sequence[Artifact] = ()) -> None:
        self.functions: dict[str, dict[str, Any]] = {}
        self.events_by_topic: dict[bytes, dict[str, Any]] = {}
        self._event_params: dict[bytes, tuple[EventParam, ...]] = {}
        self.constructor: dict[str, Any] | None = None
        #: function → (selector, input types) and → output types, filled on first use (a selector is a
        #: keccak of the signature: worth computing once, not on every call)
        self._encodings: dict[str, tuple[bytes, tuple[str, ...]]] = {}
        self._output_types: dict[str, tuple[str, ...]] = {}
        # Functions the contract answers through its fallback (code it runs by delegatecall): the
        # contract's own functions come first and win any clash.
        extra = [i for a in fallback_artifacts for i in a.abi if i.get("type") == "function"]
        for item in [*artifact.abi, *extra]:
            kind = item.get("type")
            if kind == "function":
                # Overloads are keyed by full signature as well as by name (the first one wins the name).
                self.functions.setdefault(item["name"], item)
                self.functions[canonical_signature(item)] = item
            elif kind == "event" and not item.get("anonymous"):
                topic = event_abi_to_log_topic(cast(Any, item))
                self.events_by_topic[topic] = item
                self._event_params[topic] = tuple(
                    EventParam(i["name"], i["name"], canonical_type(i), bool(i["indexed"])) for i in item["inputs"]
                )
            elif kind == "constructor":
                self.constructor = item

    def encode_call(self, fn: str, args: Sequence[Any]) -> bytes:
        encoding = self._encodings.get(fn)
        if encoding is None:
            item = self.functions.get(fn)
            if item is None:
                raise SandboxError(f"the contract has no function {fn!r}")
            types = tuple(canonical_type(i) for i in item["inputs"])
            encoding = self._encodings[fn] = (function_signature_to_4byte_selector(canonical_signature(item)), types)
        selector, types = encoding
        return selector + encode(types, list(args))

    def decode_output(self, fn: str, data: bytes) -> Any:
        types = self._output_types.get(fn)
        if types is None:
            types = self._output_types[fn] = tuple(canonical_type(o) for o in self.functions[fn]["outputs"])
        values = decode(types, data)
        values = tuple(_normalise(v, t) for v, t in zip(values, types, strict=True))
        return values[0] if len(values) == 1 else values

    def decode_log(self, log: Log) -> ContractEvent | None:
        """The typed event of `log` when its topic is one of this ABI's events (a `GenericEvent` when the
        generated module does not know it yet); None for a log of another ABI."""
        if not log.topics:
            return None
        item = self.events_by_topic.get(log.topics[0])
        if item is None:
            return None
        params = self._event_params[log.topics[0]]
        if len(log.topics) != 1 + sum(1 for p in params if p.indexed):
            return None
        return decode_event(log) or GenericEvent.from_abi(item, params, log)


def _normalise(value: Any, abi_type: str) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.endswith("[]") and abi_type[:-2] == "address":
        return tuple(to_checksum_address(v) for v in value)
    return value


class ContractFacade:
    """A deployed contract seen through the chain seam. Subclasses name `artifact_name` and add typed
    methods named after the Solidity functions in snake_case, with keyword-only `sender=`."""

    artifact_name: ClassVar[str]
    #: Artifacts whose functions the contract also answers, through its fallback.
    fallback_artifact_names: ClassVar[tuple[str, ...]] = ()
    _abi_cache: ClassVar[dict[str, _Abi]] = {}
    #: The block the contract was deployed in, when this facade deployed it (or was told it); None if unknown.
    deployed_in_block: int | None = None

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self._abi = self._abi_for(self.artifact_name)

    @classmethod
    def _abi_for(cls, name: str) -> _Abi:
        extras = cls.fallback_artifact_names if name == getattr(cls, "artifact_name", None) else ()
        key = "+".join((name, *extras))
        abi = cls._abi_cache.get(key)
        if abi is None:
            abi = cls._abi_cache[key] = _Abi(load_artifact(name), fallback_artifacts=[load_artifact(e) for e in extras])
        return abi

    @classmethod
    def deploy_contract(cls, chain: Chain, args: Sequence[Any], *, sender: str) -> Self:
        artifact = load_artifact(cls.artifact_name)
        abi = cls._abi_for(cls.artifact_name)
        types = [canonical_type(i) for i in (abi.constructor or {"inputs": []})["inputs"]]
        data = bytes.fromhex(artifact.bytecode[2:]) + encode(types, list(args))
        receipt = chain.transact(sender, None, data, gas=15_000_000)
        assert receipt.contract_address is not None
        facade = cls(chain, receipt.contract_address)
        facade.deployed_in_block = receipt.block_number
        return facade

    def _sender(self, sender: str | None) -> str:
        chosen = sender or self.chain.default_sender
        if chosen is None:
            raise SandboxError("no sender: pass sender= or use `with chain.acting_as(address):`")
        return chosen

    def _send(self, fn: str, *args: Any, sender: str | None, gas: int | None = None) -> Receipt:
        try:
            return self.chain.transact(self._sender(sender), self.address, self._abi.encode_call(fn, args), gas=gas)
        except ContractReverted as exc:
            self._explain(exc)
            raise

    def _read(self, fn: str, *args: Any, block: int | str = "latest") -> Any:
        try:
            data = self.chain.call(self.address, self._abi.encode_call(fn, args), block=block)
        except ContractReverted as exc:
            self._explain(exc)
            raise
        if not data and self._abi.functions[fn]["outputs"]:
            raise ContractNotDeployed(self.address, block)
        return self._abi.decode_output(fn, data)

    def _explain(self, exc: ContractReverted) -> None:
        """Hook: attach what the contract can tell about a revert (the rule's code and sentence)."""

    def grant_role(self, role: str, account: str, *, sender: str | None = None) -> Receipt:
        """OpenZeppelin AccessControl: grants the role named `role` (e.g. ``"AGENT_ROLE"``; the
        admin role is ``"DEFAULT_ADMIN_ROLE"``) to `account`."""
        return self._send("grantRole", self.role_id(role), account, sender=sender)

    def has_role(self, role: str, account: str) -> bool:
        return bool(self._read("hasRole", self.role_id(role), account))

    @staticmethod
    def role_id(role: str) -> bytes:
        return b"\x00" * 32 if role == "DEFAULT_ADMIN_ROLE" else keccak(text=role)

    @overload
    def events(self, receipt: Receipt, kind: type[E]) -> list[E]: ...
    @overload
    def events(self, receipt: Receipt, kind: str | None = None) -> list[ContractEvent]: ...
    def events(self, receipt: Receipt, kind: str | type[ContractEvent] | None = None) -> list[Any]:
        """The events this contract emitted in `receipt`, as typed dataclasses
        (`sandbox.contracts.events`), optionally only those of one class (``token.events(receipt,
        Transfer)``) or name (``token.events(receipt, "Transfer")``)."""
        return self.decode_logs(receipt.logs, kind)

    @overload
    def decode_logs(self, logs: Sequence[Log], kind: type[E]) -> list[E]: ...
    @overload
    def decode_logs(self, logs: Sequence[Log], kind: str | None = None) -> list[ContractEvent]: ...
    def decode_logs(self, logs: Sequence[Log], kind: str | type[ContractEvent] | None = None) -> list[Any]:
        """Decodes the logs of this contract among `logs` (others are skipped), optionally only those of
        one event class or name."""
        out: list[ContractEvent] = []
        for log in logs:
            if log.address != self.address:
                continue
            event = self._abi.decode_log(log)
            if event is not None and _selected(event, kind):
                out.append(event)
        return out
