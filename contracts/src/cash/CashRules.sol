// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title CashRules
/// @notice The cash tokens' reason codes (ERC-1404 `uint8`, in 0x80-0x9F so they never collide with
/// the security token's rulebook), machine names and sentences citing their source. Code 0 means no
/// restriction.
library CashRules {
    uint8 internal constant SUCCESS = 0;
    uint8 internal constant PAUSED = 0x80;
    uint8 internal constant SENDER_FROZEN = 0x81;
    uint8 internal constant RECEIVER_FROZEN = 0x82;
    uint8 internal constant SENDER_NOT_ELIGIBLE = 0x83;
    uint8 internal constant RECEIVER_NOT_ELIGIBLE = 0x84;
    uint8 internal constant SENDER_SUSPENDED = 0x85;
    uint8 internal constant RECEIVER_SUSPENDED = 0x86;
    uint8 internal constant SENDER_KYC_EXPIRED = 0x87;
    uint8 internal constant RECEIVER_KYC_EXPIRED = 0x88;
    uint8 internal constant SENDER_SANCTIONED = 0x89;
    uint8 internal constant RECEIVER_SANCTIONED = 0x8A;
    uint8 internal constant INDIVIDUAL_HOLDING_LIMIT = 0x90;
    uint8 internal constant BUSINESS_HOLDING_LIMIT = 0x91;

    /// @notice "NAME: sentence" for a code, or "UNKNOWN" for a code the cash rulebook does not define.
    function message(uint8 code) internal pure returns (string memory) {
        if (code == SUCCESS) return "SUCCESS: no restriction applies";
        if (code == PAUSED) return "CASH_PAUSED: transfers of this cash token are paused by its issuer or home regulator";
        if (code == SENDER_FROZEN) return "CASH_SENDER_FROZEN: the sender's wallet is frozen (ERC-3643-style freeze by issuer or regulator)";
        if (code == RECEIVER_FROZEN) {
            return "CASH_RECEIVER_FROZEN: the receiver's wallet is frozen (ERC-3643-style freeze by issuer or regulator)";
        }
        if (code == SENDER_NOT_ELIGIBLE) {
            return "CASH_SENDER_NOT_ELIGIBLE: the sender is neither a registered investor nor a registered settlement contract";
        }
        if (code == RECEIVER_NOT_ELIGIBLE) {
            return "CASH_RECEIVER_NOT_ELIGIBLE: the receiver is neither a registered investor nor a registered settlement contract";
        }
        if (code == SENDER_SUSPENDED) return "CASH_SENDER_SUSPENDED: the sending investor is suspended by its regulator";
        if (code == RECEIVER_SUSPENDED) return "CASH_RECEIVER_SUSPENDED: the receiving investor is suspended by its regulator";
        if (code == SENDER_KYC_EXPIRED) return "CASH_SENDER_KYC_EXPIRED: the sending investor's KYC has expired";
        if (code == RECEIVER_KYC_EXPIRED) return "CASH_RECEIVER_KYC_EXPIRED: the receiving investor's KYC has expired";
        if (code == SENDER_SANCTIONED) {
            return "CASH_SENDER_SANCTIONED: the sending investor or wallet is designated on a sanctions list its regulator keeps on chain (UK: OFSI's consolidated list, Sanctions and Anti-Money Laundering Act 2018; US: OFAC's SDN list, IEEPA and 31 CFR Chapter V): its assets are frozen and no one may deal with them";
        }
        if (code == RECEIVER_SANCTIONED) {
            return "CASH_RECEIVER_SANCTIONED: the receiving investor or wallet is designated on a sanctions list its regulator keeps on chain (UK: OFSI's consolidated list, Sanctions and Anti-Money Laundering Act 2018; US: OFAC's SDN list, IEEPA and 31 CFR Chapter V): no funds or assets may be made available to it";
        }
        if (code == INDIVIDUAL_HOLDING_LIMIT) {
            return "CASH_INDIVIDUAL_HOLDING_LIMIT: the receiving natural person would exceed its holding limit across all its wallets (GBP: 20,000 pounds per coin, Bank of England consultation on systemic sterling stablecoins, 10 Nov 2025; the holder type is the registry's, not the client category)";
        }
        if (code == BUSINESS_HOLDING_LIMIT) {
            return "CASH_BUSINESS_HOLDING_LIMIT: the receiving entity would exceed its holding limit across all its wallets (GBP: 10 million pounds per coin, Bank of England consultation on systemic sterling stablecoins, 10 Nov 2025; wholesale settlement in the Digital Securities Sandbox (an entity paid through a registered settlement contract) and holders the Bank exempts are outside the limits)";
        }
        return "UNKNOWN: the cash rulebook defines no such code";
    }
}
