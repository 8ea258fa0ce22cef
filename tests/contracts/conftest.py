"""One deployed world per test session (registry, regulators, investors, a security with issuance
approved); each test runs on a snapshot and is reverted afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sandbox.chain.factory import InProcessChain
from sandbox.contracts.registry import InvestorRegistry
from sandbox.contracts.security_token import SecurityToken, Terms
from sandbox.rules import InvestorCategory as Cat
from sandbox.rules import Jurisdiction
from sandbox.testing import TestWorld, isolated
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
    built = TestWorld(accounts=20)
    built.registry()  # the operator, then the FCA and the SEC
    issuer = built.account()
    kyc = built.chain.timestamp() + 3650 * DAY
    for key, (jurisdiction, category) in INVESTORS.items():
        built.investor(key, jurisdiction, category, kyc_until=kyc)  # the wallet is the identity
    uk1b = built.add_wallet("uk1")
    token = built.security(
        "THAMES28", name="Thames 2028", admin=issuer, issuance_limit=ISSUANCE_LIMIT,
        holdings={"uk1": 1000, "uk2": 1000, "us_acc": 1000},
    )  # fmt: skip
    wallets = {key: built.wallet(key) for key in INVESTORS} | {"uk1b": uk1b}
    return World(
        built.chain, built.the_registry, built.extension(), token, built.admin,
        built.regulators[Jurisdiction.GB], built.regulators[Jurisdiction.US], issuer, wallets, built.outsider,
    )  # fmt: skip


@pytest.fixture
def w(world: World) -> Iterator[World]:
    with isolated(world.chain):
        yield world


@pytest.fixture(scope="session")
def _corporate_world_once() -> CorporateWorld:
    return build_corporate_world()


@pytest.fixture
def cw(_corporate_world_once: CorporateWorld) -> Iterator[CorporateWorld]:
    """The corporate-actions world (`tests/contracts/corporate_world.py`), reverted after the test."""
    with isolated(_corporate_world_once.chain):
        yield _corporate_world_once
