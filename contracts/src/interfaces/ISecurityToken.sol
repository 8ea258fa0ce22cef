// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title ISecurityToken
/// @notice Terms, events and custom errors of the sandbox security token. Every rule error names the
/// rule of `TransferRules` it enforces and carries the values involved.
interface ISecurityToken {
    /// @notice A security's rule parameters, set by its issuer at creation (and changed later only by
    /// `setTerms`, which emits `TermsSet`). Zero switches a limit off unless said otherwise. Rule 144
    /// holding periods and Regulation S distribution compliance periods are not terms of the token:
    /// they follow each lot's offering in the attached `OfferingRegistry` (calendar months from the
    /// acquisition; one period per Reg S tranche).
    /// @param usMinCategory Lowest US category admitted (1 non-accredited, 2 accredited: Reg D 506(c),
    /// 3 QIB: Rule 144A); 0 = US investors not admitted.
    /// @param ukMinCategory Lowest UK category admitted (4 retail, 5 professional: COBS 4.12A,
    /// 6 eligible counterparty); 0 = UK investors not admitted.
    /// @param crossBorderThreshold A transfer between jurisdictions that takes the sender's volume of
    /// cross-border transfers in this security over `crossBorderWindow` to it or above needs both
    /// regulators' approval; 0 = off.
    /// @param approvalWindow Seconds a cross-border request waits for approval before it expires.
    /// @param maxInvestorBalance Per-investor cap across all its wallets; 0 = off.
    /// @param maxHolders Holders of record (investors), e.g. 12(g): 2,000; 0 = off.
    /// @param maxUkHolders Holders in the UK; 0 = off.
    /// @param maxUsHolders Holders in the US; 0 = off.
    /// @param maxUsNonAccredited Holders of record who are not accredited investors, of any residence
    /// (Exchange Act 12(g)(1)(A): 500; the name predates counting UK holders); 0 = off. Rule 506(b)'s 35
    /// limits the issuer's purchasers per offering (`OfferingRegistry`), not holders.
    /// @param crossBorderWindow Seconds over which an investor's cross-border volume (transfers it sent
    /// to another jurisdiction, directly or approved) counts against `crossBorderThreshold`: a transfer
    /// made at `t` counts until `t + crossBorderWindow - 1` inclusive. 0 = each transfer on its own.
    struct Terms {
        uint8 usMinCategory;
        uint8 ukMinCategory;
        uint256 crossBorderThreshold;
        uint32 approvalWindow;
        uint256 maxInvestorBalance;
        uint32 maxHolders;
        uint32 maxUkHolders;
        uint32 maxUsHolders;
        uint32 maxUsNonAccredited;
        uint32 crossBorderWindow;
    }

    /// @notice Status of a cross-border transfer request. A request opened by a settlement contract
    /// (`requestCrossBorderClearance`) becomes `Cleared` when both regulators approve, and `Settled`
    /// only when that contract settles it; it is `Withdrawn` when that contract gives it up.
    enum CrossBorderStatus {
        None,
        Pending,
        Settled,
        Rejected,
        Expired,
        Cleared,
        Withdrawn
    }

    event TermsSet(Terms terms, address indexed actor);
    event JurisdictionAdmissionSet(uint16 indexed jurisdiction, uint8 minCategory);
    event IssuanceApproved(address indexed regulator, uint16 indexed jurisdiction, uint256 limit);
    event PartialFreezeByRegulator(address indexed wallet, uint16 indexed jurisdiction, uint256 frozenAmount);
    event CrossBorderTransferRequested(
        uint256 indexed id,
        address indexed from,
        address indexed to,
        uint256 value,
        uint16 fromJurisdiction,
        uint16 toJurisdiction,
        uint256 deadline
    );
    event CrossBorderTransferApproved(uint256 indexed id, address indexed regulator, uint16 jurisdiction);
    event CrossBorderTransferSettled(uint256 indexed id);
    event CrossBorderTransferRejected(uint256 indexed id, address indexed regulator, uint16 jurisdiction);
    event CrossBorderTransferExpired(uint256 indexed id);
    /// @notice Request `id` was opened by settlement contract `requester` for its trade `tradeId`: it
    /// clears, rather than settles, when both regulators approve, and only `requester` may settle it.
    event CrossBorderClearanceRequested(uint256 indexed id, address indexed requester, uint256 indexed tradeId);
    /// @notice Both regulators approved clearance request `id`; its requester may now settle it.
    event CrossBorderTransferCleared(uint256 indexed id);
    /// @notice The requester of clearance `id` gave it up (its trade was cancelled or expired); the
    /// escrowed units are released.
    event CrossBorderClearanceWithdrawn(uint256 indexed id);
    /// @notice The token keeps balances at record dates from now on.
    event RecordDatesEnabled();
    /// @notice `balanceOfAt` / `totalSupplyAt` will answer for `recordDate` once it has passed.
    event RecordDateScheduled(uint256 recordDate);
    /// @notice An N-for-1 split began: transfers stop until every unit outstanding is split.
    event SplitStarted(uint256 ratio, uint256 supplyBefore);
    /// @notice `wallet`'s units (and its frozen units and lots) were multiplied by the split ratio.
    event WalletSplit(address indexed wallet, uint256 balanceBefore, uint256 balanceAfter);
    /// @notice Every unit outstanding has been split; transfers resume unless the token is paused.
    event SplitCompleted(uint256 ratio, uint256 supplyAfter);
    /// @notice The security issues in `offeringRegistry`'s offerings, which keep its lots.
    event OfferingRegistrySet(address indexed offeringRegistry);

    // ----- rule errors (one per rule code; see TransferRules)
    error TransferPaused();
    error SenderFrozen(address wallet);
    error ReceiverFrozen(address wallet);
    error SenderNotRegistered(address wallet);
    error ReceiverNotRegistered(address wallet);
    error SenderSuspended(address wallet, address investor);
    error ReceiverSuspended(address wallet, address investor);
    /// @notice The sender (its wallet or its investor) is designated on a sanctions list (SENDER_SANCTIONED).
    error SenderSanctioned(address wallet, address investor);
    /// @notice The receiver (its wallet or its investor) is designated on a sanctions list (RECEIVER_SANCTIONED).
    error ReceiverSanctioned(address wallet, address investor);
    error SenderKycExpired(address wallet, uint256 kycValidUntil, uint256 checkedAt);
    error ReceiverKycExpired(address wallet, uint256 kycValidUntil, uint256 checkedAt);
    error JurisdictionNotAdmitted(address wallet, uint16 jurisdiction);
    error CategoryNotAdmitted(address wallet, uint16 jurisdiction, uint8 category, uint8 minimumCategory);
    error RegSDistributionCompliancePeriod(address wallet, uint256 periodEndsAt, uint256 checkedAt);
    error LockupActive(address wallet, uint256 amount, uint256 unlocked, uint256 nextUnlockAt);
    error HolderLimitReached(uint256 holdersAfter, uint256 limit);
    error JurisdictionHolderLimitReached(uint16 jurisdiction, uint256 holdersAfter, uint256 limit);
    error NonAccreditedHolderLimitReached(uint256 holdersAfter, uint256 limit);
    error InvestorBalanceLimitExceeded(address investor, uint256 balanceAfter, uint256 limit);
    /// @notice `windowVolume` is what the sender's investor already sent to other jurisdictions in this
    /// security within the window; with `value` it reaches `threshold`.
    error CrossBorderApprovalRequired(
        uint16 fromJurisdiction, uint16 toJurisdiction, uint256 value, uint256 threshold, uint256 windowVolume
    );
    error IssuanceNotApproved();
    error IssuanceLimitExceeded(uint256 supplyAfter, uint256 limit);
    /// @notice A mint outside the security's offerings: once an offering registry is attached, units
    /// are issued only in an offering (`OfferingRegistry.issue`).
    error IssuanceOutsideOffering();

    // ----- power errors
    /// @notice The caller is a regulator, but neither of the holder's jurisdiction nor of the
    /// security's home jurisdiction (or, for a cross-border request, of neither party).
    error RegulatorOutOfScope(address regulator, uint16 regulatorJurisdiction, uint16 targetJurisdiction);
    /// @notice The caller is neither an agent of this token nor a regulator.
    error NotAgentOrRegulator(address account);
    /// @notice The caller is not a registered regulator.
    error NotRegulator(address account);
    /// @notice A regulator's freeze or pause may only be changed by a regulator of the same jurisdiction.
    error FreezeImposedByRegulator(address wallet, uint16 regulatorJurisdiction);
    error PauseImposedByRegulator(uint16 regulatorJurisdiction);
    /// @notice Partial freeze above the balance not yet frozen.
    error FreezeExceedsBalance(address wallet, uint256 amount, uint256 freezable);
    /// @notice Partial unfreeze above what the caller itself froze.
    error UnfreezeExceedsOwnFreeze(address wallet, uint256 amount, uint256 unfreezable);
    /// @notice A forced transfer or burn would touch units frozen by a regulator or escrowed.
    error RegulatorFrozenUnits(address wallet, uint256 amount, uint256 movable);
    error BatchLengthMismatch();
    error AmountTooLarge(uint256 amount);
    error InvalidTerms();
    /// @notice After issuance approval the issuer may only tighten the terms; loosening needs the
    /// home regulator.
    error TermsExceedApproval();
    /// @notice `setCompliance` was given a contract that is neither this token nor a compliance bound to it.
    error ComplianceNotBoundToToken(address compliance);
    error RecoveryNotPossible(address lostWallet, address newWallet, address investorOnchainID);
    error NotCrossBorder(uint16 fromJurisdiction, uint16 toJurisdiction);
    error UnknownCrossBorderTransfer(uint256 id);
    error CrossBorderTransferNotPending(uint256 id, CrossBorderStatus status);
    error CrossBorderTransferPastDeadline(uint256 id, uint256 deadline, uint256 checkedAt);
    error CrossBorderTransferNotExpired(uint256 id, uint256 deadline, uint256 checkedAt);
    error CrossBorderAlreadyApproved(uint256 id, uint16 jurisdiction);
    /// @notice Only the settlement contract that requested clearance `id` may settle or withdraw it.
    error NotClearanceRequester(uint256 id, address account);
    /// @notice Clearance `id` cannot be settled: both regulators have not approved it (or it is closed).
    error CrossBorderTransferNotCleared(uint256 id, CrossBorderStatus status);

    // ----- corporate-action errors
    /// @notice Record dates can only be switched on before anything is issued.
    error RecordDatesNeedEmptySupply();
    /// @notice This token does not keep record-date balances.
    error RecordDatesDisabled();
    /// @notice Balances at `recordDate` are final only once the record date has passed.
    error RecordDateNotPassed(uint256 recordDate, uint256 checkedAt);
    /// @notice Only scheduled record dates have balances recorded.
    error RecordDateNotScheduled(uint256 recordDate);
    /// @notice A record date must be scheduled in the future (and fit in 48 bits).
    error RecordDateNotInFuture(uint256 recordDate, uint256 checkedAt);
    /// @notice The token already has `limit` record dates scheduled, the most it can keep exact
    /// (a wallet's record-date mark is 16 bits wide).
    error RecordDateLimitReached(uint256 limit);
    /// @notice The operation is refused while a share split is being processed.
    error SplitInProgress();
    /// @notice `splitBatch` without a split started.
    error NoSplitInProgress();
    /// @notice A split ratio must be at least 2.
    error InvalidSplitRatio(uint256 ratio);
    /// @notice A split by `ratio` would overflow the storage width of an amount or a limit.
    error SplitOverflow(uint256 ratio);
    /// @notice A split cannot start while cross-border transfers are pending (their units are escrowed).
    error CrossBorderTransfersPending(uint256 count);
    /// @notice A split cannot start before a scheduled record date has passed (its balances would
    /// mix pre- and post-split units).
    error SplitBeforeRecordDate(uint256 recordDate);
    /// @notice The offering registry cannot be attached: one is already, units were issued, or it
    /// serves another token.
    error OfferingRegistryNotAllowed(address offeringRegistry);
}
