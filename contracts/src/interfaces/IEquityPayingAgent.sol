// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title IEquityPayingAgent
/// @notice Events and custom errors of `EquityPayingAgent`.
interface IEquityPayingAgent {
    /// @notice The share class was set up (at construction).
    event ShareClassFixed(string shareClass, address indexed security, address indexed cash, uint256 parValue);
    /// @notice An N-for-1 split started on the token; par value per share is now
    /// `parValue / parValueDivisor` cash units.
    event ShareSplitStarted(uint256 ratio, uint256 parValue, uint256 parValueDivisor);

    error EquityEmptyShareClass();
    error EquityInvalidSplitRatio(uint256 ratio);
    /// @notice No dividend can be declared while a split is reaching the holders.
    error EquitySplitInProgress();
    /// @notice No split while a declared dividend's record date is still ahead: its record-date
    /// balances would mix pre- and post-split shares.
    error EquityRecordDatePending(uint256 recordDate, uint256 checkedAt);
}
