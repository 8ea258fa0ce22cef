"""What every permissioned token of the sandbox shares: ERC-20, the ERC-1404 pre-check, and reverts
explained with the rule that refused (its code, name and on-chain sentence)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Protocol

from sandbox.chain.base import Chain, Receipt
from sandbox.contracts.base import ContractFacade
from sandbox.errors import ContractReverted


class RuleEntry(Protocol):
    @property
    def code(self) -> int: ...

    @property
    def name(self) -> str: ...


class RestrictedToken(ContractFacade):
    """Base of `SecurityToken` and `CashToken`; subclasses name their rulebook in `rules_by_error`."""

    #: custom error name → the rule it enforces
    rules_by_error: ClassVar[Mapping[str, RuleEntry]] = {}

    def __init__(self, chain: Chain, address: str) -> None:
        super().__init__(chain, address)
        self._messages: dict[int, str] = {}
        self._home: int | None = None

    def _explain(self, exc: ContractReverted) -> None:
        rule = self.rules_by_error.get(exc.error_name or "")
        if rule is None:
            return
        exc.rule_code = rule.code
        exc.rule_name = rule.name
        exc.rule_message = self.rule_message(rule.code)

    def rule_message(self, code: int) -> str:
        """The on-chain sentence of a rule code (cached: the rulebook's texts are constants)."""
        message = self._messages.get(code)
        if message is None:
            message = self._messages[code] = self.message_for_transfer_restriction(code)
        return message

    # ERC-20
    def name(self) -> str:
        return str(self._read("name"))

    def symbol(self) -> str:
        return str(self._read("symbol"))

    def decimals(self) -> int:
        return int(self._read("decimals"))

    def total_supply(self, *, block: int | str = "latest") -> int:
        return int(self._read("totalSupply", block=block))

    def balance_of(self, account: str, *, block: int | str = "latest") -> int:
        return int(self._read("balanceOf", account, block=block))

    def allowance(self, owner: str, spender: str) -> int:
        return int(self._read("allowance", owner, spender))

    def transfer(self, to: str, value: int, *, sender: str | None = None) -> Receipt:
        return self._send("transfer", to, value, sender=sender)

    def approve(self, spender: str, value: int, *, sender: str | None = None) -> Receipt:
        return self._send("approve", spender, value, sender=sender)

    def transfer_from(self, owner: str, to: str, value: int, *, sender: str | None = None) -> Receipt:
        return self._send("transferFrom", owner, to, value, sender=sender)

    # ERC-1404 and the registry
    def detect_transfer_restriction(self, from_: str, to: str, value: int) -> int:
        return int(self._read("detectTransferRestriction", from_, to, value))

    def message_for_transfer_restriction(self, code: int) -> str:
        return str(self._read("messageForTransferRestriction", code))

    def identity_registry(self) -> str:
        return str(self._read("identityRegistry"))

    def home_jurisdiction(self) -> int:
        """The home jurisdiction (ISO 3166-1 numeric); set by the constructor and never changed, so read
        from the chain once per facade."""
        if self._home is None:
            self._home = int(self._read("homeJurisdiction"))
        return self._home
