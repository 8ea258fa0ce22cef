// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title IOfferingRegistry
/// @notice Offerings of one security as first-class objects (the exemption each sale relies on, its
/// dates, who may buy in it, its purchaser ledger, the Regulation S distribution compliance period it
/// starts) and the lots that carry the status of the units sold in them (acquisition date, offering,
/// restricted or not) from wallet to wallet.
/// @dev The token calls `checkLots` / `moveLots` only for a sender whose wallet still holds a lot
/// within its period (the token keeps that horizon in the wallet's own slot), so a transfer of free
/// units costs the token nothing more.
interface IOfferingRegistry {
    /// @notice The exemption (or UK offer type) an offering relies on.
    enum Exemption {
        None,
        RegD506b,
        RegD506c,
        RegSCategory1,
        RegSCategory2,
        RegSCategory3,
        Rule144A,
        UkPublicOffer,
        UkProfessionalPlacement
    }

    /// @notice What an issuer declares when it opens an offering.
    /// @param exemption The exemption relied on.
    /// @param firstOfferAt When the securities are first offered (Rule 902(f): to persons other than
    /// distributors).
    /// @param closingAt The offering's closing; the issuer sells in it from `firstOfferAt` to `closingAt`.
    /// @param equity Whether the security is equity (Reg S Category 3: 1 year / 6 months for equity,
    /// 40 days for debt).
    struct OfferingTerms {
        Exemption exemption;
        uint40 firstOfferAt;
        uint40 closingAt;
        bool equity;
    }

    /// @notice An offering as the registry keeps it. `restricted`: the units sold are restricted
    /// securities (Rule 144(a)(3): Reg D and Rule 144A sales; Rule 905: a domestic issuer's equity sold
    /// under Regulation S). `periodEndsAt`: end of the Regulation S
    /// distribution compliance period (0 for none). `purchasers` / `nonAccreditedPurchasers`: distinct
    /// investors who bought in it (the purchaser ledger).
    struct Offering {
        Exemption exemption;
        bool equity;
        bool restricted;
        uint40 firstOfferAt;
        uint40 closingAt;
        uint40 periodEndsAt;
        uint32 purchasers;
        uint32 nonAccreditedPurchasers;
        uint96 issued;
    }

    /// @notice Units of one wallet sharing one status: `acquiredAt` is the acquisition from the issuer
    /// (kept by every later holder: Rule 144(d)(1), 144(d)(3)); `regSUntil` the end of the tranche's
    /// distribution compliance period (0 for none).
    struct Lot {
        uint96 amount;
        uint40 acquiredAt;
        uint40 regSUntil;
        uint32 offeringId;
        bool restricted;
    }

    /// @notice A lot as a view shows it: `unlockAt` is when its Rule 144(d) holding period ends under
    /// the issuer's reporting status now (0 for an unrestricted lot).
    struct LotView {
        uint256 amount;
        uint256 acquiredAt;
        uint256 unlockAt;
        uint256 regSUntil;
        uint256 offeringId;
        bool restricted;
    }

    event OfferingCreated(
        uint256 indexed offeringId,
        Exemption exemption,
        uint256 firstOfferAt,
        uint256 closingAt,
        uint256 periodEndsAt,
        bool restricted,
        address indexed agent
    );
    event IssuedInOffering(
        uint256 indexed offeringId, address indexed wallet, address indexed investor, uint256 amount, bool newPurchaser
    );
    event LotMoved(address indexed from, address indexed to, uint256 indexed offeringId, uint256 amount, uint256 acquiredAt);
    event ReportingStatusSet(uint256 reportingSince, address indexed agent);
    /// @notice A split multiplied a lot of `wallet` from offering `offeringId`: `before` units became
    /// `after_` units, acquisition date unchanged.
    event LotSplit(address indexed wallet, uint256 indexed offeringId, uint256 before, uint256 after_);

    error OfferingNotAgent(address account);
    error OfferingNotToken(address account);
    error OfferingUnknown(uint256 offeringId);
    error OfferingInvalidTerms();
    error OfferingNotOpen(uint256 offeringId, uint256 checkedAt, uint256 firstOfferAt, uint256 closingAt);
    /// @notice Rule 506(c)(2)(ii): every purchaser in a 506(c) offering is a verified accredited investor.
    error OfferingPurchaserNotAccredited(uint256 offeringId, address wallet);
    /// @notice Rule 144A(d)(1): sold only to qualified institutional buyers.
    error OfferingPurchaserNotQib(uint256 offeringId, address wallet);
    /// @notice Regulation S Rule 903: an offshore sale; never to a US person.
    error OfferingPurchaserUsPerson(uint256 offeringId, address wallet, uint256 periodEndsAt);
    /// @notice A UK professional-only placement (FCA COBS 4.12A, FSMA s21) sells only to investors
    /// categorised under FCA COBS 3 as professional clients or eligible counterparties.
    error OfferingPurchaserNotProfessional(uint256 offeringId, address wallet);
    /// @notice Rule 506(b)(2)(i): at most 35 non-accredited purchasers, distinct persons counted across
    /// 506(b) offerings within 90 days of each other (Rule 152(b)(1)).
    error NonAccreditedPurchaserLimitReached(uint256 offeringId, uint256 purchasersAfter, uint256 limit);

    /// @notice Checks the lots `value` units from `from` to `to` would take (token plumbing).
    /// `spendable` is the sender's balance less its escrowed units. Returns 0 and the units locked in
    /// lots, or the rule code (LOCKUP_ACTIVE / REG_S_DISTRIBUTION_COMPLIANCE), the units this receiver
    /// cannot take and when the first of them frees.
    function checkLots(address from, address to, uint256 value, uint8 mode, uint256 spendable)
        external
        view
        returns (uint8 code, uint256 locked, uint256 until);

    /// @notice Moves (or, for a burn, removes) the lots a checked movement takes; returns the sender's
    /// and the receiver's new lot horizons (token plumbing).
    function moveLots(address from, address to, uint256 value, uint8 mode, uint256 spendable)
        external
        returns (uint256 senderHorizon, uint256 receiverHorizon);

    /// @notice Units of `wallet` in lots still within a period now, and the earliest time one of them
    /// frees (0 when none).
    function lockedTokens(address wallet) external view returns (uint256 locked, uint256 nextUnlockAt);

    /// @notice Moves every lot of `lostWallet` to `newWallet` (ERC-3643 recovery; token plumbing).
    function recoverLots(address lostWallet, address newWallet) external;

    /// @notice Token plumbing for an N-for-1 split: multiplies the units of `wallet`'s lots by `ratio`,
    /// keeping their acquisition dates, offerings and status (Rule 144(d)(3)(i): securities acquired
    /// in a stock split are deemed acquired when the securities split were).
    /// @dev Requirements: the caller is the token.
    function splitLots(address wallet, uint256 ratio) external;
}
