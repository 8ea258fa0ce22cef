"""Typed facades over the sandbox's contracts."""

from sandbox.abi import Artifact, load_artifact
from sandbox.contracts.base import ContractFacade
from sandbox.contracts.cash_token import CashToken, HolderType, minor_units
from sandbox.contracts.event import ContractEvent
from sandbox.contracts.registry import InvestorRecord, InvestorRegistry, WalletRecord
from sandbox.contracts.restricted_token import RestrictedToken
from sandbox.contracts.security_token import SecurityToken
from sandbox.contracts.settlement import DvPSettlement, Leg, SettlementCode, Trade, TradeStatus

__all__ = [
    "Artifact",
    "CashToken",
    "ContractEvent",
    "ContractFacade",
    "DvPSettlement",
    "HolderType",
    "InvestorRecord",
    "InvestorRegistry",
    "Leg",
    "RestrictedToken",
    "SecurityToken",
    "SettlementCode",
    "Trade",
    "TradeStatus",
    "WalletRecord",
    "load_artifact",
    "minor_units",
]
