"""Facade over `SecurityToken`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from sandbox.chain.base import Chain, Receipt
from sandbox.contracts.base import ContractFacade
from sandbox.errors import ContractReverted
from sandbox.rules import RULES_BY_ERROR, Jurisdiction


class SecurityToken(ContractFacade):
    artifact_name = "SecurityToken"

    def __init__(self, chain: Chain, address: str) -> None:
        super().__init__(chain, address)
        self._messages: dict[int, str] = {}

    def _explain(self, exc: ContractReverted) -> None:
        rule = RULES_BY_ERROR.get(exc.error_name or "")
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

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        *,
        name: str,
        symbol: str,
        decimals: int,
        registry: str,
        home_jurisdiction: Jurisdiction | int,
        admitted_jurisdictions: Sequence[Jurisdiction | int],
        admin: str,
        sender: str,
    ) -> Self:
        return cls.deploy_contract(
            chain,
            [
                name,
                symbol,
                decimals,
                registry,
                int(home_jurisdiction),
                [int(j) for j in admitted_jurisdictions],
                admin,
            ],
            sender=sender,
        )

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

    def transfer(self, to: str, value: int, *, sender: str | None = None) -> Receipt:
        return self._send("transfer", to, value, sender=sender)

    def approve(self, spender: str, value: int, *, sender: str | None = None) -> Receipt:
        return self._send("approve", spender, value, sender=sender)

    def transfer_from(self, owner: str, to: str, value: int, *, sender: str | None = None) -> Receipt:
        return self._send("transferFrom", owner, to, value, sender=sender)

    # rulebook views
    def identity_registry(self) -> str:
        return str(self._read("identityRegistry"))

    def home_jurisdiction(self) -> int:
        return int(self._read("homeJurisdiction"))

    def is_jurisdiction_admitted(self, jurisdiction: Jurisdiction | int) -> bool:
        return bool(self._read("isJurisdictionAdmitted", int(jurisdiction)))

    def detect_transfer_restriction(self, from_: str, to: str, value: int) -> int:
        return int(self._read("detectTransferRestriction", from_, to, value))

    def message_for_transfer_restriction(self, code: int) -> str:
        return str(self._read("messageForTransferRestriction", code))

    def is_frozen(self, wallet: str) -> bool:
        return bool(self._read("isFrozen", wallet))

    def frozen_by(self, wallet: str) -> int:
        return int(self._read("frozenBy", wallet))

    def paused(self) -> bool:
        return bool(self._read("paused"))

    # agent and regulator operations (ERC-3643 names)
    def mint(self, to: str, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("mint", to, amount, sender=sender)

    def burn(self, from_: str, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("burn", from_, amount, sender=sender)

    def pause(self, *, sender: str | None = None) -> Receipt:
        return self._send("pause", sender=sender)

    def unpause(self, *, sender: str | None = None) -> Receipt:
        return self._send("unpause", sender=sender)

    def set_address_frozen(self, wallet: str, freeze: bool, *, sender: str | None = None) -> Receipt:
        return self._send("setAddressFrozen", wallet, freeze, sender=sender)

    def set_jurisdiction_admitted(
        self, jurisdiction: Jurisdiction | int, admitted: bool, *, sender: str | None = None
    ) -> Receipt:
        return self._send("setJurisdictionAdmitted", int(jurisdiction), admitted, sender=sender)
