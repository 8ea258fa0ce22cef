// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title CivilDate
/// @notice Dates of the proleptic Gregorian calendar (the civil calendar, as Python's `datetime.date`)
/// and the day counts the bond paying agent uses, all in exact integer arithmetic.
/// Days are counted from 1970-01-01 (the Unix epoch, day 0); a Unix time falls on day
/// `timestamp / 86400` (UTC). Supported range: 1970-01-01 to 9999-12-31.
/// @dev `daysFromCivil` / `civilFromDays` are Howard Hinnant's algorithms ("chrono-Compatible
/// Low-Level Date Algorithms", 2013): the calendar is split into 400-year eras of 146,097 days whose
/// years start on 1 March, so the leap day is the last day of a year and no table is needed. Only
/// dates from the epoch on are accepted, so every quantity is non-negative and fits `uint256`.
library CivilDate {
    uint256 internal constant SECONDS_PER_DAY = 86_400;
    /// @dev Days from 0000-03-01 to 1970-01-01.
    uint256 private constant EPOCH_SHIFT = 719_468;

    /// @notice A (year, month, day) that is not a calendar date from 1970-01-01 to 9999-12-31.
    error CivilDateInvalid(uint256 year, uint256 month, uint256 day);

    /// @notice Whether `year` is a Gregorian leap year (divisible by 4, and not by 100 unless by 400).
    function isLeapYear(uint256 year) internal pure returns (bool) {
        return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    }

    /// @notice The number of days of `month` (1-12) in `year`.
    function daysInMonth(uint256 year, uint256 month) internal pure returns (uint256) {
        if (month == 2) return isLeapYear(year) ? 29 : 28;
        if (month == 4 || month == 6 || month == 9 || month == 11) return 30;
        return 31;
    }

    /// @notice Days from 1970-01-01 to the date (`year`, `month`, `day`).
    /// @dev Reverts with `CivilDateInvalid` unless the date exists and lies in 1970-9999.
    function daysFromCivil(uint256 year, uint256 month, uint256 day) internal pure returns (uint256) {
        if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
            revert CivilDateInvalid(year, month, day);
        }
        uint256 y = month <= 2 ? year - 1 : year; // years start on 1 March
        uint256 era = y / 400;
        uint256 yoe = y - era * 400; // [0, 399]
        uint256 doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1; // [0, 365]
        uint256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
        return era * 146_097 + doe - EPOCH_SHIFT;
    }

    /// @notice The date (`year`, `month`, `day`) that is `dayNumber` days after 1970-01-01.
    function civilFromDays(uint256 dayNumber) internal pure returns (uint256 year, uint256 month, uint256 day) {
        uint256 z = dayNumber + EPOCH_SHIFT;
        uint256 era = z / 146_097;
        uint256 doe = z - era * 146_097; // [0, 146096]
        uint256 yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        uint256 doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
        uint256 mp = (5 * doy + 2) / 153; // [0, 11], March = 0
        day = doy - (153 * mp + 2) / 5 + 1;
        month = mp < 10 ? mp + 3 : mp - 9;
        year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    }

    /// @notice The UTC calendar date of Unix time `timestamp`.
    function fromTimestamp(uint256 timestamp) internal pure returns (uint256 year, uint256 month, uint256 day) {
        return civilFromDays(timestamp / SECONDS_PER_DAY);
    }

    /// @notice The Unix time of 00:00 UTC on (`year`, `month`, `day`).
    function toTimestamp(uint256 year, uint256 month, uint256 day) internal pure returns (uint256) {
        return daysFromCivil(year, month, day) * SECONDS_PER_DAY;
    }

    /// @notice Actual days from the date of `start` to the date of `end` (UTC), for ACT/365 Fixed.
    /// @dev Requirements: start <= end.
    function actualDays(uint256 start, uint256 end) internal pure returns (uint256) {
        return end / SECONDS_PER_DAY - start / SECONDS_PER_DAY;
    }

    /// @notice The 30/360 day count from `start` to `end` under the "30/360 US bond basis" (ISDA 2006
    /// Definitions 4.16(f), "30/360, 360/360, Bond Basis"): D1 = 31 becomes 30; D2 = 31 becomes 30
    /// only when D1 (so adjusted) is 30. No end-of-February adjustment.
    /// Days = 360 (Y2 - Y1) + 30 (M2 - M1) + (D2 - D1).
    /// @dev Requirements: start <= end.
    function days30360BondBasis(uint256 start, uint256 end) internal pure returns (uint256) {
        (uint256 y1, uint256 m1, uint256 d1) = fromTimestamp(start);
        (uint256 y2, uint256 m2, uint256 d2) = fromTimestamp(end);
        if (d1 == 31) d1 = 30;
        if (d2 == 31 && d1 == 30) d2 = 30;
        return _thirty(y1, m1, d1, y2, m2, d2);
    }

    /// @notice The 30E/360 (Eurobond basis, ISDA 2006 Definitions 4.16(g)) day count from `start` to
    /// `end`: D1 = 31 becomes 30 and D2 = 31 becomes 30. Days = 360 (Y2 - Y1) + 30 (M2 - M1) + (D2 - D1).
    /// @dev Requirements: start <= end.
    function days30E360(uint256 start, uint256 end) internal pure returns (uint256) {
        (uint256 y1, uint256 m1, uint256 d1) = fromTimestamp(start);
        (uint256 y2, uint256 m2, uint256 d2) = fromTimestamp(end);
        if (d1 == 31) d1 = 30;
        if (d2 == 31) d2 = 30;
        return _thirty(y1, m1, d1, y2, m2, d2);
    }

    /// @notice The 30/360 day count from `start` to `end` as SIFMA states it for US corporate and
    /// agency bonds (Standard Securities Calculation Methods), with the end-of-February rule, in this
    /// order: D1 and D2 both the last day of February → D2 = 30; D1 the last day of February → D1 = 30;
    /// D2 = 31 and D1 ≥ 30 → D2 = 30; D1 = 31 → D1 = 30.
    /// @dev Requirements: start <= end.
    function days30360US(uint256 start, uint256 end) internal pure returns (uint256) {
        (uint256 y1, uint256 m1, uint256 d1) = fromTimestamp(start);
        (uint256 y2, uint256 m2, uint256 d2) = fromTimestamp(end);
        bool eom1 = m1 == 2 && d1 == daysInMonth(y1, 2);
        if (eom1 && m2 == 2 && d2 == daysInMonth(y2, 2)) d2 = 30;
        if (eom1) d1 = 30;
        if (d2 == 31 && d1 >= 30) d2 = 30;
        if (d1 == 31) d1 = 30;
        return _thirty(y1, m1, d1, y2, m2, d2);
    }

    /// @notice Day number of the date `months` calendar months before (`back`) or after day number
    /// `dayNumber`, the day of month clamped to the month's length (31 August - 6 months = 28/29 Feb).
    function addMonths(uint256 dayNumber, uint256 months, bool back) internal pure returns (uint256) {
        (uint256 y, uint256 m, uint256 d) = civilFromDays(dayNumber);
        uint256 index = y * 12 + (m - 1);
        index = back ? index - months : index + months;
        y = index / 12;
        m = index % 12 + 1;
        uint256 last = daysInMonth(y, m);
        return daysFromCivil(y, m, d < last ? d : last);
    }

    /// @notice The ACT/ACT ICMA (ICMA Rule 251) year fraction of the coupon period from `start` to
    /// `end` of a bond paying `frequency` coupons a year, as `numerator / denominator` in lowest
    /// terms. The period is cut by notional coupon dates 12/frequency months apart, counted back from
    /// `end` for the first period (`first`: an odd first period ends on a real coupon date) and forward
    /// from `start` otherwise (an odd last period); each piece counts its actual days over `frequency`
    /// times the days of its notional period. A regular period is exactly 1/frequency.
    /// @dev Requirements: start < end; frequency is 1, 2, 4 or 12.
    function actualActualICMA(uint256 start, uint256 end, uint256 frequency, bool first)
        internal
        pure
        returns (uint256 numerator, uint256 denominator)
    {
        uint256 s = start / SECONDS_PER_DAY;
        uint256 e = end / SECONDS_PER_DAY;
        uint256 step = 12 / frequency;
        numerator = 0;
        denominator = 1;
        uint256 k = 0;
        if (first) {
            uint256 hi = e;
            while (hi > s) {
                ++k;
                uint256 lo = addMonths(e, step * k, true);
                (numerator, denominator) = _addFraction(numerator, denominator, hi - (lo > s ? lo : s), frequency * (hi - lo));
                hi = lo;
            }
        } else {
            uint256 lo = s;
            while (lo < e) {
                ++k;
                uint256 hi = addMonths(s, step * k, false);
                (numerator, denominator) = _addFraction(numerator, denominator, (hi < e ? hi : e) - lo, frequency * (hi - lo));
                lo = hi;
            }
        }
    }

    /// @dev a/b + c/d in lowest terms.
    function _addFraction(uint256 a, uint256 b, uint256 c, uint256 d) private pure returns (uint256, uint256) {
        uint256 n = a * d + c * b;
        uint256 m = b * d;
        uint256 g = _gcd(n, m);
        return (n / g, m / g);
    }

    function _gcd(uint256 a, uint256 b) private pure returns (uint256) {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    /// @dev 360 (Y2 - Y1) + 30 (M2 - M1) + (D2 - D1), computed without negative intermediates.
    function _thirty(uint256 y1, uint256 m1, uint256 d1, uint256 y2, uint256 m2, uint256 d2)
        private
        pure
        returns (uint256)
    {
        return (360 * y2 + 30 * m2 + d2) - (360 * y1 + 30 * m1 + d1);
    }
}
