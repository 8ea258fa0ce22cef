"""The rulebook as seen from Python: each rule's stable code, machine name and the custom errors that
enforce it. The sentences live on chain (`messageForTransferRestriction`); a test checks that this
table and the contracts agree, code by code."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Jurisdiction(IntEnum):
    """ISO 3166-1 numeric codes, as the contracts store them."""

    GB = 826
    US = 840


class InvestorCategory(IntEnum):
    """Mirrors `IInvestorRegistry.Category`."""

    NONE = 0
    US_NON_ACCREDITED = 1
    US_ACCREDITED = 2
    US_QIB = 3
    UK_RETAIL = 4
    UK_PROFESSIONAL = 5
    UK_ELIGIBLE_COUNTERPARTY = 6


class InvestorStatus(IntEnum):
    """Mirrors `IInvestorRegistry.Status`. SANCTIONED only appears on wallet records: it overrides the
    investor's own status while the investor or the wallet is on a sanctions list."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    SANCTIONED = 3


class SanctionsRegime(IntEnum):
    """A sanctions list kept on chain, by the jurisdiction whose regulators keep it (ISO 3166-1 numeric):
    OFSI's UK consolidated list (Sanctions and Anti-Money Laundering Act 2018) and OFAC's SDN list (IEEPA,
    31 CFR Chapter V)."""

    OFSI = 826
    OFAC = 840

    @property
    def bit(self) -> int:
        """The regime's bit in `InvestorRegistry.designationsOf`."""
        return 1 if self is SanctionsRegime.OFSI else 2

    @property
    def jurisdiction(self) -> Jurisdiction:
        return Jurisdiction(int(self))


class HolderType(IntEnum):
    """Mirrors `IInvestorRegistry.HolderType`: a fact about the holder, not its client category."""

    NATURAL_PERSON = 0
    ENTITY = 1


@dataclass(frozen=True)
class InvestorAttributes:
    """The investor attributes the rules read, independent of the supervising jurisdiction (mirrors
    `IInvestorRegistry.Attributes`): holder type, US person under Regulation S (Rule 902(k)), qualified
    institutional buyer (Rule 144A(a)(1); an entity), and the end of the current accredited-investor
    verification (Rule 501(a) / 506(c)(2)(ii); 0 when not accredited)."""

    holder_type: HolderType
    us_person: bool
    qib: bool = False
    accredited_until: int = 0

    def accredited_at(self, timestamp: int) -> bool:
        return timestamp <= self.accredited_until

    @property
    def refusal(self) -> str | None:
        """Why the registry would refuse these attributes (`RegistryQibMustBeEntity`), None if it would not."""
        if self.qib and self.holder_type is not HolderType.ENTITY:
            return "a QIB is an entity (Rule 144A(a)(1) lists institutions), never a natural person"
        return None

    @classmethod
    def default_for(
        cls, jurisdiction: Jurisdiction | int, category: InvestorCategory, kyc_valid_until: int
    ) -> InvestorAttributes:
        """What the registry derives for an investor registered without attributes (as
        `InvestorRegistry.defaultAttributes`): a natural person when UK retail or US non-accredited; a US
        person when of the US; a QIB when US_QIB; accredited (US_ACCREDITED, US_QIB) until its KYC expires."""
        natural = category in (InvestorCategory.UK_RETAIL, InvestorCategory.US_NON_ACCREDITED)
        accredited = category in (InvestorCategory.US_ACCREDITED, InvestorCategory.US_QIB)
        return InvestorAttributes(
            holder_type=HolderType.NATURAL_PERSON if natural else HolderType.ENTITY,
            us_person=int(jurisdiction) == Jurisdiction.US,
            qib=category is InvestorCategory.US_QIB,
            accredited_until=kyc_valid_until if accredited else 0,
        )

    def overridden(
        self,
        *,
        holder_type: HolderType | None = None,
        us_person: bool | None = None,
        qib: bool | None = None,
        accredited_until: int | None = None,
    ) -> InvestorAttributes:
        """These attributes with those given (not None) in their place."""
        return InvestorAttributes(
            holder_type=self.holder_type if holder_type is None else holder_type,
            us_person=self.us_person if us_person is None else us_person,
            qib=self.qib if qib is None else qib,
            accredited_until=self.accredited_until if accredited_until is None else accredited_until,
        )

    def as_tuple(self) -> tuple[int, bool, bool, int]:
        return (int(self.holder_type), self.us_person, self.qib, self.accredited_until)


CATEGORIES_BY_JURISDICTION: dict[Jurisdiction, frozenset[InvestorCategory]] = {
    Jurisdiction.US: frozenset(
        {InvestorCategory.US_NON_ACCREDITED, InvestorCategory.US_ACCREDITED, InvestorCategory.US_QIB}
    ),
    Jurisdiction.GB: frozenset(
        {
            InvestorCategory.UK_RETAIL,
            InvestorCategory.UK_PROFESSIONAL,
            InvestorCategory.UK_ELIGIBLE_COUNTERPARTY,
        }
    ),
}


@dataclass(frozen=True)
class Rule:
    """One rule of the rulebook: its ERC-1404 code, machine name, the custom errors that enforce it
    and the ERC-1066 transfer-status family it belongs to."""

    code: int
    name: str
    errors: tuple[str, ...]
    family: int


#: Mirrors `contracts/src/token/TransferRules.sol` (a test checks the two agree code by code).
RULES: tuple[Rule, ...] = (
    Rule(0x10, "PAUSED", ("TransferPaused",), 0x54),
    Rule(0x11, "SENDER_FROZEN", ("SenderFrozen",), 0x56),
    Rule(0x12, "RECEIVER_FROZEN", ("ReceiverFrozen",), 0x57),
    Rule(0x13, "INSUFFICIENT_UNFROZEN_BALANCE", ("ERC7943InsufficientUnfrozenBalance",), 0x52),
    Rule(0x20, "SENDER_NOT_REGISTERED", ("SenderNotRegistered",), 0x56),
    Rule(0x21, "RECEIVER_NOT_REGISTERED", ("ReceiverNotRegistered",), 0x57),
    Rule(0x22, "SENDER_SUSPENDED", ("SenderSuspended",), 0x56),
    Rule(0x23, "RECEIVER_SUSPENDED", ("ReceiverSuspended",), 0x57),
    Rule(0x24, "SENDER_KYC_EXPIRED", ("SenderKycExpired",), 0x56),
    Rule(0x25, "RECEIVER_KYC_EXPIRED", ("ReceiverKycExpired",), 0x57),
    Rule(0x26, "SENDER_SANCTIONED", ("SenderSanctioned",), 0x56),
    Rule(0x27, "RECEIVER_SANCTIONED", ("ReceiverSanctioned",), 0x57),
    Rule(0x30, "JURISDICTION_NOT_ADMITTED", ("JurisdictionNotAdmitted",), 0x57),
    Rule(0x31, "CATEGORY_NOT_ADMITTED", ("CategoryNotAdmitted",), 0x57),
    Rule(0x40, "LOCKUP_ACTIVE", ("LockupActive",), 0x55),
    Rule(
        0x41, "REG_S_DISTRIBUTION_COMPLIANCE", ("RegSDistributionCompliancePeriod", "OfferingPurchaserUsPerson"), 0x57
    ),
    Rule(0x42, "NON_ACCREDITED_PURCHASER_LIMIT", ("NonAccreditedPurchaserLimitReached",), 0x57),
    Rule(
        0x43,
        "OFFERING_PURCHASER_NOT_ELIGIBLE",
        ("OfferingPurchaserNotAccredited", "OfferingPurchaserNotQib", "OfferingPurchaserNotProfessional"),
        0x57,
    ),
    Rule(0x44, "OFFERING_NOT_OPEN", ("OfferingNotOpen",), 0x50),
    Rule(0x50, "HOLDER_LIMIT", ("HolderLimitReached",), 0x57),
    Rule(0x51, "JURISDICTION_HOLDER_LIMIT", ("JurisdictionHolderLimitReached",), 0x57),
    Rule(0x52, "NON_ACCREDITED_HOLDER_LIMIT", ("NonAccreditedHolderLimitReached",), 0x57),
    Rule(0x53, "INVESTOR_BALANCE_LIMIT", ("InvestorBalanceLimitExceeded",), 0x57),
    Rule(0x60, "CROSS_BORDER_APPROVAL_REQUIRED", ("CrossBorderApprovalRequired",), 0x50),
    Rule(0x70, "ISSUANCE_NOT_APPROVED", ("IssuanceNotApproved",), 0x50),
    Rule(0x71, "ISSUANCE_LIMIT_EXCEEDED", ("IssuanceLimitExceeded",), 0x50),
    Rule(0x72, "ISSUANCE_OUTSIDE_OFFERING", ("IssuanceOutsideOffering",), 0x50),
)

RULES_BY_CODE: dict[int, Rule] = {r.code: r for r in RULES}
RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}
RULES_BY_ERROR: dict[str, Rule] = {e: r for r in RULES for e in r.errors}
