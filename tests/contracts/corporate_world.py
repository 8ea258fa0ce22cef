"""The world of the corporate-action tests: a registry with investors, the GBP cash token, a bond (a
security token with its `BondPayingAgent`) and a share class (a security token with its
`EquityPayingAgent`), both wired by the facades' deploy helpers; built once per session, each test on a
snapshot. Dates are real calendar dates (the embedded chain starts on 2026-01-01)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction

from sandbox import calendars
from sandbox.chain.embedded import DEFAULT_GENESIS_TIMESTAMP
from sandbox.chain.factory import InProcessChain, in_process_chain
from sandbox.contracts import (
    BondPayingAgent,
    BondTerms,
    CashToken,
    DayCount,
    DvPSettlement,
    EquityPayingAgent,
    InvestorRegistry,
    SecurityToken,
)
from sandbox.rules import InvestorCategory, Jurisdiction
from sandbox.testing import TestWorld

DAY = 86_400
KYC_UNTIL = DEFAULT_GENESIS_TIMESTAMP + 10 * 365 * DAY
RESERVES = 10**15
ISSUANCE_LIMIT = 10**9
CLAIM_PERIOD = 90 * DAY
#: Face value per bond unit: 100 pounds, in pence.
FACE = 100_00
RATE_BPS = 475
RECORD_LAG = 7 * DAY
#: Units of the bond each holder starts with.
BOND_UNITS = {"alice": 100, "bob": 1_000, "carol": 500, "dave": 50}
#: Shares each holder starts with.
SHARES = {"alice": 40, "bob": 1_000, "carol": 333}


def ts(year: int, month: int, day: int) -> int:
    """Unix time of 00:00 UTC on the date."""
    return int(dt.datetime(year, month, day, tzinfo=dt.UTC).timestamp())


ISSUE_DATE = ts(2026, 1, 31)
COUPON_DATES = (ts(2026, 7, 31), ts(2027, 1, 31), ts(2027, 7, 31))
MATURITY = COUPON_DATES[-1]


@dataclass
class CorporateWorld:
    chain: InProcessChain
    admin: str
    fca: str
    registry: InvestorRegistry
    extension: str
    gbp: CashToken
    bond_token: SecurityToken
    bond: BondPayingAgent
    equity_token: SecurityToken
    equity: EquityPayingAgent
    dvp: DvPSettlement
    #: investor name → wallet (each investor has one wallet; its identity is the wallet)
    w: dict[str, str]
    #: the issuer's registered treasury wallet (a business), which funds distributions by transferFrom
    treasury: str
    outsider: str

    def at(self, timestamp: int) -> None:
        """Makes the next transaction run in a block stamped `timestamp` (one second per block)."""
        if self.chain.timestamp() < timestamp - 1:
            self.chain.time_travel(timestamp - 1)
        assert self.chain.timestamp() == timestamp - 1, "the chain is already past that time"

    def after(self, timestamp: int) -> None:
        """Moves the chain past `timestamp` (the next transaction runs at least one second after it)."""
        if self.chain.timestamp() <= timestamp:
            self.chain.time_travel(timestamp + 1)

    def bond_terms(self, **changes: object) -> BondTerms:
        base: dict[str, object] = {
            "isin": "GB00SBXGLT28",
            "cash": self.gbp.address,
            "face_value": FACE,
            "coupon_rate_bps": RATE_BPS,
            "day_count": DayCount.THIRTY_360_BOND_BASIS,
            "issue_date": ISSUE_DATE,
            "coupon_dates": COUPON_DATES,
            "maturity": MATURITY,
            "issuance_limit": ISSUANCE_LIMIT,
            "record_lag": RECORD_LAG,
        }
        return BondTerms(**{**base, **changes})  # type: ignore[arg-type]

    def new_security(self, name: str, symbol: str) -> SecurityToken:
        token = SecurityToken.deploy(
            self.chain,
            name=name,
            symbol=symbol,
            decimals=0,
            registry=self.registry.address,
            home_jurisdiction=Jurisdiction.GB,
            admitted_jurisdictions=[Jurisdiction.GB, Jurisdiction.US],
            admin=self.admin,
            sender=self.admin,
            extension=self.extension,
        )
        token.approve_issuance(ISSUANCE_LIMIT, sender=self.fca)
        return token

    def new_bond(
        self, terms: BondTerms, *, units: dict[str, int] | None = None
    ) -> tuple[SecurityToken, BondPayingAgent]:
        """A fresh bond token with its wired paying agent, units minted to the named holders."""
        token = self.new_security("Extra Bond", "XBND")
        agent = BondPayingAgent.deploy(
            self.chain, terms=terms, security=token.address, issuer=self.admin, sender=self.admin,
            claim_period=CLAIM_PERIOD,
        )  # fmt: skip
        agent.grant_role("ISSUER_ROLE", self.treasury, sender=self.admin)
        self.gbp.approve(agent.address, 2**256 - 1, sender=self.treasury)
        for name, amount in (units or {}).items():
            token.mint(self.w[name], amount, sender=self.admin)
        return token, agent


def build_corporate_world() -> CorporateWorld:
    # `in_process_chain` by this module's name: tests/chain/test_revm_differential.py swaps it for recording
    # chains of either engine
    built = TestWorld(in_process_chain(num_accounts=16))
    registry = built.registry()  # the admin, then the FCA and the SEC
    admin, fca = built.admin, built.regulators[Jurisdiction.GB]
    investors = {
        "alice": (Jurisdiction.GB, InvestorCategory.UK_RETAIL),  # an individual under the GBP limits
        "bob": (Jurisdiction.GB, InvestorCategory.UK_PROFESSIONAL),
        "carol": (Jurisdiction.US, InvestorCategory.US_ACCREDITED),
        "dave": (Jurisdiction.GB, InvestorCategory.UK_RETAIL),
        "erin": (Jurisdiction.GB, InvestorCategory.UK_PROFESSIONAL),
        "treasury": (Jurisdiction.GB, InvestorCategory.UK_ELIGIBLE_COUNTERPARTY),
    }
    for name, (jurisdiction, category) in investors.items():
        built.investor(name, jurisdiction, category, kyc_until=KYC_UNTIL)  # the wallet is the identity
    w = {name: built.wallet(name) for name in investors}
    treasury = w.pop("treasury")
    gbp = built.cash("GBP", reserves=RESERVES)
    extension = built.extension()
    chain = built.chain
    world = CorporateWorld(
        chain, admin, fca, registry, extension, gbp,
        bond_token=None, bond=None, equity_token=None, equity=None, dvp=None,  # type: ignore[arg-type]
        w=w, treasury=treasury, outsider=built.outsider,
    )  # fmt: skip
    world.bond_token = world.new_security("Thames Water 4.75% 2027", "TW27")
    world.bond = BondPayingAgent.deploy(
        chain, terms=world.bond_terms(), security=world.bond_token.address, issuer=admin, sender=admin,
        claim_period=CLAIM_PERIOD,
    )  # fmt: skip
    world.equity_token = world.new_security("Thames Ordinary", "THMS")
    world.equity = EquityPayingAgent.deploy(
        chain, share_class="Ordinary", security=world.equity_token.address, cash=gbp.address, par_value=10,
        issuer=admin, sender=admin, claim_period=CLAIM_PERIOD,
    )  # fmt: skip
    for name, units in BOND_UNITS.items():
        world.bond_token.mint(w[name], units, sender=admin)
    for name, shares in SHARES.items():
        world.equity_token.mint(w[name], shares, sender=admin)
    # The treasury holds sterling to fund distributions and has approved both agents.
    gbp.mint(treasury, 5_000_000_00, sender=admin)
    gbp.approve(world.bond.address, 2**256 - 1, sender=treasury)
    gbp.approve(world.equity.address, 2**256 - 1, sender=treasury)
    world.bond.grant_role("ISSUER_ROLE", treasury, sender=admin)
    world.equity.grant_role("ISSUER_ROLE", treasury, sender=admin)
    # Delivery versus payment for the stateful test: every holder has approved it on all three tokens.
    world.dvp = built.settlement()  # registered with the GBP token
    for name in w:
        built.approve_settlement(name, world.bond_token, world.equity_token, gbp)
    return world


def days_30360_bond_basis(start: dt.date, end: dt.date) -> int:
    """30/360 US bond basis (ISDA 2006 4.16(f)), written independently of the contract."""
    d1 = 30 if start.day == 31 else start.day
    d2 = 30 if end.day == 31 and d1 == 30 else end.day
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def days_30e360(start: dt.date, end: dt.date) -> int:
    """30E/360 Eurobond basis (ISDA 2006 4.16(g))."""
    d1, d2 = min(start.day, 30), min(end.day, 30)
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def year_fraction(
    day_count: DayCount, start: int, end: int, *, first: bool = False, frequency: int = 2
) -> tuple[int, int]:
    """(days, days per year) of [start, end) under `day_count`, from Python's datetime; for ACT/ACT
    ICMA the fraction in lowest terms (`first`: the bond's first period, counted back from its end)."""
    a = dt.datetime.fromtimestamp(start, dt.UTC).date()
    b = dt.datetime.fromtimestamp(end, dt.UTC).date()
    if day_count == DayCount.THIRTY_360_BOND_BASIS:
        return days_30360_bond_basis(a, b), 360
    if day_count == DayCount.THIRTY_E_360:
        return days_30e360(a, b), 360
    if day_count == DayCount.THIRTY_360_US:
        return int(calendars.thirty_360_us(a, b) * 360), 360
    if day_count == DayCount.ACTUAL_ACTUAL_ICMA:
        f = calendars.actual_actual_icma(a, b, frequency, first=first)
        return f.numerator, f.denominator
    return (b - a).days, 365


def coupon_per_unit(terms: BondTerms, period: int) -> Fraction:
    """The exact coupon per unit of `period`, in cash units: face * rate * days / (10,000 * basis)."""
    start = terms.issue_date if period == 0 else terms.coupon_dates[period - 1]
    days, basis = year_fraction(
        terms.day_count, start, terms.coupon_dates[period], first=period == 0, frequency=terms.frequency
    )
    return Fraction(terms.face_value * terms.coupon_rate_bps * days, 10_000 * basis)


def owed(units: int, per_unit: Fraction) -> int:
    """What a holder of `units` is paid: rounded down."""
    return math.floor(units * per_unit)
