"""Dates the corporate actions turn on: business days, record instants at close of business, and the
day counts of bond coupons.

- **Payment dates** roll to the following business day of the payment currency's calendar
  ("following" business-day convention, ISDA 2006 Definitions 4.12(a)): GBP by the bank holidays of
  England and Wales (Banking and Financial Dealings Act 1971, schedule 1, and the dates proclaimed each
  year: gov.uk/bank-holidays); USD by SIFMA's full-close recommendations for US dollar fixed income
  (sifma.org "Holiday Schedule"), which close the bond market on every Federal Reserve holiday
  (federalreserve.gov "Holidays Observed by the Federal Reserve System") and on most Good Fridays.
  The tables are the PyPI package `holidays` (pinned in pyproject.toml): `UnitedKingdom(subdiv="ENG")`
  (= `country_holidays("GB", subdiv="ENG")`) and `SIFMA` (= `financial_holidays("XSIF")`); Saturdays
  and Sundays are never business days. For the years `TABLE_YEARS` they are read from
  `holiday_tables.json`, written from the pinned package by ``python -m sandbox.calendars`` (and checked
  equal to it by tests/test_calendars.py): importing the package loads some 300 modules (about 0.2 s of
  CPU) at every start of `sandbox serve`, whose demo bond rolls its payment dates at load.
- **Record instants**: holders of record are those on the register at close of business on the record
  date, a stated wall-clock time in the security's time zone (e.g. 17:00 Europe/London, 17:00
  America/New_York), converted to a Unix time with the IANA time zone database (`zoneinfo`), so a
  record date either side of a clock change gets the right UTC instant.
- **Day counts** as exact fractions of a year, mirroring `CivilDate.sol` / `BondPayingAgent.sol`
  (the chain computes the coupons; these give the same answers off chain for previews and views):
  ACT/365 Fixed; 30/360 US bond basis and 30E/360 (ISDA 2006 4.16(f), (g)); 30/360 US as SIFMA states
  it, with the end-of-February rule (SIFMA Standard Securities Calculation Methods); ACT/ACT ICMA
  (ICMA Rule 251; ISDA, "The Actual/Actual Day Count Fraction", 1999), under which a regular period of
  a bond paying `frequency` coupons a year is exactly 1/frequency, so a gilt pays fixed half-yearly
  amounts, and odd first or last periods are counted against their notional (quasi-coupon) periods.
"""

from __future__ import annotations

import calendar as _calendar
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.errors import SandboxError

if TYPE_CHECKING:
    from holidays import HolidayBase

__all__ = [
    "PaymentCalendar",
    "actual_365_fixed",
    "actual_actual_icma",
    "add_months",
    "close_of_business",
    "following_business_day",
    "holiday_name",
    "is_business_day",
    "record_instant",
    "thirty_360_bond_basis",
    "thirty_360_us",
    "thirty_e_360",
]


class PaymentCalendar(StrEnum):
    """The business-day calendar of a payment currency."""

    #: Bank holidays of England and Wales.
    GBP = "GBP"
    #: SIFMA's full closes of the US dollar bond market (a superset of the Federal Reserve's holidays).
    USD = "USD"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: Final = {
    PaymentCalendar.GBP: "bank holidays of England and Wales",
    PaymentCalendar.USD: "SIFMA full closes of the US dollar bond market",
}


#: The years whose holidays are read from `HOLIDAY_TABLES` rather than computed by the package.
TABLE_YEARS: Final = range(2000, 2076)
#: The package's tables for `TABLE_YEARS`, by "<calendar> <year>": [ISO date, name] pairs.
HOLIDAY_TABLES: Final = Path(__file__).with_name("holiday_tables.json")


@cache
def _holidays_of(cal: PaymentCalendar, year: int) -> dict[date, str]:
    if year in TABLE_YEARS:
        return {date.fromisoformat(day): name for day, name in _tables()["tables"][f"{cal.value} {year}"]}
    return package_holidays(cal, year)


@cache
def _tables() -> dict[str, Any]:
    tables: dict[str, Any] = json.loads(HOLIDAY_TABLES.read_text(encoding="utf-8"))
    return tables


def package_holidays(cal: PaymentCalendar, year: int) -> dict[date, str]:
    """`cal`'s holidays in `year` as the `holidays` package computes them (imported on first use)."""
    table: HolidayBase
    if cal is PaymentCalendar.GBP:
        from holidays.countries.united_kingdom import UnitedKingdom  # noqa: PLC0415

        table = UnitedKingdom(subdiv="ENG", years=year)  # type: ignore[no-untyped-call]
    else:
        from holidays.financial.sifma import SIFMA  # noqa: PLC0415

        table = SIFMA(years=year)  # type: ignore[no-untyped-call]
    return dict(table.items())


def holiday_tables() -> dict[str, Any]:
    """What `HOLIDAY_TABLES` holds: the package's version and its tables for `TABLE_YEARS`."""
    from holidays.version import __version__  # noqa: PLC0415

    return {
        "holidays_version": __version__,
        "tables": {
            f"{cal.value} {year}": [
                [day.isoformat(), name] for day, name in sorted(package_holidays(cal, year).items())
            ]
            for cal in PaymentCalendar
            for year in TABLE_YEARS
        },
    }


def holiday_name(cal: PaymentCalendar, day: date) -> str | None:
    """The holiday `day` is in `cal` ("Boxing Day (observed)", ...), else None (weekends are not named)."""
    return _holidays_of(PaymentCalendar(cal), day.year).get(day)


def is_business_day(cal: PaymentCalendar, day: date) -> bool:
    """Whether payments settle in `cal`'s currency on `day`: a weekday that is not a holiday."""
    return day.weekday() < 5 and holiday_name(cal, day) is None


def following_business_day(cal: PaymentCalendar, day: date) -> date:
    """`day` if it is a business day, else the first business day after it (the "following" rule)."""
    while not is_business_day(cal, day):
        day += timedelta(days=1)
    return day


def close_of_business(day: date, at: time, zone: str) -> datetime:
    """The instant (UTC) of wall-clock time `at` on `day` in IANA time zone `zone`.

    Raises `SandboxError` for an unknown zone, or a wall-clock time the zone skips or repeats that day
    (a clock change), which cannot name one instant."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SandboxError(f"unknown time zone {zone!r} (an IANA name such as Europe/London)") from None
    local = datetime.combine(day, at, tz)
    other = local.replace(fold=1)
    if local.utcoffset() != other.utcoffset():
        raise SandboxError(f"{day} {at} does not name one instant in {zone} (a clock change)")
    return local.astimezone(UTC)


def record_instant(day: date, at: time, zone: str) -> int:
    """Unix time of close of business (`at` in `zone`) on record date `day`: the last second whose
    register counts. (The token's `balanceOfAt(wallet, t)` is the balance at the end of second t, so
    a transfer mined at t itself is still on the register of record.)"""
    return int(close_of_business(day, at, zone).timestamp())


# ---------------------------------------------------------------------------------------- day counts


def _thirty(d1: date, day1: int, d2: date, day2: int) -> int:
    return 360 * (d2.year - d1.year) + 30 * (d2.month - d1.month) + (day2 - day1)


def _last_of_february(d: date) -> bool:
    return d.month == 2 and d.day == _calendar.monthrange(d.year, 2)[1]


def actual_365_fixed(start: date, end: date) -> Fraction:
    """ACT/365 Fixed (ISDA 2006 4.16(d)): actual days over 365."""
    return Fraction((end - start).days, 365)


def thirty_360_bond_basis(start: date, end: date) -> Fraction:
    """30/360 US bond basis (ISDA 2006 4.16(f)): D1 = 31 → 30; D2 = 31 → 30 if D1 (so adjusted) is 30."""
    day1, day2 = min(start.day, 30), end.day
    if day2 == 31 and day1 == 30:
        day2 = 30
    return Fraction(_thirty(start, day1, end, day2), 360)


def thirty_e_360(start: date, end: date) -> Fraction:
    """30E/360 (ISDA 2006 4.16(g)): both day-31s become 30."""
    return Fraction(_thirty(start, min(start.day, 30), end, min(end.day, 30)), 360)


def thirty_360_us(start: date, end: date) -> Fraction:
    """30/360 as SIFMA states it for US corporate and agency bonds (Standard Securities Calculation
    Methods), with the end-of-February rule, applied in this order:
    1. D1 and D2 both the last day of February → D2 = 30;
    2. D1 the last day of February → D1 = 30;
    3. D2 = 31 and D1 is 30 or 31 → D2 = 30;
    4. D1 = 31 → D1 = 30."""
    day1, day2 = start.day, end.day
    if _last_of_february(start) and _last_of_february(end):
        day2 = 30
    if _last_of_february(start):
        day1 = 30
    if day2 == 31 and day1 >= 30:
        day2 = 30
    if day1 == 31:
        day1 = 30
    return Fraction(_thirty(start, day1, end, day2), 360)


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months, the day clamped to the month's length (31 Aug - 6
    months = 28 or 29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, _calendar.monthrange(year, month + 1)[1]))


def actual_actual_icma(start: date, end: date, frequency: int, *, first: bool) -> Fraction:
    """ACT/ACT ICMA (ICMA Rule 251.1(iii)) year fraction of the coupon period [start, end) of a bond
    paying `frequency` coupons a year.

    The period is cut by notional coupon dates spaced 12/frequency months: counted back from `end` for
    the first period (`first`: an odd first period, short or long, ends on a real coupon date) and
    forward from `start` otherwise (an odd last period). Each piece counts its actual days over
    `frequency` times the days of the notional period it lies in; a regular period is exactly 1/frequency.
    """
    if frequency not in (1, 2, 4, 12):
        raise SandboxError(f"ACT/ACT ICMA needs 1, 2, 4 or 12 coupons a year, not {frequency}")
    if end <= start:
        raise SandboxError(f"the period {start} to {end} is empty")
    step = 12 // frequency
    total = Fraction(0)
    k = 0
    if first:
        # Walk back from the first coupon date until the notional period holds the start.
        hi = end
        while hi > start:
            k += 1
            lo = add_months(end, -step * k)
            total += Fraction((hi - max(lo, start)).days, frequency * (hi - lo).days)
            hi = lo
    else:
        lo = start
        while lo < end:
            k += 1
            hi = add_months(start, step * k)
            total += Fraction((min(hi, end) - lo).days, frequency * (hi - lo).days)
            lo = hi
    return total


#: Day counts by the names the scenarios use.
DAY_COUNT_FUNCTIONS: Final[dict[str, Callable[[date, date], Fraction]]] = {
    "30/360": thirty_360_bond_basis,
    "30E/360": thirty_e_360,
    "30/360 US": thirty_360_us,
    "ACT/365": actual_365_fixed,
}


if __name__ == "__main__":  # python -m sandbox.calendars: rewrite the tables after upgrading `holidays`
    document = holiday_tables()
    rows = ",\n".join(f"{json.dumps(key)}: {json.dumps(days)}" for key, days in document["tables"].items())
    version = json.dumps(document["holidays_version"])
    HOLIDAY_TABLES.write_text(f'{{"holidays_version": {version}, "tables": {{\n{rows}\n}}}}\n', encoding="utf-8")
    sys.stdout.write(f"wrote {HOLIDAY_TABLES}\n")
