"""One deployed world per test session (registry, regulators, investors, a security with issuance
approved); each test runs on a snapshot and is reverted afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sandbox.chain.factory import InProcessChain, in_process_chain
from sandbox.contracts.registry import InvestorRegistry
from sandbox.contracts.security_token import SecurityToken, SecurityTokenExtension, Terms
from sandbox.rules import InvestorCategory as Cat
from sandbox.rules import Jurisdiction
from tests.contracts.corporate_world import CorporateWorld, build_corporate_world

DAY = 86_400
ISSUANCE_LIMIT = 10**12


@dataclass
class World:
    chain: InProcessChain
    registry: InvestorRegistry
    extension: str
    token: SecurityToken
    operator: str
    fca: str
    sec: str
    issuer: str
    #: investor key → wallet (the wallet is also the investor's identity, except `uk1b`)
    w: dict[str, str]
    outsider: str

    def deploy_token(
        self, terms: Terms | None = None, *, home: Jurisdiction = Jurisdiction.GB, record_dates: bool = False
    ) -> SecurityToken:
        return SecurityToken.deploy(
            self.chain,
            name="Second",
            symbol="SEC2",
            decimals=0,
            registry=self.registry.address,
            home_jurisdiction=home,
            admitted_jurisdictions=[Jurisdiction.GB, Jurisdiction.US],
            admin=self.issuer,
            sender=self.issuer,
            terms=terms,
            extension=self.extension,
            record_dates=record_dates,
        )

    def set_terms(self, **changes: object) -> None:
        current = self.token.terms()
        self.token.set_terms(Terms(**{**current.__dict__, **changes}), sender=self.issuer)

    def at(self, timestamp: int) -> None:
        """Makes the next transaction run in a block stamped `timestamp` (one second per block)."""
        if self.chain.timestamp() != timestamp - 1:
            self.chain.time_travel(timestamp - 1)


INVESTORS: dict[str, tuple[Jurisdiction, Cat]] = {
    "uk1": (Jurisdiction.GB, Cat.UK_PROFESSIONAL),
    "uk2": (Jurisdiction.GB, Cat.UK_ELIGIBLE_COUNTERPARTY),
    "uk_retail": (Jurisdiction.GB, Cat.UK_RETAIL),
    "us_acc": (Jurisdiction.US, Cat.US_ACCREDITED),
    "us_qib": (Jurisdiction.US, Cat.US_QIB),
    "us_na1": (Jurisdiction.US, Cat.US_NON_ACCREDITED),
    "us_na2": (Jurisdiction.US, Cat.US_NON_ACCREDITED),
    "uk3": (Jurisdiction.GB, Cat.UK_PROFESSIONAL),
}


@pytest.fixture(scope="session")
def world() -> World:
    chain = in_process_chain(num_accounts=20)
    a = [acc.address for acc in chain.accounts]
    operator, fca, sec, issuer = a[0], a[1], a[2], a[3]
    registry = InvestorRegistry.deploy(chain, admin=operator, sender=operator)
    registry.set_regulator(fca, Jurisdiction.GB, sender=operator)
    registry.set_regulator(sec, Jurisdiction.US, sender=operator)
    kyc = chain.timestamp() + 3650 * DAY
    wallets: dict[str, str] = {}
    for i, (key, (jurisdiction, category)) in enumerate(INVESTORS.items()):
        wallet = a[4 + i]
        wallets[key] = wallet
        registry.register_investor(wallet, wallet, jurisdiction, category, kyc, sender=operator)
    wallets["uk1b"] = a[4 + len(INVESTORS)]
    registry.add_wallet(wallets["uk1"], wallets["uk1b"], sender=operator)
    extension = SecurityTokenExtension.deploy(chain, sender=operator).address
    token = SecurityToken.deploy(
        chain,
        name="Thames 2028",
        symbol="THAMES28",
        decimals=0,
        registry=registry.address,
        home_jurisdiction=Jurisdiction.GB,
        admitted_jurisdictions=[Jurisdiction.GB, Jurisdiction.US],
        admin=issuer,
        sender=issuer,
        extension=extension,
    )
    token.approve_issuance(ISSUANCE_LIMIT, sender=fca)
    for key in ("uk1", "uk2", "us_acc"):
        token.mint(wallets[key], 1000, sender=issuer)
    return World(chain, registry, extension, token, operator, fca, sec, issuer, wallets, a[19])


@pytest.fixture
def w(world: World) -> Iterator[World]:
    snapshot = world.chain.snapshot()
    try:
        yield world
    finally:
        world.chain.revert(snapshot)


@pytest.fixture(scope="session")
def _corporate_world_once() -> CorporateWorld:
    return build_corporate_world()


@pytest.fixture
def cw(_corporate_world_once: CorporateWorld) -> Iterator[CorporateWorld]:
    """The corporate-actions world (`tests/contracts/corporate_world.py`), reverted after the test."""
    snapshot = _corporate_world_once.chain.snapshot()
    try:
        yield _corporate_world_once
    finally:
        _corporate_world_once.chain.revert(snapshot)
