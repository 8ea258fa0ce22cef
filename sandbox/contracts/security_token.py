"""Facade over `SecurityToken` (with its `SecurityTokenExtension`, which runs the cold powers in the
token's storage)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

from sandbox.chain.base import Chain, Receipt
from sandbox.contracts.base import ContractFacade
from sandbox.errors import ContractReverted
from sandbox.rules import RULES_BY_ERROR, InvestorCategory, Jurisdiction


@dataclass(frozen=True)
class Terms:
    """A security's rule parameters (`ISecurityToken.Terms`). Zero switches a limit off.

    `us_min_category` / `uk_min_category`: lowest admitted category of each jurisdiction
    (`InvestorCategory` value), 0 = the jurisdiction is not admitted.
    """

    us_min_category: int = 0
    uk_min_category: int = 0
    reg_s_period_end: int = 0
    holding_period: int = 0
    lock_all_acquisitions: bool = False
    cross_border_threshold: int = 0
    approval_window: int = 7 * 86_400
    max_investor_balance: int = 0
    max_holders: int = 0
    max_uk_holders: int = 0
    max_us_holders: int = 0
    max_us_non_accredited: int = 0

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.us_min_category,
            self.uk_min_category,
            self.reg_s_period_end,
            self.holding_period,
            self.lock_all_acquisitions,
            self.cross_border_threshold,
            self.approval_window,
            self.max_investor_balance,
            self.max_holders,
            self.max_uk_holders,
            self.max_us_holders,
            self.max_us_non_accredited,
        )

    @classmethod
    def from_tuple(cls, value: Sequence[Any]) -> Terms:
        return cls(*value)


def _lowest(jurisdiction: int) -> int:
    return int(InvestorCategory.US_NON_ACCREDITED if jurisdiction == Jurisdiction.US else InvestorCategory.UK_RETAIL)


class SecurityTokenExtension(ContractFacade):
    """The shared code of the tokens' cold powers; deploy one per market."""

    artifact_name = "SecurityTokenExtension"

    @classmethod
    def deploy(cls, chain: Chain, *, sender: str) -> Self:
        return cls.deploy_contract(chain, [], sender=sender)


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
        terms: Terms | None = None,
        extension: str | None = None,
    ) -> Self:
        """Deploys a security. `admitted_jurisdictions` admits each listed jurisdiction at its lowest
        category unless `terms` sets a higher minimum; `extension` reuses a deployed
        `SecurityTokenExtension` (one is deployed when omitted)."""
        base = terms or Terms()
        admitted = {int(j) for j in admitted_jurisdictions}
        us_min = base.us_min_category or (_lowest(Jurisdiction.US) if Jurisdiction.US in admitted else 0)
        uk_min = base.uk_min_category or (_lowest(Jurisdiction.GB) if Jurisdiction.GB in admitted else 0)
        if Jurisdiction.US not in admitted:
            us_min = 0
        if Jurisdiction.GB not in admitted:
            uk_min = 0
        final = Terms(**{**base.__dict__, "us_min_category": us_min, "uk_min_category": uk_min})
        if extension is None:
            extension = SecurityTokenExtension.deploy(chain, sender=sender).address
        return cls.deploy_contract(
            chain,
            [name, symbol, decimals, registry, int(home_jurisdiction), final.as_tuple(), admin, extension],
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

    def can_transfer(self, from_: str, to: str, amount: int) -> bool:
        return bool(self._read("canTransfer", from_, to, amount))

    def can_send(self, account: str) -> bool:
        return bool(self._read("canSend", account))

    def can_receive(self, account: str) -> bool:
        return bool(self._read("canReceive", account))

    def is_frozen(self, wallet: str) -> bool:
        return bool(self._read("isFrozen", wallet))

    def frozen_by(self, wallet: str) -> int:
        return int(self._read("frozenBy", wallet))

    def get_frozen_tokens(self, wallet: str) -> int:
        return int(self._read("getFrozenTokens", wallet))

    def regulator_frozen_tokens(self, wallet: str, jurisdiction: Jurisdiction | int) -> int:
        return int(self._read("regulatorFrozenTokens", wallet, int(jurisdiction)))

    def escrowed_tokens(self, wallet: str) -> int:
        return int(self._read("escrowedTokens", wallet))

    def locked_tokens(self, wallet: str) -> tuple[int, int]:
        """(units still locked now, when the oldest of them unlocks)."""
        locked, next_unlock = self._read("lockedTokens", wallet)
        return int(locked), int(next_unlock)

    def investor_balance(self, identity: str) -> int:
        return int(self._read("investorBalance", identity))

    def holder_counts(self) -> tuple[int, int, int, int]:
        """(holders, UK holders, US holders, US non-accredited holders), counted per investor."""
        total, uk, us, non_acc = self._read("holderCounts")
        return int(total), int(uk), int(us), int(non_acc)

    def terms(self) -> Terms:
        return Terms.from_tuple(self._read("terms"))

    def issuance_approval(self) -> tuple[bool, int]:
        approved, limit = self._read("issuanceApproval")
        return bool(approved), int(limit)

    def paused(self) -> bool:
        return bool(self._read("paused"))

    def supports_interface(self, interface_id: bytes) -> bool:
        return bool(self._read("supportsInterface", interface_id))

    def cross_border_transfer(self, transfer_id: int) -> dict[str, Any]:
        fields = ("from", "to", "value", "status", "deadline", "from_approved", "to_approved")
        return dict(zip(fields, self._read("crossBorderTransfer", transfer_id), strict=True))

    # agent and regulator operations (ERC-3643 names)
    def mint(self, to: str, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("mint", to, amount, sender=sender)

    def burn(self, from_: str, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("burn", from_, amount, sender=sender)

    def forced_transfer(self, from_: str, to: str, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("forcedTransfer", from_, to, amount, sender=sender)

    def recovery_address(
        self, lost_wallet: str, new_wallet: str, investor: str, *, sender: str | None = None
    ) -> Receipt:
        return self._send("recoveryAddress", lost_wallet, new_wallet, investor, sender=sender)

    def batch_transfer(self, to: Sequence[str], amounts: Sequence[int], *, sender: str | None = None) -> Receipt:
        return self._send("batchTransfer", list(to), list(amounts), sender=sender)

    def batch_mint(self, to: Sequence[str], amounts: Sequence[int], *, sender: str | None = None) -> Receipt:
        return self._send("batchMint", list(to), list(amounts), sender=sender)

    def batch_burn(self, wallets: Sequence[str], amounts: Sequence[int], *, sender: str | None = None) -> Receipt:
        return self._send("batchBurn", list(wallets), list(amounts), sender=sender)

    def batch_forced_transfer(
        self, from_: Sequence[str], to: Sequence[str], amounts: Sequence[int], *, sender: str | None = None
    ) -> Receipt:
        return self._send("batchForcedTransfer", list(from_), list(to), list(amounts), sender=sender)

    def batch_set_address_frozen(
        self, wallets: Sequence[str], freeze: Sequence[bool], *, sender: str | None = None
    ) -> Receipt:
        return self._send("batchSetAddressFrozen", list(wallets), list(freeze), sender=sender)

    def batch_freeze_partial_tokens(
        self, wallets: Sequence[str], amounts: Sequence[int], *, sender: str | None = None
    ) -> Receipt:
        return self._send("batchFreezePartialTokens", list(wallets), list(amounts), sender=sender)

    def batch_unfreeze_partial_tokens(
        self, wallets: Sequence[str], amounts: Sequence[int], *, sender: str | None = None
    ) -> Receipt:
        return self._send("batchUnfreezePartialTokens", list(wallets), list(amounts), sender=sender)

    def pause(self, *, sender: str | None = None) -> Receipt:
        return self._send("pause", sender=sender)

    def unpause(self, *, sender: str | None = None) -> Receipt:
        return self._send("unpause", sender=sender)

    def set_address_frozen(self, wallet: str, freeze: bool, *, sender: str | None = None) -> Receipt:
        return self._send("setAddressFrozen", wallet, freeze, sender=sender)

    def freeze_partial_tokens(self, wallet: str, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("freezePartialTokens", wallet, amount, sender=sender)

    def unfreeze_partial_tokens(self, wallet: str, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("unfreezePartialTokens", wallet, amount, sender=sender)

    def set_frozen_tokens(self, wallet: str, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("setFrozenTokens", wallet, amount, sender=sender)

    def set_jurisdiction_admitted(
        self, jurisdiction: Jurisdiction | int, admitted: bool, *, sender: str | None = None
    ) -> Receipt:
        return self._send("setJurisdictionAdmitted", int(jurisdiction), admitted, sender=sender)

    def set_terms(self, terms: Terms, *, sender: str | None = None) -> Receipt:
        return self._send("setTerms", terms.as_tuple(), sender=sender)

    def approve_issuance(self, limit: int, *, sender: str | None = None) -> Receipt:
        """The home regulator's issuance approval (the DSS notary gate), up to `limit` units outstanding."""
        return self._send("approveIssuance", limit, sender=sender)

    def request_cross_border_transfer(self, to: str, value: int, *, sender: str | None = None) -> Receipt:
        return self._send("requestCrossBorderTransfer", to, value, sender=sender)

    def approve_cross_border_transfer(self, transfer_id: int, *, sender: str | None = None) -> Receipt:
        return self._send("approveCrossBorderTransfer", transfer_id, sender=sender)

    def reject_cross_border_transfer(self, transfer_id: int, *, sender: str | None = None) -> Receipt:
        return self._send("rejectCrossBorderTransfer", transfer_id, sender=sender)

    def expire_cross_border_transfer(self, transfer_id: int, *, sender: str | None = None) -> Receipt:
        return self._send("expireCrossBorderTransfer", transfer_id, sender=sender)
