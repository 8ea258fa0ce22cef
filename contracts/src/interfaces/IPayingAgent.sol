// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title IPayingAgent
/// @notice Types, events and custom errors of the sandbox's paying agents (`PayingAgent`,
/// `BondPayingAgent`, `EquityPayingAgent`): corporate actions paid in a cash token to whoever held
/// the security at a record date, each wallet exactly once, a refused payment held rather than lost.
interface IPayingAgent {
    /// @notice What a distribution pays for.
    enum DistributionKind {
        Coupon,
        Redemption,
        Dividend
    }

    /// @notice A distribution's life: `Declared` (record date scheduled), `Funded` (cash set aside;
    /// payable from the payment date), `Closed` (remainder returned after the claim deadline; only
    /// held payments can still be claimed).
    enum DistributionState {
        Declared,
        Funded,
        Closed
    }

    /// @notice Where one wallet's payment of one distribution stands.
    /// `Unpaid`: not yet settled; `Paid`: paid (exactly once); `Held`: refused when attempted, kept by
    /// the agent and claimable by the holder once the cause is gone.
    enum PaymentStatus {
        Unpaid,
        Paid,
        Held
    }

    /// @notice A distribution as stored. The amount per unit of the security is the rational
    /// `numerator / denominator` in cash units; a wallet is owed
    /// `floor(recordDateUnits * numerator / denominator)` (rounded down per holder).
    /// @param funded Cash set aside for it: `floor(totalSupplyAt(recordDate) * numerator / denominator)`,
    /// which is at least the sum of the per-holder amounts (a sum of floors never exceeds the floor of
    /// the sum); the difference is rounding dust.
    /// @param paid Cash paid out so far. @param held Cash held for refused payments, not yet claimed.
    /// @param returned Cash returned to the issuer after the claim deadline (the remainder).
    struct Distribution {
        address cash;
        DistributionKind kind;
        DistributionState state;
        uint40 recordDate;
        uint40 paymentDate;
        uint256 period;
        uint256 numerator;
        uint256 denominator;
        uint128 funded;
        uint128 returned;
        uint128 paid;
        uint128 held;
    }

    /// @notice A distribution was declared (its record date scheduled on the security token).
    /// @param period The coupon period (0-based) for a coupon, 0 otherwise.
    event DistributionDeclared(
        uint256 indexed id,
        DistributionKind indexed kind,
        address indexed cash,
        uint256 recordDate,
        uint256 paymentDate,
        uint256 numerator,
        uint256 denominator,
        uint256 period
    );
    /// @notice `amount` of cash was set aside for distribution `id`; `pulled` of it came from `funder`
    /// by transferFrom, the rest from cash the agent already held beyond what it owed.
    event DistributionFunded(uint256 indexed id, address indexed funder, uint256 amount, uint256 pulled);
    /// @notice `holder` was paid `amount` (exactly once per distribution; also when a held payment is claimed).
    event PaymentMade(uint256 indexed id, address indexed holder, uint256 amount);
    /// @notice A payment of `amount` to `holder` was refused and is held by the agent; `code` says why:
    /// the cash token's ERC-1404 restriction code, or a `PaymentCodes` code.
    event PaymentHeld(uint256 indexed id, address indexed holder, uint256 amount, uint8 code);
    /// @notice At redemption, `units` of the security were burned from `holder`.
    event UnitsRedeemed(uint256 indexed id, address indexed holder, uint256 units);
    /// @notice After the claim deadline the remainder (rounding dust and never-claimed amounts) went back to `to`.
    event RemainderReturned(uint256 indexed id, address indexed to, uint256 amount);

    error PayingAgentZeroAddress();
    error PayingAgentUnknownDistribution(uint256 id);
    /// @notice The record date must be in the future and before the payment date.
    error PayingAgentInvalidDates(uint256 recordDate, uint256 paymentDate, uint256 checkedAt);
    error PayingAgentZeroAmount();
    /// @notice The amount per unit (`numerator / denominator` cash units) exceeds `maxPerUnit`: its
    /// total over the units a security token can hold could not be funded (it would overflow).
    error PayingAgentAmountTooLarge(uint256 numerator, uint256 denominator, uint256 maxPerUnit);
    error PayingAgentRecordDateNotPassed(uint256 id, uint256 recordDate, uint256 checkedAt);
    error PayingAgentBeforePaymentDate(uint256 id, uint256 paymentDate, uint256 checkedAt);
    error PayingAgentAlreadyFunded(uint256 id);
    error PayingAgentNotFunded(uint256 id);
    /// @notice The funder's transferFrom of the shortfall failed (allowance, balance or a cash rule).
    error PayingAgentFundingFailed(uint256 id, address funder, uint256 shortfall);
    /// @notice The wallet has already been paid this distribution.
    error PayingAgentAlreadyPaid(uint256 id, address holder);
    /// @notice The wallet held no units at the record date (or its amount rounds down to zero).
    error PayingAgentNothingOwed(uint256 id, address holder);
    /// @notice A claim whose payment is refused now; nothing changed. `code` as in `PaymentHeld`.
    error PayingAgentPaymentRefused(uint256 id, address holder, uint256 amount, uint8 code);
    error PayingAgentBatchTooLarge(uint256 length, uint256 maximum);
    /// @notice The remainder was returned: only held payments can still be claimed.
    error PayingAgentDistributionClosed(uint256 id);
    error PayingAgentClaimPeriodNotOver(uint256 id, uint256 claimDeadline, uint256 checkedAt);
    /// @notice The security token has record dates switched off (`enableRecordDates` at zero supply).
    error PayingAgentRecordDatesDisabled(address token);
}
