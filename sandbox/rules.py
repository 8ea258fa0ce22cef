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
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


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
    code: int
    name: str
    errors: tuple[str, ...]


RULES: tuple[Rule, ...] = (
    Rule(0x10, "PAUSED", ("TransferPaused",)),
    Rule(0x11, "SENDER_FROZEN", ("SenderFrozen",)),
    Rule(0x12, "RECEIVER_FROZEN", ("ReceiverFrozen",)),
    Rule(0x20, "SENDER_NOT_REGISTERED", ("SenderNotRegistered",)),
    Rule(0x21, "RECEIVER_NOT_REGISTERED", ("ReceiverNotRegistered",)),
    Rule(0x22, "SENDER_SUSPENDED", ("SenderSuspended",)),
    Rule(0x23, "RECEIVER_SUSPENDED", ("ReceiverSuspended",)),
    Rule(0x24, "SENDER_KYC_EXPIRED", ("SenderKycExpired",)),
    Rule(0x25, "RECEIVER_KYC_EXPIRED", ("ReceiverKycExpired",)),
    Rule(0x30, "JURISDICTION_NOT_ADMITTED", ("JurisdictionNotAdmitted",)),
)

RULES_BY_CODE: dict[int, Rule] = {r.code: r for r in RULES}
RULES_BY_ERROR: dict[str, Rule] = {e: r for r in RULES for e in r.errors}
