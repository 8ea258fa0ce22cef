// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC3643} from "../interfaces/IERC3643.sol";
import {IBondPayingAgent} from "../interfaces/IBondPayingAgent.sol";
import {CivilDate} from "./CivilDate.sol";
import {PayingAgent} from "./PayingAgent.sol";
import {PaymentCodes} from "./PaymentCodes.sol";

/// @dev The one view of the security token's issuance approval the bond reads.
interface IIssuanceApproval {
    function issuanceApproval() external view returns (bool approved, uint256 limit);
}

/// @title BondPayingAgent
/// @notice The paying agent of a bond issued as a sandbox security token: its terms are fixed at
/// construction (`BondTerms`); each coupon and the redemption are distributions of `PayingAgent`
/// (record instants scheduled on the token by `scheduleCoupon` /
/// `scheduleRedemption`), paid to the record-date holders exactly once per wallet, refused payments
/// held until claimable. Each period has its unadjusted coupon date (interest accrues to it), its
/// payment date (rolled to a business day off chain, at most `MAX_ROLL` later) and its record instant
/// (close of business on the record date in the security's time zone, computed off chain with the
/// time-zone database, which the chain does not have), all fixed at issuance.
///
/// Coupon of period k, for a wallet holding `units` at its record date, in cash units:
///     floor(units * faceValue * couponRateBps * dayCountNumerator / (10,000 * dayCountDenominator))
/// exact integer arithmetic, rounded down per holder, where for the period [start, end)
/// - 30/360 US bond basis and 30E/360: numerator = 360 (Y2-Y1) + 30 (M2-M1) + (D2-D1) with the
///   convention's day-31 adjustments (`CivilDate`), denominator = 360;
/// - 30/360 US (SIFMA): as 30/360 bond basis plus the end-of-February rule (`CivilDate.days30360US`);
/// - ACT/365 Fixed: numerator = actual days, denominator = 365;
/// - ACT/ACT ICMA: 1/frequency for a regular period, odd periods by notional periods
///   (`CivilDate.actualActualICMA`).
/// Redemption at maturity pays `faceValue` per record-date unit and burns the wallet's units (the
/// agent holds AGENT_ROLE on the token): the wallet's whole balance at the time it is redeemed, since
/// after the final record date the bond trades ex-redemption. A wallet frozen on the security token is
/// neither burned nor paid: its redemption is held and claimable (burn and payment) once unfrozen;
/// units that cannot be burned hold the principal too (`PAYMENT_UNITS_NOT_BURNABLE`).
contract BondPayingAgent is IBondPayingAgent, PayingAgent {
    /// @notice At most this many coupon dates.
    uint256 public constant MAX_COUPONS = 400;
    /// @notice The furthest a payment date may be rolled past its coupon date.
    uint256 public constant MAX_ROLL = 14 days;

    string private _isin;
    string private _closeOfBusiness;
    /// @dev One word per coupon: coupon date (bits 0-39), payment date (40-79), record instant (80-119).
    uint256[] private _schedule;
    address private immutable _cash;
    uint256 private immutable _faceValue;
    uint256 private immutable _couponRateBps;
    DayCount private immutable _dayCount;
    uint256 private immutable _issueDate;
    uint256 private immutable _maturity;
    uint256 private immutable _issuanceLimit;
    uint256 private immutable _frequency;

    mapping(uint256 period => uint256 id) private _couponIds;
    uint256 private _redemptionId;

    /// @param bondTerms The bond's terms (see `BondTerms`).
    /// @param security_ The security token of the bond (record dates enabled, issuance approved).
    /// @param claimPeriod_ Seconds after a payment date before the issuer may take the remainder back.
    /// @param issuer Receives DEFAULT_ADMIN_ROLE and ISSUER_ROLE.
    constructor(BondTerms memory bondTerms, address security_, uint256 claimPeriod_, address issuer)
        PayingAgent(security_, claimPeriod_, issuer)
    {
        if (bondTerms.cash == address(0)) revert PayingAgentZeroAddress();
        if (bytes(bondTerms.isin).length == 0) revert BondInvalidTerms(1);
        if (bondTerms.faceValue == 0) revert BondInvalidTerms(2);
        // The redemption pays the face value per unit: refuse now what could never be scheduled.
        if (bondTerms.faceValue > MAX_AMOUNT_PER_UNIT) {
            revert PayingAgentAmountTooLarge(bondTerms.faceValue, 1, MAX_AMOUNT_PER_UNIT);
        }
        _checkSchedule(bondTerms);
        (bool approved, uint256 approvedLimit) = IIssuanceApproval(security_).issuanceApproval();
        if (!approved || bondTerms.issuanceLimit > approvedLimit) {
            revert BondIssuanceLimitAboveApproval(bondTerms.issuanceLimit, approved, approvedLimit);
        }
        _isin = bondTerms.isin;
        _closeOfBusiness = bondTerms.closeOfBusiness;
        uint256 n = bondTerms.couponDates.length;
        for (uint256 i = 0; i < n; ++i) {
            _schedule.push(
                bondTerms.couponDates[i] | (bondTerms.paymentDates[i] << 40) | (bondTerms.recordDates[i] << 80)
            );
        }
        _cash = bondTerms.cash;
        _faceValue = bondTerms.faceValue;
        _couponRateBps = bondTerms.couponRateBps;
        _dayCount = bondTerms.dayCount;
        _issueDate = bondTerms.issueDate;
        _maturity = bondTerms.maturity;
        _issuanceLimit = bondTerms.issuanceLimit;
        _frequency = bondTerms.frequency;
        emit BondTermsFixed(
            bondTerms.isin,
            security_,
            bondTerms.cash,
            bondTerms.faceValue,
            bondTerms.couponRateBps,
            bondTerms.dayCount,
            bondTerms.maturity,
            bondTerms.issuanceLimit
        );
    }

    /// @dev Reverts with `BondInvalidTerms(reason)` unless the dates are consistent (see the reasons).
    function _checkSchedule(BondTerms memory t) private pure {
        uint256 n = t.couponDates.length;
        if (n == 0) revert BondInvalidTerms(3);
        if (n > MAX_COUPONS) revert BondInvalidTerms(6);
        if (t.paymentDates.length != n || t.recordDates.length != n) revert BondInvalidTerms(7);
        uint256 previous = t.issueDate;
        uint256 previousPayment = 0;
        uint256 previousRecord = 0;
        for (uint256 i = 0; i < n; ++i) {
            uint256 coupon = t.couponDates[i];
            uint256 payment = t.paymentDates[i];
            uint256 recordDate = t.recordDates[i];
            if (coupon <= previous) revert BondInvalidTerms(3);
            if (payment < coupon || payment > coupon + MAX_ROLL || payment <= previousPayment) {
                revert BondInvalidTerms(8);
            }
            if (recordDate >= payment || recordDate <= previousRecord) revert BondInvalidTerms(9);
            previous = coupon;
            previousPayment = payment;
            previousRecord = recordDate;
        }
        if (t.maturity != previous || previousPayment > type(uint40).max) revert BondInvalidTerms(4);
        if (t.recordDates[0] < t.issueDate) revert BondInvalidTerms(5);
        if (t.dayCount == DayCount.ActualActualICMA) {
            uint256 f = t.frequency;
            if (f != 1 && f != 2 && f != 4 && f != 12) revert BondInvalidTerms(10);
        }
    }

    // ------------------------------------------------------------------ views

    /// @notice The bond's terms as fixed at construction.
    function terms() external view returns (BondTerms memory t) {
        uint256 n = _schedule.length;
        t.isin = _isin;
        t.cash = _cash;
        t.faceValue = _faceValue;
        t.couponRateBps = _couponRateBps;
        t.dayCount = _dayCount;
        t.issueDate = _issueDate;
        t.maturity = _maturity;
        t.issuanceLimit = _issuanceLimit;
        t.frequency = _frequency;
        t.closeOfBusiness = _closeOfBusiness;
        t.couponDates = new uint256[](n);
        t.paymentDates = new uint256[](n);
        t.recordDates = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 w = _schedule[i];
            t.couponDates[i] = uint40(w);
            t.paymentDates[i] = uint40(w >> 40);
            t.recordDates[i] = uint40(w >> 80);
        }
    }

    /// @notice The bond's ISIN-like identifier.
    function isin() external view returns (string memory) {
        return _isin;
    }

    /// @notice How many coupon periods the schedule has.
    function couponCount() external view returns (uint256) {
        return _schedule.length;
    }

    /// @notice Coupon period `period`: interest accrues from `accrualStart` to `accrualEnd` (its
    /// unadjusted coupon date), is paid on `paymentDate` (rolled to a business day) to the holders at
    /// the end of second `recordDate` (the record instant).
    /// @dev Requirements: `period` < couponCount().
    function couponSchedule(uint256 period)
        public
        view
        returns (uint256 accrualStart, uint256 accrualEnd, uint256 paymentDate, uint256 recordDate)
    {
        uint256 n = _schedule.length;
        if (period >= n) revert BondUnknownPeriod(period, n);
        accrualStart = period == 0 ? _issueDate : uint40(_schedule[period - 1]);
        uint256 w = _schedule[period];
        accrualEnd = uint40(w);
        paymentDate = uint40(w >> 40);
        recordDate = uint40(w >> 80);
    }

    /// @notice Coupon period `period`'s accrual start, payment date and record instant (see
    /// `couponSchedule`).
    /// @dev Requirements: `period` < couponCount().
    function couponPeriod(uint256 period)
        external
        view
        returns (uint256 accrualStart, uint256 paymentDate, uint256 recordDate)
    {
        (accrualStart,, paymentDate, recordDate) = couponSchedule(period);
    }

    /// @notice The fraction of a year of coupon period `period` under the bond's day count, as
    /// `numerator / denominator` (e.g. 180/360, 181/365, or 1/2 for a regular ACT/ACT ICMA half year).
    /// @dev Requirements: `period` < couponCount().
    function dayCountFraction(uint256 period) public view returns (uint256 numerator, uint256 denominator) {
        (uint256 start, uint256 end,,) = couponSchedule(period);
        DayCount dc = _dayCount;
        if (dc == DayCount.Thirty360BondBasis) return (CivilDate.days30360BondBasis(start, end), 360);
        if (dc == DayCount.Thirty360European) return (CivilDate.days30E360(start, end), 360);
        if (dc == DayCount.Thirty360US) return (CivilDate.days30360US(start, end), 360);
        if (dc == DayCount.ActualActualICMA) return CivilDate.actualActualICMA(start, end, _frequency, period == 0);
        return (CivilDate.actualDays(start, end), 365);
    }

    /// @notice Coupon of period `period` per unit, in cash units, as the exact rational
    /// `numerator / denominator` = faceValue * couponRateBps * dayCountNumerator /
    /// (10,000 * dayCountDenominator); a holder of `units` is paid floor(units * numerator / denominator).
    /// @dev Requirements: `period` < couponCount().
    function couponPerUnit(uint256 period) public view returns (uint256 numerator, uint256 denominator) {
        (uint256 dcNumerator, uint256 dcDenominator) = dayCountFraction(period);
        return (_faceValue * _couponRateBps * dcNumerator, 10_000 * dcDenominator);
    }

    /// @notice The distribution id of coupon period `period` (0 until scheduled).
    function couponDistribution(uint256 period) external view returns (uint256) {
        return _couponIds[period];
    }

    /// @notice The distribution id of the redemption (0 until scheduled).
    function redemptionDistribution() external view returns (uint256) {
        return _redemptionId;
    }

    // ------------------------------------------------------------------ operations

    /// @notice Declares coupon period `period`: schedules its record instant on the security token and
    /// opens its distribution (amount per unit from `couponPerUnit`), payable from its payment date.
    /// @dev Requirements: caller has ISSUER_ROLE; `period` < couponCount() and not yet scheduled; the
    /// record instant is in the future; the coupon rate is not zero; the agent has AGENT_ROLE on the
    /// token.
    /// @return id The coupon's distribution id.
    function scheduleCoupon(uint256 period) external onlyRole(ISSUER_ROLE) nonReentrant returns (uint256 id) {
        (,, uint256 paymentDate, uint256 recordDate) = couponSchedule(period);
        uint256 existing = _couponIds[period];
        if (existing != 0) revert BondCouponAlreadyScheduled(period, existing);
        (uint256 numerator, uint256 denominator) = couponPerUnit(period);
        id = _declare(DistributionKind.Coupon, _cash, recordDate, paymentDate, numerator, denominator, period);
        _couponIds[period] = id;
    }

    /// @notice Declares the redemption at maturity: `faceValue` per record-date unit, with the last
    /// coupon's record instant and payment date, units burned as each wallet is redeemed.
    /// @dev Requirements: caller has ISSUER_ROLE; not yet scheduled; the record instant is in the
    /// future; the agent has AGENT_ROLE on the token.
    /// @return id The redemption's distribution id.
    function scheduleRedemption() external onlyRole(ISSUER_ROLE) nonReentrant returns (uint256 id) {
        if (_redemptionId != 0) revert BondRedemptionAlreadyScheduled(_redemptionId);
        uint256 w = _schedule[_schedule.length - 1];
        id = _declare(DistributionKind.Redemption, _cash, uint40(w >> 80), uint40(w >> 40), _faceValue, 1, 0);
        _redemptionId = id;
    }

    // ------------------------------------------------------------------ redemption

    /// @dev At a redemption, burns the wallet's units before the principal moves (nothing for a wallet
    /// frozen on the security token, whose redemption is held whole).
    function _beforePayment(uint256 id, Distribution storage d, address holder) internal override returns (uint8) {
        uint8 code = super._beforePayment(id, d, holder);
        if (code != PaymentCodes.SUCCESS || d.kind != DistributionKind.Redemption) return code;
        uint256 units = IERC20(address(_security)).balanceOf(holder);
        if (units == 0) return PaymentCodes.SUCCESS;
        try IERC3643(address(_security)).burn(holder, units) {
            emit UnitsRedeemed(id, holder, units);
            return PaymentCodes.SUCCESS;
        } catch {
            return PaymentCodes.UNITS_NOT_BURNABLE;
        }
    }
}
