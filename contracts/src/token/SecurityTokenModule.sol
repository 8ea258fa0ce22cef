// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Arrays} from "@openzeppelin/contracts/utils/Arrays.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {IERC3643} from "../interfaces/IERC3643.sol";
import {IERC7943Fungible} from "../interfaces/IERC7943Fungible.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IOfferingRegistry} from "../interfaces/IOfferingRegistry.sol";
import {SecurityTokenBase} from "./SecurityTokenBase.sol";
import {TransferRules} from "./TransferRules.sol";

/// @title SecurityTokenModule
/// @notice The token's cold module: the ERC-7943 views the token declares (`canSend`, `canReceive`;
/// its other views are in `SecurityTokenViews`) and its corporate actions, record-date balances and
/// N-for-1 share splits. `SecurityToken` runs these functions by
/// `delegatecall` in its own storage (views under `staticcall`); called directly, the module only
/// touches its own (empty) storage. One module serves any number of tokens.
///
/// Record dates: balances are checkpointed lazily, in the manner of OpenZeppelin 4's
/// `ERC20Snapshot`, with OpenZeppelin's `Checkpoints`: a wallet's balance (and the total supply) is
/// written under the latest scheduled record date that has passed, only on the wallet's first balance
/// change after that date, before the change. The transfer hook decides whether that is due from the
/// slots it reads anyway: the record-date state in the token's `Config` word (the latest passed
/// date, how many have passed, the next one) and each party's `recordMark` in its `Wallet` word (how
/// many had passed when its balance was last recorded); so a transfer that crosses no record date
/// since the parties' last change costs what it costs on a token without record dates. A checkpoint
/// on every change (`ERC20Votes` style) would instead write a new slot for each party of every
/// transfer. A wallet's latest checkpoint is kept in its history slot, so its first costs one new
/// slot; older ones go to the `Checkpoints` trace. The price is that only scheduled record dates
/// (at most 65,535 per token, the width of a wallet's mark) can be asked about.
///
/// Splits: `startSplit` stops every movement of units (the PAUSED rule, for forced transfers and
/// burns too), scales the limits and records the pre-split supply; `splitBatch` multiplies each
/// listed wallet once (balance, frozen units, regulator-frozen units, offering lots, its investor's
/// aggregate position) and the total supply with it, so the supply always equals the sum of the
/// balances; the split completes when the pre-split units not yet split reach zero.
/// @dev Kept apart from the token because together they exceed the EIP-170 code-size limit.
contract SecurityTokenModule is SecurityTokenBase {
    using Checkpoints for Checkpoints.Trace208;

    constructor() ERC20("", "") {}

    /// @notice ERC-7943: whether `account` may send at all: not paused, not frozen, registered,
    /// active and within its KYC validity.
    function canSend(address account) external view returns (bool allowed) {
        if (_config.flags & (F_PAUSED | F_SPLITTING) != 0 || _wallets[account].flags & W_FROZEN != 0) return false;
        return _eligible(_registry.walletRecord(account));
    }


    /// @notice ERC-7943: whether `account` may receive at all: not frozen, registered, active, within
    /// its KYC validity, of an admitted jurisdiction and category. (Whether a sender's restricted or
    /// Reg S lots may go to it is decided per transfer, by the lots' offerings.)
    function canReceive(address account) external view returns (bool allowed) {
        if (_config.flags & (F_PAUSED | F_SPLITTING) != 0 || _wallets[account].flags & W_FROZEN != 0) return false;
        IInvestorRegistry.WalletRecord memory rec = _registry.walletRecord(account);
        if (!_eligible(rec)) return false;
        (uint8 code,) = _offeringCheck(_config, rec);
        return code == TransferRules.SUCCESS;
    }


    // ================================================================== record dates

    /// @notice Switches record-date balances on (for good). Only before anything is issued, so the
    /// history is complete from the first unit.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; the total supply is 0.
    function enableRecordDates() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_counts.totalSupply != 0) revert RecordDatesNeedEmptySupply();
        if (_config.flags & F_RECORD_DATES == 0) {
            _config.flags |= F_RECORD_DATES;
            _config.recordNext = type(uint48).max;
        }
        emit RecordDatesEnabled();
    }

    /// @notice Schedules `recordDate` (a unix time): once it has passed, `balanceOfAt` and
    /// `totalSupplyAt` give the balances at the end of that second. Scheduling a date again is
    /// harmless (it is kept once).
    /// @dev Requirements: caller has AGENT_ROLE; record dates enabled; `block.timestamp < recordDate
    /// < 2**48`; no split in progress; fewer than 65,535 record dates scheduled so far. Costs a shift
    /// of the later dates already scheduled.
    function scheduleRecordDate(uint256 recordDate) external onlyRole(AGENT_ROLE) {
        uint8 flags = _config.flags;
        if (flags & F_RECORD_DATES == 0) revert RecordDatesDisabled();
        if (recordDate <= block.timestamp || recordDate >= type(uint48).max) {
            revert RecordDateNotInFuture(recordDate, block.timestamp);
        }
        if (flags & F_SPLITTING != 0) revert SplitInProgress();
        uint256[] storage dates = _recordDates;
        uint256 at = Arrays.lowerBound(dates, recordDate);
        uint256 n = dates.length;
        if (at == n || dates[at] != recordDate) {
            // A wallet's mark counts the record dates passed in a uint16.
            if (n >= MAX_RECORD_DATES) revert RecordDateLimitReached(MAX_RECORD_DATES);
            // Insert in order; only dates still in the future (after this one) move.
            dates.push(recordDate);
            for (uint256 i = n; i > at; --i) {
                dates[i] = dates[i - 1];
            }
            dates[at] = recordDate;
            // A pending roll (next already passed) is never overwritten: then next < now < recordDate.
            if (recordDate < _config.recordNext) _config.recordNext = uint48(recordDate);
        }
        emit RecordDateScheduled(recordDate);
    }

    /// @notice Plumbing for the token's transfer hook and recovery: records the balances of `from` and
    /// `to` (`address(0)`: the total supply) under the latest scheduled record date that has passed,
    /// if not yet recorded, before they change. Harmless if called at any other time: it records
    /// balances that are right.
    /// @dev Requirements: none (runs in the token's storage only through the token's delegatecall).
    function checkpointBalances(address from, address to) external {
        uint48 passed = _rollRecordDates();
        if (passed != 0) {
            _checkpoint(from, passed);
            _checkpoint(to, passed);
        }
    }

    /// @notice Whether the token keeps record-date balances.
    function recordDatesEnabled() external view returns (bool) {
        return _config.flags & F_RECORD_DATES != 0;
    }

    /// @notice `wallet`'s balance at the end of second `recordDate` (after every transaction in blocks
    /// stamped at or before it).
    /// @dev Requirements: record dates enabled; `recordDate` has passed and was scheduled.
    function balanceOfAt(address wallet, uint256 recordDate) external view returns (uint256) {
        _checkRecordDate(recordDate);
        return wallet == address(0) ? 0 : _valueAt(wallet, recordDate);
    }

    /// @notice The total supply at the end of second `recordDate`.
    /// @dev Requirements: as `balanceOfAt`.
    function totalSupplyAt(uint256 recordDate) external view returns (uint256) {
        _checkRecordDate(recordDate);
        return _valueAt(address(0), recordDate);
    }

    /// @dev Moves the record-date state past every scheduled date before now; returns the latest.
    function _rollRecordDates() private returns (uint48) {
        Config storage cfg = _config;
        if (cfg.recordNext < block.timestamp) {
            uint256[] storage dates = _recordDates;
            uint256 at = Arrays.lowerBound(dates, block.timestamp); // first date not yet passed
            (cfg.recordPassed, cfg.recordCount) = (uint48(dates[at - 1]), uint16(at));
            cfg.recordNext = at < dates.length ? uint48(dates[at]) : type(uint48).max;
        }
        return cfg.recordPassed;
    }

    /// @dev Records `account`'s current balance under `passed` unless already recorded there. The
    /// latest checkpoint lives in the wallet's history slot (which the transfer hook reads anyway); the
    /// one it replaces moves to the `Checkpoints` trace. A wallet's first checkpoint thus writes one
    /// slot, not three (trace length, trace entry, key).
    function _checkpoint(address account, uint48 passed) private {
        WalletHistory memory h = _history[account];
        if (h.recordKey < passed) {
            if (h.recordKey != 0) _balanceCheckpoints[account].push(h.recordKey, h.recordBalance);
            h.recordKey = passed;
            h.recordBalance = account == address(0) ? _counts.totalSupply : _wallets[account].balance;
            _history[account] = h;
        }
    }

    function _checkRecordDate(uint256 recordDate) private view {
        if (_config.flags & F_RECORD_DATES == 0) revert RecordDatesDisabled();
        if (recordDate >= block.timestamp) revert RecordDateNotPassed(recordDate, block.timestamp);
        uint256 at = Arrays.lowerBound(_recordDates, recordDate);
        if (at == _recordDates.length || _recordDates[at] != recordDate) revert RecordDateNotScheduled(recordDate);
    }

    /// @dev The first checkpoint at or after `recordDate` holds the balance then (the balance did not
    /// change between the record date and that checkpoint's change); none means no change since.
    function _valueAt(address account, uint256 recordDate) private view returns (uint256) {
        WalletHistory memory h = _history[account];
        if (h.recordKey < recordDate) {
            return account == address(0) ? _counts.totalSupply : _wallets[account].balance;
        }
        Checkpoints.Trace208 storage trace = _balanceCheckpoints[account];
        (bool archived, uint48 key,) = trace.latestCheckpoint();
        return archived && key >= recordDate ? trace.lowerLookup(uint48(recordDate)) : h.recordBalance;
    }

    // ================================================================== share split

    /// @notice Starts an N-for-1 split: every unit will become `ratio` units. Movements of units stop
    /// (the PAUSED rule) until `splitBatch` has processed every wallet holding units; the issuance
    /// limit, the per-investor maximum and the cross-border threshold are multiplied now; holder
    /// counts do not change. A supply of 0 completes at once. Cross-border volume already in an
    /// investor's window is multiplied too (read in post-split units against the multiplied threshold).
    /// @dev Requirements: caller has AGENT_ROLE; `ratio >= 2`; no split in progress; no cross-border
    /// transfer pending; no scheduled record date still to come; the scaled limits and supply fit
    /// their storage widths; at most 255 splits in the token's life, the product of their ratios
    /// below 2^64.
    function startSplit(uint256 ratio) external onlyRole(AGENT_ROLE) {
        if (ratio < 2) revert InvalidSplitRatio(ratio);
        uint8 flags = _config.flags;
        if (flags & F_SPLITTING != 0) revert SplitInProgress();
        if (_pendingCrossBorder != 0) revert CrossBorderTransfersPending(_pendingCrossBorder);
        if (flags & F_RECORD_DATES != 0) {
            _rollRecordDates();
            uint48 next = _config.recordNext;
            if (next != type(uint48).max) revert SplitBeforeRecordDate(next);
        }
        uint256 supply = _counts.totalSupply;
        uint256 limit = uint256(_caps.issuanceLimit) * ratio;
        if (ratio > type(uint32).max || limit > type(uint96).max || supply * ratio > type(uint96).max) {
            revert SplitOverflow(ratio);
        }
        _caps.issuanceLimit = uint96(limit);
        uint256 maxBalance = _config.maxInvestorBalance;
        if (maxBalance != type(uint80).max) {
            maxBalance *= ratio;
            if (maxBalance >= type(uint80).max) revert SplitOverflow(ratio);
            _config.maxInvestorBalance = uint80(maxBalance);
        }
        uint256 threshold = _limits.crossBorderThreshold;
        if (threshold != type(uint96).max) {
            threshold *= ratio;
            if (threshold >= type(uint96).max) revert SplitOverflow(ratio);
            _limits.crossBorderThreshold = uint96(threshold);
        }
        uint32 id = _split.id + 1;
        uint256 factor = (id == 1 ? 1 : _splitFactors[id - 1]) * ratio;
        if (factor > type(uint64).max || id > type(uint8).max) revert SplitOverflow(ratio);
        _splitFactors[id] = factor;
        _caps.splits = uint8(id);
        _split = SplitState({unprocessed: uint96(supply), ratio: uint32(ratio), id: id});
        _config.flags = flags | F_SPLITTING;
        emit SplitStarted(ratio, supply);
        if (supply == 0) _completeSplit(ratio);
    }

    /// @notice Splits each of `wallets` once: its balance, frozen units (agents' and regulators'),
    /// its offering registry's lots (same acquisition dates) and its investor's aggregate position are
    /// multiplied by the
    /// ratio, and the total supply grows with them. A wallet already split, or holding nothing, is
    /// skipped. The split completes with the batch that splits the last units outstanding.
    /// @dev Requirements: caller has AGENT_ROLE; a split is in progress. Cost grows with the wallets
    /// listed (and their lots), never with the number of holders.
    function splitBatch(address[] calldata wallets) external onlyRole(AGENT_ROLE) {
        if (_config.flags & F_SPLITTING == 0) revert NoSplitInProgress();
        SplitState memory sp = _split;
        uint48 passed = _config.flags & F_RECORD_DATES != 0 ? _rollRecordDates() : 0;
        uint256 grown;
        for (uint256 i = 0; i < wallets.length; ++i) {
            address wallet = wallets[i];
            uint256 before = _wallets[wallet].balance;
            if (before == 0 || _history[wallet].splitId == sp.id) continue;
            if (passed != 0) {
                // Pre-split units under the record date: checkpoint before anything changes.
                _checkpoint(wallet, passed);
                _checkpoint(address(0), passed);
            }
            _history[wallet].splitId = sp.id;
            _splitWallet(wallet, sp.ratio);
            sp.unprocessed -= uint96(before);
            grown += before * (sp.ratio - 1);
            emit WalletSplit(wallet, before, before * sp.ratio);
        }
        _counts.totalSupply += uint96(grown);
        _split.unprocessed = sp.unprocessed;
        if (sp.unprocessed == 0) _completeSplit(sp.ratio);
    }

    /// @notice Whether a split is being processed, its ratio (of the latest split when none is) and
    /// the pre-split units not yet split.
    function splitInProgress() external view returns (bool inProgress, uint256 ratio, uint256 unprocessedSupply) {
        SplitState memory sp = _split;
        return (_config.flags & F_SPLITTING != 0, sp.ratio, sp.unprocessed);
    }

    /// @notice Whether `wallet` needs nothing more from the split in progress: it has been split, or
    /// holds nothing, or no split is in progress.
    function walletSplitDone(address wallet) external view returns (bool) {
        return _config.flags & F_SPLITTING == 0 || _history[wallet].splitId == _split.id
            || _wallets[wallet].balance == 0;
    }

    /// @dev Multiplies one wallet's units. Frozen, regulator-frozen and locked units are parts of the
    /// balance, so they fit once the supply times the ratio does (checked by `startSplit`).
    function _splitWallet(address wallet, uint256 ratio) private {
        Wallet memory w = _wallets[wallet];
        uint256 before = w.balance;
        w.balance = uint96(before * ratio);
        uint256 frozenBefore = w.frozen;
        if (frozenBefore != 0) {
            // ERC-7943 lets the frozen amount exceed the balance, so it is scaled saturating.
            w.frozen = _saturate96(frozenBefore * ratio);
            emit IERC3643.TokensFrozen(wallet, w.frozen - frozenBefore);
            emit IERC7943Fungible.Frozen(wallet, w.frozen);
        }
        _wallets[wallet] = w;
        WalletExtra storage x = _extra[wallet];
        if (x.regulatorFrozen != 0) {
            x.regulatorFrozen = _saturate96(uint256(x.regulatorFrozen) * ratio);
            for (uint256 k = 0; k < 2; ++k) {
                uint16 j = k == 0 ? UK : US;
                uint256 f = _regulatorFrozenBy[wallet][j];
                if (f != 0) _regulatorFrozenBy[wallet][j] = f * ratio;
            }
        }
        if (w.lockedUntil > block.timestamp) {
            // The offering registry's lots (Rule 144(d)(3)(i): a split keeps the acquisition date); only
            // the registry gives a wallet a lot horizon.
            address offerings = _offeringRegistry;
            bytes4 selector = IOfferingRegistry.splitLots.selector;
            assembly ("memory-safe") {
                let p := mload(0x40)
                mstore(p, selector)
                mstore(add(p, 4), wallet)
                mstore(add(p, 36), ratio)
                if iszero(call(gas(), offerings, 0, p, 68, 0, 0)) {
                    returndatacopy(p, 0, returndatasize())
                    revert(p, returndatasize())
                }
            }
        }
        (uint256 record,) = _registry.walletWords(wallet, wallet);
        if (uint8(record >> 232) > 1) {
            // An investor with several wallets: its aggregate, if kept, grows with this wallet.
            Position storage p = _positions[address(uint160(record))];
            if (p.initialized) p.balance += uint96(before * (ratio - 1));
        }
    }

    function _saturate96(uint256 v) private pure returns (uint96) {
        return v > type(uint96).max ? type(uint96).max : uint96(v);
    }

    function _completeSplit(uint256 ratio) private {
        _config.flags &= ~F_SPLITTING;
        emit SplitCompleted(ratio, _counts.totalSupply);
    }
}
