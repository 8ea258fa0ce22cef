"""Facade over `InvestorRegistry`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from eth_utils import to_checksum_address

from sandbox.chain.base import Chain, Receipt
from sandbox.contracts.base import ContractFacade
from sandbox.rules import (
    HolderType,
    InvestorAttributes,
    InvestorCategory,
    InvestorStatus,
    Jurisdiction,
    SanctionsRegime,
)

__all__ = [
    "FLAG_ENTITY",
    "FLAG_QIB",
    "FLAG_US_PERSON",
    "InvestorAttributes",
    "InvestorRecord",
    "InvestorRegistry",
    "WalletRecord",
]

#: `WalletRecord.flags` bits (`InvestorRegistry.FLAG_*`).
FLAG_ENTITY = 1
FLAG_US_PERSON = 2
FLAG_QIB = 4


@dataclass(frozen=True)
class WalletRecord:
    """What the registry knows of a wallet; `identity` is None when the wallet is not registered.
    `flags` holds the time-independent attributes (`FLAG_ENTITY`, `FLAG_US_PERSON`, `FLAG_QIB`)."""

    identity: str | None
    jurisdiction: int
    category: InvestorCategory
    status: InvestorStatus
    kyc_valid_until: int
    wallet_count: int = 0
    flags: int = 0

    @property
    def holder_type(self) -> HolderType:
        return HolderType.ENTITY if self.flags & FLAG_ENTITY else HolderType.NATURAL_PERSON

    @property
    def us_person(self) -> bool:
        return bool(self.flags & FLAG_US_PERSON)

    @property
    def qib(self) -> bool:
        return bool(self.flags & FLAG_QIB)


@dataclass(frozen=True)
class InvestorRecord:
    jurisdiction: int
    category: InvestorCategory
    status: InvestorStatus
    kyc_valid_until: int
    attributes: InvestorAttributes


_ZERO = "0x0000000000000000000000000000000000000000"


class InvestorRegistry(ContractFacade):
    artifact_name = "InvestorRegistry"

    @classmethod
    def deploy(cls, chain: Chain, *, admin: str, sender: str) -> Self:
        return cls.deploy_contract(chain, [admin], sender=sender)

    def set_regulator(self, regulator: str, jurisdiction: Jurisdiction | int, *, sender: str | None = None) -> Receipt:
        return self._send("setRegulator", regulator, int(jurisdiction), sender=sender)

    def regulator_jurisdiction(self, account: str) -> int:
        return int(self._read("regulatorJurisdiction", account))

    def register_investor(
        self,
        identity: str,
        wallet: str,
        jurisdiction: Jurisdiction | int,
        category: InvestorCategory,
        kyc_valid_until: int,
        *,
        attributes: InvestorAttributes | None = None,
        sender: str | None = None,
    ) -> Receipt:
        """Registers an investor with its first wallet; without `attributes` the registry derives them
        (`InvestorAttributes.default_for`)."""
        args = (identity, wallet, int(jurisdiction), int(category), kyc_valid_until)
        if attributes is None:
            return self._send("registerInvestor", *args, sender=sender)
        return self._send("registerInvestorWithAttributes", *args, attributes.as_tuple(), sender=sender)

    def set_investor_attributes(
        self, identity: str, attributes: InvestorAttributes, *, sender: str | None = None
    ) -> Receipt:
        return self._send("setInvestorAttributes", identity, attributes.as_tuple(), sender=sender)

    def attributes_of(self, identity: str) -> InvestorAttributes:
        holder_type, us_person, qib, accredited_until = self._read("attributesOf", identity)
        return InvestorAttributes(HolderType(holder_type), us_person, qib, accredited_until)

    def is_accredited_at(self, wallet: str, timestamp: int) -> bool:
        return bool(self._read("isAccreditedAt", wallet, timestamp))

    def designate(self, regime: SanctionsRegime, party: str, *, sender: str | None = None) -> Receipt:
        """A regulator of `regime`'s jurisdiction puts `party` (an investor's identity or a wallet) on its
        sanctions list: while designated anywhere, it can neither send nor receive."""
        return self._send("designate", int(regime), party, sender=sender)

    def remove_designation(self, regime: SanctionsRegime, party: str, *, sender: str | None = None) -> Receipt:
        return self._send("removeDesignation", int(regime), party, sender=sender)

    def designated_parties(self, regime: SanctionsRegime) -> tuple[str, ...]:
        return tuple(sorted(to_checksum_address(a) for a in self._read("designatedParties", int(regime))))

    def designations_of(self, party: str) -> frozenset[SanctionsRegime]:
        """The regimes that designate `party` itself (not through its investor)."""
        bits = int(self._read("designationsOf", party))
        return frozenset(r for r in SanctionsRegime if bits & r.bit)

    def is_sanctioned(self, wallet: str) -> bool:
        """Whether `wallet` or its investor is designated on any list."""
        return bool(self._read("isSanctioned", wallet))

    def add_wallet(self, identity: str, wallet: str, *, sender: str | None = None) -> Receipt:
        return self._send("addWallet", identity, wallet, sender=sender)

    def update_investor(
        self, identity: str, category: InvestorCategory, kyc_valid_until: int, *, sender: str | None = None
    ) -> Receipt:
        return self._send("updateInvestor", identity, int(category), kyc_valid_until, sender=sender)

    def suspend_investor(self, identity: str, *, sender: str | None = None) -> Receipt:
        return self._send("suspendInvestor", identity, sender=sender)

    def reinstate_investor(self, identity: str, *, sender: str | None = None) -> Receipt:
        return self._send("reinstateInvestor", identity, sender=sender)

    def investor(self, identity: str) -> InvestorRecord:
        jurisdiction, category, status, kyc, holder_type, us_person, qib, accredited_until = self._read(
            "investor", identity
        )
        attributes = InvestorAttributes(HolderType(holder_type), us_person, qib, accredited_until)
        return InvestorRecord(jurisdiction, InvestorCategory(category), InvestorStatus(status), kyc, attributes)

    def onboarding_agent_of(self, identity: str) -> str | None:
        """The agent who registered investor `identity` (None when it is not registered): with the
        registry's admin, the only account that may update the investor or link wallets to it."""
        agent = self._read("onboardingAgentOf", identity)
        return None if agent == _ZERO else to_checksum_address(agent)

    def wallets_of(self, identity: str) -> tuple[str, ...]:
        return tuple(self._read("walletsOf", identity))

    def wallet_record(self, wallet: str) -> WalletRecord:
        identity, jurisdiction, category, status, kyc, count, flags = self._read("walletRecord", wallet)
        return WalletRecord(
            None if identity == _ZERO else to_checksum_address(identity),
            jurisdiction,
            InvestorCategory(category),
            InvestorStatus(status),
            kyc,
            count,
            flags,
        )

    def batch_register_investors(
        self,
        entries: Sequence[tuple[str, str, Jurisdiction | int, InvestorCategory, int]],
        *,
        sender: str | None = None,
    ) -> Receipt:
        """Registers several investors; each entry is (identity, wallet, jurisdiction, category,
        kyc_valid_until)."""
        return self._send(
            "batchRegisterInvestors",
            [e[0] for e in entries],
            [e[1] for e in entries],
            [int(e[2]) for e in entries],
            [int(e[3]) for e in entries],
            [e[4] for e in entries],
            sender=sender,
        )
