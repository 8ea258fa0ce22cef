"""The typed-facade base: encode with the ABI, send through the chain seam, decode results and events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self, cast

from eth_abi import decode, encode
from eth_utils import event_abi_to_log_topic, function_signature_to_4byte_selector, keccak, to_checksum_address

from sandbox.abi import Artifact, canonical_signature, canonical_type, load_artifact
from sandbox.chain.base import Chain, Log, Receipt
from sandbox.errors import ContractNotDeployed, ContractReverted, SandboxError


@dataclass(frozen=True)
class ContractEvent:
    """One decoded event log."""

    name: str
    args: Mapping[str, Any]
    address: str
    block_number: int
    transaction_hash: str
    log_index: int


class _Abi:
    """Selectors, types and topics of one artifact, computed once per contract class."""

    def __init__(self, artifact: Artifact) -> None:
        self.functions: dict[str, dict[str, Any]] = {}
        self.events_by_topic: dict[bytes, dict[str, Any]] = {}
        self.constructor: dict[str, Any] | None = None
        #: function → (selector, input types) and → output types, filled on first use (a selector is a
        #: keccak of the signature: worth computing once, not on every call)
        self._encodings: dict[str, tuple[bytes, tuple[str, ...]]] = {}
        self._output_types: dict[str, tuple[str, ...]] = {}
        for item in artifact.abi:
            kind = item.get("type")
            if kind == "function":
                # Overloads are keyed by full signature as well as by name (the first one wins the name).
                self.functions.setdefault(item["name"], item)
                self.functions[canonical_signature(item)] = item
            elif kind == "event":
                self.events_by_topic[event_abi_to_log_topic(cast(Any, item))] = item
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
        if not log.topics:
            return None
        item = self.events_by_topic.get(log.topics[0])
        if item is None:
            return None
        indexed = [i for i in item["inputs"] if i["indexed"]]
        plain = [i for i in item["inputs"] if not i["indexed"]]
        args: dict[str, Any] = {}
        for param, topic in zip(indexed, log.topics[1:], strict=False):
            kind = canonical_type(param)
            if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                args[param["name"]] = "0x" + topic.hex()  # dynamic indexed values are hashed
            else:
                args[param["name"]] = _normalise(decode([kind], topic)[0], kind)
        values = decode([canonical_type(p) for p in plain], log.data)
        for param, value in zip(plain, values, strict=True):
            args[param["name"]] = _normalise(value, canonical_type(param))
        ordered = {i["name"]: args[i["name"]] for i in item["inputs"]}
        return ContractEvent(item["name"], ordered, log.address, log.block_number, log.transaction_hash, log.log_index)


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
    _abi_cache: ClassVar[dict[str, _Abi]] = {}
    #: The block the contract was deployed in, when this facade deployed it (or was told it); None if unknown.
    deployed_in_block: int | None = None

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self._abi = self._abi_for(self.artifact_name)

    @classmethod
    def _abi_for(cls, name: str) -> _Abi:
        abi = cls._abi_cache.get(name)
        if abi is None:
            abi = cls._abi_cache[name] = _Abi(load_artifact(name))
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

    def events(self, receipt: Receipt, name: str | None = None) -> list[ContractEvent]:
        """The events this contract emitted in `receipt`, optionally only those called `name`."""
        out = []
        for log in receipt.logs:
            if log.address != self.address:
                continue
            event = self._abi.decode_log(log)
            if event is not None and (name is None or event.name == name):
                out.append(event)
        return out

    def decode_logs(self, logs: Sequence[Log]) -> list[ContractEvent]:
        """Decodes the logs of this contract among `logs` (others are skipped)."""
        return [e for log in logs if log.address == self.address and (e := self._abi.decode_log(log)) is not None]
