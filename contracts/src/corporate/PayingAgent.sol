// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC1404} from "../interfaces/IERC1404.sol";
import {IERC3643} from "../interfaces/IERC3643.sol";
import {IPayingAgent} from "../interfaces/IPayingAgent.sol";
import {IRecordDateToken} from "../interfaces/IRecordDateToken.sol";
import {PaymentCodes} from "./PaymentCodes.sol";

/// @title PayingAgent
/// @notice The paying agent of one security token (the role a registrar / paying agent plays for a
/// bond or a share): it declares distributions, takes the cash for them from the issuer and pays
/// whoever held the security at the record date, each wallet exactly once.
///
/// The rules, in one place:
/// - Amount. A distribution pays `numerator / denominator` cash units per unit of the security. A
///   wallet is owed `floor(balanceOfAt(wallet, recordDate) * numerator / denominator)`: exact integer
///   arithmetic (OpenZeppelin `Math.mulDiv`, no intermediate overflow), rounded down per holder. At
///   most `MAX_AMOUNT_PER_UNIT` (2^32) cash units per unit: a security token holds at most 2^96 - 1
///   units, so every distribution's total fits the 128 bits it is funded and paid in, and funding it
///   can never overflow (a larger amount is refused when declared, with `PayingAgentAmountTooLarge`).
/// - Funding. After the record date the issuer calls `fund`: the agent sets aside
///   `floor(totalSupplyAt(recordDate) * numerator / denominator)`, which covers every holder (a sum
///   of floors never exceeds the floor of the sum). It first uses cash it already holds beyond what
///   it owes (e.g. minted to it directly by the cash issuer), then pulls the rest from the caller with
///   `transferFrom`. The agent must be a registered settlement contract of the cash token
///   (`setSettlementContract`) so it can hold the cash outside the holding limits.
/// - Payment. From the payment date: a holder calls `claim`, or the issuer calls `payBatch` with at
///   most `MAX_BATCH` wallets (no loop over all holders). A wallet is paid exactly once.
/// - Held. In `payBatch`, a payment to a wallet frozen on the security token, or that the cash token
///   refuses (frozen, no longer eligible, above its GBP holding limit, ...), is recorded as held with
///   the reason (`PaymentHeld`): the cash stays with the agent, owed to that holder, who claims it once
///   the cause is gone. A `claim` that would be refused reverts instead and changes nothing.
/// - Remainder. Rounding dust and amounts never claimed by `paymentDate + claimPeriod` are the
///   remainder, `funded - paid - held`; after that deadline the issuer may take it back
///   (`returnRemainder`), which closes the distribution: wallets never paid can no longer claim, held
///   payments stay claimable for ever.
/// @dev Roles: DEFAULT_ADMIN_ROLE and ISSUER_ROLE go to the issuer. On the security token the agent
/// needs AGENT_ROLE (to schedule record dates, and to burn at a redemption).
abstract contract PayingAgent is IPayingAgent, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Role of the issuer: declares, funds, pays in batches, takes the remainder back.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice The most wallets one `payBatch` call takes.
    uint256 public constant MAX_BATCH = 200;
    /// @notice The most cash units a distribution may pay per unit of the security (see the Amount
    /// rule): 2^32, so that the total over the most units a token can hold (2^96 - 1) fits in 128 bits.
    uint256 public constant MAX_AMOUNT_PER_UNIT = 2 ** 32;

    /// @dev A wallet's payment of a distribution, in one slot.
    struct Payment {
        PaymentStatus status;
        uint8 code;
        uint240 amount;
    }

    IRecordDateToken internal immutable _security;
    uint256 private immutable _claimPeriod;

    uint256 private _distributionCount;
    mapping(uint256 id => Distribution) private _distributions;
    mapping(uint256 id => mapping(address holder => Payment)) private _payments;
    mapping(address cash => uint256 owed) private _liabilities;
    mapping(uint256 recordDate => bool) private _scheduled;

    /// @param security_ The security token (with record dates; see `IRecordDateToken`).
    /// @param claimPeriod_ Seconds after a payment date during which unpaid holders may still claim
    /// before the issuer may take the remainder back.
    /// @param issuer Receives DEFAULT_ADMIN_ROLE and ISSUER_ROLE.
    constructor(address security_, uint256 claimPeriod_, address issuer) {
        if (security_ == address(0) || issuer == address(0)) revert PayingAgentZeroAddress();
        _security = IRecordDateToken(security_);
        _claimPeriod = claimPeriod_;
        _grantRole(DEFAULT_ADMIN_ROLE, issuer);
        _grantRole(ISSUER_ROLE, issuer);
    }

    // ------------------------------------------------------------------ views

    /// @notice The security token whose holders this agent pays.
    function security() external view returns (address) {
        return address(_security);
    }

    /// @notice Seconds after a payment date before the issuer may take the remainder back.
    function claimPeriod() external view returns (uint256) {
        return _claimPeriod;
    }

    /// @notice How many distributions were declared (ids run from 1 to this number).
    function distributionCount() external view returns (uint256) {
        return _distributionCount;
    }

    /// @notice Distribution `id` as stored.
    /// @dev Requirements: the distribution exists.
    function distribution(uint256 id) external view returns (Distribution memory) {
        return _existing(id);
    }

    /// @notice What `holder` is owed by distribution `id`:
    /// `floor(balanceOfAt(holder, recordDate) * numerator / denominator)` (whether paid or not).
    /// @dev Requirements: the distribution exists; its record date has passed.
    function entitlement(uint256 id, address holder) public view returns (uint256) {
        Distribution storage d = _existing(id);
        _requireRecordDatePassed(id, d.recordDate);
        return Math.mulDiv(_security.balanceOfAt(holder, d.recordDate), d.numerator, d.denominator);
    }

    /// @notice The cash `fund` sets aside: `floor(totalSupplyAt(recordDate) * numerator / denominator)`.
    /// @dev Requirements: the distribution exists; its record date has passed.
    function requiredFunding(uint256 id) public view returns (uint256) {
        Distribution storage d = _existing(id);
        _requireRecordDatePassed(id, d.recordDate);
        return Math.mulDiv(_security.totalSupplyAt(d.recordDate), d.numerator, d.denominator);
    }

    /// @notice `holder`'s payment of distribution `id`: its status, the reason code it was held for
    /// (0 unless held), and the amount paid or held (0 while unpaid).
    function payment(uint256 id, address holder)
        external
        view
        returns (PaymentStatus status, uint8 code, uint256 amount)
    {
        Payment memory p = _payments[id][holder];
        return (p.status, p.code, p.amount);
    }

    /// @notice The amount held for `holder` in distribution `id` (0 if none).
    function heldAmount(uint256 id, address holder) external view returns (uint256) {
        Payment memory p = _payments[id][holder];
        return p.status == PaymentStatus.Held ? p.amount : 0;
    }

    /// @notice Whether `holder` has been paid distribution `id`.
    function isPaid(uint256 id, address holder) external view returns (bool) {
        return _payments[id][holder].status == PaymentStatus.Paid;
    }

    /// @notice What distribution `id` has not paid, not held and not returned: `funded - paid - held
    /// - returned` (rounding dust plus amounts not yet claimed; 0 once closed).
    /// @dev Requirements: the distribution exists.
    function remainder(uint256 id) external view returns (uint256) {
        Distribution storage d = _existing(id);
        return uint256(d.funded) - d.paid - d.held - d.returned;
    }

    /// @notice When the issuer may take distribution `id`'s remainder back: payment date + claim period.
    /// @dev Requirements: the distribution exists.
    function claimDeadline(uint256 id) public view returns (uint256) {
        return uint256(_existing(id).paymentDate) + _claimPeriod;
    }

    /// @notice The cash in `cash` this agent owes: funded minus paid minus returned, over all
    /// distributions (held payments included). Its balance of `cash` is at least this.
    function liabilities(address cash) external view returns (uint256) {
        return _liabilities[cash];
    }

    /// @notice "NAME: sentence" for a paying-agent hold code (0xB0-0xBF); cash codes are explained by
    /// the cash token's `messageForTransferRestriction`.
    function messageForPaymentCode(uint8 code) external pure returns (string memory) {
        return PaymentCodes.message(code);
    }

    // ------------------------------------------------------------------ operations

    /// @notice Sets the cash of distribution `id` aside (see the contract's funding rule): cash the
    /// agent holds beyond what it owes first, then a `transferFrom` of the shortfall from the caller.
    /// @dev Requirements: caller has ISSUER_ROLE; the distribution exists and is Declared; its record
    /// date has passed; for a shortfall, the caller approved this agent on the cash token and holds it.
    function fund(uint256 id) external onlyRole(ISSUER_ROLE) nonReentrant {
        Distribution storage d = _existing(id);
        if (d.state != DistributionState.Declared) revert PayingAgentAlreadyFunded(id);
        uint256 required = requiredFunding(id);
        address cash = d.cash;
        uint256 owed = _liabilities[cash];
        uint256 balance = IERC20(cash).balanceOf(address(this));
        uint256 surplus = balance > owed ? balance - owed : 0;
        uint256 pulled = required > surplus ? required - surplus : 0;
        if (pulled != 0 && !IERC20(cash).trySafeTransferFrom(_msgSender(), address(this), pulled)) {
            revert PayingAgentFundingFailed(id, _msgSender(), pulled);
        }
        d.funded = required.toUint128();
        d.state = DistributionState.Funded;
        _liabilities[cash] = owed + required;
        emit DistributionFunded(id, _msgSender(), required, pulled);
    }

    /// @notice Pays the caller its amount of distribution `id`, or the payment held for it. A payment
    /// that would be refused now reverts with `PayingAgentPaymentRefused` and changes nothing.
    /// @dev Requirements: the distribution is funded (or closed, for a held payment); the payment date
    /// has passed; the caller was not paid yet and is owed a non-zero amount; the caller's wallet is
    /// not frozen on the security token and the cash token accepts the payment.
    function claim(uint256 id) external nonReentrant {
        Distribution storage d = _existing(id);
        address holder = _msgSender();
        Payment memory p = _payments[id][holder];
        if (p.status == PaymentStatus.Paid) revert PayingAgentAlreadyPaid(id, holder);
        if (p.status == PaymentStatus.Unpaid) _requirePayable(id, d);
        else _requirePaymentDate(id, d);
        uint256 amount = p.status == PaymentStatus.Held ? p.amount : entitlement(id, holder);
        if (amount == 0) revert PayingAgentNothingOwed(id, holder);
        uint8 code = _attempt(id, d, holder, amount);
        if (code != PaymentCodes.SUCCESS) revert PayingAgentPaymentRefused(id, holder, amount, code);
        _recordPaid(id, d, holder, p.status, amount);
    }

    /// @notice Pays distribution `id` to each of `holders` (a bounded batch; see the contract's rules):
    /// wallets already paid are skipped, so batches may overlap; a refused payment is held
    /// (`PaymentHeld`), a held one is retried; wallets owed nothing are skipped. At a redemption every
    /// listed wallet's units are burned, also those of wallets owed nothing or already paid (units
    /// bought after the record date carry no principal).
    /// @dev Requirements: caller has ISSUER_ROLE; at most MAX_BATCH wallets; the distribution is
    /// funded and not closed; the payment date has passed.
    function payBatch(uint256 id, address[] calldata holders) external onlyRole(ISSUER_ROLE) nonReentrant {
        if (holders.length > MAX_BATCH) revert PayingAgentBatchTooLarge(holders.length, MAX_BATCH);
        Distribution storage d = _existing(id);
        _requirePayable(id, d);
        for (uint256 i = 0; i < holders.length; ++i) {
            _payInBatch(id, d, holders[i]);
        }
    }

    /// @notice After the claim deadline, sends distribution `id`'s remainder (`funded - paid - held`:
    /// rounding dust and never-claimed amounts) to `to` and closes it; held payments stay claimable.
    /// @dev Requirements: caller has ISSUER_ROLE; the distribution is Funded; its claim deadline has
    /// passed; `to` may receive the cash token.
    function returnRemainder(uint256 id, address to) external onlyRole(ISSUER_ROLE) nonReentrant {
        Distribution storage d = _existing(id);
        if (d.state == DistributionState.Closed) revert PayingAgentDistributionClosed(id);
        if (d.state != DistributionState.Funded) revert PayingAgentNotFunded(id);
        uint256 deadline = claimDeadline(id);
        if (block.timestamp <= deadline) revert PayingAgentClaimPeriodNotOver(id, deadline, block.timestamp);
        uint256 amount = uint256(d.funded) - d.paid - d.held;
        d.state = DistributionState.Closed;
        d.returned = amount.toUint128();
        _liabilities[d.cash] -= amount;
        if (amount != 0) IERC20(d.cash).safeTransfer(to, amount);
        emit RemainderReturned(id, to, amount);
    }

    // ------------------------------------------------------------------ for the concrete agents

    /// @dev Declares a distribution and schedules its record date on the security token (once per date).
    function _declare(
        DistributionKind kind,
        address cash,
        uint256 recordDate,
        uint256 paymentDate,
        uint256 numerator,
        uint256 denominator,
        uint256 period
    ) internal returns (uint256 id) {
        if (cash == address(0)) revert PayingAgentZeroAddress();
        if (recordDate <= block.timestamp || paymentDate <= recordDate || paymentDate > type(uint40).max) {
            revert PayingAgentInvalidDates(recordDate, paymentDate, block.timestamp);
        }
        if (numerator == 0 || denominator == 0) revert PayingAgentZeroAmount();
        if (numerator > Math.saturatingMul(MAX_AMOUNT_PER_UNIT, denominator)) {
            revert PayingAgentAmountTooLarge(numerator, denominator, MAX_AMOUNT_PER_UNIT);
        }
        if (!_security.recordDatesEnabled()) revert PayingAgentRecordDatesDisabled(address(_security));
        if (!_scheduled[recordDate]) {
            _scheduled[recordDate] = true;
            _security.scheduleRecordDate(recordDate);
        }
        id = ++_distributionCount;
        Distribution storage d = _distributions[id];
        d.cash = cash;
        d.kind = kind;
        d.recordDate = uint40(recordDate);
        d.paymentDate = uint40(paymentDate);
        d.period = period;
        d.numerator = numerator;
        d.denominator = denominator;
        emit DistributionDeclared(id, kind, cash, recordDate, paymentDate, numerator, denominator, period);
    }

    /// @dev What must hold before cash moves to `holder`; returns 0 or the reason to hold. The base
    /// rule: a wallet frozen on the security token is not paid. Overridden for redemption (burn).
    function _beforePayment(uint256, Distribution storage, address holder) internal virtual returns (uint8) {
        return IERC3643(address(_security)).isFrozen(holder) ? PaymentCodes.SECURITY_WALLET_FROZEN : 0;
    }

    function _existing(uint256 id) internal view returns (Distribution storage d) {
        d = _distributions[id];
        if (d.cash == address(0)) revert PayingAgentUnknownDistribution(id);
    }

    // ------------------------------------------------------------------ internals

    /// @dev One payment attempt: the pre-payment rule, then the cash transfer; 0 or the reason it failed.
    function _attempt(uint256 id, Distribution storage d, address holder, uint256 amount) private returns (uint8 code) {
        code = _beforePayment(id, d, holder);
        if (code != PaymentCodes.SUCCESS) return code;
        address cash = d.cash;
        if (IERC20(cash).trySafeTransfer(holder, amount)) return PaymentCodes.SUCCESS;
        // Only on failure: ask the cash token which rule said no (a probe that cannot revert the payment).
        try IERC1404(cash).detectTransferRestriction(address(this), holder, amount) returns (uint8 restriction) {
            if (restriction != 0) return restriction;
        } catch {}
        return PaymentCodes.CASH_TRANSFER_FAILED;
    }

    /// @dev One wallet of a `payBatch`: skip if paid; pay, or hold (first refusal) / keep holding.
    function _payInBatch(uint256 id, Distribution storage d, address holder) private {
        Payment storage stored = _payments[id][holder];
        PaymentStatus status = stored.status;
        if (status == PaymentStatus.Paid) {
            // A redeemed wallet that received units afterwards: burn them (nothing more is paid).
            if (d.kind == DistributionKind.Redemption) _beforePayment(id, d, holder);
            return;
        }
        uint256 amount = status == PaymentStatus.Held
            ? stored.amount
            : Math.mulDiv(_security.balanceOfAt(holder, d.recordDate), d.numerator, d.denominator);
        if (amount == 0) {
            if (d.kind == DistributionKind.Redemption) _beforePayment(id, d, holder); // burn the units only
            return;
        }
        uint8 code = _attempt(id, d, holder, amount);
        if (code == PaymentCodes.SUCCESS) {
            _recordPaid(id, d, holder, status, amount);
        } else if (status == PaymentStatus.Unpaid) {
            _payments[id][holder] = Payment(PaymentStatus.Held, code, uint240(amount));
            d.held += uint128(amount);
            emit PaymentHeld(id, holder, amount, code);
        }
    }

    function _recordPaid(uint256 id, Distribution storage d, address holder, PaymentStatus was, uint256 amount)
        private
    {
        _payments[id][holder] = Payment(PaymentStatus.Paid, 0, uint240(amount));
        if (was == PaymentStatus.Held) d.held -= uint128(amount);
        d.paid += uint128(amount);
        _liabilities[d.cash] -= amount;
        emit PaymentMade(id, holder, amount);
    }

    function _requirePayable(uint256 id, Distribution storage d) private view {
        if (d.state == DistributionState.Declared) revert PayingAgentNotFunded(id);
        if (d.state == DistributionState.Closed) revert PayingAgentDistributionClosed(id);
        _requirePaymentDate(id, d);
    }

    function _requirePaymentDate(uint256 id, Distribution storage d) private view {
        if (block.timestamp < d.paymentDate) revert PayingAgentBeforePaymentDate(id, d.paymentDate, block.timestamp);
    }

    function _requireRecordDatePassed(uint256 id, uint256 recordDate) private view {
        if (block.timestamp <= recordDate) revert PayingAgentRecordDateNotPassed(id, recordDate, block.timestamp);
    }
}
