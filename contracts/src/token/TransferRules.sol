// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title TransferRules
/// @notice The sandbox rulebook's reason codes (ERC-1404 `uint8`), machine names and sentences: the
/// one place that answers "why was this transfer refused". Code 0 means no restriction. Each code
/// belongs to an ERC-1066 transfer family (see `family`).
library TransferRules {
    uint8 internal constant SUCCESS = 0;
    uint8 internal constant PAUSED = 0x10;
    uint8 internal constant SENDER_FROZEN = 0x11;
    uint8 internal constant RECEIVER_FROZEN = 0x12;
    uint8 internal constant SENDER_NOT_REGISTERED = 0x20;
    uint8 internal constant RECEIVER_NOT_REGISTERED = 0x21;
    uint8 internal constant SENDER_SUSPENDED = 0x22;
    uint8 internal constant RECEIVER_SUSPENDED = 0x23;
    uint8 internal constant SENDER_KYC_EXPIRED = 0x24;
    uint8 internal constant RECEIVER_KYC_EXPIRED = 0x25;
    uint8 internal constant JURISDICTION_NOT_ADMITTED = 0x30;

    /// @notice "NAME: sentence" for a code, or "UNKNOWN" for a code the rulebook does not define.
    function message(uint8 code) internal pure returns (string memory) {
        if (code == SUCCESS) return "SUCCESS: no restriction applies";
        if (code == PAUSED) return "PAUSED: transfers of this security are paused by its issuer or home regulator";
        if (code == SENDER_FROZEN) return "SENDER_FROZEN: the sender's wallet is frozen (ERC-3643 freeze)";
        if (code == RECEIVER_FROZEN) return "RECEIVER_FROZEN: the receiver's wallet is frozen (ERC-3643 freeze)";
        if (code == SENDER_NOT_REGISTERED) {
            return "SENDER_NOT_REGISTERED: the sender's wallet is not linked to a registered investor";
        }
        if (code == RECEIVER_NOT_REGISTERED) {
            return "RECEIVER_NOT_REGISTERED: the receiver's wallet is not linked to a registered investor";
        }
        if (code == SENDER_SUSPENDED) return "SENDER_SUSPENDED: the sending investor is suspended by its regulator";
        if (code == RECEIVER_SUSPENDED) return "RECEIVER_SUSPENDED: the receiving investor is suspended by its regulator";
        if (code == SENDER_KYC_EXPIRED) return "SENDER_KYC_EXPIRED: the sending investor's KYC has expired";
        if (code == RECEIVER_KYC_EXPIRED) return "RECEIVER_KYC_EXPIRED: the receiving investor's KYC has expired";
        if (code == JURISDICTION_NOT_ADMITTED) {
            return "JURISDICTION_NOT_ADMITTED: the receiver's jurisdiction is not admitted by this security's offering terms";
        }
        return "UNKNOWN: the rulebook defines no such code";
    }

    /// @notice The ERC-1066 transfer status family a code belongs to (0x51 success, 0x54 halted,
    /// 0x56 invalid sender, 0x57 invalid receiver).
    function family(uint8 code) internal pure returns (bytes1) {
        if (code == SUCCESS) return 0x51;
        if (code == PAUSED) return 0x54;
        if (code == SENDER_FROZEN || code == SENDER_NOT_REGISTERED || code == SENDER_SUSPENDED || code == SENDER_KYC_EXPIRED) {
            return 0x56;
        }
        if (
            code == RECEIVER_FROZEN || code == RECEIVER_NOT_REGISTERED || code == RECEIVER_SUSPENDED
                || code == RECEIVER_KYC_EXPIRED || code == JURISDICTION_NOT_ADMITTED
        ) return 0x57;
        return 0x50;
    }
}
