// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {IEquityPayingAgent} from "../interfaces/IEquityPayingAgent.sol";
import {PayingAgent} from "./PayingAgent.sol";

/// @title EquityPayingAgent
/// @notice The paying agent of one share class issued as a sandbox security token: dividends declared
/// per share with a record date and a payment date, paid in a cash token to the record-date holders
/// exactly once per wallet, refused payments held until claimable (`PayingAgent`); and the issuer's
/// N-for-1 share split, run through this agent (which holds AGENT_ROLE on the token): `startSplit`,
/// then `splitBatch` over the holders in bounded batches until the token's `splitInProgress()` is
/// false. A dividend whose record date falls after the split pays the post-split shares.
/// Amount per holder: floor(recordDateShares * amountPerShare), in cash units (exact; nothing to round).
contract EquityPayingAgent is IEquityPayingAgent, PayingAgent {
    string private _shareClass;
    address private immutable _cash;
    uint256 private immutable _parValue;
    uint256 private _parValueDivisor = 1;
    uint256 private _lastRecordDate;

    /// @param shareClass_ The share class (e.g. "Ordinary", "Class A common").
    /// @param security_ The security token of the shares (record dates enabled).
    /// @param cash_ The cash token dividends are paid in.
    /// @param parValue_ Nominal (par) value per share at issuance, in cash units (0 for no-par shares).
    /// @param claimPeriod_ Seconds after a payment date before the issuer may take the remainder back.
    /// @param issuer Receives DEFAULT_ADMIN_ROLE and ISSUER_ROLE.
    constructor(
        string memory shareClass_,
        address security_,
        address cash_,
        uint256 parValue_,
        uint256 claimPeriod_,
        address issuer
    ) PayingAgent(security_, claimPeriod_, issuer) {
        if (cash_ == address(0)) revert PayingAgentZeroAddress();
        if (bytes(shareClass_).length == 0) revert EquityEmptyShareClass();
        _shareClass = shareClass_;
        _cash = cash_;
        _parValue = parValue_;
        emit ShareClassFixed(shareClass_, security_, cash_, parValue_);
    }

    /// @notice The share class.
    function shareClass() external view returns (string memory) {
        return _shareClass;
    }

    /// @notice The cash token dividends are paid in.
    function cash() external view returns (address) {
        return _cash;
    }

    /// @notice Par value per share, in cash units, as `amount / divisor` (the divisor is the product
    /// of the split ratios since issuance).
    function parValue() external view returns (uint256 amount, uint256 divisor) {
        return (_parValue, _parValueDivisor);
    }

    /// @notice Declares a dividend of `amountPerShare` cash units per share held at `recordDate`,
    /// payable from `paymentDate`; schedules the record date on the security token.
    /// @dev Requirements: caller has ISSUER_ROLE; 0 < `amountPerShare` <= MAX_AMOUNT_PER_UNIT;
    /// now < recordDate < paymentDate;
    /// no split in progress on the token; the agent has AGENT_ROLE on the token.
    /// @return id The dividend's distribution id.
    function declareDividend(uint256 amountPerShare, uint256 recordDate, uint256 paymentDate)
        external
        onlyRole(ISSUER_ROLE)
        nonReentrant
        returns (uint256 id)
    {
        (bool splitting,,) = _security.splitInProgress();
        if (splitting) revert EquitySplitInProgress();
        id = _declare(DistributionKind.Dividend, _cash, recordDate, paymentDate, amountPerShare, 1, 0);
        if (recordDate > _lastRecordDate) _lastRecordDate = recordDate;
    }

    /// @notice Starts an N-for-1 split on the token (each share becomes `ratio` shares); par value per
    /// share is divided by `ratio`. Then run `splitBatch` over the holders.
    /// @dev Requirements: caller has ISSUER_ROLE; `ratio` >= 2; no declared dividend's record date is
    /// still ahead; the token's own `startSplit` requirements.
    function startSplit(uint256 ratio) external onlyRole(ISSUER_ROLE) nonReentrant {
        if (ratio < 2) revert EquityInvalidSplitRatio(ratio);
        if (_lastRecordDate >= block.timestamp) revert EquityRecordDatePending(_lastRecordDate, block.timestamp);
        _security.startSplit(ratio);
        uint256 divisor = _parValueDivisor * ratio;
        _parValueDivisor = divisor;
        emit ShareSplitStarted(ratio, _parValue, divisor);
    }

    /// @notice Applies the split in progress to `wallets` on the token (a bounded batch).
    /// @dev Requirements: caller has ISSUER_ROLE; the token's own `splitBatch` requirements.
    function splitBatch(address[] calldata wallets) external onlyRole(ISSUER_ROLE) nonReentrant {
        _security.splitBatch(wallets);
    }
}
