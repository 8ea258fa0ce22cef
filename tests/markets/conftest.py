"""Fixtures of the markets tests: one embedded chain per session with an investor registry, a security
token (deployed with the existing `SecurityToken.deploy` facade), the GBP and USD cash tokens and the
DvP contract; every test runs on a snapshot that is reverted afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_utils import to_checksum_address

from sandbox.chain.embedded import DEFAULT_GENESIS_TIMESTAMP
from sandbox.chain.factory import InProcessChain, in_process_chain
from sandbox.contracts import CashToken, DvPSettlement, InvestorRegistry, SecurityToken
from sandbox.rules import InvestorCategory, Jurisdiction

KYC_UNTIL = DEFAULT_GENESIS_TIMESTAMP + 10 * 365 * 24 * 3600
#: Enough attested reserves for every test (in pence / cents).
RESERVES = 10**15


def identity(tag: int) -> str:
    """A made-up identity address (stands in for an ONCHAINID; it never signs)."""
    return to_checksum_address(f"0x{tag:040x}")


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
    chain = in_process_chain(num_accounts=16)
    a = [acct.address for acct in chain.accounts]
    admin, uk_regulator, us_regulator = a[0], a[1], a[2]
    registry = InvestorRegistry.deploy(chain, admin=admin, sender=admin)
    registry.set_regulator(uk_regulator, Jurisdiction.GB, sender=admin)
    registry.set_regulator(us_regulator, Jurisdiction.US, sender=admin)

    def register(tag: int, jurisdiction: Jurisdiction, category: InvestorCategory, *wallets: str) -> Investor:
        who = identity(tag)
        registry.register_investor(who, wallets[0], jurisdiction, category, KYC_UNTIL, sender=admin)
        for wallet in wallets[1:]:
            registry.add_wallet(who, wallet, sender=admin)
        return Investor(who, wallets)

    alice = register(0xA11CE, Jurisdiction.GB, InvestorCategory.UK_RETAIL, a[3], a[4])
    dave = register(0xDA7E, Jurisdiction.GB, InvestorCategory.UK_RETAIL, a[5])
    bob = register(0xB0B, Jurisdiction.GB, InvestorCategory.UK_PROFESSIONAL, a[6], a[7])
    carol = register(0xCA201, Jurisdiction.US, InvestorCategory.US_ACCREDITED, a[8])
    erin = register(0xE217, Jurisdiction.US, InvestorCategory.US_NON_ACCREDITED, a[9])

    security = SecurityToken.deploy(
        chain,
        name="Sandbox Gilt 2030",
        symbol="GLT30",
        decimals=0,
        registry=registry.address,
        home_jurisdiction=Jurisdiction.GB,
        admitted_jurisdictions=[Jurisdiction.GB, Jurisdiction.US],
        admin=admin,
        sender=admin,
    )
    # The DSS notary gate: the home regulator approves issuance before anything can be minted.
    security.approve_issuance(10**12, sender=uk_regulator)
    gbp = CashToken.deploy_gbp(chain, registry=registry.address, admin=admin, sender=admin)
    usd = CashToken.deploy_usd(chain, registry=registry.address, admin=admin, sender=admin)
    dvp = DvPSettlement.deploy(chain, sender=admin)
    for cash in (gbp, usd):
        cash.set_settlement_contract(dvp.address, True, sender=admin)
        cash.attest_reserves(RESERVES, b"\x01" * 32, sender=admin)
    return MarketsWorld(
        chain, admin, uk_regulator, us_regulator, registry, security, gbp, usd, dvp,
        alice, dave, bob, carol, erin, outsider=a[15],
    )  # fmt: skip


@pytest.fixture(scope="session")
def _markets_world_once() -> MarketsWorld:
    return build_world()


@pytest.fixture
def markets(_markets_world_once: MarketsWorld) -> Iterator[MarketsWorld]:
    """The markets world as freshly built, for this test alone (snapshot before, revert after)."""
    chain = _markets_world_once.chain
    snapshot = chain.snapshot()
    try:
        yield _markets_world_once
    finally:
        chain.revert(snapshot)
