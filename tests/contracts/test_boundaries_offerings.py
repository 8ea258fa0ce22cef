"""One-sided boundaries of the offering rules, closed (issue #11): each story tries the last second before
a boundary and the first second of it, on real calendar dates.

- Rule 144(d)(1): the six-month holding period applies only once the issuer has been subject to Exchange
  Act reporting for at least 90 days before the sale (`OfferingRegistry.REPORTING_SEASONING`,
  `since + 90 days <= now`); before that, a year.
- Rule 506(c)(2)(ii): the issuer sells only to purchasers whose accredited-investor verification is
  current at the sale (`accreditedUntil`, inclusive); Rule 506(b)(2)(i) counts a purchaser whose
  verification has lapsed as a non-accredited purchaser.
- Regulation S Category 3 (Rule 903(b)(3)): debt 40 days, equity of a reporting issuer six months, from
  the later of first offer and closing (Rule 902(f)).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.contracts.offerings import Exemption, OfferingRegistry
from sandbox.contracts.security_token import Terms
from sandbox.rules import RULES_BY_NAME, HolderType, InvestorAttributes
from sandbox.rules import InvestorCategory as Cat
from sandbox.rules import Jurisdiction as Jur
from tests.contracts.conftest import ISSUANCE_LIMIT, World
from tests.contracts.helpers import reverts
from tests.contracts.test_offerings import OfferingWorld, t

DAY = 86_400


@pytest.fixture
def ow(w: World) -> Iterator[OfferingWorld]:
    """A security admitting every category of both jurisdictions, its offering registry attached; the
    issuer is not (yet) reporting."""
    token = w.deploy_token(Terms(us_min_category=int(Cat.US_NON_ACCREDITED), uk_min_category=int(Cat.UK_RETAIL)))
    token.approve_issuance(ISSUANCE_LIMIT, sender=w.fca)
    offerings = OfferingRegistry.deploy(w.chain, token=token, registry=w.registry.address, sender=w.issuer)
    offerings.attach(admin=w.issuer)
    yield OfferingWorld(w, token, offerings)


def _accredited_until(ow: OfferingWorld, until: str) -> str:
    """A US natural person whose accredited-investor verification (Rule 506(c)(2)(ii)) holds to `until`
    inclusive; the issuer sells to it (it never sends)."""
    attributes = InvestorAttributes(HolderType.NATURAL_PERSON, us_person=True, accredited_until=t(until))
    (wallet,) = ow.investor(Jur.US, Cat.US_ACCREDITED, sends=False, attributes=attributes)
    return wallet


# ---------------------------------------------------------------- Rule 144(d)(1): 90 days of reporting


def test_the_six_month_period_needs_ninety_days_of_reporting_to_the_second(ow: OfferingWorld) -> None:
    """Units bought from a non-reporting issuer on 1 September 2027 in a 506(c) offering. The issuer
    becomes a reporting company at 00:00 on 15 January 2028; ninety days later (a leap year: 29 February
    counts) is 00:00 on 14 April 2028, not 15 April (three calendar months). The six months ran out on
    1 March 2028, so the resale waits for the seasoning: refused at 23:59:59 on 13 April, allowed at
    00:00:00 on 14 April."""
    w = ow.w
    buyer, seller = w.w["us_na1"], w.w["us_acc"]
    oid = ow.open(Exemption.REG_D_506C, "2027-09-01", "2027-09-30")
    w.at(t("2027-09-01"))
    ow.issue(oid, seller, 100)
    (lot,) = ow.offerings.lots_of(seller)
    assert (lot.acquired_at, lot.unlock_at) == (t("2027-09-01"), t("2028-09-01"))  # non-reporting: a year
    w.at(t("2028-01-15"))
    ow.offerings.set_reporting_since(t("2028-01-15"), sender=w.issuer)
    assert ow.offerings.reporting_since() == t("2028-01-15")
    assert t("2028-01-15") + 90 * DAY == t("2028-04-14")
    # Six calendar months from the acquisition, but the issuer has reported for 46 days only.
    w.at(t("2028-03-01"))
    ow.refused(seller, buyer, 1, "LOCKUP_ACTIVE", "LockupActive")
    # 89 days, 23 hours, 59 minutes and 59 seconds of reporting: still a year.
    w.at(t("2028-04-13T23:59:59"))
    ow.refused(seller, buyer, 1, "LOCKUP_ACTIVE", "LockupActive")
    # 90 days: six months, long past.
    w.at(t("2028-04-14"))
    ow.moves(seller, buyer, 60)
    assert ow.offerings.unlock_at(t("2027-09-01")) == t("2028-03-01")
    assert ow.offerings.lots_of(buyer) == []  # free units make no lot
    ow.moves(buyer, w.w["us_na2"], 60)


def test_a_lot_whose_six_months_end_inside_the_seasoning_unlocks_with_it(ow: OfferingWorld) -> None:
    """The other order: the issuer has reported since 4 April 2027 (90 days: 00:00 on 3 July 2027), and
    units bought on 2 January 2027 reach six months at 00:00 on 2 July 2027, a day before the seasoning.
    The answer turns on the later of the two: refused at 23:59:59 on 2 July, allowed at 00:00 on 3 July.
    Units bought on 4 January 2027 reach six months after the seasoning: they wait for 00:00 on 4 July."""
    w = ow.w
    ow.offerings.set_reporting_since(t("2027-04-04"), sender=w.issuer)
    a, b = (ow.investor(Jur.US, Cat.US_ACCREDITED)[0] for _ in range(2))
    oid = ow.open(Exemption.REG_D_506C, "2027-01-02", "2027-01-31")
    w.at(t("2027-01-02"))
    ow.issue(oid, a, 10)
    w.at(t("2027-01-04"))
    ow.issue(oid, b, 10)
    w.at(t("2027-07-02T23:59:59"))
    ow.refused(a, w.w["us_na1"], 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2027-07-03"))
    ow.moves(a, w.w["us_na1"], 10)
    w.at(t("2027-07-03T23:59:59"))
    ow.refused(b, w.w["us_na1"], 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2027-07-04"))
    ow.moves(b, w.w["us_na1"], 10)


# ---------------------------------------------------------------- Rule 506(c): verification at the sale


@pytest.mark.parametrize(
    ("last_verified", "first_lapsed"),
    [
        ("2027-02-28T23:59:59", "2027-03-01T00:00:00"),  # a month end
        ("2028-02-29T23:59:59", "2028-03-01T00:00:00"),  # a leap day
    ],
)
def test_506c_sells_to_the_last_second_of_the_buyers_verification(
    ow: OfferingWorld, last_verified: str, first_lapsed: str
) -> None:
    """A 506(c) offering open for the whole month: the issuer sells to an investor whose accredited-
    investor verification runs to `last_verified` at that very second, and is refused a second later
    (OFFERING_PURCHASER_NOT_ELIGIBLE / OfferingPurchaserNotAccredited): nothing is issued, the purchaser
    ledger is unchanged."""
    w = ow.w
    month = last_verified[:7]
    oid = ow.open(Exemption.REG_D_506C, month + "-01", first_lapsed[:10] + "T17:00:00")
    buyer = _accredited_until(ow, last_verified)
    code = RULES_BY_NAME["OFFERING_PURCHASER_NOT_ELIGIBLE"].code
    w.at(t(last_verified))
    ow.issue(oid, buyer, 10)
    # Views read the latest block: this one, stamped with the last verified second.
    assert w.chain.timestamp() == t(last_verified)
    assert ow.offerings.detect_issuance_restriction(oid, buyer, 1) == 0
    w.at(t(first_lapsed))
    exc = reverts(lambda: ow.issue(oid, buyer, 1), "OfferingPurchaserNotAccredited", offeringId=oid, wallet=buyer)
    assert exc.rule_name == "OFFERING_PURCHASER_NOT_ELIGIBLE" and exc.rule_code == code
    w.at(t(first_lapsed) + 1)
    assert w.chain.timestamp() == t(first_lapsed)
    assert ow.offerings.detect_issuance_restriction(oid, buyer, 1) == code
    assert ow.token.balance_of(buyer) == 10
    offering = ow.offerings.offering(oid)
    assert (offering.purchasers, offering.issued) == (1, 10)
    # Not a closed offering: an investor verified for longer still buys at that second.
    other = _accredited_until(ow, "2029-12-31T23:59:59")
    w.at(t(first_lapsed) + 2)
    ow.issue(oid, other, 1)
    assert ow.offerings.offering(oid).purchasers == 2


def test_506b_counts_a_purchaser_whose_verification_lapsed_a_second_before(ow: OfferingWorld) -> None:
    """Rule 506(b) with its 35 non-accredited purchasers taken on 1 June 2027. Two investors verified as
    accredited until 30 June 2027 23:59:59: the one buying at that second is accredited (not counted,
    allowed); the one buying at 00:00:00 on 1 July would be the 36th non-accredited purchaser: refused."""
    w = ow.w
    oid = ow.open(Exemption.REG_D_506B, "2027-06-01", "2027-12-31")
    w.at(t("2027-06-01"))
    for _ in range(35):
        ow.issue(oid, ow.investor(Jur.US, Cat.US_NON_ACCREDITED, sends=False)[0], 1)
    early, late = (_accredited_until(ow, "2027-06-30T23:59:59") for _ in range(2))
    w.at(t("2027-06-30T23:59:59"))
    ow.issue(oid, early, 5)
    assert ow.offerings.offering(oid).non_accredited_purchasers == 35
    w.at(t("2027-07-01"))
    exc = reverts(lambda: ow.issue(oid, late, 5), "NonAccreditedPurchaserLimitReached", purchasersAfter=36, limit=35)
    assert exc.rule_name == "NON_ACCREDITED_PURCHASER_LIMIT"
    offering = ow.offerings.offering(oid)
    assert (offering.purchasers, offering.non_accredited_purchasers, ow.token.balance_of(late)) == (36, 35, 0)


# ---------------------------------------------------------------- Regulation S Category 3


@pytest.mark.parametrize(
    ("equity", "reporting", "last_second", "first_free"),
    [
        (False, False, "2027-03-12T23:59:59", "2027-03-13T00:00:00"),  # debt: 40 days from 1 February
        (True, True, "2027-07-31T23:59:59", "2027-08-01T00:00:00"),  # reporting issuer's equity: 6 months
        (True, False, "2028-01-31T23:59:59", "2028-02-01T00:00:00"),  # non-reporting issuer's equity: 1 year
    ],
)
def test_reg_s_category_3_periods_end_to_the_second(
    ow: OfferingWorld, equity: bool, reporting: bool, last_second: str, first_free: str
) -> None:
    """A UK issuer's Category 3 offering first offered 4 January 2027 and closing 1 February 2027: the
    distribution compliance period runs from the closing (902(f)); offshore buyers may not resell to a US
    person at its last second and may at its first free one. No Rule 905 restriction (a foreign issuer),
    so the units are free then."""
    w = ow.w
    if reporting:
        ow.offerings.set_reporting_since(t("2025-06-01"), sender=w.issuer)
    oid = ow.open(Exemption.REG_S_CATEGORY_3, "2027-01-04", "2027-02-01", equity=equity)
    assert ow.offerings.offering(oid).period_ends_at == t(first_free)
    w.at(t("2027-01-20"))
    ow.issue(oid, w.w["uk1"], 100)
    w.at(t(last_second))
    ow.refused(w.w["uk1"], w.w["us_na1"], 1, "REG_S_DISTRIBUTION_COMPLIANCE", "RegSDistributionCompliancePeriod")
    w.at(t(first_free))
    ow.moves(w.w["uk1"], w.w["us_na1"], 100)
    assert ow.offerings.lots_of(w.w["us_na1"]) == []


# ---------------------------------------------------------------- Rule 144(d)(1): reporting status at the sale


def test_after_form_15_units_held_under_a_year_are_locked_again_whatever_else_the_holder_bought(
    ow: OfferingWorld,
) -> None:
    """Two holders bought 100 units each on 4 January 2027 from a reporting issuer (since 2025-06-01):
    six months run to 00:00 on 4 July 2027. On 5 July one of them buys 50 more in a new 506(c) offering.
    The issuer files Form 15 on 2 August 2027: from then a sale needs a year's holding (Rule 144(d)(1)(ii),
    the status at the sale), so both holders' January units are locked to 23:59:59 on 3 January 2028 and
    free at 00:00 on 4 January; the July units to 5 July 2028."""
    w = ow.w
    ow.offerings.set_reporting_since(t("2025-06-01"), sender=w.issuer)
    buyer, holder = (ow.investor(Jur.US, Cat.US_ACCREDITED)[0] for _ in range(2))
    outsider = w.w["us_na1"]
    january = ow.open(Exemption.REG_D_506C, "2027-01-04", "2027-01-31")
    july = ow.open(Exemption.REG_D_506C, "2027-07-05", "2027-07-31")
    w.at(t("2027-01-04"))
    ow.issue(january, buyer, 100)
    ow.issue(january, holder, 100)
    w.at(t("2027-07-03T23:59:59"))
    ow.refused(holder, outsider, 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2027-07-05"))
    ow.issue(july, buyer, 50)
    w.at(t("2027-08-02"))
    ow.offerings.set_reporting_since(0, sender=w.issuer)  # Form 15
    w.at(t("2027-08-03"))
    ow.refused(holder, outsider, 1, "LOCKUP_ACTIVE", "LockupActive")
    ow.refused(buyer, outsider, 1, "LOCKUP_ACTIVE", "LockupActive")
    assert [(lot.amount, lot.unlock_at) for lot in ow.offerings.lots_of(buyer)] == [
        (100, t("2028-01-04")),
        (50, t("2028-07-05")),
    ]
    assert ow.token.locked_tokens(buyer).locked == 150
    w.at(t("2028-01-03T23:59:59"))
    ow.refused(buyer, outsider, 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2028-01-04"))
    ow.moves(buyer, outsider, 100)
    ow.moves(holder, outsider, 100)
    ow.refused(buyer, outsider, 1, "LOCKUP_ACTIVE", "LockupActive")


def test_a_recovered_wallet_keeps_a_lot_past_six_months_and_form_15_locks_it_again(ow: OfferingWorld) -> None:
    """Units bought on 4 January 2027 from a reporting issuer unlock at 00:00 on 4 July 2027. On 10 July
    the holder loses its key and the agent recovers the units to its other wallet (the same investor:
    Rule 144(d)(3) tacking). The issuer files Form 15 on 2 August 2027: the recovered units are held
    under a year again, locked to 23:59:59 on 3 January 2028, free at 00:00 on 4 January."""
    w = ow.w
    ow.offerings.set_reporting_since(t("2025-06-01"), sender=w.issuer)
    lost, new = ow.investor(Jur.US, Cat.US_ACCREDITED, wallets=2)
    outsider = w.w["us_na1"]
    oid = ow.open(Exemption.REG_D_506C, "2027-01-04", "2027-01-31")
    w.at(t("2027-01-04"))
    ow.issue(oid, lost, 100)
    w.at(t("2027-07-10"))
    ow.token.recovery_address(lost, new, lost, sender=w.issuer)
    assert ow.token.balance_of(new) == 100
    w.at(t("2027-08-02"))
    ow.offerings.set_reporting_since(0, sender=w.issuer)  # Form 15
    w.at(t("2027-08-03"))
    ow.refused(new, outsider, 1, "LOCKUP_ACTIVE", "LockupActive")
    assert [(lot.amount, lot.acquired_at, lot.unlock_at) for lot in ow.offerings.lots_of(new)] == [
        (100, t("2027-01-04"), t("2028-01-04"))
    ]
    w.at(t("2028-01-03T23:59:59"))
    ow.refused(new, outsider, 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2028-01-04"))
    ow.moves(new, outsider, 100)
