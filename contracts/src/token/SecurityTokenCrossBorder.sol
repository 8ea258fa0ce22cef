// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {SecurityTokenViews} from "./SecurityTokenViews.sol";

/// @dev The two functions the cross-border code calls back on the token it runs for.
interface ISecurityTokenPlumbing {
    function checkCrossBorder(address from, address to, uint256 value) external view returns (uint16, uint16);
    function settleCrossBorder(address from, address to, uint256 value) external;
    function crossBorderVolume(address identity) external view returns (uint256 volume, uint256 window);
    function recordCrossBorderVolume(address identity, uint256 value) external;
}

/// @title SecurityTokenCrossBorder
/// @notice The cross-border powers of `SecurityToken`, in one place. An investor requests a transfer
/// to another jurisdiction: the units are escrowed until the regulators of both jurisdictions
/// approve (then it settles) or either rejects or the window passes (then they are released). A
/// settlement contract opens the same request as a *clearance* for one of its trades: the
/// regulators decide it the same way, in the same list, but once both approve it waits Cleared for
/// that contract to settle it together with its cash leg (delivery versus payment), or to withdraw
/// it when the trade is cancelled or expires.
/// @dev A token runs this code by `delegatecall`, in its own storage, through its extension's
/// fallback (token -> extension -> here); called directly, it only touches its own (empty) storage.
/// Kept apart from the extension because together they exceed the EIP-170 code-size limit. It also
/// carries the read-only views of `SecurityTokenViews`, which the token reaches through its fallback.
contract SecurityTokenCrossBorder is SecurityTokenViews {

    // ================================================================== offerings (kept here, apart from
    // the extension, for EIP-3860: the extension creates the module and rulebook in its constructor)

    /// @notice Attaches the `OfferingRegistry` this security issues in: from then on units are minted
    /// only in one of its offerings (`OfferingRegistry.issue`, which receives AGENT_ROLE here), and the
    /// lots that carry restricted and Regulation S status live there; emits `OfferingRegistrySet`.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; nothing issued yet; no registry attached yet;
    /// the registry serves this token.
    function setOfferingRegistry(address offeringRegistry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        (bool ok, bytes memory ret) = offeringRegistry_.staticcall(abi.encodeWithSignature("token()"));
        if (
            _offeringRegistry != address(0) || _counts.totalSupply != 0 || !ok || ret.length != 32
                || abi.decode(ret, (address)) != address(this)
        ) revert OfferingRegistryNotAllowed(offeringRegistry_);
        _offeringRegistry = offeringRegistry_;
        _grantRole(AGENT_ROLE, offeringRegistry_);
        emit OfferingRegistrySet(offeringRegistry_);
    }

    /// @notice The `OfferingRegistry` this security issues in (zero when none is attached).
    function offeringRegistry() external view returns (address) {
        return _offeringRegistry;
    }

    /// @notice Plumbing for `OfferingRegistry.issue`: raises `wallet`'s lot horizon (the time until
    /// which transfers from it consult the offering registry) to `horizon`.
    /// @dev Requirements: caller is the attached offering registry.
    function raiseLockHorizon(address wallet, uint256 horizon) external {
        if (_offeringRegistry == address(0) || _msgSender() != _offeringRegistry) revert NotAgentOrRegulator(_msgSender());
        Wallet storage w = _wallets[wallet];
        if (horizon > w.lockedUntil) w.lockedUntil = uint40(horizon);
    }

    // ================================================================== requests and decisions

    /// @notice Requests a transfer to an investor of another jurisdiction: the units are escrowed in
    /// the sender's wallet until the regulators of both jurisdictions approve (then it settles) or
    /// either rejects or the window passes (then they are released). Every other rule is checked now
    /// and again at settlement.
    /// @dev Requirements: the rulebook, except the cross-border rule, allows the transfer now; the
    /// parties are in different jurisdictions.
    /// @return The request's id.
    function requestCrossBorderTransfer(address to, uint256 value) external returns (uint256) {
        return _open(_msgSender(), to, value, address(0), 0);
    }

    /// @notice A regulator of the sender's or the receiver's jurisdiction approves request `id`; when
    /// both have, an investor's request settles, re-checking every other rule now (a refusal reverts
    /// this approval with the rule's error and leaves the request pending), and a settlement
    /// contract's clearance becomes Cleared for that contract to settle.
    /// @dev Requirements: caller is a regulator of one party's jurisdiction; the request is pending
    /// and within its deadline; that side has not approved yet.
    function approveCrossBorderTransfer(uint256 id) external {
        (CrossBorder storage x, uint16 j) = _pendingFor(id, true);
        if (j == x.fromJurisdiction) {
            if (x.fromApproved) revert CrossBorderAlreadyApproved(id, j);
            x.fromApproved = true;
        } else {
            if (x.toApproved) revert CrossBorderAlreadyApproved(id, j);
            x.toApproved = true;
        }
        emit CrossBorderTransferApproved(id, _msgSender(), j);
        if (x.fromApproved && x.toApproved) {
            if (x.requester != address(0)) {
                x.status = CrossBorderStatus.Cleared;
                emit CrossBorderTransferCleared(id);
                return;
            }
            address from = x.from;
            address to = x.to;
            uint256 value = x.value;
            x.status = CrossBorderStatus.Settled;
            ISecurityTokenPlumbing(address(this)).settleCrossBorder(from, to, value);
            emit CrossBorderTransferSettled(id);
        }
    }

    /// @notice A regulator of either party's jurisdiction rejects request `id`; the units are released.
    /// @dev Requirements: caller is a regulator of one party's jurisdiction; the request is pending.
    function rejectCrossBorderTransfer(uint256 id) external {
        (CrossBorder storage x, uint16 j) = _pendingFor(id, false);
        x.status = CrossBorderStatus.Rejected;
        _reserve(x.from, x.value, false);
        emit CrossBorderTransferRejected(id, _msgSender(), j);
    }

    /// @notice Anyone may close request `id` once its deadline has passed (pending, or cleared and not
    /// settled by its requester in time); the units are released.
    /// @dev Requirements: the request is pending or cleared and `block.timestamp > deadline`.
    function expireCrossBorderTransfer(uint256 id) external {
        CrossBorder storage x = _crossBorders[id];
        if (x.status == CrossBorderStatus.None) revert UnknownCrossBorderTransfer(id);
        _close(id, x, CrossBorderStatus.Expired);
        // After `_close`, so that a closed request reports NotPending first (the revert undoes the close).
        if (block.timestamp <= x.deadline) revert CrossBorderTransferNotExpired(id, x.deadline, block.timestamp);
        emit CrossBorderTransferExpired(id);
    }

    // ================================================================== cross-border volume

    /// @notice What investor `identity` sent to other jurisdictions in this security within the window
    /// now (transfers made at `t` count while `block.timestamp < t + window`), and the window in seconds
    /// (0: each transfer on its own, nothing is counted).
    /// @dev Requirements: none (a view).
    function crossBorderVolume(address identity) external view returns (uint256 volume, uint256 window) {
        window = _caps.crossBorderWindow;
        (volume,,) = _windowVolume(identity, window);
    }

    /// @notice Plumbing for the token's transfer hook: adds `value` sent by investor `identity` to
    /// another jurisdiction now to its volume, dropping the entries that left the window.
    /// @dev Requirements: the caller is this token itself (its hook, after a cross-border transfer).
    function recordCrossBorderVolume(address identity, uint256 value) external {
        if (_msgSender() != address(this)) revert NotRegulator(_msgSender());
        (uint256 total, uint256 head, uint256 splits) = _windowVolume(identity, _caps.crossBorderWindow);
        mapping(uint256 index => CrossBorderEntry) storage entries = _crossBorderEntries[identity];
        uint256 tail = _crossBorderVolumes[identity].tail;
        if (tail > head && entries[tail - 1].at == block.timestamp) {
            // A split may have started within this second: the entry is restated in today's units.
            CrossBorderEntry memory last = entries[tail - 1];
            uint256 amount = last.splits == splits ? last.amount : _restate(last.amount, last.splits, splits);
            entries[tail - 1] = CrossBorderEntry(uint128(amount + value), last.at, uint32(splits));
        } else {
            entries[tail] = CrossBorderEntry(uint128(value), uint40(block.timestamp), uint32(splits));
            ++tail;
        }
        _crossBorderVolumes[identity] =
            CrossBorderVolume(uint128(total + value), uint32(head), uint32(tail), uint32(splits));
    }

    /// @dev The volume in the window now, in today's units (volume recorded before a share split is
    /// multiplied by the ratios of the splits started since: a 2-for-1 doubles it, as it doubles the
    /// threshold), the index of its oldest entry still inside, and how many splits have started. The
    /// split count sits beside the window's length (`_caps`, which a cross-border transfer has read):
    /// with no split since the window was written nothing more is read.
    function _windowVolume(address identity, uint256 window)
        private
        view
        returns (uint256 total, uint256 head, uint256 splits)
    {
        splits = _caps.splits;
        CrossBorderVolume memory v = _crossBorderVolumes[identity];
        total = v.splits == splits ? v.total : _restate(v.total, v.splits, splits);
        head = v.head;
        mapping(uint256 index => CrossBorderEntry) storage entries = _crossBorderEntries[identity];
        while (head < v.tail) {
            CrossBorderEntry memory e = entries[head];
            if (uint256(e.at) + window > block.timestamp) break;
            total -= e.splits == splits ? e.amount : _restate(e.amount, e.splits, splits);
            ++head;
        }
    }

    /// @dev `amount` units of the time `then` splits had started, in units of the time `now_` had:
    /// times the ratios of splits `then + 1 .. now_` (exact: the factors only ever multiply).
    function _restate(uint256 amount, uint256 then, uint256 now_) private view returns (uint256) {
        return amount * _splitFactors[now_] / (then == 0 ? 1 : _splitFactors[then]);
    }

    // ================================================================== settlement clearances

    /// @notice A settlement contract (the caller) asks both regulators to clear `value` units from
    /// `from` to `to` for its trade `tradeId`: the units are escrowed in `from`'s wallet as for
    /// `requestCrossBorderTransfer`, the regulators decide with `approveCrossBorderTransfer` /
    /// `rejectCrossBorderTransfer`, and when both approve the request becomes Cleared instead of
    /// settling: only the caller may then settle it (`settleCrossBorderClearance`), within the
    /// request's deadline, or withdraw it. `from`'s allowance to the caller is its consent: no
    /// contract can escrow units of a holder who has not authorised it to move them.
    /// @dev Requirements: `from` has approved the caller for at least `value`; the rulebook, except
    /// the cross-border rule, allows the transfer now; the parties are in different jurisdictions.
    /// @return id The request's id (the clearance id).
    function requestCrossBorderClearance(address from, address to, uint256 value, uint96 tradeId)
        external
        returns (uint256 id)
    {
        address requester = _msgSender();
        uint256 allowed = allowance(from, requester);
        if (allowed < value) revert ERC20InsufficientAllowance(requester, allowed, value);
        id = _open(from, to, value, requester, tradeId);
        emit CrossBorderClearanceRequested(id, requester, tradeId);
    }

    /// @notice The requester of clearance `id` settles it: the escrowed units move from the seller to
    /// the buyer with every rule but the cross-border one re-checked now (mode M_SETTLE; a refusal
    /// reverts with the rule's error and leaves the clearance as it was), and the requester's
    /// allowance is spent as by `transferFrom`.
    /// @dev Requirements: caller is the clearance's requester; the clearance is Cleared and within its
    /// deadline; the requester's allowance covers the units.
    function settleCrossBorderClearance(uint256 id) external {
        CrossBorder storage x = _requested(id);
        if (x.status != CrossBorderStatus.Cleared) revert CrossBorderTransferNotCleared(id, x.status);
        if (block.timestamp > x.deadline) revert CrossBorderTransferPastDeadline(id, x.deadline, block.timestamp);
        (address from, address to, uint256 value) = (x.from, x.to, x.value);
        x.status = CrossBorderStatus.Settled;
        _spendAllowance(from, _msgSender(), value);
        ISecurityTokenPlumbing(address(this)).settleCrossBorder(from, to, value);
        emit CrossBorderTransferSettled(id);
    }

    /// @notice The requester of clearance `id` gives it up (its trade was cancelled or expired); the
    /// escrowed units are released.
    /// @dev Requirements: caller is the clearance's requester; the clearance is pending or cleared.
    function withdrawCrossBorderClearance(uint256 id) external {
        _close(id, _requested(id), CrossBorderStatus.Withdrawn);
        emit CrossBorderClearanceWithdrawn(id);
    }

    /// @notice Who requested cross-border request `id` as a clearance (zero for an investor's own
    /// request) and for which of its trades.
    /// @dev Requirements: none (a view).
    function crossBorderClearance(uint256 id) external view returns (address requester, uint256 tradeId) {
        CrossBorder storage x = _crossBorders[id];
        return (x.requester, x.tradeId);
    }

    // ================================================================== internals

    /// @dev Checks the rules (all but cross-border), escrows the units and records the request.
    function _open(address from, address to, uint256 value, address requester, uint96 tradeId)
        private
        returns (uint256 id)
    {
        (uint16 fromJ, uint16 toJ) = ISecurityTokenPlumbing(address(this)).checkCrossBorder(from, to, value);
        if (fromJ == toJ) revert NotCrossBorder(fromJ, toJ);
        _reserve(from, value, true);
        id = ++_crossBorderCount;
        uint256 deadline = block.timestamp + _limits.approvalWindow;
        _crossBorders[id] = CrossBorder({
            from: from,
            deadline: uint40(deadline),
            status: CrossBorderStatus.Pending,
            fromApproved: false,
            toApproved: false,
            fromJurisdiction: fromJ,
            toJurisdiction: toJ,
            to: to,
            value: uint96(value),
            requester: requester,
            tradeId: tradeId
        });
        emit CrossBorderTransferRequested(id, from, to, value, fromJ, toJ, deadline);
    }

    /// @dev Clearance `id`, if the caller requested it (an investor's own request has no requester).
    function _requested(uint256 id) private view returns (CrossBorder storage x) {
        x = _crossBorders[id];
        if (x.requester != _msgSender()) revert NotClearanceRequester(id, _msgSender());
    }

    /// @dev Closes an open (pending or cleared) request with `status` and releases its units.
    function _close(uint256 id, CrossBorder storage x, CrossBorderStatus status) private {
        CrossBorderStatus current = x.status;
        if (current != CrossBorderStatus.Pending && current != CrossBorderStatus.Cleared) {
            revert CrossBorderTransferNotPending(id, current);
        }
        x.status = status;
        _reserve(x.from, x.value, false);
    }
}
