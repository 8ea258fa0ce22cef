"""The rulebook as seen from Python, one table for every contract family (security token, cash token,
DvP settlement, paying agents): each rule's stable code, machine name, the custom errors that enforce
it, where it is stated and the kind of refusal it is; and every custom error of every contract, with the
kind of refusal it is (`CUSTOM_ERRORS`; a test checks it covers every ABI in `sandbox/artifacts`).

Every lookup (code → rule, custom error → rule, code → machine name) is derived from these two tables.
The token and cash sentences live on chain (`messageForTransferRestriction`); a test checks that this
table and the contracts agree, code by code."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum


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


class Family(Enum):
    """The contract family a rule belongs to; its value is where the rule is stated."""

    TOKEN = "contracts/src/token/TransferRules.sol"
    CASH = "contracts/src/cash/CashRules.sol"
    SETTLEMENT = "contracts/src/settlement/SettlementCodes.sol"
    PAYMENT = "contracts/src/corporate/PaymentCodes.sol"


class Refusal(Enum):
    """The kind of refusal an on-chain error is; its value is the HTTP status a gateway answers it with
    (no HTTP here: a number)."""

    #: A question of authority: the caller may not do this (whoever they are, the state is irrelevant).
    FORBIDDEN = 403
    #: The thing named does not exist on chain (an unknown trade, distribution, clearance, investor).
    NOT_FOUND = 404
    #: The rules or the current state refuse it; the same request may succeed later.
    CONFLICT = 409
    #: The arguments can never succeed (a zero address, mismatched batch lengths, bad terms).
    INVALID = 422

    @property
    def status(self) -> int:
        return self.value


@dataclass(frozen=True)
class Rule:
    """One rule of the rulebook: its code (ERC-1404 for the tokens; the DvP and paying-agent codes
    share the same byte space, 0xA0-0xBF), machine name, family (which also says where it is stated),
    the custom errors that enforce it, the ERC-1066 transfer-status family of a token rule, and its
    sentence when no contract function states it (token and cash rules: `messageForTransferRestriction`
    on chain)."""

    code: int
    name: str
    family: Family
    errors: tuple[str, ...] = ()
    erc1066: int | None = None
    sentence: str | None = None
    refusal: Refusal = Refusal.CONFLICT

    @property
    def source(self) -> str:
        """The Solidity file that states the rule."""
        return self.family.value


_T, _C, _S, _P = Family.TOKEN, Family.CASH, Family.SETTLEMENT, Family.PAYMENT

#: Every rule of every contract family, mirroring the Solidity files `Family` names (tests check the
#: two agree code by code).
RULEBOOK: tuple[Rule, ...] = (
    # security token (ERC-1404 0x10-0x7F)
    Rule(0x10, "PAUSED", _T, ("TransferPaused",), 0x54),
    Rule(0x11, "SENDER_FROZEN", _T, ("SenderFrozen",), 0x56),
    Rule(0x12, "RECEIVER_FROZEN", _T, ("ReceiverFrozen",), 0x57),
    Rule(0x13, "INSUFFICIENT_UNFROZEN_BALANCE", _T, ("ERC7943InsufficientUnfrozenBalance",), 0x52),
    Rule(0x20, "SENDER_NOT_REGISTERED", _T, ("SenderNotRegistered",), 0x56),
    Rule(0x21, "RECEIVER_NOT_REGISTERED", _T, ("ReceiverNotRegistered",), 0x57),
    Rule(0x22, "SENDER_SUSPENDED", _T, ("SenderSuspended",), 0x56),
    Rule(0x23, "RECEIVER_SUSPENDED", _T, ("ReceiverSuspended",), 0x57),
    Rule(0x24, "SENDER_KYC_EXPIRED", _T, ("SenderKycExpired",), 0x56),
    Rule(0x25, "RECEIVER_KYC_EXPIRED", _T, ("ReceiverKycExpired",), 0x57),
    Rule(0x26, "SENDER_SANCTIONED", _T, ("SenderSanctioned",), 0x56),
    Rule(0x27, "RECEIVER_SANCTIONED", _T, ("ReceiverSanctioned",), 0x57),
    Rule(0x30, "JURISDICTION_NOT_ADMITTED", _T, ("JurisdictionNotAdmitted",), 0x57),
    Rule(0x31, "CATEGORY_NOT_ADMITTED", _T, ("CategoryNotAdmitted",), 0x57),
    Rule(0x40, "LOCKUP_ACTIVE", _T, ("LockupActive",), 0x55),
    Rule(
        0x41,
        "REG_S_DISTRIBUTION_COMPLIANCE",
        _T,
        ("RegSDistributionCompliancePeriod", "OfferingPurchaserUsPerson"),
        0x57,
    ),
    Rule(0x42, "NON_ACCREDITED_PURCHASER_LIMIT", _T, ("NonAccreditedPurchaserLimitReached",), 0x57),
    Rule(
        0x43,
        "OFFERING_PURCHASER_NOT_ELIGIBLE",
        _T,
        ("OfferingPurchaserNotAccredited", "OfferingPurchaserNotQib", "OfferingPurchaserNotProfessional"),
        0x57,
    ),
    Rule(0x44, "OFFERING_NOT_OPEN", _T, ("OfferingNotOpen",), 0x50),
    Rule(0x50, "HOLDER_LIMIT", _T, ("HolderLimitReached",), 0x57),
    Rule(0x51, "JURISDICTION_HOLDER_LIMIT", _T, ("JurisdictionHolderLimitReached",), 0x57),
    Rule(0x52, "NON_ACCREDITED_HOLDER_LIMIT", _T, ("NonAccreditedHolderLimitReached",), 0x57),
    Rule(0x53, "INVESTOR_BALANCE_LIMIT", _T, ("InvestorBalanceLimitExceeded",), 0x57),
    Rule(0x60, "CROSS_BORDER_APPROVAL_REQUIRED", _T, ("CrossBorderApprovalRequired",), 0x50),
    Rule(0x70, "ISSUANCE_NOT_APPROVED", _T, ("IssuanceNotApproved",), 0x50),
    Rule(0x71, "ISSUANCE_LIMIT_EXCEEDED", _T, ("IssuanceLimitExceeded",), 0x50),
    Rule(0x72, "ISSUANCE_OUTSIDE_OFFERING", _T, ("IssuanceOutsideOffering",), 0x50),
    # cash tokens (0x80-0x9F)
    Rule(0x80, "CASH_PAUSED", _C, ("CashTransferPaused",)),
    Rule(0x81, "CASH_SENDER_FROZEN", _C, ("CashSenderFrozen",)),
    Rule(0x82, "CASH_RECEIVER_FROZEN", _C, ("CashReceiverFrozen",)),
    Rule(0x83, "CASH_SENDER_NOT_ELIGIBLE", _C, ("CashSenderNotEligible",)),
    Rule(0x84, "CASH_RECEIVER_NOT_ELIGIBLE", _C, ("CashReceiverNotEligible",)),
    Rule(0x85, "CASH_SENDER_SUSPENDED", _C, ("CashSenderSuspended",)),
    Rule(0x86, "CASH_RECEIVER_SUSPENDED", _C, ("CashReceiverSuspended",)),
    Rule(0x87, "CASH_SENDER_KYC_EXPIRED", _C, ("CashSenderKycExpired",)),
    Rule(0x88, "CASH_RECEIVER_KYC_EXPIRED", _C, ("CashReceiverKycExpired",)),
    Rule(0x89, "CASH_SENDER_SANCTIONED", _C, ("CashSenderSanctioned",)),
    Rule(0x8A, "CASH_RECEIVER_SANCTIONED", _C, ("CashReceiverSanctioned",)),
    Rule(0x90, "CASH_INDIVIDUAL_HOLDING_LIMIT", _C, ("CashIndividualHoldingLimitExceeded",)),
    Rule(0x91, "CASH_BUSINESS_HOLDING_LIMIT", _C, ("CashBusinessHoldingLimitExceeded",)),
    # DvP settlement's own failure codes (0xA0-0xAF); a token's refusal is recorded with its own code
    Rule(
        0xA1,
        "SELLER_ALLOWANCE",
        _S,
        sentence="the seller has not approved the DvP contract for the quantity of the security",
    ),
    Rule(0xA2, "SELLER_BALANCE", _S, sentence="the seller does not hold the quantity of the security"),
    Rule(0xA3, "BUYER_ALLOWANCE", _S, sentence="the buyer has not approved the DvP contract for the cash amount"),
    Rule(0xA4, "BUYER_BALANCE", _S, sentence="the buyer does not hold the cash amount"),
    Rule(
        0xA5,
        "NOT_DELIVERED",
        _S,
        sentence="the token reported success but the receiver's balance did not grow by the amount",
    ),
    Rule(0xA8, "NOT_AFFIRMED", _S, sentence="the trade is not in the affirmed state"),
    Rule(0xA9, "EXPIRED", _S, sentence="the trade's settlement deadline has passed"),
    Rule(
        0xAA,
        "AWAITING_CLEARANCE",
        _S,
        sentence="the trade's cross-border clearance awaits the approval of both regulators",
    ),
    Rule(0xAF, "LEG_REVERTED", _S, sentence="a leg reverted for a reason its token's pre-check does not report"),
    # paying agents' hold reasons (0xB0-0xBF); a payment the cash token refuses is held with its code
    Rule(
        0xB1,
        "PAYMENT_SECURITY_WALLET_FROZEN",
        _P,
        sentence="the holder's wallet is frozen on the security token; the payment is held until it is unfrozen",
    ),
    Rule(
        0xB2,
        "PAYMENT_UNITS_NOT_BURNABLE",
        _P,
        sentence="the security token refused to burn the holder's units at redemption (e.g. units frozen by a "
        "regulator); the principal is held",
    ),
    Rule(
        0xBF,
        "PAYMENT_CASH_TRANSFER_FAILED",
        _P,
        sentence="the cash transfer failed for a reason the cash token's pre-check does not report",
    ),
)


def rules_of(family: Family) -> tuple[Rule, ...]:
    return tuple(r for r in RULEBOOK if r.family is family)


#: The security token's rulebook (0x10-0x7F).
RULES: tuple[Rule, ...] = rules_of(Family.TOKEN)
#: The cash tokens' rulebook (0x80-0x9F).
CASH_RULES: tuple[Rule, ...] = rules_of(Family.CASH)
#: Every family's codes, which do not overlap.
RULEBOOK_BY_CODE: dict[int, Rule] = {r.code: r for r in RULEBOOK}
RULES_BY_CODE: dict[int, Rule] = {r.code: r for r in RULES}
RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}
RULES_BY_ERROR: dict[str, Rule] = {e: r for r in RULES for e in r.errors}
CASH_RULES_BY_CODE: dict[int, Rule] = {r.code: r for r in CASH_RULES}
CASH_RULES_BY_ERROR: dict[str, Rule] = {e: r for r in CASH_RULES for e in r.errors}


def code_name(code: int) -> str:
    """The machine name of any family's code: ``SUCCESS`` for 0, the rule's name, else ``UNKNOWN_0x..``."""
    if code == 0:
        return "SUCCESS"
    rule = RULEBOOK_BY_CODE.get(code)
    return rule.name if rule is not None else f"UNKNOWN_{code:#04x}"


@dataclass(frozen=True)
class CustomError:
    """A custom error some contract reverts with: the kind of refusal it is and the rule it enforces
    (None for errors of authority, state or arguments outside the rulebook)."""

    name: str
    refusal: Refusal
    rule: Rule | None = None


#: Custom errors outside the rulebook, by the kind of refusal they are. Every other custom error of the
#: artifacts enforces a rule of `RULEBOOK` (and is a CONFLICT).
_FORBIDDEN = (
    "CashNotRegulator",
    "OfferingNotAgent",
    "OfferingNotToken",
    "AccessControlUnauthorizedAccount",
    "CashFreezeImposedByRegulator",
    "CashNotIssuerOrRegulator",
    "CashRegulatorOutOfScope",
    "DvPNotAParty",
    "DvPNotCounterparty",
    "DvPOnlySelf",
    "FreezeImposedByRegulator",
    "NotAgentOrRegulator",
    "NotAnAgent",
    "NotClearanceRequester",
    "NotRegulator",
    "OwnableUnauthorizedAccount",
    "PauseImposedByRegulator",
    "RegistryNotRegulator",
    "RegistryOutsideAgentRemit",
    "RegulatorFrozenUnits",
    "RegulatorOutOfScope",
    # Releasing units someone else froze: a question of authority, not of the rulebook.
    "UnfreezeExceedsOwnFreeze",
)
_NOT_FOUND = (
    "OfferingUnknown",
    "BondUnknownPeriod",
    "DvPUnknownTrade",
    "PayingAgentUnknownDistribution",
    "RegistryInvestorNotRegistered",
    "UnknownCrossBorderTransfer",
)
_INVALID = (
    "OfferingInvalidTerms",
    "RegistryQibMustBeEntity",
    "AccessControlBadConfirmation",
    "AmountTooLarge",
    "BatchLengthMismatch",
    "BondInvalidTerms",
    "CashNotAContract",
    "CashZeroAddress",
    "CivilDateInvalid",
    "DvPBatchTooLarge",
    "DvPSameParty",
    "DvPSameToken",
    "DvPZeroAddress",
    "DvPZeroAmount",
    "ERC20InvalidApprover",
    "ERC20InvalidReceiver",
    "ERC20InvalidSender",
    "ERC20InvalidSpender",
    "EquityInvalidSplitRatio",
    "InvalidSplitRatio",
    "InvalidTerms",
    "OwnableInvalidOwner",
    "PayingAgentAmountTooLarge",
    "PayingAgentBatchTooLarge",
    "PayingAgentZeroAddress",
    "PayingAgentZeroAmount",
    "RegistryBatchLengthMismatch",
    "RegistryInvalidCategory",
    "RegistryInvalidJurisdiction",
    "RegistryZeroAddress",
    "SafeCastOverflowedUintDowncast",
    "UseInvestorRegistry",
    "ComplianceIsBuiltIn",
)
#: State the operation does not fit (already done, not yet time, in progress, not allowed by the
#: contract's lifecycle), and failures of a leg or payment named by a code in their arguments.
_CONFLICT = (
    "OfferingRegistryNotAllowed",
    "RegistryAlreadyDesignated",
    "RegistryNotDesignated",
    "AgentAlreadyAdded",
    "BondCouponAlreadyScheduled",
    "BondIssuanceLimitAboveApproval",
    "BondRedemptionAlreadyScheduled",
    "CashMintExceedsReserves",
    "CashSettlementContractHoldsBalance",
    "CheckpointUnorderedInsertion",
    "ComplianceNotBoundToToken",
    "CrossBorderAlreadyApproved",
    "CrossBorderTransferNotCleared",
    "CrossBorderTransferNotExpired",
    "CrossBorderTransferNotPending",
    "CrossBorderTransferPastDeadline",
    "CrossBorderTransfersPending",
    "DvPClearanceAlreadyRequested",
    "DvPClearanceNotRequired",
    "DvPDeadlinePassed",
    "DvPInvalidStatus",
    "DvPLegFailed",
    "DvPNotExpired",
    "DvPTradeExpired",
    "ERC20InsufficientAllowance",
    "ERC20InsufficientBalance",
    "ERC7943CannotReceive",
    "ERC7943CannotSend",
    "ERC7943CannotTransfer",
    "EnforcedPause",
    "EquityEmptyShareClass",
    "EquityRecordDatePending",
    "EquitySplitInProgress",
    "ExpectedPause",
    "FreezeExceedsBalance",
    "NoSplitInProgress",
    # Whether a transfer crosses a border depends on the parties' registrations, and a split's overflow on
    # the balances: state, not arguments.
    "NotCrossBorder",
    "PayingAgentAlreadyFunded",
    "PayingAgentAlreadyPaid",
    "PayingAgentBeforePaymentDate",
    "PayingAgentClaimPeriodNotOver",
    "PayingAgentDistributionClosed",
    "PayingAgentFundingFailed",
    "PayingAgentInvalidDates",
    "PayingAgentNotFunded",
    "PayingAgentNothingOwed",
    "PayingAgentPaymentRefused",
    "PayingAgentRecordDateNotPassed",
    "PayingAgentRecordDatesDisabled",
    "RecordDateLimitReached",
    "RecordDateNotInFuture",
    "RecordDateNotPassed",
    "RecordDateNotScheduled",
    "RecordDatesDisabled",
    "RecordDatesNeedEmptySupply",
    "RecoveryNotPossible",
    "ReentrancyGuardReentrantCall",
    "RegistryAccountIsAgent",
    "RegistryAccountIsInvestor",
    "RegistryAccountIsRegulator",
    "RegistryInvestorAlreadyRegistered",
    "RegistryTooManyWallets",
    "RegistryWalletAlreadyLinked",
    "SafeERC20FailedOperation",
    "SplitBeforeRecordDate",
    "SplitInProgress",
    "SplitOverflow",
    "TermsExceedApproval",
)


def _custom_errors() -> dict[str, CustomError]:
    entries = [CustomError(e, r.refusal, r) for r in RULEBOOK for e in r.errors]
    for refusal, names in (
        (Refusal.FORBIDDEN, _FORBIDDEN),
        (Refusal.NOT_FOUND, _NOT_FOUND),
        (Refusal.INVALID, _INVALID),
        (Refusal.CONFLICT, _CONFLICT),
    ):
        entries += [CustomError(name, refusal) for name in names]
    table: dict[str, CustomError] = {}
    for entry in entries:
        if entry.name in table:
            raise AssertionError(f"custom error {entry.name} has two entries in the rules table")
        table[entry.name] = entry
    return table


#: Every custom error of every contract → its one entry (a test checks the artifacts' ABIs against it).
CUSTOM_ERRORS: dict[str, CustomError] = _custom_errors()


def refusal_of(error_name: str | None) -> Refusal:
    """The kind of refusal a revert is: its custom error's entry, else CONFLICT (string reverts,
    panics and unknown errors)."""
    entry = CUSTOM_ERRORS.get(error_name or "")
    return entry.refusal if entry is not None else Refusal.CONFLICT
