"""Facade over `OfferingRegistry`: a security's offerings (exemption, dates, purchaser ledger, Reg S
distribution compliance period) and the lots that carry the status of the units sold in them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Self

from sandbox.chain.base import Chain, Receipt
from sandbox.contracts.base import ContractFacade
from sandbox.contracts.events import OfferingCreated
from sandbox.contracts.security_token import LockedTokens, SecurityToken
from sandbox.errors import ContractReverted
from sandbox.rules import RULES_BY_ERROR


class Exemption(IntEnum):
    """Mirrors `IOfferingRegistry.Exemption`."""

    NONE = 0
    REG_D_506B = 1
    REG_D_506C = 2
    REG_S_CATEGORY_1 = 3
    REG_S_CATEGORY_2 = 4
    REG_S_CATEGORY_3 = 5
    RULE_144A = 6
    UK_PUBLIC_OFFER = 7
    UK_PROFESSIONAL_PLACEMENT = 8

    @property
    def is_reg_s(self) -> bool:
        return self in (Exemption.REG_S_CATEGORY_1, Exemption.REG_S_CATEGORY_2, Exemption.REG_S_CATEGORY_3)


@dataclass(frozen=True)
class OfferingTerms:
    """What an issuer declares when it opens an offering (unix times, UTC)."""

    exemption: Exemption
    first_offer_at: int
    closing_at: int
    equity: bool = True

    def as_tuple(self) -> tuple[Any, ...]:
        return (int(self.exemption), self.first_offer_at, self.closing_at, self.equity)


@dataclass(frozen=True)
class Offering:
    """An offering as the chain keeps it: `restricted` (the units sold are restricted securities: Reg D
    and Rule 144A sales, and a domestic issuer's equity sold under Regulation S, Rule 905),
    `period_ends_at` (end of its Reg S distribution compliance period, 0 for none) and its purchaser
    ledger (distinct purchasers, non-accredited among them) and units issued."""

    offering_id: int
    exemption: Exemption
    equity: bool
    restricted: bool
    first_offer_at: int
    closing_at: int
    period_ends_at: int
    purchasers: int
    non_accredited_purchasers: int
    issued: int


@dataclass(frozen=True)
class Lot:
    """Units of one wallet sharing one status: acquired from the issuer at `acquired_at` in offering
    `offering_id`; `unlock_at` is when the Rule 144(d) holding period ends under the issuer's reporting
    status now (0 when not restricted); `reg_s_until` the end of the tranche's distribution compliance
    period (0 for none)."""

    amount: int
    acquired_at: int
    unlock_at: int
    reg_s_until: int
    offering_id: int
    restricted: bool


class OfferingRegistry(ContractFacade):
    artifact_name = "OfferingRegistry"

    def __init__(self, chain: Chain, address: str) -> None:
        super().__init__(chain, address)
        self._token: SecurityToken | None = None

    @classmethod
    def deploy(cls, chain: Chain, *, token: SecurityToken, registry: str, sender: str) -> Self:
        """Deploys the offering registry of `token` (one per security). Attach it with
        `attach(admin=...)` before anything is issued."""
        facade = cls.deploy_contract(chain, [token.address, registry], sender=sender)
        facade._token = token
        return facade

    @classmethod
    def for_token(cls, token: SecurityToken) -> Self | None:
        """The offering registry attached to `token`, or None."""
        address = token.offering_registry()
        if int(address, 16) == 0:
            return None
        facade = cls(token.chain, address)
        facade._token = token
        return facade

    def attach(self, *, admin: str) -> Receipt:
        """Attaches this registry to its token (`SecurityToken.setOfferingRegistry`, sent by the
        token's admin): from then on the token issues only in these offerings."""
        return self.token.set_offering_registry(self.address, sender=admin)

    @property
    def token(self) -> SecurityToken:
        if self._token is None:
            self._token = SecurityToken(self.chain, str(self._read("token")))
        return self._token

    def _explain(self, exc: ContractReverted) -> None:
        rule = RULES_BY_ERROR.get(exc.error_name or "")
        if rule is None:
            return
        exc.rule_code = rule.code
        exc.rule_name = rule.name
        exc.rule_message = self.token.rule_message(rule.code)

    # issuer operations
    def create_offering(self, terms: OfferingTerms, *, sender: str | None = None) -> Receipt:
        return self._send("createOffering", terms.as_tuple(), sender=sender)

    def open_offering(self, terms: OfferingTerms, *, sender: str | None = None) -> int:
        """`create_offering`, returning the new offering's id."""
        (event,) = self.events(self.create_offering(terms, sender=sender), OfferingCreated)
        return event.offering_id

    def issue(self, offering_id: int, to: str, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("issue", offering_id, to, amount, sender=sender)

    def set_reporting_since(self, reporting_since: int, *, sender: str | None = None) -> Receipt:
        return self._send("setReportingSince", reporting_since, sender=sender)

    # views
    def offering(self, offering_id: int) -> Offering:
        raw = self._read("offering", offering_id)
        return Offering(offering_id, Exemption(raw[0]), *(raw[1:3]), *(int(v) for v in raw[3:]))

    def offering_count(self) -> int:
        return int(self._read("offeringCount"))

    def offerings(self) -> list[Offering]:
        return [self.offering(i) for i in range(1, self.offering_count() + 1)]

    def is_purchaser(self, offering_id: int, investor: str) -> bool:
        return bool(self._read("isPurchaser", offering_id, investor))

    def reporting_since(self) -> int:
        return int(self._read("reportingSince"))

    def non_accredited_purchasers_counted(self, offering_id: int) -> int:
        return int(self._read("nonAccreditedPurchasersCounted", offering_id))

    def detect_issuance_restriction(self, offering_id: int, to: str, amount: int) -> int:
        return int(self._read("detectIssuanceRestriction", offering_id, to, amount))

    def lots_of(self, wallet: str) -> list[Lot]:
        raw: Sequence[Sequence[Any]] = self._read("lotsOf", wallet)
        return [Lot(int(a), int(b), int(c), int(d), int(e), bool(f)) for a, b, c, d, e, f in raw]

    def locked_tokens(self, wallet: str) -> LockedTokens:
        locked, next_unlock = self._read("lockedTokens", wallet)
        return LockedTokens(int(locked), int(next_unlock))

    def unlock_at(self, acquired_at: int) -> int:
        return int(self._read("unlockAt", acquired_at))

    def add_months(self, timestamp: int, months: int) -> int:
        return int(self._read("addMonths", timestamp, months))
