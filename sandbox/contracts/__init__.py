"""Typed facades over the sandbox's contracts."""

from sandbox.abi import Artifact, load_artifact
from sandbox.contracts.base import ContractEvent, ContractFacade
from sandbox.contracts.cash_token import CashToken, HolderType, minor_units
from sandbox.contracts.registry import InvestorRecord, InvestorRegistry, WalletRecord
from sandbox.contracts.restricted_token import RestrictedToken
from sandbox.contracts.security_token import CrossBorderClearance, CrossBorderStatus, SecurityToken
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
    "DvPSettlement",
    "HolderType",
    "InvestorRecord",
    "InvestorRegistry",
    "Leg",
    "RequestedClearance",
    "RestrictedToken",
    "SecurityToken",
    "SettlementCode",
    "Trade",
    "TradeStatus",
    "WalletRecord",
    "load_artifact",
    "minor_units",
]
