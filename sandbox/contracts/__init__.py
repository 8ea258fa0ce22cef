"""Typed facades over the sandbox's contracts; typed events in `sandbox.contracts.events` (generated)."""

from sandbox.abi import Artifact, load_artifact
from sandbox.contracts import events
from sandbox.contracts.base import ContractFacade, decode_event
from sandbox.contracts.cash_token import CashToken, HoldingLimit, HoldingLimits, minor_units
from sandbox.contracts.corporate_actions import (
    BondPayingAgent,
    BondTerms,
    DayCount,
    Declared,
    Distribution,
    DistributionKind,
    DistributionState,
    EquityPayingAgent,
    HeldPayment,
    PayingAgent,
    Payment,
    PaymentBatch,
    PaymentCode,
    PaymentStatus,
    wire_paying_agent,
)
from sandbox.contracts.event import ContractEvent, EventParam, GenericEvent
from sandbox.contracts.offerings import Exemption, Lot, Offering, OfferingRegistry, OfferingTerms
from sandbox.contracts.registry import InvestorAttributes, InvestorRecord, InvestorRegistry, WalletRecord
from sandbox.contracts.restricted_token import RestrictedToken
from sandbox.contracts.security_token import (
    CrossBorderClearance,
    CrossBorderStatus,
    CrossBorderTransfer,
    HolderCounts,
    IssuanceApproval,
    LockedTokens,
    SecurityToken,
    Terms,
)
from sandbox.contracts.settlement import (
    Clearance,
    DvPSettlement,
    Leg,
    RequestedClearance,
    SettlementCode,
    Trade,
    TradeStatus,
)
from sandbox.rules import HolderType

__all__ = [
    "Artifact",
    "BondPayingAgent",
    "BondTerms",
    "CashToken",
    "Clearance",
    "ContractEvent",
    "ContractFacade",
    "CrossBorderClearance",
    "CrossBorderStatus",
    "CrossBorderTransfer",
    "DayCount",
    "Declared",
    "Distribution",
    "DistributionKind",
    "DistributionState",
    "DvPSettlement",
    "EquityPayingAgent",
    "EventParam",
    "Exemption",
    "GenericEvent",
    "HeldPayment",
    "HolderCounts",
    "HolderType",
    "HoldingLimit",
    "HoldingLimits",
    "InvestorAttributes",
    "InvestorRecord",
    "InvestorRegistry",
    "IssuanceApproval",
    "Leg",
    "LockedTokens",
    "Lot",
    "Offering",
    "OfferingRegistry",
    "OfferingTerms",
    "PayingAgent",
    "Payment",
    "PaymentBatch",
    "PaymentCode",
    "PaymentStatus",
    "RequestedClearance",
    "RestrictedToken",
    "SecurityToken",
    "SettlementCode",
    "Terms",
    "Trade",
    "TradeStatus",
    "WalletRecord",
    "decode_event",
    "events",
    "load_artifact",
    "minor_units",
    "wire_paying_agent",
]
