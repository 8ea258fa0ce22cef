"""Facade over `SecurityToken` (with its `SecurityTokenExtension`, which runs the cold powers in the
token's storage)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Self

from eth_utils import to_checksum_address

from sandbox.chain.base import Chain, Receipt
from sandbox.contracts.base import ContractFacade
from sandbox.contracts.restricted_token import RestrictedToken
from sandbox.rules import RULES_BY_ERROR, InvestorCategory, Jurisdiction


@dataclass(frozen=True)
class Terms:
    """A security's rule parameters (`ISecurityToken.Terms`). Zero switches a limit off.

    `us_min_category` / `uk_min_category`: lowest admitted category of each jurisdiction
    (`InvestorCategory` value), 0 = the jurisdiction is not admitted. Rule 144 holding periods and
    Regulation S periods are not terms: they follow each lot's offering (`OfferingRegistry`).
    """

    us_min_category: int = 0
    uk_min_category: int = 0
    cross_border_threshold: int = 0
    approval_window: int = 7 * 86_400
    max_investor_balance: int = 0
    max_holders: int = 0
    max_uk_holders: int = 0
    max_us_holders: int = 0
    max_us_non_accredited: int = 0
    #: Seconds over which an investor's cross-border volume counts against `cross_border_threshold`
    #: (a transfer at `t` counts through `t + window - 1`); 0: each transfer on its own.
    cross_border_window: int = 30 * 86_400

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.us_min_category,
            self.uk_min_category,
            self.cross_border_threshold,
            self.approval_window,
            self.max_investor_balance,
            self.max_holders,
            self.max_uk_holders,
            self.max_us_holders,
            self.max_us_non_accredited,
            self.cross_border_window,
        )

    @classmethod
    def from_tuple(cls, value: Sequence[Any]) -> Terms:
        return cls(*value)


class CrossBorderStatus(IntEnum):
    """Mirrors `ISecurityToken.CrossBorderStatus`. A settlement contract's clearance is CLEARED when
    both regulators approved it (an investor's own request settles instead) and WITHDRAWN when that
    contract gave it up."""

    NONE = 0
    PENDING = 1
    SETTLED = 2
    REJECTED = 3
    EXPIRED = 4
    CLEARED = 5
    WITHDRAWN = 6


@dataclass(frozen=True)
class CrossBorderClearance:
    """Who opened a cross-border request as a settlement clearance, and for which of its trades
    (`requester` is None for an investor's own request)."""

    requester: str | None
    trade_id: int


@dataclass(frozen=True)
class CrossBorderTransfer:
    """A cross-border transfer request as stored (`crossBorderTransfer(id)`); `deadline` is a unix time."""

    from_: str
    to: str
    value: int
    status: CrossBorderStatus
    deadline: int
    from_approved: bool
    to_approved: bool


@dataclass(frozen=True)
class HolderCounts:
    """Holders counted per investor (not per wallet), in total, by jurisdiction, and those who were not
    accredited investors when they became holders, of any residence (Exchange Act 12(g)(1)(A))."""

    total: int
    uk: int
    us: int
    non_accredited: int


@dataclass(frozen=True)
class IssuanceApproval:
    """The home regulator's issuance approval: whether given, and the most units that may be outstanding."""

    approved: bool
    limit: int


@dataclass(frozen=True)
class LockedTokens:
    """Units of a wallet still under lock-up now, and when the oldest of them unlocks (0 if none)."""

    locked: int
    next_unlock_at: int


@dataclass(frozen=True)
class SplitProgress:
    """`splitInProgress()`: whether a share split is being processed, its ratio (of the latest split
    when none is) and the pre-split units not yet split."""

    in_progress: bool
    ratio: int
    unprocessed_supply: int


def _lowest(jurisdiction: int) -> int:
    return int(InvestorCategory.US_NON_ACCREDITED if jurisdiction == Jurisdiction.US else InvestorCategory.UK_RETAIL)


class SecurityTokenExtension(ContractFacade):
    """The shared code of the tokens' cold powers; deploy one per market."""

    artifact_name = "SecurityTokenExtension"

    @classmethod
    def deploy(cls, chain: Chain, *, sender: str) -> Self:
        """Deploys the cross-border module, then the extension (which creates the rulebook and the
        views/corporate-actions module itself)."""
        cross_border = SecurityTokenCrossBorder.deploy_contract(chain, [], sender=sender)
        return cls.deploy_contract(chain, [cross_border.address], sender=sender)


class SecurityTokenCrossBorder(ContractFacade):
    """The code of the tokens' cross-border requests and settlement clearances (run in a token's storage)."""

    artifact_name = "SecurityTokenCrossBorder"


class ERC3643IdentityRegistry(ContractFacade):
    """ERC-3643's `IIdentityRegistry` read over an investor registry (one serves any number of tokens)."""

    artifact_name = "ERC3643IdentityRegistry"

    @classmethod
    def deploy(cls, chain: Chain, *, registry: str, sender: str) -> Self:
        return cls.deploy_contract(chain, [registry], sender=sender)

    def investor_registry(self) -> str:
        return str(self._read("investorRegistry"))

    def is_verified(self, wallet: str) -> bool:
        return bool(self._read("isVerified", wallet))

    def identity(self, wallet: str) -> str:
        return str(self._read("identity", wallet))

    def investor_country(self, wallet: str) -> int:
        return int(self._read("investorCountry", wallet))

    def contains(self, wallet: str) -> bool:
        return bool(self._read("contains", wallet))


class ERC3643Compliance(ContractFacade):
    """ERC-3643's compliance over one security token whose rulebook is built in."""

    artifact_name = "ERC3643Compliance"

    @classmethod
    def deploy(cls, chain: Chain, *, token: str, sender: str) -> Self:
        return cls.deploy_contract(chain, [token], sender=sender)

    def get_token_bound(self) -> str:
        return str(self._read("getTokenBound"))

    def is_module_bound(self, module: str) -> bool:
        return bool(self._read("isModuleBound", module))

    def can_transfer(self, from_: str, to: str, amount: int) -> bool:
        return bool(self._read("canTransfer", from_, to, amount))


class SecurityToken(RestrictedToken):
    artifact_name = "SecurityToken"
    # The settlement clearances run in `SecurityTokenCrossBorder`'s code, the agent role and ownership
    # in `SecurityTokenExtension`'s: both reached by the token's fallback.
    fallback_artifact_names = ("SecurityTokenExtension", "SecurityTokenCrossBorder")
    rules_by_error = RULES_BY_ERROR

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
        record_dates: bool = False,
    ) -> Self:
        """Deploys a security. `admitted_jurisdictions` admits each listed jurisdiction at its lowest
        category unless `terms` sets a higher minimum; `extension` reuses a deployed
        `SecurityTokenExtension` (one is deployed when omitted); `record_dates` switches record-date
        balances on (sent by `admin`, before anything is issued), as bond and equity tokens need.
        The token's constructor creates what ERC-3643 tooling reads first: an
        `ERC3643IdentityRegistry` over `registry` (`identityRegistry()`) and an `ERC3643Compliance`
        bound to the token (`compliance()`), so a security is still one transaction."""
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
        token = cls.deploy_contract(
            chain,
            [name, symbol, decimals, registry, int(home_jurisdiction), final.as_tuple(), admin, extension],
            sender=sender,
        )
        if record_dates:
            token.enable_record_dates(sender=admin)
        return token

    # rulebook views
    def is_jurisdiction_admitted(self, jurisdiction: Jurisdiction | int) -> bool:
        return bool(self._read("isJurisdictionAdmitted", int(jurisdiction)))

    def can_transfer(self, from_: str, to: str, amount: int) -> bool:
        return bool(self._read("canTransfer", from_, to, amount))

    def can_send(self, account: str) -> bool:
        return bool(self._read("canSend", account))

    def can_receive(self, account: str) -> bool:
        return bool(self._read("canReceive", account))

    def is_frozen(self, wallet: str, *, block: int | str = "latest") -> bool:
        return bool(self._read("isFrozen", wallet, block=block))

    def frozen_by(self, wallet: str) -> int:
        return int(self._read("frozenBy", wallet))

    def get_frozen_tokens(self, wallet: str) -> int:
        return int(self._read("getFrozenTokens", wallet))

    def regulator_frozen_tokens(self, wallet: str, jurisdiction: Jurisdiction | int) -> int:
        return int(self._read("regulatorFrozenTokens", wallet, int(jurisdiction)))

    def escrowed_tokens(self, wallet: str) -> int:
        return int(self._read("escrowedTokens", wallet))

    def locked_tokens(self, wallet: str) -> LockedTokens:
        """The units still locked now, and when the oldest of them unlocks."""
        locked, next_unlock = self._read("lockedTokens", wallet)
        return LockedTokens(int(locked), int(next_unlock))

    def investor_balance(self, identity: str) -> int:
        return int(self._read("investorBalance", identity))

    def holder_counts(self) -> HolderCounts:
        """Holders, UK holders, US holders, non-accredited holders (any residence), counted per investor."""
        total, uk, us, non_acc = self._read("holderCounts")
        return HolderCounts(int(total), int(uk), int(us), int(non_acc))

    def terms(self) -> Terms:
        return Terms.from_tuple(self._read("terms"))

    def issuance_approval(self) -> IssuanceApproval:
        approved, limit = self._read("issuanceApproval")
        return IssuanceApproval(bool(approved), int(limit))

    def paused(self) -> bool:
        return bool(self._read("paused"))

    def supports_interface(self, interface_id: bytes) -> bool:
        return bool(self._read("supportsInterface", interface_id))

    def cross_border_transfer(self, transfer_id: int) -> CrossBorderTransfer:
        from_, to, value, status, deadline, from_approved, to_approved = self._read("crossBorderTransfer", transfer_id)
        return CrossBorderTransfer(
            to_checksum_address(from_),
            to_checksum_address(to),
            int(value),
            CrossBorderStatus(status),
            int(deadline),
            bool(from_approved),
            bool(to_approved),
        )

    def cross_border_volume(self, identity: str) -> tuple[int, int]:
        """(volume, window): what investor `identity` sent to other jurisdictions in this security within
        the window now, and the window in seconds (0: each transfer counts on its own)."""
        volume, window = self._read("crossBorderVolume", identity)
        return int(volume), int(window)

    def cross_border_clearance(self, transfer_id: int) -> CrossBorderClearance:
        """Who requested cross-border request `transfer_id` as a clearance, for which trade."""
        requester, trade_id = self._read("crossBorderClearance", transfer_id)
        return CrossBorderClearance(None if int(requester, 16) == 0 else requester, int(trade_id))

    # ERC-3643 identity registry and compliance, agent role, ERC-173 ownership
    def compliance(self) -> str:
        return str(self._read("compliance"))

    def set_identity_registry(self, identity_registry: str, *, sender: str | None = None) -> Receipt:
        return self._send("setIdentityRegistry", identity_registry, sender=sender)

    def set_compliance(self, compliance: str, *, sender: str | None = None) -> Receipt:
        return self._send("setCompliance", compliance, sender=sender)

    def is_agent(self, account: str) -> bool:
        return bool(self._read("isAgent", account))

    def add_agent(self, agent: str, *, sender: str | None = None) -> Receipt:
        return self._send("addAgent", agent, sender=sender)

    def remove_agent(self, agent: str, *, sender: str | None = None) -> Receipt:
        return self._send("removeAgent", agent, sender=sender)

    def owner(self) -> str:
        return str(self._read("owner"))

    def transfer_ownership(self, new_owner: str, *, sender: str | None = None) -> Receipt:
        return self._send("transferOwnership", new_owner, sender=sender)

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

    def set_offering_registry(self, offering_registry: str, *, sender: str | None = None) -> Receipt:
        """Attaches an `OfferingRegistry`: from then on units are issued only in its offerings."""
        return self._send("setOfferingRegistry", offering_registry, sender=sender)

    def offering_registry(self) -> str:
        """The attached `OfferingRegistry` (the zero address when none is)."""
        return str(self._read("offeringRegistry"))

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

    # settlement clearances (called by a settlement contract; exposed for tests and tools)
    def request_cross_border_clearance(
        self, from_: str, to: str, value: int, trade_id: int, *, sender: str | None = None
    ) -> Receipt:
        """The sender (a settlement contract, or any spender `from_` approved) opens a clearance for
        `value` units from `from_` to `to`, for its trade `trade_id`."""
        return self._send("requestCrossBorderClearance", from_, to, value, trade_id, sender=sender)

    def settle_cross_border_clearance(self, transfer_id: int, *, sender: str | None = None) -> Receipt:
        """Settles a Cleared clearance; only its requester may."""
        return self._send("settleCrossBorderClearance", transfer_id, sender=sender)

    def withdraw_cross_border_clearance(self, transfer_id: int, *, sender: str | None = None) -> Receipt:
        """Gives up a pending or cleared clearance; only its requester may."""
        return self._send("withdrawCrossBorderClearance", transfer_id, sender=sender)

    # corporate actions: record dates and share splits (run by SecurityTokenModule)
    def enable_record_dates(self, *, sender: str | None = None) -> Receipt:
        """Switches record-date balances on for good (issuer admin; only while nothing is issued)."""
        return self._send("enableRecordDates", sender=sender)

    def record_dates_enabled(self) -> bool:
        return bool(self._read("recordDatesEnabled"))

    def schedule_record_date(self, record_date: int, *, sender: str | None = None) -> Receipt:
        """Schedules a record date (unix time, in the future); agents and paying agents (AGENT_ROLE)."""
        return self._send("scheduleRecordDate", record_date, sender=sender)

    def balance_of_at(self, wallet: str, record_date: int, *, block: int | str = "latest") -> int:
        """`wallet`'s balance at the end of second `record_date` (scheduled and passed)."""
        return int(self._read("balanceOfAt", wallet, record_date, block=block))

    def total_supply_at(self, record_date: int, *, block: int | str = "latest") -> int:
        return int(self._read("totalSupplyAt", record_date, block=block))

    def start_split(self, ratio: int, *, sender: str | None = None) -> Receipt:
        """Starts an N-for-1 share split (`ratio` units per unit); movements stop until it completes."""
        return self._send("startSplit", ratio, sender=sender)

    def split_batch(self, wallets: Sequence[str], *, sender: str | None = None) -> Receipt:
        """Splits each listed wallet once; the batch that splits the last units completes the split."""
        return self._send("splitBatch", list(wallets), sender=sender)

    def split_in_progress(self) -> SplitProgress:
        in_progress, ratio, unprocessed = self._read("splitInProgress")
        return SplitProgress(bool(in_progress), int(ratio), int(unprocessed))

    def wallet_split_done(self, wallet: str) -> bool:
        """Whether `wallet` needs nothing more from the split in progress (split, empty, or no split)."""
        return bool(self._read("walletSplitDone", wallet))
