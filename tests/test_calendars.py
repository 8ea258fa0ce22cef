"""Business days, close-of-business instants and day counts (`sandbox.calendars`), as dated stories:
Christmas and Boxing Day on weekends, Good Friday, Juneteenth, Thanksgiving, year ends, the clock
changes of London and New York, and the published ACT/ACT worked examples."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, time
from fractions import Fraction

import holidays
import pytest

from sandbox.calendars import (
    HOLIDAY_TABLES,
    TABLE_YEARS,
    PaymentCalendar,
    actual_actual_icma,
    add_months,
    close_of_business,
    following_business_day,
    holiday_name,
    holiday_tables,
    is_business_day,
    package_holidays,
    record_instant,
    thirty_360_bond_basis,
    thirty_360_us,
)
from sandbox.errors import SandboxError

GBP, USD = PaymentCalendar.GBP, PaymentCalendar.USD


@pytest.mark.parametrize(
    ("cal", "due", "paid", "why"),
    [
        # Christmas Friday 2026, Boxing Day Saturday: the bank holiday moves to Monday 28 December.
        (GBP, date(2026, 12, 25), date(2026, 12, 29), "Boxing Day (observed)"),
        (GBP, date(2026, 12, 28), date(2026, 12, 29), "Boxing Day (observed)"),
        # Christmas Saturday 2027, Boxing Day Sunday: Monday 27 and Tuesday 28 are bank holidays.
        (GBP, date(2027, 12, 25), date(2027, 12, 29), "Boxing Day (observed)"),
        (GBP, date(2027, 12, 24), date(2027, 12, 24), "a business day in London"),
        # Good Friday 3 April 2026 and Easter Monday 6 April.
        (GBP, date(2026, 4, 3), date(2026, 4, 7), "Good Friday"),
        # New Year's Day 2028 is a Saturday: Monday 3 January is the bank holiday.
        (GBP, date(2028, 1, 1), date(2028, 1, 4), "New Year's Day (observed)"),
        (GBP, date(2026, 12, 31), date(2026, 12, 31), "year end, a Thursday"),
        # Juneteenth is not a UK holiday.
        (GBP, date(2026, 6, 19), date(2026, 6, 19), "a business day in London"),
        # Juneteenth Friday 19 June 2026; Saturday 19 June 2027 is observed on Friday 18 June.
        (USD, date(2026, 6, 19), date(2026, 6, 22), "Juneteenth National Independence Day"),
        (USD, date(2027, 6, 18), date(2027, 6, 21), "Juneteenth National Independence Day (observed)"),
        # Thanksgiving Thursday 26 November 2026: the Friday after is an early close, a business day.
        (USD, date(2026, 11, 26), date(2026, 11, 27), "Thanksgiving Day"),
        # Christmas Saturday 2027: SIFMA closes Friday 24 December.
        (USD, date(2027, 12, 24), date(2027, 12, 27), "Christmas Day (observed)"),
        # New Year's Day 2028, a Saturday: no Friday close on 31 December 2027 (nor at the Fed).
        (USD, date(2027, 12, 31), date(2027, 12, 31), "year end, a business day"),
        (USD, date(2028, 1, 1), date(2028, 1, 3), "Saturday"),
        # Good Friday: SIFMA recommended a full close in 2027, only an early close on 3 April 2026.
        (USD, date(2027, 3, 26), date(2027, 3, 29), "Good Friday"),
        (USD, date(2026, 4, 3), date(2026, 4, 3), "an early close only"),
        # Presidents' Day, Monday 16 February 2026, after a coupon date on Sunday 15 February.
        (USD, date(2026, 2, 15), date(2026, 2, 17), "Washington's Birthday"),
        # Boxing Day is not a US holiday.
        (USD, date(2026, 12, 28), date(2026, 12, 28), "a business day in New York"),
    ],
)
def test_payment_dates_roll_to_the_following_business_day(
    cal: PaymentCalendar, due: date, paid: date, why: str
) -> None:
    assert following_business_day(cal, due) == paid, why
    assert is_business_day(cal, paid)
    if paid != due and due.weekday() < 5:
        assert holiday_name(cal, due) is not None


def test_sifma_closes_on_every_federal_reserve_holiday() -> None:
    """The Fed's holidays are the federal ones, a Sunday holiday observed on the Monday and a Saturday
    one not observed at all (federalreserve.gov, "Holidays Observed by the Federal Reserve System");
    SIFMA's full closes cover every one of them from 2026 to 2035, so one USD calendar serves both."""
    federal = holidays.US(years=range(2026, 2036))
    fed = [d for d, name in federal.items() if d.weekday() < 4 or (d.weekday() == 4 and "observed" not in name)]
    assert len(fed) > 100
    assert [d for d in fed if is_business_day(USD, d)] == []


def test_the_stored_holiday_tables_are_the_pinned_packages() -> None:
    """`holiday_tables.json` is what the installed `holidays` computes, year by year (after upgrading
    the package: ``python -m sandbox.calendars``), and it is what the calendar answers from."""
    stored = json.loads(HOLIDAY_TABLES.read_text(encoding="utf-8"))
    assert stored["holidays_version"] == holidays.__version__
    assert stored == holiday_tables()
    assert len(stored["tables"]) == 2 * len(TABLE_YEARS)
    for cal in PaymentCalendar:
        for year in (TABLE_YEARS[0], 2026, 2028, TABLE_YEARS[-1]):
            assert {d: holiday_name(cal, d) for d in package_holidays(cal, year)} == package_holidays(cal, year)


@pytest.mark.parametrize(
    ("cal", "due", "paid"),
    [
        # Inside the stored years and the two either side of their last: Christmas Day 2075 is a
        # Wednesday; Christmas 2076 a Friday, Boxing Day a Saturday (observed Monday 28 December).
        (GBP, date(2075, 12, 25), date(2075, 12, 27)),
        (GBP, date(2076, 12, 25), date(2076, 12, 29)),
        # Independence Day 2076 is a Saturday: SIFMA closes on Friday 3 July, not on Monday 6 July.
        (USD, date(2076, 7, 3), date(2076, 7, 6)),
        # Boxing Day 2099 is a Saturday; 2100 (not a leap year) has Christmas on a Saturday too.
        (GBP, date(2099, 12, 25), date(2099, 12, 29)),
        (GBP, date(2100, 12, 25), date(2100, 12, 29)),
    ],
)
def test_years_past_the_stored_tables_come_from_the_package(cal: PaymentCalendar, due: date, paid: date) -> None:
    assert following_business_day(cal, due) == paid


def test_rolling_a_payment_date_imports_no_holiday_package() -> None:
    """The demo bond rolls its payment dates when `sandbox serve` loads it: on main that imported the
    `holidays` package (some 300 modules, 0.2 s of CPU at every start). The stored years need none."""
    code = (
        "import sys\n"
        "from datetime import date\n"
        "from sandbox.calendars import PaymentCalendar, following_business_day, holiday_name\n"
        "assert following_business_day(PaymentCalendar.GBP, date(2026, 12, 25)) == date(2026, 12, 29)\n"
        "assert holiday_name(PaymentCalendar.USD, date(2026, 11, 26)) == 'Thanksgiving Day'\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'holidays'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("day", "zone", "utc"),
    [
        # London: GMT until Sunday 29 March 2026, BST until Sunday 25 October.
        (date(2026, 3, 27), "Europe/London", datetime(2026, 3, 27, 17, tzinfo=UTC)),
        (date(2026, 3, 30), "Europe/London", datetime(2026, 3, 30, 16, tzinfo=UTC)),
        (date(2026, 10, 23), "Europe/London", datetime(2026, 10, 23, 16, tzinfo=UTC)),
        (date(2026, 10, 26), "Europe/London", datetime(2026, 10, 26, 17, tzinfo=UTC)),
        # New York: EST until Sunday 8 March 2026, EDT until Sunday 1 November.
        (date(2026, 3, 6), "America/New_York", datetime(2026, 3, 6, 22, tzinfo=UTC)),
        (date(2026, 3, 9), "America/New_York", datetime(2026, 3, 9, 21, tzinfo=UTC)),
        (date(2026, 10, 30), "America/New_York", datetime(2026, 10, 30, 21, tzinfo=UTC)),
        (date(2026, 11, 2), "America/New_York", datetime(2026, 11, 2, 22, tzinfo=UTC)),
        # Between the two clock changes New York is four hours behind London, not five.
        (date(2026, 3, 20), "America/New_York", datetime(2026, 3, 20, 21, tzinfo=UTC)),
        (date(2026, 3, 20), "Europe/London", datetime(2026, 3, 20, 17, tzinfo=UTC)),
        # A leap day.
        (date(2028, 2, 29), "Europe/London", datetime(2028, 2, 29, 17, tzinfo=UTC)),
    ],
)
def test_close_of_business_follows_the_zones_clock(day: date, zone: str, utc: datetime) -> None:
    assert close_of_business(day, time(17), zone) == utc
    assert record_instant(day, time(17), zone) == int(utc.timestamp())


def test_a_wall_clock_time_that_names_no_single_instant_is_refused() -> None:
    # 01:30 on 29 March 2026 never happens in London; on 25 October 2026 it happens twice.
    with pytest.raises(SandboxError, match="clock change"):
        close_of_business(date(2026, 3, 29), time(1, 30), "Europe/London")
    with pytest.raises(SandboxError, match="clock change"):
        close_of_business(date(2026, 10, 25), time(1, 30), "Europe/London")
    with pytest.raises(SandboxError, match="unknown time zone"):
        close_of_business(date(2026, 3, 27), time(17), "Europe/Lundon")


# ISDA, "EMU and market conventions: recent developments" (1998), section on the Actual/Actual day
# count fraction, ISMA ("ACT/ACT ICMA") column of its worked examples.
ISDA_ACT_ACT_ICMA_EXAMPLES = [
    # regular semi-annual period: exactly half a year
    (date(2003, 11, 1), date(2004, 5, 1), 2, False, Fraction(1, 2)),
    # short first period, annual coupons: 150 days of the notional year 1 Jul 1998 - 1 Jul 1999 (365)
    (date(1999, 2, 1), date(1999, 7, 1), 1, True, Fraction(150, 365)),
    # short first period (second period): regular
    (date(1999, 7, 1), date(2000, 7, 1), 1, False, Fraction(1)),
    # long first period, semi-annual: 153/(2 x 184) + 181/(2 x 181) = 0.915760869565
    (date(2002, 8, 15), date(2003, 7, 15), 2, True, Fraction(153, 368) + Fraction(1, 2)),
    # short final period, semi-annual: 152 days of the notional 30 Jan - 30 Jul 2000 (182) = 0.417582417582
    (date(2000, 1, 30), date(2000, 6, 30), 2, False, Fraction(152, 364)),
]


@pytest.mark.parametrize(("start", "end", "frequency", "first", "expected"), ISDA_ACT_ACT_ICMA_EXAMPLES)
def test_act_act_icma_matches_the_isda_worked_examples(
    start: date, end: date, frequency: int, first: bool, expected: Fraction
) -> None:
    assert actual_actual_icma(start, end, frequency, first=first) == expected


def test_a_gilt_pays_the_same_coupon_every_half_year() -> None:
    """4.25% on 100 pounds: 2.125 pounds each half-year whether it has 181 or 184 days (ACT/ACT ICMA),
    where ACT/365 Fixed would pay 2.107 and 2.142."""
    for start, end in [(date(2026, 1, 1), date(2026, 7, 1)), (date(2026, 7, 1), date(2027, 1, 1))]:
        assert 100 * Fraction(425, 10_000) * actual_actual_icma(start, end, 2, first=False) == Fraction(17, 8)


@pytest.mark.parametrize(
    ("start", "end", "us", "bond_basis"),
    [
        # The end-of-February rule (SIFMA): a bond paying on the last day of February and 31 August
        # accrues 180 days each half-year; the ISDA bond basis counts 183 and 177/178.
        (date(2007, 2, 28), date(2007, 8, 31), 180, 183),
        (date(2008, 2, 29), date(2008, 8, 31), 180, 182),
        (date(2007, 8, 31), date(2008, 2, 29), 179, 179),
        (date(2007, 2, 28), date(2008, 2, 29), 360, 361),
        (date(2008, 2, 29), date(2009, 2, 28), 360, 359),
        # Only the end of February is special: 28 February of a leap year is not its last day.
        (date(2008, 2, 28), date(2008, 8, 31), 183, 183),
        # Elsewhere the two agree (ISDA 2006 4.16(f) examples' shapes: D1 = 31, D2 = 31).
        (date(2026, 1, 31), date(2026, 7, 31), 180, 180),
        (date(2026, 1, 30), date(2026, 3, 31), 60, 60),
        (date(2026, 1, 15), date(2026, 3, 31), 76, 76),
    ],
)
def test_thirty_360_us_applies_the_end_of_february_rule(start: date, end: date, us: int, bond_basis: int) -> None:
    assert thirty_360_us(start, end) == Fraction(us, 360)
    assert thirty_360_bond_basis(start, end) == Fraction(bond_basis, 360)


def test_months_are_added_with_the_day_clamped() -> None:
    assert add_months(date(2026, 8, 31), -6) == date(2026, 2, 28)
    assert add_months(date(2027, 8, 31), -6) == date(2027, 2, 28)
    assert add_months(date(2028, 8, 31), -6) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
