// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title IERC1404
/// @notice ERC-1404 (simple restricted token): the view pre-check both the security and the cash
/// tokens implement, which the DvP contract reads to record why a leg failed.
interface IERC1404 {
    /// @notice The restriction code that would refuse `value` from `from` to `to` now, 0 if none.
    function detectTransferRestriction(address from, address to, uint256 value) external view returns (uint8);

    /// @notice A sentence explaining `restrictionCode`.
    function messageForTransferRestriction(uint8 restrictionCode) external view returns (string memory);
}
