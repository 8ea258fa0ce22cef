// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {CivilDate} from "../corporate/CivilDate.sol";

/// @title CivilDateHarness
/// @notice Exposes the `CivilDate` library's internal functions for the tests (checked against
/// Python's `datetime` over many dates). Not part of the sandbox's deployments.
contract CivilDateHarness {
    /// @notice `CivilDate.daysFromCivil`.
    function daysFromCivil(uint256 year, uint256 month, uint256 day) external pure returns (uint256) {
        return CivilDate.daysFromCivil(year, month, day);
    }

    /// @notice `CivilDate.civilFromDays`.
    function civilFromDays(uint256 dayNumber) external pure returns (uint256, uint256, uint256) {
        return CivilDate.civilFromDays(dayNumber);
    }

    /// @notice `CivilDate.days30360BondBasis`.
    function days30360BondBasis(uint256 start, uint256 end) external pure returns (uint256) {
        return CivilDate.days30360BondBasis(start, end);
    }

    /// @notice `CivilDate.days30E360`.
    function days30E360(uint256 start, uint256 end) external pure returns (uint256) {
        return CivilDate.days30E360(start, end);
    }

    /// @notice `CivilDate.actualDays`.
    function actualDays(uint256 start, uint256 end) external pure returns (uint256) {
        return CivilDate.actualDays(start, end);
    }

    /// @notice Many `civilFromDays` results in one call: dates for `count` day numbers from `first`
    /// in steps of `step`, each packed as year * 10000 + month * 100 + day.
    function civilFromDaysRange(uint256 first, uint256 step, uint256 count) external pure returns (uint256[] memory out) {
        out = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            (uint256 y, uint256 m, uint256 d) = CivilDate.civilFromDays(first + i * step);
            out[i] = y * 10_000 + m * 100 + d;
        }
    }
}
