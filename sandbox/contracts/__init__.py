"""Typed facades over the sandbox's contracts."""

from sandbox.abi import Artifact, load_artifact
from sandbox.contracts.base import ContractEvent, ContractFacade
from sandbox.contracts.registry import InvestorRecord, InvestorRegistry, WalletRecord
from sandbox.contracts.security_token import SecurityToken

__all__ = [
    "Artifact",
    "ContractEvent",
    "ContractFacade",
    "InvestorRecord",
    "InvestorRegistry",
    "SecurityToken",
    "WalletRecord",
    "load_artifact",
]
