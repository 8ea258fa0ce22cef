// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title IBondPayingAgent
/// @notice Terms, events and custom errors of `BondPayingAgent`.
interface IBondPayingAgent {
    /// @notice Day-count conventions. `Thirty360BondBasis`: 30/360 US bond basis (ISDA 2006 4.16(f));
    /// `Thirty360European`: 30E/360 Eurobond basis (ISDA 2006 4.16(g)); `Actual365Fixed`: actual days
    /// over 365 (ISDA 2006 4.16(d)); `Thirty360US`: 30/360 as SIFMA states it for US corporate
    /// bonds, with the end-of-February rule (Standard Securities Calculation Methods);
    /// `ActualActualICMA`: ACT/ACT ICMA (ICMA Rule 251), a regular period is exactly 1/frequency of a
    /// year (a gilt's fixed half-yearly coupon), odd periods counted against notional periods. See
    /// `CivilDate` for the exact rules.
    enum DayCount {
        Thirty360BondBasis,
        Thirty360European,
        Actual365Fixed,
        Thirty360US,
        ActualActualICMA
    }

    /// @notice A bond's terms, fixed at issuance (construction of its paying agent).
    /// @param isin ISIN-like identifier (12 characters, e.g. "GB00SBXGLT30").
    /// @param cash The settlement cash token coupons and principal are paid in.
    /// @param faceValue Principal per unit of the security, in cash units (pence / cents).
    /// @param couponRateBps Annual coupon rate in basis points (1 bp = 0.01%).
    /// @param dayCount How the fraction of a year of each coupon period is counted.
    /// @param issueDate Unix time interest accrues from (start of the first period).
    /// @param couponDates Coupon payment dates (Unix times), strictly increasing; period k runs from
    /// the previous date (the issue date for k = 0) to `couponDates[k]`; the last one is the maturity.
    /// These dates are the unadjusted ones interest accrues to.
    /// @param maturity Redemption date (Unix time), equal to the last coupon date.
    /// @param issuanceLimit Units that may ever be outstanding; at most the token's approved issuance limit.
    /// @param paymentDates When each coupon (the last: with the principal) is paid: its coupon date
    /// rolled to a business day of the payment currency (following), at most 14 days later, strictly
    /// increasing.
    /// @param recordDates Each payment's record instant: the last second of the register of record
    /// (close of business on the record date in the security's time zone, minus one second), strictly
    /// increasing, before its payment date, the first not before the issue date.
    /// @param frequency Coupons a year (1, 2, 4 or 12); ACT/ACT ICMA needs it, other day counts ignore it.
    /// @param closeOfBusiness How the record instants were set, for people (e.g. "17:00 Europe/London").
    struct BondTerms {
        string isin;
        address cash;
        uint256 faceValue;
        uint256 couponRateBps;
        DayCount dayCount;
        uint256 issueDate;
        uint256[] couponDates;
        uint256 maturity;
        uint256 issuanceLimit;
        uint256[] paymentDates;
        uint256[] recordDates;
        uint256 frequency;
        string closeOfBusiness;
    }

    /// @notice The bond's terms were fixed (at construction).
    event BondTermsFixed(
        string isin,
        address indexed security,
        address indexed cash,
        uint256 faceValue,
        uint256 couponRateBps,
        DayCount dayCount,
        uint256 maturity,
        uint256 issuanceLimit
    );

    /// @notice The terms are inconsistent; `reason` names what: 1 empty ISIN, 2 zero face value,
    /// 3 empty or unordered schedule, 4 maturity is not the last coupon date, 5 a record date would
    /// fall before the issue date, 6 too many coupons (more than 400), 7 not one payment date and one
    /// record date per coupon date, 8 a payment date before its coupon date, more than 14 days after
    /// it, or out of order, 9 a record instant not before its payment date or out of order, 10 a
    /// frequency ACT/ACT ICMA cannot use.
    error BondInvalidTerms(uint8 reason);
    /// @notice The bond's issuance limit exceeds the limit the home regulator approved on the token.
    error BondIssuanceLimitAboveApproval(uint256 issuanceLimit, bool approved, uint256 approvedLimit);
    error BondUnknownPeriod(uint256 period, uint256 couponCount);
    error BondCouponAlreadyScheduled(uint256 period, uint256 id);
    error BondRedemptionAlreadyScheduled(uint256 id);
}
