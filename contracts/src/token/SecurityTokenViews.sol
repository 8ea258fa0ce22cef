// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IOfferingRegistry} from "../interfaces/IOfferingRegistry.sol";
import {SecurityTokenBase} from "./SecurityTokenBase.sol";
import {TransferRules} from "./TransferRules.sol";

/// @title SecurityTokenViews
/// @notice Read-only views of `SecurityToken` that do not fit in the token's code: the token runs
/// them by `delegatecall` in its own storage, as part of `SecurityTokenCrossBorder` (through its
/// fallback). `canSend` and `canReceive`, which the token declares, run in `SecurityTokenModule`.
/// @dev Kept apart from the token because together they exceed the EIP-170 code-size limit.
abstract contract SecurityTokenViews is SecurityTokenBase {
    constructor() ERC20("", "") {}

    /// @notice Units of `wallet` frozen by regulators of `jurisdiction` (agents cannot unfreeze them).
    function regulatorFrozenTokens(address wallet, uint16 jurisdiction) external view returns (uint256) {
        return _regulatorFrozenBy[wallet][jurisdiction];
    }


    /// @notice Units of `wallet` escrowed by pending cross-border transfers.
    function escrowedTokens(address wallet) external view returns (uint256) {
        return _extra[wallet].reserved;
    }


    /// @notice Units of `wallet` still inside a Rule 144(d) holding period now, and when the oldest of
    /// them unlocks (0 when none is locked), as its offering registry's lots say.
    function lockedTokens(address wallet) external view returns (uint256 locked, uint256 nextUnlockAt) {
        if (block.timestamp >= _wallets[wallet].lockedUntil) return (0, 0);
        return IOfferingRegistry(_offeringRegistry).lockedTokens(wallet);
    }


    /// @notice The position of investor `identity` across all its wallets, as this token counts it.
    function investorBalance(address identity) external view returns (uint256) {
        IInvestorRegistry reg = _registry;
        address[] memory wallets = reg.walletsOf(identity);
        if (wallets.length == 0) return 0;
        (uint256 pos,,) = _position(reg, identity, uint8(wallets.length), wallets[0], _wallets[wallets[0]]);
        return pos;
    }


    /// @notice Holders of record counted per investor: total, UK, US, and those not accredited investors
    /// when they became holders, of any residence (12(g)(1)(A); the last output's name is historical).
    function holderCounts() external view returns (uint256 total, uint256 uk, uint256 us, uint256 usNonAccredited) {
        Counts memory n = _counts;
        return (n.holders, n.ukHolders, n.usHolders, n.usNonAccredited);
    }


    /// @notice The security's current rule parameters.
    function terms() external view returns (Terms memory) {
        return _currentTerms();
    }


    /// @notice Whether the home regulator has approved issuance, and the approved limit.
    function issuanceApproval() external view returns (bool approved, uint256 limit) {
        return (_config.flags & F_APPROVED != 0, _caps.issuanceLimit);
    }


    /// @notice Whether investors of `jurisdiction` may hold this security (in some category).
    function isJurisdictionAdmitted(uint16 jurisdiction) external view returns (bool) {
        return _minCategory(_config, jurisdiction) != 0;
    }


    /// @notice A cross-border transfer request.
    function crossBorderTransfer(uint256 id)
        external
        view
        returns (
            address from,
            address to,
            uint256 value,
            CrossBorderStatus status,
            uint256 deadline,
            bool fromApproved,
            bool toApproved
        )
    {
        CrossBorder memory x = _crossBorders[id];
        return (x.from, x.to, x.value, x.status, x.deadline, x.fromApproved, x.toApproved);
    }
}
