// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ICrossBorderClearance} from "../interfaces/ICrossBorderClearance.sol";

/// @title MockClearanceThief
/// @notice Test double of a settlement contract that tries to settle or withdraw a cross-border
/// clearance another contract requested. The token must refuse it. Not for settling.
contract MockClearanceThief {
    /// @notice Tries to settle clearance `id` on `token` as this contract.
    /// @dev Requirements: none (the token decides).
    function settle(ICrossBorderClearance token, uint256 id) external {
        token.settleCrossBorderClearance(id);
    }

    /// @notice Tries to withdraw clearance `id` on `token` as this contract.
    /// @dev Requirements: none (the token decides).
    function withdraw(ICrossBorderClearance token, uint256 id) external {
        token.withdrawCrossBorderClearance(id);
    }
}
