"""The paying agents' date library (`CivilDate.sol`) against Python's `datetime`: civil dates to day
numbers and back over the whole supported range, and the 30/360 and ACT/365 day counts."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.chain.factory import in_process_chain
from sandbox.contracts import ContractFacade
from sandbox.errors import ContractReverted
from tests.contracts.corporate_world import days_30e360, days_30360_bond_basis

EPOCH = dt.date(1970, 1, 1)
LAST = dt.date(9999, 12, 31)


class CivilDateHarness(ContractFacade):
    artifact_name = "CivilDateHarness"

    def days_from_civil(self, year: int, month: int, day: int) -> int:
        return int(self._read("daysFromCivil", year, month, day))

    def civil_from_days(self, day_number: int) -> tuple[int, int, int]:
        y, m, d = self._read("civilFromDays", day_number)
        return int(y), int(m), int(d)

    def civil_from_days_range(self, first: int, step: int, count: int) -> list[int]:
        return [int(v) for v in self._read("civilFromDaysRange", first, step, count)]

    def days_30360_bond_basis(self, start: int, end: int) -> int:
        return int(self._read("days30360BondBasis", start, end))

    def days_30e360(self, start: int, end: int) -> int:
        return int(self._read("days30E360", start, end))

    def actual_days(self, start: int, end: int) -> int:
        return int(self._read("actualDays", start, end))


@pytest.fixture(scope="module")
def harness() -> CivilDateHarness:
    """The harness on a chain of its own (it is pure: nothing else needs to be there)."""
    chain = in_process_chain(num_accounts=1)
    return CivilDateHarness.deploy_contract(chain, [], sender=chain.accounts[0].address)


def _packed(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _unix(day: dt.date) -> int:
    return (day - EPOCH).days * 86_400


def _check_range(harness: CivilDateHarness, first: dt.date, step: int, count: int) -> None:
    start = (first - EPOCH).days
    got = harness.civil_from_days_range(start, step, count)
    assert got == [_packed(first + dt.timedelta(days=i * step)) for i in range(count)]


@pytest.mark.slow
def test_a_full_400_year_cycle_maps_back_and_forth(harness: CivilDateHarness) -> None:
    """Every 97th day from 1970 to 2370 (a full Gregorian cycle: 97 is prime to 7, 30, 31 and 365,
    so the samples fall on every month, weekday and day of the month), then every single day around
    the century leap rules (1900s to 2000 is leap; 2100 is not)."""
    for chunk in range(0, 146_097 + 365, 97 * 500):
        _check_range(harness, EPOCH + dt.timedelta(days=chunk), 97, 500)
    _check_range(harness, dt.date(1999, 12, 1), 1, 500)
    _check_range(harness, dt.date(2099, 12, 1), 1, 150)


def test_the_far_end_of_the_range(harness: CivilDateHarness) -> None:
    last = (LAST - EPOCH).days
    _check_range(harness, LAST - dt.timedelta(days=199), 1, 200)
    assert harness.days_from_civil(9999, 12, 31) == last


@settings(max_examples=100, deadline=None)
@given(day=st.dates(min_value=EPOCH, max_value=LAST))
def test_days_from_civil_matches_datetime(harness: CivilDateHarness, day: dt.date) -> None:
    number = (day - EPOCH).days
    assert harness.days_from_civil(day.year, day.month, day.day) == number
    assert harness.civil_from_days(number) == (day.year, day.month, day.day)


@pytest.mark.parametrize(
    ("year", "month", "day"),
    [(2025, 2, 29), (2100, 2, 29), (2026, 4, 31), (2026, 13, 1), (2026, 0, 1), (2026, 1, 0), (1969, 12, 31)],
)
def test_dates_that_do_not_exist_are_refused(harness: CivilDateHarness, year: int, month: int, day: int) -> None:
    with pytest.raises(ContractReverted) as refused:
        harness.days_from_civil(year, month, day)
    assert refused.value.error_name == "CivilDateInvalid"
    assert refused.value.args_by_name == {"year": year, "month": month, "day": day}


def test_leap_days_of_the_century_rules(harness: CivilDateHarness) -> None:
    for year in (2000, 2024, 2400):
        assert harness.days_from_civil(year, 2, 29) == (dt.date(year, 2, 29) - EPOCH).days


month_ends = (
    st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2200, 12, 31))
    .map(lambda d: d.replace(day=28) + dt.timedelta(days=4))
    .map(lambda d: d - dt.timedelta(days=d.day))
)  # the last day of the month


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(
    start=st.one_of(st.dates(min_value=EPOCH, max_value=dt.date(2200, 1, 1)), month_ends),
    length=st.integers(min_value=0, max_value=3_700),
    seconds=st.integers(min_value=0, max_value=86_399),
)
def test_day_counts_match_python(harness: CivilDateHarness, start: dt.date, length: int, seconds: int) -> None:
    """30/360 bond basis, 30E/360 and actual days over random periods (month ends weighted in), with
    a time of day that must not matter."""
    end = start + dt.timedelta(days=length)
    a, b = _unix(start) + seconds, _unix(end) + (86_399 - seconds)
    assert harness.days_30360_bond_basis(a, b) == days_30360_bond_basis(start, end)
    assert harness.days_30e360(a, b) == days_30e360(start, end)
    assert harness.actual_days(a, b) == length


@pytest.mark.parametrize(
    ("start", "end", "bond_basis", "eurobond"),
    [
        (dt.date(2026, 1, 31), dt.date(2026, 7, 31), 180, 180),
        (dt.date(2026, 1, 30), dt.date(2026, 7, 31), 180, 180),
        (dt.date(2026, 1, 29), dt.date(2026, 7, 31), 182, 181),  # D1 < 30: D2 stays 31 under bond basis
        (dt.date(2026, 2, 28), dt.date(2026, 8, 31), 183, 182),  # no end-of-February rule in either
        (dt.date(2028, 2, 29), dt.date(2028, 8, 31), 182, 181),
        (dt.date(2026, 12, 31), dt.date(2027, 2, 28), 58, 58),
    ],
)
def test_day_count_worked_examples(
    harness: CivilDateHarness, start: dt.date, end: dt.date, bond_basis: int, eurobond: int
) -> None:
    assert harness.days_30360_bond_basis(_unix(start), _unix(end)) == bond_basis == days_30360_bond_basis(start, end)
    assert harness.days_30e360(_unix(start), _unix(end)) == eurobond == days_30e360(start, end)
