// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title IRecordDateToken
/// @notice The record-date and split powers of the sandbox security token that the paying agents
/// (`contracts/src/corporate/`) rely on: balances as they stood at a record date, and an N-for-1
/// share split run in bounded batches.
interface IRecordDateToken {
    /// @notice Switches record-date bookkeeping on (only while the supply is zero).
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE on the token; total supply is zero.
    function enableRecordDates() external;

    /// @notice Whether record-date bookkeeping is on.
    function recordDatesEnabled() external view returns (bool);

    /// @notice Schedules `recordDate` (a Unix time in the future): balances as they stand at that
    /// time stay readable afterwards through `balanceOfAt` / `totalSupplyAt`.
    /// @dev Requirements: caller has AGENT_ROLE on the token; `recordDate` is in the future; the
    /// token keeps at most 65,535 record dates (`RecordDateLimitReached`).
    function scheduleRecordDate(uint256 recordDate) external;

    /// @notice `wallet`'s balance at the scheduled `recordDate`.
    /// @dev Requirements: `recordDate` has passed.
    function balanceOfAt(address wallet, uint256 recordDate) external view returns (uint256);

    /// @notice The total supply at the scheduled `recordDate`.
    /// @dev Requirements: `recordDate` has passed.
    function totalSupplyAt(uint256 recordDate) external view returns (uint256);

    /// @notice Starts an N-for-1 split: every unit becomes `ratio` units, wallet by wallet.
    /// @dev Requirements: as the token states (an agent or admin power).
    function startSplit(uint256 ratio) external;

    /// @notice Applies the split in progress to `wallets` (a bounded batch).
    /// @dev Requirements: a split is in progress; as the token states.
    function splitBatch(address[] calldata wallets) external;

    /// @notice Whether a split has started and not yet reached every holder, its ratio and the
    /// pre-split units not yet split.
    function splitInProgress() external view returns (bool inProgress, uint256 ratio, uint256 unprocessedSupply);
}
