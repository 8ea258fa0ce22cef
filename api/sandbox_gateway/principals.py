"""Who may call the gateway: API keys (kept only as SHA-256 digests) mapped to principals."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from sandbox.deployment import api_key_digest
from sandbox.market import Market


class Role(StrEnum):
    ISSUER = "issuer"
    INVESTOR = "investor"
    REGULATOR = "regulator"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its role, the jurisdiction it belongs to (None for the operator), the
    scenario entity it acts for and the chain account it signs with."""

    key: str
    name: str
    role: Role
    jurisdiction: str | None
    account: str


def digest(api_key: str) -> bytes:
    return hashlib.sha256(api_key.encode("utf-8")).digest()


class PrincipalDirectory:
    """API key digest → principal. Plain keys are never stored."""

    def __init__(self) -> None:
        self._by_digest: dict[bytes, Principal] = {}

    def add(self, api_key: str, principal: Principal) -> None:
        """`api_key` is a key, or its digest sealed as ``sha256:<hex>`` (how a market restored from a
        data directory holds it: `sandbox.deployment.seal_api_key`)."""
        self._by_digest[api_key_digest(api_key)] = principal

    def authenticate(self, api_key: str) -> Principal | None:
        wanted = digest(api_key)
        for known, principal in self._by_digest.items():
            if hmac.compare_digest(known, wanted):
                return principal
        return None

    def __len__(self) -> int:
        return len(self._by_digest)

    @classmethod
    def from_market(cls, market: Market) -> PrincipalDirectory:
        scenario = market.scenario
        directory = cls()
        directory.add(
            scenario.operator.api_key,
            Principal("operator", "Sandbox operator", Role.OPERATOR, None, market.operator),
        )
        for regulator in scenario.regulators:
            directory.add(
                regulator.api_key,
                Principal(
                    regulator.key,
                    regulator.name,
                    Role.REGULATOR,
                    regulator.jurisdiction,
                    market.accounts[regulator.key],
                ),
            )
        for issuer in scenario.issuers:
            directory.add(
                issuer.api_key,
                Principal(issuer.key, issuer.name, Role.ISSUER, issuer.jurisdiction, market.accounts[issuer.key]),
            )
        for investor in scenario.investors:
            if investor.api_key:
                directory.add(
                    investor.api_key,
                    Principal(
                        investor.key,
                        investor.name,
                        Role.INVESTOR,
                        investor.jurisdiction,
                        market.accounts[investor.key],
                    ),
                )
        return directory
