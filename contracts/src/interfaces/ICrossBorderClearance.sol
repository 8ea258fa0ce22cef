// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ISecurityToken} from "./ISecurityToken.sol";

/// @title ICrossBorderClearance
/// @notice What a settlement contract calls on a security token to have a cross-border trade cleared
/// by both regulators before it settles (`SecurityToken`, run by `SecurityTokenCrossBorder`): it
/// opens a clearance for (seller, buyer, quantity), the regulators approve or reject it as any
/// cross-border request, and only the settlement contract that opened it may settle or withdraw it.
interface ICrossBorderClearance {
    /// @notice Opens a clearance for `value` units from `from` to `to`, for the caller's trade
    /// `tradeId`; the units are escrowed in `from`'s wallet.
    /// @dev Requirements: `from` has approved the caller for `value`; every rule but the
    /// cross-border one allows the transfer now; the parties are in different jurisdictions.
    function requestCrossBorderClearance(address from, address to, uint256 value, uint96 tradeId)
        external
        returns (uint256 id);

    /// @notice Settles clearance `id` (every rule but the cross-border one re-checked).
    /// @dev Requirements: caller requested it; it is Cleared and within its deadline.
    function settleCrossBorderClearance(uint256 id) external;

    /// @notice Gives up clearance `id`; the escrowed units are released.
    /// @dev Requirements: caller requested it; it is pending or cleared.
    function withdrawCrossBorderClearance(uint256 id) external;

    /// @notice Closes request `id` after its deadline; the escrowed units are released.
    /// @dev Requirements: it is pending or cleared and its deadline has passed.
    function expireCrossBorderTransfer(uint256 id) external;

    /// @notice A cross-border request (a clearance is one).
    function crossBorderTransfer(uint256 id)
        external
        view
        returns (
            address from,
            address to,
            uint256 value,
            ISecurityToken.CrossBorderStatus status,
            uint256 deadline,
            bool fromApproved,
            bool toApproved
        );
}
