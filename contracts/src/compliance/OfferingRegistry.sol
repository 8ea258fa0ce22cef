// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IInvestorRegistry, REGISTRY_FLAG_QIB, REGISTRY_FLAG_US_PERSON} from "../interfaces/IInvestorRegistry.sol";
import {IOfferingRegistry} from "../interfaces/IOfferingRegistry.sol";
import {CivilDate} from "../corporate/CivilDate.sol";
import {TransferRules} from "../token/TransferRules.sol";

/// @notice What the offering registry calls on its security.
interface IOfferedToken {
    function mint(address to, uint256 amount) external;
    function raiseLockHorizon(address wallet, uint256 horizon) external;
    function balanceOf(address account) external view returns (uint256);
    function homeJurisdiction() external view returns (uint16);
}

/// @title OfferingRegistry
/// @notice The offerings of one security and the lots that carry the status of the units sold in
/// them. Issuance happens in an offering (`issue`): the offering's exemption decides who may buy,
/// its purchaser ledger counts Rule 506(b)'s 35 non-accredited purchasers, and the units leave it as
/// a lot that keeps its acquisition date and offering wherever the units go (own wallets, forced
/// transfers, 144A and Rule 904 resales). A restricted lot unlocks after the Rule 144(d) holding
/// period counted in calendar months (6 if the issuer has been reporting for 90 days at the time of
/// the resale, else 12); a Regulation S lot may not go to a US person until its tranche's
/// distribution compliance period ends.
/// @dev Deployed per security; the token calls it only for senders that still hold a lot within its
/// period, and holds no lot storage itself once attached (`SecurityToken.setOfferingRegistry`).
contract OfferingRegistry is IOfferingRegistry {
    bytes32 private constant AGENT_ROLE = keccak256("AGENT_ROLE");
    uint8 private constant M_MINT = 1;
    uint8 private constant M_BURN = 2;
    uint8 private constant M_FORCED = 3;
    uint16 private constant US = 840;

    /// @notice Rule 506(b)(2)(i): non-accredited purchasers per offering (and per integrated group).
    uint256 public constant NON_ACCREDITED_PURCHASER_LIMIT = 35;
    /// @notice Rule 152(b)(1): 506(b) offerings within this many days of each other share the 35.
    uint256 public constant INTEGRATION_WINDOW = 90 days;
    /// @notice Rule 144(d)(1)(i): the issuer must have been reporting this long before the resale for
    /// the six-month holding period.
    uint256 public constant REPORTING_SEASONING = 90 days;

    /// @notice The security whose offerings these are.
    address public immutable token;
    /// @notice The investor registry the security reads.
    IInvestorRegistry public immutable registry;

    /// @dev When the issuer became subject to Exchange Act reporting (0 = non-reporting).
    uint40 private _reportingSince;
    Offering[] private _offerings;
    mapping(uint256 offeringId => mapping(address investor => bool)) private _purchased;
    /// @dev Investors who were not accredited when they first bought in a 506(b) offering, per offering
    /// (list and membership): integrated offerings count each such purchaser once.
    mapping(uint256 offeringId => address[]) private _nonAccreditedList;
    mapping(uint256 offeringId => mapping(address investor => bool)) private _nonAccredited;
    mapping(address wallet => Lot[]) private _lots;

    /// @param token_ The security (an `OfferingRegistry` serves one).
    /// @param registry_ The investor registry the security reads.
    constructor(address token_, IInvestorRegistry registry_) {
        token = token_;
        registry = registry_;
    }

    modifier onlyAgent() {
        if (!IAccessControl(token).hasRole(AGENT_ROLE, msg.sender)) revert OfferingNotAgent(msg.sender);
        _;
    }

    modifier onlyToken() {
        if (msg.sender != token) revert OfferingNotToken(msg.sender);
        _;
    }

    // ================================================================== issuer operations

    /// @notice Records the issuer's Exchange Act reporting status: reporting since `since`
    /// (0 = non-reporting). Restricted lots unlock after 6 months once the issuer has been reporting
    /// for 90 days at the time of the resale, after 1 year otherwise (Rule 144(d)(1)).
    /// @dev Requirements: caller has the token's AGENT_ROLE.
    function setReportingSince(uint40 since) external onlyAgent {
        _reportingSince = since;
        emit ReportingStatusSet(since, msg.sender);
    }

    /// @notice Opens an offering; returns its id (1, 2, ...). A Regulation S offering starts its own
    /// distribution compliance period at the later of first offer and closing (Rule 902(f)): Category 1
    /// none, Category 2 and Category 3 debt 40 days, Category 3 equity 1 year (6 months for a
    /// reporting issuer). Reg D and Rule 144A offerings sell restricted securities (Rule 144(a)(3)), and
    /// so does a Regulation S offering of a domestic issuer's equity (17 CFR 230.905; the sandbox takes
    /// a security whose home jurisdiction is the US to be a domestic issuer's).
    /// @dev Requirements: caller has the token's AGENT_ROLE; an exemption is named;
    /// `firstOfferAt <= closingAt`.
    function createOffering(OfferingTerms calldata t) external onlyAgent returns (uint256 offeringId) {
        Exemption e = t.exemption;
        if (e == Exemption.None || t.firstOfferAt > t.closingAt) revert OfferingInvalidTerms();
        uint256 start = t.closingAt; // the later of first offer and closing
        uint256 end;
        if (e == Exemption.RegSCategory2 || (e == Exemption.RegSCategory3 && !t.equity)) {
            end = start + 40 days;
        } else if (e == Exemption.RegSCategory3) {
            end = addMonths(start, _reportingNow() ? 6 : 12);
        }
        bool restricted = e == Exemption.RegD506b || e == Exemption.RegD506c || e == Exemption.Rule144A
            || (e >= Exemption.RegSCategory1 && e <= Exemption.RegSCategory3 && t.equity && _domesticIssuer());
        _offerings.push(
            Offering({
                exemption: e,
                equity: t.equity,
                restricted: restricted,
                firstOfferAt: t.firstOfferAt,
                closingAt: t.closingAt,
                periodEndsAt: uint40(end),
                purchasers: 0,
                nonAccreditedPurchasers: 0,
                issued: 0
            })
        );
        offeringId = _offerings.length;
        emit OfferingCreated(offeringId, e, t.firstOfferAt, t.closingAt, end, restricted, msg.sender);
    }

    /// @notice Issues `amount` units to `to` in offering `offeringId`: the offering's rules apply
    /// (open, who may buy, the purchaser ledger), then the token's rulebook (`mint`); the units form a
    /// lot carrying the offering and today's date when they are restricted or inside a distribution
    /// compliance period.
    /// @dev Requirements: caller has the token's AGENT_ROLE; the offering is open
    /// (`firstOfferAt <= now <= closingAt`); `to` may buy in it; the token's rulebook allows the mint.
    function issue(uint256 offeringId, address to, uint256 amount) external onlyAgent {
        Offering storage o = _offering(offeringId);
        if (block.timestamp < o.firstOfferAt || block.timestamp > o.closingAt) {
            revert OfferingNotOpen(offeringId, block.timestamp, o.firstOfferAt, o.closingAt);
        }
        IInvestorRegistry.WalletRecord memory r = registry.walletRecord(to);
        (uint8 code, uint256 after_) = _purchaserCheck(offeringId, o, r);
        if (code != TransferRules.SUCCESS) _revertPurchaser(code, offeringId, to, o.periodEndsAt, after_);
        bool newPurchaser = !_purchased[offeringId][r.identity];
        if (newPurchaser) {
            _purchased[offeringId][r.identity] = true;
            o.purchasers += 1;
            if (!_accredited(r)) {
                o.nonAccreditedPurchasers += 1;
                if (o.exemption == Exemption.RegD506b) {
                    _nonAccredited[offeringId][r.identity] = true;
                    _nonAccreditedList[offeringId].push(r.identity);
                }
            }
        }
        o.issued += uint96(amount);
        uint256 horizon;
        if (amount != 0 && (o.restricted || o.periodEndsAt > block.timestamp)) {
            Lot memory lot = Lot(uint96(amount), uint40(block.timestamp), o.periodEndsAt, uint32(offeringId), o.restricted);
            _addLot(to, lot);
            horizon = _expiry(lot);
        }
        IOfferedToken(token).mint(to, amount);
        if (horizon != 0) IOfferedToken(token).raiseLockHorizon(to, horizon);
        emit IssuedInOffering(offeringId, to, r.identity, amount, newPurchaser);
    }

    // ================================================================== views

    /// @notice Offering `offeringId`.
    function offering(uint256 offeringId) external view returns (Offering memory) {
        if (offeringId == 0 || offeringId > _offerings.length) revert OfferingUnknown(offeringId);
        return _offerings[offeringId - 1];
    }

    /// @notice How many offerings the security has had.
    function offeringCount() external view returns (uint256) {
        return _offerings.length;
    }

    /// @notice Whether investor `investor` has bought in offering `offeringId`.
    function isPurchaser(uint256 offeringId, address investor) external view returns (bool) {
        return _purchased[offeringId][investor];
    }

    /// @notice When the issuer became a reporting company (0 = non-reporting).
    function reportingSince() external view returns (uint256) {
        return _reportingSince;
    }

    /// @notice Non-accredited purchasers counted against offering `offeringId`'s 35: the most distinct
    /// investors who were not accredited when they bought, over any group of 506(b) offerings first
    /// offered within 90 days of each other that includes this one (Rule 152(b)(1)); one who bought in
    /// two offerings of a group is one purchaser.
    function nonAccreditedPurchasersCounted(uint256 offeringId) public view returns (uint256 n) {
        (n,) = _groups(_offering(offeringId).firstOfferAt, address(0));
    }

    /// @dev Over every 90-day group of 506(b) offerings holding one first offered at `at` (each starts
    /// at an offering first offered at most 90 days before `at`): the largest distinct count, and the
    /// largest once `investor` buys (unchanged in a group where it is already counted).
    function _groups(uint256 at, address investor) private view returns (uint256 most, uint256 mostAfter) {
        for (uint256 p = 1; p <= _offerings.length; ++p) {
            uint256 start = _offerings[p - 1].firstOfferAt;
            if (_offerings[p - 1].exemption != Exemption.RegD506b || start > at || at - start > INTEGRATION_WINDOW) {
                continue;
            }
            (uint256 n, bool seen) = _distinct(start, investor);
            if (n > most) most = n;
            if (!seen && investor != address(0)) ++n;
            if (n > mostAfter) mostAfter = n;
        }
    }

    /// @dev The distinct non-accredited purchasers of the 506(b) offerings first offered from `start` to
    /// 90 days after it, and whether `investor` is one of them.
    function _distinct(uint256 start, address investor) private view returns (uint256 n, bool seen) {
        for (uint256 i = 1; i <= _offerings.length; ++i) {
            if (!_inGroup(start, i)) continue;
            if (_nonAccredited[i][investor]) seen = true;
            address[] storage list = _nonAccreditedList[i];
            for (uint256 k = 0; k < list.length; ++k) {
                if (!_countedBefore(start, i, list[k])) ++n;
            }
        }
    }

    /// @dev Whether offering `id` is a 506(b) offering first offered from `start` to 90 days after it.
    function _inGroup(uint256 start, uint256 id) private view returns (bool) {
        Offering storage p = _offerings[id - 1];
        uint256 t = p.firstOfferAt;
        return p.exemption == Exemption.RegD506b && t >= start && t - start <= INTEGRATION_WINDOW;
    }

    /// @dev Whether `investor` is a non-accredited purchaser of an offering of the group from `start`
    /// listed before offering `end`.
    function _countedBefore(uint256 start, uint256 end, address investor) private view returns (bool) {
        for (uint256 j = 1; j < end; ++j) {
            if (_nonAccredited[j][investor] && _inGroup(start, j)) return true;
        }
        return false;
    }

    /// @notice The rule that would refuse issuing `amount` to `to` in offering `offeringId` now (0 if
    /// none of the offering's rules would; the token's own rulebook is `detectTransferRestriction`).
    function detectIssuanceRestriction(uint256 offeringId, address to, uint256) external view returns (uint8 code) {
        Offering storage o = _offering(offeringId);
        if (block.timestamp < o.firstOfferAt || block.timestamp > o.closingAt) return TransferRules.OFFERING_NOT_OPEN;
        (code,) = _purchaserCheck(offeringId, o, registry.walletRecord(to));
    }

    /// @notice The lots of `wallet` still within a period, oldest first, with each restricted lot's
    /// unlock time under the issuer's reporting status now.
    function lotsOf(address wallet) external view returns (LotView[] memory out) {
        Lot[] storage lots = _lots[wallet];
        uint256 n;
        for (uint256 i = 0; i < lots.length; ++i) {
            if (lots[i].amount != 0 && _active(lots[i])) ++n;
        }
        out = new LotView[](n);
        n = 0;
        for (uint256 i = 0; i < lots.length; ++i) {
            Lot memory l = lots[i];
            if (l.amount == 0 || !_active(l)) continue;
            out[n++] = LotView(l.amount, l.acquiredAt, l.restricted ? unlockAt(l.acquiredAt) : 0, l.regSUntil, l.offeringId, l.restricted);
        }
    }

    /// @inheritdoc IOfferingRegistry
    function lockedTokens(address wallet) external view returns (uint256 locked, uint256 nextUnlockAt) {
        Lot[] storage lots = _lots[wallet];
        for (uint256 i = 0; i < lots.length; ++i) {
            Lot memory l = lots[i];
            if (l.amount == 0 || !_active(l)) continue;
            locked += l.amount;
            uint256 frees = _freesAt(l);
            if (nextUnlockAt == 0 || frees < nextUnlockAt) nextUnlockAt = frees;
        }
    }

    /// @notice When a restricted lot acquired at `acquiredAt` unlocks under the issuer's reporting status
    /// now: 6 calendar months after it if the issuer has been reporting for 90 days, else 12
    /// (Rule 144(d)(1)).
    function unlockAt(uint256 acquiredAt) public view returns (uint256) {
        return addMonths(acquiredAt, _reportingNow() ? 6 : 12);
    }

    /// @notice `timestamp` plus `months` calendar months, same time of day, the day clamped to the last
    /// of a shorter month (2026-08-31 + 6 months = 2027-02-28 23:59 stays 23:59).
    function addMonths(uint256 timestamp, uint256 months) public pure returns (uint256) {
        (uint256 y, uint256 m, uint256 d) = CivilDate.fromTimestamp(timestamp);
        uint256 index = m - 1 + months;
        y += index / 12;
        m = index % 12 + 1;
        uint256 last = CivilDate.daysInMonth(y, m);
        if (d > last) d = last;
        return CivilDate.toTimestamp(y, m, d) + timestamp % 1 days;
    }

    // ================================================================== token plumbing

    /// @inheritdoc IOfferingRegistry
    function checkLots(address from, address to, uint256 value, uint8 mode, uint256 spendable)
        external
        view
        returns (uint8 code, uint256 locked, uint256 until)
    {
        (bool allow144, bool allowRegS) = _permissions(from, to, mode);
        Lot[] storage lots = _lots[from];
        uint256 blocked;
        uint256 blockedUntil;
        for (uint256 i = 0; i < lots.length; ++i) {
            Lot memory l = lots[i];
            if (l.amount == 0) continue;
            bool in144 = l.restricted && block.timestamp < unlockAt(l.acquiredAt);
            bool inRegS = block.timestamp < l.regSUntil;
            if (!in144 && !inRegS) continue;
            locked += l.amount;
            bool stop144 = in144 && !allow144;
            if (stop144 || (inRegS && !allowRegS)) {
                blocked += l.amount;
                uint256 frees = _freesAt(l);
                if (blockedUntil == 0 || frees < blockedUntil) {
                    blockedUntil = frees;
                    code = stop144 ? TransferRules.LOCKUP_ACTIVE : TransferRules.REG_S_DISTRIBUTION_COMPLIANCE;
                }
            }
        }
        if (blocked != 0 && value + blocked > spendable) {
            return (code, blocked > spendable ? spendable : blocked, blockedUntil);
        }
        return (TransferRules.SUCCESS, locked, 0);
    }

    /// @inheritdoc IOfferingRegistry
    function moveLots(address from, address to, uint256 value, uint8 mode, uint256 spendable)
        external
        onlyToken
        returns (uint256 senderHorizon, uint256 receiverHorizon)
    {
        uint256 need = _need(from, value, spendable);
        (bool allow144, bool allowRegS) = _permissions(from, to, mode);
        // The newest lots go first (the oldest are the nearest to unlocking).
        for (uint256 i = _lots[from].length; i > 0 && need != 0; --i) {
            if (!_movable(_lots[from][i - 1], allow144, allowRegS)) continue;
            uint256 e;
            (need, e) = _take(from, to, i - 1, need, mode);
            if (e > receiverHorizon) receiverHorizon = e;
        }
        senderHorizon = _compact(from);
    }

    /// @dev Whether lot `l` restricts units now and may go where the permissions allow.
    function _movable(Lot memory l, bool allow144, bool allowRegS) private view returns (bool) {
        if (l.amount == 0 || !_active(l)) return false;
        bool in144 = l.restricted && block.timestamp < unlockAt(l.acquiredAt);
        return !(in144 && !allow144) && !(block.timestamp < l.regSUntil && !allowRegS);
    }

    /// @dev Units the sender must take from its lots: `value` less its units outside any lot.
    function _need(address from, uint256 value, uint256 spendable) private view returns (uint256) {
        Lot[] storage lots = _lots[from];
        uint256 locked;
        for (uint256 i = 0; i < lots.length; ++i) {
            if (lots[i].amount != 0 && _active(lots[i])) locked += lots[i].amount;
        }
        uint256 free = spendable > locked ? spendable - locked : 0;
        return value > free ? value - free : 0;
    }

    /// @dev Takes up to `need` units from lot `index` of `from` to `to` (a burn destroys them); returns
    /// what is still needed and the moved lot's expiry.
    function _take(address from, address to, uint256 index, uint256 need, uint8 mode)
        private
        returns (uint256, uint256 expiry)
    {
        Lot storage l = _lots[from][index];
        Lot memory moved = l;
        uint256 take = moved.amount < need ? moved.amount : need;
        moved.amount = uint96(take);
        l.amount -= uint96(take);
        if (mode != M_BURN) {
            _addLot(to, moved);
            expiry = _expiry(moved);
        }
        emit LotMoved(from, mode == M_BURN ? address(0) : to, moved.offeringId, take, moved.acquiredAt);
        return (need - take, expiry);
    }

    /// @inheritdoc IOfferingRegistry
    function recoverLots(address lostWallet, address newWallet) external onlyToken {
        Lot[] storage lots = _lots[lostWallet];
        for (uint256 i = 0; i < lots.length; ++i) {
            Lot memory l = lots[i];
            if (_spent(l)) continue;
            _addLot(newWallet, l);
            emit LotMoved(lostWallet, newWallet, l.offeringId, l.amount, l.acquiredAt);
        }
        delete _lots[lostWallet];
    }

    /// @inheritdoc IOfferingRegistry
    function splitLots(address wallet, uint256 ratio) external onlyToken {
        Lot[] storage lots = _lots[wallet];
        for (uint256 i = 0; i < lots.length; ++i) {
            uint256 before = lots[i].amount;
            if (before == 0) continue;
            // Lots are parts of the wallet's balance, which the token has checked fits once split.
            lots[i].amount = uint96(before * ratio);
            emit LotSplit(wallet, lots[i].offeringId, before, before * ratio);
        }
    }

    // ================================================================== internals

    function _offering(uint256 offeringId) private view returns (Offering storage) {
        if (offeringId == 0 || offeringId > _offerings.length) revert OfferingUnknown(offeringId);
        return _offerings[offeringId - 1];
    }

    /// @dev A domestic issuer under Regulation S (not a foreign issuer, Rule 902(e)): the sandbox takes
    /// the security's home jurisdiction to be the issuer's.
    function _domesticIssuer() private view returns (bool) {
        return IOfferedToken(token).homeJurisdiction() == US;
    }

    function _reportingNow() private view returns (bool) {
        uint256 since = _reportingSince;
        return since != 0 && since + REPORTING_SEASONING <= block.timestamp;
    }

    /// @dev Whether a lot still restricts its units now (holding period or distribution compliance).
    function _active(Lot memory l) private view returns (bool) {
        return block.timestamp < l.regSUntil || (l.restricted && block.timestamp < unlockAt(l.acquiredAt));
    }

    /// @dev When a lot frees under the reporting status now.
    function _freesAt(Lot memory l) private view returns (uint256 t) {
        t = l.regSUntil;
        if (l.restricted) {
            uint256 u = unlockAt(l.acquiredAt);
            if (u > t) t = u;
        }
    }

    /// @dev The latest a lot can restrict its units (a restricted lot: 12 months, the longer holding
    /// period, since the reporting status may change): what the token keeps as the wallet's horizon.
    function _expiry(Lot memory l) private pure returns (uint256 t) {
        t = l.regSUntil;
        if (l.restricted) {
            uint256 u = addMonths(l.acquiredAt, 12);
            if (u > t) t = u;
        }
    }

    /// @dev Whether a lot can restrict nothing any more: emptied, or past its expiry. A restricted lot
    /// that has unlocked under six months' holding is kept until its year is up: if the issuer stops
    /// reporting before then, the one-year period applies again at the next sale (Rule 144(d)(1)(ii)).
    function _spent(Lot memory l) private view returns (bool) {
        return l.amount == 0 || block.timestamp >= _expiry(l);
    }

    /// @dev Which locked lots may go to `to`: all of them for a forced transfer, a burn or a transfer
    /// between one investor's wallets (Rule 144(d)(3) tacking); held-period lots to a QIB (Rule 144A)
    /// or to a non-US person (Rule 904 offshore resale); Reg S lots only to a non-US person.
    function _permissions(address from, address to, uint8 mode) private view returns (bool allow144, bool allowRegS) {
        if (mode == M_FORCED || mode == M_BURN || mode == M_MINT) return (true, true);
        (IInvestorRegistry.WalletRecord memory s, IInvestorRegistry.WalletRecord memory r) =
            registry.walletRecords(from, to);
        if (s.identity != address(0) && s.identity == r.identity) return (true, true);
        bool usPerson = _usPerson(r);
        return (!usPerson || _qib(r), !usPerson);
    }

    function _purchaserCheck(uint256 offeringId, Offering storage o, IInvestorRegistry.WalletRecord memory r)
        private
        view
        returns (uint8, uint256)
    {
        Exemption e = o.exemption;
        if (e == Exemption.RegSCategory1 || e == Exemption.RegSCategory2 || e == Exemption.RegSCategory3) {
            if (_usPerson(r)) return (TransferRules.REG_S_DISTRIBUTION_COMPLIANCE, 0);
        } else if (e == Exemption.RegD506c) {
            if (!_accredited(r)) return (TransferRules.OFFERING_PURCHASER_NOT_ELIGIBLE, 0);
        } else if (e == Exemption.Rule144A) {
            if (!_qib(r)) return (TransferRules.OFFERING_PURCHASER_NOT_ELIGIBLE, 0);
        } else if (e == Exemption.UkProfessionalPlacement) {
            // FCA COBS 3: professional clients (3.5) and eligible counterparties (3.6) only.
            IInvestorRegistry.Category c = r.category;
            if (c != IInvestorRegistry.Category.UkProfessional && c != IInvestorRegistry.Category.UkEligibleCounterparty) {
                return (TransferRules.OFFERING_PURCHASER_NOT_ELIGIBLE, 0);
            }
        } else if (e == Exemption.RegD506b) {
            // A purchaser already counted in a group of integrated offerings is not a new one there.
            if (!_accredited(r) && !_purchased[offeringId][r.identity]) {
                (, uint256 after_) = _groups(o.firstOfferAt, r.identity);
                if (after_ > NON_ACCREDITED_PURCHASER_LIMIT) {
                    return (TransferRules.NON_ACCREDITED_PURCHASER_LIMIT, after_);
                }
            }
        }
        return (TransferRules.SUCCESS, 0);
    }

    function _revertPurchaser(uint8 code, uint256 offeringId, address to, uint256 periodEndsAt, uint256 after_)
        private
        view
    {
        if (code == TransferRules.REG_S_DISTRIBUTION_COMPLIANCE) revert OfferingPurchaserUsPerson(offeringId, to, periodEndsAt);
        if (code == TransferRules.NON_ACCREDITED_PURCHASER_LIMIT) {
            revert NonAccreditedPurchaserLimitReached(offeringId, after_, NON_ACCREDITED_PURCHASER_LIMIT);
        }
        Exemption e = _offerings[offeringId - 1].exemption;
        if (e == Exemption.RegD506c) revert OfferingPurchaserNotAccredited(offeringId, to);
        if (e == Exemption.Rule144A) revert OfferingPurchaserNotQib(offeringId, to);
        revert OfferingPurchaserNotProfessional(offeringId, to);
    }

    /// @dev Appends `lot` to `wallet`'s lots, merging it into the newest when it has the same status;
    /// drops spent lots (`_spent`) from the end first.
    function _addLot(address wallet, Lot memory lot) private {
        Lot[] storage lots = _lots[wallet];
        uint256 n = lots.length;
        while (n != 0 && _spent(lots[n - 1])) {
            lots.pop();
            --n;
        }
        if (n != 0) {
            Lot storage last = lots[n - 1];
            if (
                last.acquiredAt == lot.acquiredAt && last.offeringId == lot.offeringId && last.regSUntil == lot.regSUntil
                    && last.restricted == lot.restricted
            ) {
                last.amount += lot.amount;
                return;
            }
        }
        lots.push(lot);
    }

    /// @dev Drops spent lots (`_spent`) from the end of `wallet`'s lots; returns the latest expiry of
    /// those left (0 when none is).
    function _compact(address wallet) private returns (uint256 horizon) {
        Lot[] storage lots = _lots[wallet];
        uint256 n = lots.length;
        while (n != 0 && _spent(lots[n - 1])) {
            lots.pop();
            --n;
        }
        for (uint256 i = 0; i < n; ++i) {
            Lot memory l = lots[i];
            if (_spent(l)) continue;
            uint256 e = _expiry(l);
            if (e > horizon) horizon = e;
        }
    }

    // Investor attributes the offerings read (the registry's, not the supervising jurisdiction).

    /// @dev A "U.S. person" under Regulation S Rule 902(k).
    function _usPerson(IInvestorRegistry.WalletRecord memory r) private pure returns (bool) {
        return r.flags & REGISTRY_FLAG_US_PERSON != 0;
    }

    /// @dev A qualified institutional buyer under Rule 144A(a)(1), of any jurisdiction.
    function _qib(IInvestorRegistry.WalletRecord memory r) private pure returns (bool) {
        return r.flags & REGISTRY_FLAG_QIB != 0;
    }

    /// @dev An accredited investor (Rule 501(a)) whose verification is current now (Rule 506(c)(2)(ii)).
    function _accredited(IInvestorRegistry.WalletRecord memory r) private view returns (bool) {
        return r.identity != address(0) && block.timestamp <= registry.investor(r.identity).accreditedUntil;
    }
}
