// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ISecurityToken} from "../interfaces/ISecurityToken.sol";
import {IERC7943Fungible} from "../interfaces/IERC7943Fungible.sol";
import {TransferRules} from "../token/TransferRules.sol";

/// @title SettlementCodes
/// @notice The DvP contract's own failure codes (0xA0-0xAF): what no token's ERC-1404 pre-check
/// reports (allowance, balance, a leg that did not deliver) and trade-state failures in a batch.
/// A failure raised by a token's rule is recorded with that token's own code instead.
library SettlementCodes {
    uint8 internal constant SUCCESS = 0;
    uint8 internal constant SELLER_ALLOWANCE = 0xA1;
    uint8 internal constant SELLER_BALANCE = 0xA2;
    uint8 internal constant BUYER_ALLOWANCE = 0xA3;
    uint8 internal constant BUYER_BALANCE = 0xA4;
    uint8 internal constant NOT_DELIVERED = 0xA5;
    uint8 internal constant NOT_AFFIRMED = 0xA8;
    uint8 internal constant EXPIRED = 0xA9;
    uint8 internal constant AWAITING_CLEARANCE = 0xAA;
    uint8 internal constant LEG_REVERTED = 0xAF;

    /// @notice "NAME: sentence" for a DvP code, or "UNKNOWN" (token codes are explained by the token).
    function message(uint8 code) internal pure returns (string memory) {
        if (code == SUCCESS) return "SUCCESS: the trade settled";
        if (code == SELLER_ALLOWANCE) {
            return "DVP_SELLER_ALLOWANCE: the seller has not approved the DvP contract for the quantity of the security";
        }
        if (code == SELLER_BALANCE) return "DVP_SELLER_BALANCE: the seller does not hold the quantity of the security";
        if (code == BUYER_ALLOWANCE) {
            return "DVP_BUYER_ALLOWANCE: the buyer has not approved the DvP contract for the cash amount";
        }
        if (code == BUYER_BALANCE) return "DVP_BUYER_BALANCE: the buyer does not hold the cash amount";
        if (code == NOT_DELIVERED) {
            return "DVP_NOT_DELIVERED: the token reported success but the receiver's balance did not grow by the amount";
        }
        if (code == NOT_AFFIRMED) return "DVP_NOT_AFFIRMED: the trade is not in the affirmed state";
        if (code == EXPIRED) return "DVP_EXPIRED: the trade's settlement deadline has passed";
        if (code == AWAITING_CLEARANCE) {
            return "DVP_AWAITING_CLEARANCE: the trade's cross-border clearance awaits the approval of both regulators";
        }
        if (code == LEG_REVERTED) {
            return "DVP_LEG_REVERTED: a leg reverted for a reason its token's pre-check does not report";
        }
        return "UNKNOWN: the DvP contract defines no such code (ask the failing token)";
    }

    /// @notice The rulebook code of a security token's revert (`reason` is its revert data): the code
    /// of the rule whose custom error it is, SELLER_ALLOWANCE for an allowance too small, else
    /// LEG_REVERTED. Used where no pre-check can tell (settling a clearance releases escrowed units,
    /// which `detectTransferRestriction` would still count).
    function ofSecurityTokenError(bytes memory reason) internal pure returns (uint8) {
        if (reason.length < 4) return LEG_REVERTED;
        bytes4 e = bytes4(reason);
        if (e == ISecurityToken.TransferPaused.selector) return TransferRules.PAUSED;
        if (e == ISecurityToken.SenderFrozen.selector) return TransferRules.SENDER_FROZEN;
        if (e == ISecurityToken.ReceiverFrozen.selector) return TransferRules.RECEIVER_FROZEN;
        if (e == IERC7943Fungible.ERC7943InsufficientUnfrozenBalance.selector) {
            return TransferRules.INSUFFICIENT_UNFROZEN_BALANCE;
        }
        if (e == ISecurityToken.SenderNotRegistered.selector) return TransferRules.SENDER_NOT_REGISTERED;
        if (e == ISecurityToken.ReceiverNotRegistered.selector) return TransferRules.RECEIVER_NOT_REGISTERED;
        if (e == ISecurityToken.SenderSuspended.selector) return TransferRules.SENDER_SUSPENDED;
        if (e == ISecurityToken.ReceiverSuspended.selector) return TransferRules.RECEIVER_SUSPENDED;
        if (e == ISecurityToken.SenderSanctioned.selector) return TransferRules.SENDER_SANCTIONED;
        if (e == ISecurityToken.ReceiverSanctioned.selector) return TransferRules.RECEIVER_SANCTIONED;
        if (e == ISecurityToken.SenderKycExpired.selector) return TransferRules.SENDER_KYC_EXPIRED;
        if (e == ISecurityToken.ReceiverKycExpired.selector) return TransferRules.RECEIVER_KYC_EXPIRED;
        if (e == ISecurityToken.JurisdictionNotAdmitted.selector) return TransferRules.JURISDICTION_NOT_ADMITTED;
        if (e == ISecurityToken.CategoryNotAdmitted.selector) return TransferRules.CATEGORY_NOT_ADMITTED;
        if (e == ISecurityToken.LockupActive.selector) return TransferRules.LOCKUP_ACTIVE;
        if (e == ISecurityToken.RegSDistributionCompliancePeriod.selector) {
            return TransferRules.REG_S_DISTRIBUTION_COMPLIANCE;
        }
        if (e == ISecurityToken.HolderLimitReached.selector) return TransferRules.HOLDER_LIMIT;
        if (e == ISecurityToken.JurisdictionHolderLimitReached.selector) return TransferRules.JURISDICTION_HOLDER_LIMIT;
        if (e == ISecurityToken.NonAccreditedHolderLimitReached.selector) {
            return TransferRules.NON_ACCREDITED_HOLDER_LIMIT;
        }
        if (e == ISecurityToken.InvestorBalanceLimitExceeded.selector) return TransferRules.INVESTOR_BALANCE_LIMIT;
        if (e == ISecurityToken.CrossBorderApprovalRequired.selector) {
            return TransferRules.CROSS_BORDER_APPROVAL_REQUIRED;
        }
        if (e == IERC20Errors.ERC20InsufficientAllowance.selector) return SELLER_ALLOWANCE;
        return LEG_REVERTED;
    }
}
