// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title TransferRules
/// @notice The sandbox rulebook's reason codes (ERC-1404 `uint8`), machine names and sentences citing
/// their sources: the one place that answers "why was this transfer refused". Code 0 means no
/// restriction. Each code belongs to an ERC-1066 transfer family (0x54 halted, 0x52 insufficient
/// balance, 0x55 funds locked, 0x56 invalid sender, 0x57 invalid receiver, 0x50 failure); the Python
/// table `sandbox/rules.py` lists the families and is checked against these codes.
library TransferRules {
    uint8 internal constant SUCCESS = 0;
    uint8 internal constant PAUSED = 0x10;
    uint8 internal constant SENDER_FROZEN = 0x11;
    uint8 internal constant RECEIVER_FROZEN = 0x12;
    uint8 internal constant INSUFFICIENT_UNFROZEN_BALANCE = 0x13;
    uint8 internal constant SENDER_NOT_REGISTERED = 0x20;
    uint8 internal constant RECEIVER_NOT_REGISTERED = 0x21;
    uint8 internal constant SENDER_SUSPENDED = 0x22;
    uint8 internal constant RECEIVER_SUSPENDED = 0x23;
    uint8 internal constant SENDER_KYC_EXPIRED = 0x24;
    uint8 internal constant RECEIVER_KYC_EXPIRED = 0x25;
    uint8 internal constant SENDER_SANCTIONED = 0x26;
    uint8 internal constant RECEIVER_SANCTIONED = 0x27;
    uint8 internal constant JURISDICTION_NOT_ADMITTED = 0x30;
    uint8 internal constant CATEGORY_NOT_ADMITTED = 0x31;
    uint8 internal constant LOCKUP_ACTIVE = 0x40;
    uint8 internal constant REG_S_DISTRIBUTION_COMPLIANCE = 0x41;
    uint8 internal constant NON_ACCREDITED_PURCHASER_LIMIT = 0x42;
    uint8 internal constant OFFERING_PURCHASER_NOT_ELIGIBLE = 0x43;
    uint8 internal constant OFFERING_NOT_OPEN = 0x44;
    uint8 internal constant HOLDER_LIMIT = 0x50;
    uint8 internal constant JURISDICTION_HOLDER_LIMIT = 0x51;
    uint8 internal constant NON_ACCREDITED_HOLDER_LIMIT = 0x52;
    uint8 internal constant INVESTOR_BALANCE_LIMIT = 0x53;
    uint8 internal constant CROSS_BORDER_APPROVAL_REQUIRED = 0x60;
    uint8 internal constant ISSUANCE_NOT_APPROVED = 0x70;
    uint8 internal constant ISSUANCE_LIMIT_EXCEEDED = 0x71;
    uint8 internal constant ISSUANCE_OUTSIDE_OFFERING = 0x72;

    /// @notice "NAME: sentence (source)" for a code, or "UNKNOWN" for a code the rulebook does not define.
    function message(uint8 code) internal pure returns (string memory) {
        if (code == SUCCESS) return "SUCCESS: no restriction applies";
        if (code == PAUSED) {
            return "PAUSED: transfers of this security are halted by its issuer's agent or home regulator (ERC-3643 pause)";
        }
        if (code == SENDER_FROZEN) return "SENDER_FROZEN: the sender's wallet is frozen (ERC-3643 freeze)";
        if (code == RECEIVER_FROZEN) return "RECEIVER_FROZEN: the receiver's wallet is frozen (ERC-3643 freeze)";
        if (code == INSUFFICIENT_UNFROZEN_BALANCE) {
            return "INSUFFICIENT_UNFROZEN_BALANCE: the amount exceeds the sender's balance less frozen and escrowed units (ERC-3643 partial freeze, ERC-7943)";
        }
        if (code == SENDER_NOT_REGISTERED) {
            return "SENDER_NOT_REGISTERED: the sender's wallet is not linked to an investor verified by the registry (ERC-3643 identity registry)";
        }
        if (code == RECEIVER_NOT_REGISTERED) {
            return "RECEIVER_NOT_REGISTERED: the receiver's wallet is not linked to an investor verified by the registry (ERC-3643 identity registry)";
        }
        if (code == SENDER_SUSPENDED) return "SENDER_SUSPENDED: the sending investor is suspended by its regulator";
        if (code == RECEIVER_SUSPENDED) return "RECEIVER_SUSPENDED: the receiving investor is suspended by its regulator";
        if (code == SENDER_KYC_EXPIRED) {
            return "SENDER_KYC_EXPIRED: the sending investor's KYC has expired (FCA MLR 2017 / FinCEN CDD rule: ongoing due diligence)";
        }
        if (code == RECEIVER_KYC_EXPIRED) {
            return "RECEIVER_KYC_EXPIRED: the receiving investor's KYC has expired (FCA MLR 2017 / FinCEN CDD rule: ongoing due diligence)";
        }
        if (code == SENDER_SANCTIONED) {
            return "SENDER_SANCTIONED: the sending investor or wallet is designated on a sanctions list its regulator keeps on chain (UK: OFSI's consolidated list, Sanctions and Anti-Money Laundering Act 2018; US: OFAC's SDN list, IEEPA and 31 CFR Chapter V): its assets are frozen and no one may deal with them";
        }
        if (code == RECEIVER_SANCTIONED) {
            return "RECEIVER_SANCTIONED: the receiving investor or wallet is designated on a sanctions list its regulator keeps on chain (UK: OFSI's consolidated list, Sanctions and Anti-Money Laundering Act 2018; US: OFAC's SDN list, IEEPA and 31 CFR Chapter V): no funds or assets may be made available to it";
        }
        if (code == JURISDICTION_NOT_ADMITTED) {
            return "JURISDICTION_NOT_ADMITTED: the receiver's jurisdiction is not admitted by this security's offering terms";
        }
        if (code == CATEGORY_NOT_ADMITTED) {
            return "CATEGORY_NOT_ADMITTED: the receiver's investor category is below the minimum this security admits in the receiver's jurisdiction (e.g. a UK professional-only security, FCA COBS 4.12A, simplified: a promotion rule, not a ban on holding)";
        }
        if (code == LOCKUP_ACTIVE) {
            return "LOCKUP_ACTIVE: Rule 144(d): restricted units may not be resold until the holding period, counted in calendar months from their acquisition from the issuer (6 months if the issuer has reported for 90 days, else 1 year), has passed; during it they may go to the holder's own wallets (144(d)(3)), to a QIB (Rule 144A) or offshore (Rule 904)";
        }
        if (code == REG_S_DISTRIBUTION_COMPLIANCE) {
            return "REG_S_DISTRIBUTION_COMPLIANCE: Regulation S (Rules 903/904): no offer or sale to a US person during the distribution compliance period, which each tranche starts at the later of first offer and closing (Rule 902(f): 40 days / 6 months / 1 year)";
        }
        if (code == NON_ACCREDITED_PURCHASER_LIMIT) {
            return "NON_ACCREDITED_PURCHASER_LIMIT: the issuer may sell to at most 35 distinct non-accredited persons in a Rule 506(b) offering and those within 90 days of it (Rule 506(b)(2)(i), Rule 152(b)(1)); resales are not counted";
        }
        if (code == OFFERING_PURCHASER_NOT_ELIGIBLE) {
            return "OFFERING_PURCHASER_NOT_ELIGIBLE: the purchaser may not buy in this offering (Rule 506(c)(2)(ii): verified accredited investors only; Rule 144A(d)(1): QIBs only; UK placement: COBS 3 professional clients and eligible counterparties only)";
        }
        if (code == OFFERING_NOT_OPEN) {
            return "OFFERING_NOT_OPEN: the issuer sells in an offering only from its first offer to its closing; a later tranche is a new offering";
        }
        if (code == HOLDER_LIMIT) {
            return "HOLDER_LIMIT: the security's cap on holders of record would be exceeded (Exchange Act 12(g)(1)(A): 2,000 persons)";
        }
        if (code == JURISDICTION_HOLDER_LIMIT) {
            return "JURISDICTION_HOLDER_LIMIT: the security's cap on holders in the receiver's jurisdiction would be exceeded";
        }
        if (code == NON_ACCREDITED_HOLDER_LIMIT) {
            return "NON_ACCREDITED_HOLDER_LIMIT: the cap on non-accredited holders of record would be exceeded (Exchange Act 12(g)(1)(A): 500 persons who are not accredited investors)";
        }
        if (code == INVESTOR_BALANCE_LIMIT) {
            return "INVESTOR_BALANCE_LIMIT: the receiving investor's balance across all its wallets would exceed the security's per-investor maximum";
        }
        if (code == CROSS_BORDER_APPROVAL_REQUIRED) {
            return "CROSS_BORDER_APPROVAL_REQUIRED: a transfer between jurisdictions at or above the threshold needs both regulators' approval (UK-US sandbox cooperation); request it with requestCrossBorderTransfer";
        }
        if (code == ISSUANCE_NOT_APPROVED) {
            return "ISSUANCE_NOT_APPROVED: the home regulator has not approved this issuance (BoE/FCA Digital Securities Sandbox notary activity)";
        }
        if (code == ISSUANCE_LIMIT_EXCEEDED) {
            return "ISSUANCE_LIMIT_EXCEEDED: the issue would exceed the limit the home regulator approved (DSS Sandbox Approval Notice limits)";
        }
        if (code == ISSUANCE_OUTSIDE_OFFERING) {
            return "ISSUANCE_OUTSIDE_OFFERING: units of this security are issued only in one of its offerings, whose exemption decides who may buy (Securities Act s5; Reg D, Reg S, Rule 144A)";
        }
        return "UNKNOWN: the rulebook defines no such code";
    }
}
