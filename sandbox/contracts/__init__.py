"""Typed facades over the sandbox's contracts; typed events in `sandbox.contracts.events` (generated)."""

from sandbox.abi import Artifact, load_artifact
from sandbox.contracts import events
from sandbox.contracts.base import ContractFacade, decode_event
from sandbox.contracts.cash_token import CashToken, HolderType, HoldingLimit, HoldingLimits, minor_units
from sandbox.contracts.event import ContractEvent, EventParam, GenericEvent
from sandbox.contracts.registry import InvestorRecord, InvestorRegistry, WalletRecord
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

__all__ = [
    "Artifact",
    "CashToken",
    "Clearance",
    "ContractEvent",
    "ContractFacade",
    "CrossBorderClearance",
    "CrossBorderStatus",
    "CrossBorderTransfer",
    "DvPSettlement",
    "EventParam",
    "GenericEvent",
    "HolderCounts",
    "HolderType",
    "HoldingLimit",
    "HoldingLimits",
    "InvestorRecord",
    "InvestorRegistry",
    "IssuanceApproval",
    "Leg",
    "LockedTokens",
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
]
