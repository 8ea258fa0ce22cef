// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title PaymentCodes
/// @notice The paying agents' own reasons for holding a payment (0xB0-0xBF, clear of the security
/// token's rulebook, the cash tokens' 0x80-0x9F and DvP's 0xA0-0xAF). A payment refused by the cash
/// token is held with the cash token's own ERC-1404 code instead.
library PaymentCodes {
    uint8 internal constant SUCCESS = 0;
    /// @dev The holder's wallet is frozen on the security token.
    uint8 internal constant SECURITY_WALLET_FROZEN = 0xB1;
    /// @dev At redemption the security token refused to burn the holder's units.
    uint8 internal constant UNITS_NOT_BURNABLE = 0xB2;
    /// @dev The cash transfer failed and the cash token's pre-check names no rule.
    uint8 internal constant CASH_TRANSFER_FAILED = 0xBF;

    /// @notice "NAME: sentence" for a paying-agent code, or "UNKNOWN" (cash codes are explained by the
    /// cash token's `messageForTransferRestriction`).
    function message(uint8 code) internal pure returns (string memory) {
        if (code == SUCCESS) return "SUCCESS: the payment was made";
        if (code == SECURITY_WALLET_FROZEN) {
            return "PAYMENT_SECURITY_WALLET_FROZEN: the holder's wallet is frozen on the security token; the payment is held until it is unfrozen";
        }
        if (code == UNITS_NOT_BURNABLE) {
            return "PAYMENT_UNITS_NOT_BURNABLE: the security token refused to burn the holder's units at redemption (e.g. units frozen by a regulator); the principal is held";
        }
        if (code == CASH_TRANSFER_FAILED) {
            return "PAYMENT_CASH_TRANSFER_FAILED: the cash transfer failed for a reason the cash token's pre-check does not report";
        }
        return "UNKNOWN: the paying agent defines no such code (ask the cash token)";
    }
}
