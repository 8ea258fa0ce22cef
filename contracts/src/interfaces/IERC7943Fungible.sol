// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title IERC7943Fungible
/// @notice ERC-7943 (uRWA) interface for fungible real-world-asset tokens: per-account send/receive
/// eligibility, an absolute frozen amount per account, and an enforcement transfer. Discoverable with
/// ERC-165 (`type(IERC7943Fungible).interfaceId`).
interface IERC7943Fungible is IERC165 {
    /// @notice Emitted when `amount` is moved from `from` to `to` by the enforcement power.
    event ForcedTransfer(address indexed from, address indexed to, uint256 amount);
    /// @notice Emitted when the frozen amount of `account` is set to `amount`.
    event Frozen(address indexed account, uint256 amount);

    error ERC7943CannotSend(address account);
    error ERC7943CannotReceive(address account);
    error ERC7943CannotTransfer(address from, address to, uint256 amount);
    error ERC7943InsufficientUnfrozenBalance(address account, uint256 amount, uint256 unfrozen);

    /// @notice Moves `amount` from `from` to `to` regardless of the sender-side rules.
    function forcedTransfer(address from, address to, uint256 amount) external returns (bool result);

    /// @notice Sets the absolute frozen amount of `account`.
    function setFrozenTokens(address account, uint256 amount) external returns (bool result);

    /// @notice Whether `account` may send at all now.
    function canSend(address account) external view returns (bool allowed);

    /// @notice Whether `account` may receive at all now.
    function canReceive(address account) external view returns (bool allowed);

    /// @notice The frozen amount of `account`.
    function getFrozenTokens(address account) external view returns (uint256 amount);

    /// @notice Whether `amount` may move from `from` to `to` now.
    function canTransfer(address from, address to, uint256 amount) external view returns (bool allowed);
}
