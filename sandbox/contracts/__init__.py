"""Typed facades over the sandbox's contracts."""

from sandbox.abi import Artifact, load_artifact
from sandbox.contracts.base import ContractEvent, ContractFacade
from sandbox.contracts.cash_token import CashToken, HolderType, minor_units
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
from sandbox.contracts.registry import InvestorRecord, InvestorRegistry, WalletRecord
from sandbox.contracts.restricted_token import RestrictedToken
from sandbox.contracts.security_token import SecurityToken
from sandbox.contracts.settlement import DvPSettlement, Leg, SettlementCode, Trade, TradeStatus

__all__ = [
    "Artifact",
    "BondPayingAgent",
    "BondTerms",
    "CashToken",
    "ContractEvent",
    "ContractFacade",
    "DayCount",
    "Declared",
    "Distribution",
    "DistributionKind",
    "DistributionState",
    "DvPSettlement",
    "EquityPayingAgent",
    "HeldPayment",
    "HolderType",
    "InvestorRecord",
    "InvestorRegistry",
    "Leg",
    "PayingAgent",
    "Payment",
    "PaymentBatch",
    "PaymentCode",
    "PaymentStatus",
    "RestrictedToken",
    "SecurityToken",
    "SettlementCode",
    "Trade",
    "TradeStatus",
    "WalletRecord",
    "load_artifact",
    "minor_units",
    "wire_paying_agent",
]
