"""Fixtures of the markets tests: one embedded chain per session with an investor registry, a security
token (deployed with the existing `SecurityToken.deploy` facade), the GBP and USD cash tokens and the
DvP contract; every test runs on a snapshot that is reverted afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sandbox.chain.embedded import DEFAULT_GENESIS_TIMESTAMP
from sandbox.chain.factory import InProcessChain
from sandbox.contracts import CashToken, DvPSettlement, InvestorRegistry, SecurityToken
from sandbox.rules import InvestorCategory, Jurisdiction
from sandbox.testing import TestWorld, isolated, made_up_identity

KYC_UNTIL = DEFAULT_GENESIS_TIMESTAMP + 10 * 365 * 24 * 3600
#: Enough attested reserves for every test (in pence / cents).
RESERVES = 10**15


#: A made-up identity address (stands in for an ONCHAINID; it never signs).
identity = made_up_identity


@dataclass(frozen=True)
class Investor:
    identity: str
    wallets: tuple[str, ...]

    @property
    def wallet(self) -> str:
        return self.wallets[0]


@dataclass(frozen=True)
class MarketsWorld:
    chain: InProcessChain
    admin: str
    uk_regulator: str
    us_regulator: str
    registry: InvestorRegistry
    security: SecurityToken
    gbp: CashToken
    usd: CashToken
    dvp: DvPSettlement
    #: UK retail (an individual under the cash limits), two wallets.
    alice: Investor
    #: UK retail (an individual), one wallet.
    dave: Investor
    #: UK professional (a business), two wallets.
    bob: Investor
    #: US accredited (a business by default), one wallet.
    carol: Investor
    #: US non-accredited (an individual), one wallet.
    erin: Investor
    #: A funded account linked to no investor.
    outsider: str


def build_world() -> MarketsWorld:
    world = TestWorld(accounts=16)
    world.registry()  # admin, then the UK and the US regulator

    def register(tag: int, jurisdiction: Jurisdiction, category: InvestorCategory, wallets: int = 1) -> Investor:
        found = world.investor(
            f"{tag:x}", jurisdiction, category, wallets=wallets, identity=identity(tag), kyc_until=KYC_UNTIL
        )
        return Investor(found.identity, found.wallets)

    alice = register(0xA11CE, Jurisdiction.GB, InvestorCategory.UK_RETAIL, 2)
    dave = register(0xDA7E, Jurisdiction.GB, InvestorCategory.UK_RETAIL)
    bob = register(0xB0B, Jurisdiction.GB, InvestorCategory.UK_PROFESSIONAL, 2)
    carol = register(0xCA201, Jurisdiction.US, InvestorCategory.US_ACCREDITED)
    erin = register(0xE217, Jurisdiction.US, InvestorCategory.US_NON_ACCREDITED)
    # The DSS notary gate: the home regulator approves issuance before anything can be minted.
    security = world.security("GLT30", name="Sandbox Gilt 2030", shared_extension=False)
    gbp = world.cash("GBP", reserves=RESERVES)
    usd = world.cash("USD", reserves=RESERVES)
    dvp = world.settlement()
    return MarketsWorld(
        world.chain, world.admin, world.regulators[Jurisdiction.GB], world.regulators[Jurisdiction.US],
        world.the_registry, security, gbp, usd, dvp, alice, dave, bob, carol, erin, outsider=world.outsider,
    )  # fmt: skip


@pytest.fixture(scope="session")
def _markets_world_once() -> MarketsWorld:
    return build_world()


@pytest.fixture
def markets(_markets_world_once: MarketsWorld) -> Iterator[MarketsWorld]:
    """The markets world as freshly built, for this test alone (snapshot before, revert after)."""
    with isolated(_markets_world_once.chain):
        yield _markets_world_once
