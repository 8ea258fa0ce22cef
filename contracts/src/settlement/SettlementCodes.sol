// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

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
        if (code == LEG_REVERTED) {
            return "DVP_LEG_REVERTED: a leg reverted for a reason its token's pre-check does not report";
        }
        return "UNKNOWN: the DvP contract defines no such code (ask the failing token)";
    }
}
