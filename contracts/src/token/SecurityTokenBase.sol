// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {ISecurityToken} from "../interfaces/ISecurityToken.sol";
import {IERC3643} from "../interfaces/IERC3643.sol";
import {TransferRules} from "./TransferRules.sol";

/// @title SecurityTokenBase
/// @notice Storage layout and shared helpers of the sandbox security token. `SecurityToken` (ERC-20,
/// the rulebook hook, agent and cross-border operations) and `SecurityTokenExtension` (cold powers,
/// run by `delegatecall` in the token's storage) both derive from it, so they agree slot by slot.
/// @dev Gas layout: each wallet's token state (balance, frozen amount, lock-up horizon, record-date
/// marker, flags) is one slot; the terms a transfer reads are one slot (`_config`, which also holds
/// the record-date state), a second (`_limits`) only for the rules that need it; caps and counts
/// are read only when a holder joins or leaves, or on mint and burn. A transfer thus reads only
/// these three slots of the token, whether or not the security keeps record dates.
abstract contract SecurityTokenBase is ISecurityToken, ERC20, AccessControl {
    /// @notice Role of the issuer's agents (ERC-3643 agent operations).
    bytes32 public constant AGENT_ROLE = keccak256("AGENT_ROLE");

    uint16 internal constant UK = 826;
    uint16 internal constant US = 840;
    /// @dev Marks a freeze imposed by an agent rather than by a regulator.
    uint16 internal constant FROZEN_BY_AGENT = type(uint16).max;

    uint8 internal constant F_PAUSED = 1;
    // Bit 2 was the token-level "lock every acquisition" flag, retired with the token's own lots.
    uint8 internal constant F_APPROVED = 4;
    uint8 internal constant F_PAUSED_BY_REGULATOR = 8;
    /// @dev Record-date balances are kept (`enableRecordDates`).
    uint8 internal constant F_RECORD_DATES = 16;
    /// @dev A share split is being processed: every transfer, mint, burn and forced transfer is
    /// refused with the PAUSED rule until every unit outstanding has been split.
    uint8 internal constant F_SPLITTING = 32;
    /// @dev `setIdentityRegistry` has pointed the token at another investor registry than the one it
    /// was created with: transfers read `_registry` instead of the token's immutable copy.
    uint8 internal constant F_REGISTRY_MOVED = 64;
    /// @dev Never stored: marks, in a transfer's memory copy of the config, a cross-border transfer to
    /// add to the sender's volume in the window once made.
    uint8 internal constant F_COUNT_CROSS_BORDER = 128;

    uint8 internal constant W_RESERVED = 1;
    uint8 internal constant W_COUNTED_NON_ACC = 2;
    /// @dev The wallet is frozen as a whole by the issuer's agent.
    uint8 internal constant W_FROZEN_BY_AGENT = 4;
    /// @dev The wallet is frozen as a whole by a regulator, whose jurisdiction is in `_frozenBy`.
    uint8 internal constant W_FROZEN_BY_REGULATOR = 8;
    uint8 internal constant W_FROZEN = W_FROZEN_BY_AGENT | W_FROZEN_BY_REGULATOR;

    /// @dev Record dates a token may schedule: a wallet's record-date marker is a uint16.
    uint256 internal constant MAX_RECORD_DATES = type(uint16).max;

    uint8 internal constant M_TRANSFER = 0;
    uint8 internal constant M_MINT = 1;
    uint8 internal constant M_BURN = 2;
    uint8 internal constant M_FORCED = 3;
    /// @dev A cross-border request or settlement: every rule but the cross-border one.
    uint8 internal constant M_SETTLE = 4;

    /// @dev The hot slot, read by every transfer. `categories`: low nibble = lowest US category
    /// admitted, high nibble = lowest UK category admitted (0 = not admitted).
    /// `maxInvestorBalance`: type(uint80).max = off. Record dates (`SecurityTokenModule`):
    /// `recordPassed` is the latest scheduled record date known to have passed (0 = none),
    /// `recordCount` the number of scheduled record dates up to it, `recordNext` the earliest
    /// scheduled record date after it (type(uint48).max = none). The three move forward lazily, on
    /// the first balance change after `recordNext` (`SecurityTokenModule.checkpointBalances`). The
    /// investor registry is not here: the token keeps it in an immutable (`_registry` once moved).
    struct Config {
        uint8 flags;
        uint8 categories;
        uint80 maxInvestorBalance;
        uint48 recordNext;
        uint48 recordPassed;
        uint16 recordCount;
    }

    /// @dev Read only when a rule needs it: parties in different jurisdictions (cross-border), a new
    /// holder (caps).
    struct Limits {
        uint96 crossBorderThreshold;
        uint32 maxHolders;
        uint32 approvalWindow;
    }

    struct Caps {
        uint32 maxUkHolders;
        uint32 maxUsHolders;
        uint32 maxUsNonAccredited;
        uint96 issuanceLimit;
        uint16 homeJurisdiction;
        uint8 decimals;
        /// @dev `Terms.crossBorderWindow` (read only on a cross-border transfer).
        uint32 crossBorderWindow;
        /// @dev How many share splits have started (`SplitState.id`, at most 255), beside the window:
        /// a cross-border window recorded under fewer splits is restated in today's units.
        uint8 splits;
    }

    struct Counts {
        uint96 totalSupply;
        uint32 holders;
        uint32 ukHolders;
        uint32 usHolders;
        uint32 usNonAccredited;
    }

    /// @dev One slot per wallet: what a transfer reads and writes. `lockedUntil`: the lot horizon, the
    /// time until which transfers from the wallet consult the offering registry's lots (0: no lot).
    /// `recordMark`: the `recordCount`
    /// under which the wallet's balance was last recorded (`WalletHistory`); a wallet whose mark is
    /// below the token's `recordCount` must be recorded before its balance changes. A mark may lag
    /// (the module then finds the wallet already recorded and writes nothing) but never runs ahead.
    /// A wallet frozen as a whole carries W_FROZEN_BY_AGENT or W_FROZEN_BY_REGULATOR in its flags (the
    /// regulator's jurisdiction is in `_frozenBy`, read only then).
    struct Wallet {
        uint96 balance;
        uint96 frozen;
        uint40 lockedUntil;
        uint16 recordMark;
        uint8 flags;
    }

    /// @dev Cold per-wallet state: escrowed units, units frozen by regulators.
    struct WalletExtra {
        uint96 reserved;
        uint96 regulatorFrozen;
    }

    struct Position {
        uint96 balance;
        bool initialized;
        bool countedNonAccredited;
    }

    /// @dev A cross-border request. `requester` is the settlement contract that opened it as a
    /// clearance for its trade `tradeId` (zero for an investor's own request).
    struct CrossBorder {
        address from;
        uint40 deadline;
        CrossBorderStatus status;
        bool fromApproved;
        bool toApproved;
        uint16 fromJurisdiction;
        uint16 toJurisdiction;
        address to;
        uint96 value;
        address requester;
        uint96 tradeId;
    }

    Config internal _config;
    /// @dev The investor registry the token reads (the token's immutable copy serves transfers until
    /// `setIdentityRegistry` moves it: F_REGISTRY_MOVED).
    IInvestorRegistry internal _registry;
    Limits internal _limits;
    Caps internal _caps;
    Counts internal _counts;
    string internal _tokenName;
    string internal _tokenSymbol;
    address internal _onchainID;
    uint256 internal _crossBorderCount;

    mapping(address wallet => Wallet) internal _wallets;
    /// @dev The jurisdiction of the regulator who froze a wallet as a whole (read only when the
    /// wallet's W_FROZEN_BY_REGULATOR flag is set).
    mapping(address wallet => uint16) internal _frozenBy;
    mapping(address wallet => WalletExtra) internal _extra;
    mapping(address wallet => mapping(uint16 jurisdiction => uint256)) internal _regulatorFrozenBy;
    mapping(address identity => Position) internal _positions;
    mapping(uint256 id => CrossBorder) internal _crossBorders;

    /// @dev An investor's cross-border volume in the window: `total` is the sum of its entries
    /// [head, tail), oldest first (expired ones are dropped when the next one is recorded).
    /// `splits` is the number of share splits started when `total` was last written: splits started
    /// since scale the window (when it is next read) by their ratios.
    struct CrossBorderVolume {
        uint128 total;
        uint32 head;
        uint32 tail;
        uint32 splits;
    }

    /// @dev Units an investor sent to another jurisdiction at second `at` (one entry per second), in
    /// the units of the time `splits` share splits had started.
    struct CrossBorderEntry {
        uint128 amount;
        uint40 at;
        uint32 splits;
    }

    mapping(address identity => CrossBorderVolume) internal _crossBorderVolumes;
    mapping(address identity => mapping(uint256 index => CrossBorderEntry)) internal _crossBorderEntries;
    /// @dev After the `n`th share split (n >= 1): the product of the ratios of splits 1..n, i.e. how many
    /// units one unit of the token's first days is now (before any split: 1).
    mapping(uint256 n => uint256 factor) internal _splitFactors;


    /// @dev The storage slot of `wallet`'s `Wallet` record.
    function _walletSlot(address wallet) internal pure returns (uint256 slot) {
        assembly ("memory-safe") {
            mstore(0, wallet)
            mstore(32, _wallets.slot)
            slot := keccak256(0, 64)
        }
    }

    /// @dev Who froze `wallet` (whose flags are `flags`) as a whole: 0 if no one, FROZEN_BY_AGENT for
    /// the issuer's agent, otherwise the regulator's jurisdiction.
    function _frozenByOf(address wallet, uint8 flags) internal view returns (uint16) {
        if (flags & W_FROZEN_BY_AGENT != 0) return FROZEN_BY_AGENT;
        return flags & W_FROZEN_BY_REGULATOR != 0 ? _frozenBy[wallet] : 0;
    }

    /// @dev Reads a wallet's record with one SLOAD (the compiler would read each member apart).
    function _loadWallet(address wallet) internal view returns (Wallet memory w) {
        w = _loadWalletAt(_walletSlot(wallet), w);
    }

    /// @dev Reads the wallet record at `slot` into `w` (filled in place) with one SLOAD. The fields
    /// are written straight into the memory struct (one word each, in declaration order), as the
    /// compiler lays it out, without its per-field masking.
    function _loadWalletAt(uint256 slot, Wallet memory w) internal view returns (Wallet memory) {
        assembly ("memory-safe") {
            let v := sload(slot)
            mstore(w, and(v, 0xffffffffffffffffffffffff))
            mstore(add(w, 0x20), and(shr(96, v), 0xffffffffffffffffffffffff))
            mstore(add(w, 0x40), and(shr(192, v), 0xffffffffff))
            mstore(add(w, 0x60), and(shr(232, v), 0xffff))
            mstore(add(w, 0x80), shr(248, v))
        }
        return w;
    }

    /// @dev Writes a wallet's record at `slot` with one SSTORE (same layout as the struct in storage).
    function _storeWalletAt(uint256 slot, Wallet memory w) internal {
        uint256 v = uint256(w.balance) | (uint256(w.frozen) << 96) | (uint256(w.lockedUntil) << 192)
            | (uint256(w.recordMark) << 232) | (uint256(w.flags) << 248);
        assembly ("memory-safe") {
            sstore(slot, v)
        }
    }

    /// @dev Reads the hot terms slot with one SLOAD into `cfg` (filled in place, as `_loadWalletAt`).
    function _loadConfig(Config memory cfg) internal view {
        assembly ("memory-safe") {
            let v := sload(_config.slot)
            mstore(cfg, and(v, 0xff))
            mstore(add(cfg, 0x20), and(shr(8, v), 0xff))
            mstore(add(cfg, 0x40), and(shr(16, v), 0xffffffffffffffffffff))
            mstore(add(cfg, 0x60), and(shr(96, v), 0xffffffffffff))
            mstore(add(cfg, 0x80), and(shr(144, v), 0xffffffffffff))
            mstore(add(cfg, 0xa0), and(shr(192, v), 0xffff))
        }
    }

    /// @dev Decodes a registry record word (`IInvestorRegistry.walletWords`) into `r` in place (as
    /// `_loadWalletAt`; the registry only stores valid categories and statuses).
    function _record(uint256 v, IInvestorRegistry.WalletRecord memory r) internal pure {
        assembly ("memory-safe") {
            mstore(r, and(v, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(r, 0x20), and(shr(160, v), 0xffff))
            mstore(add(r, 0x40), and(shr(176, v), 0xff))
            mstore(add(r, 0x60), and(shr(184, v), 0xff))
            mstore(add(r, 0x80), and(shr(192, v), 0xffffffffff))
            mstore(add(r, 0xa0), and(shr(232, v), 0xff))
        }
    }

    /// @dev The rule parameters as `Terms` (off limits as 0).
    function _currentTerms() internal view returns (Terms memory t) {
        Config memory cfg = _config;
        Limits memory lim = _limits;
        Caps memory caps = _caps;
        t = Terms({
            usMinCategory: cfg.categories & 0x0f,
            ukMinCategory: cfg.categories >> 4,
            crossBorderThreshold: lim.crossBorderThreshold == type(uint96).max ? 0 : lim.crossBorderThreshold,
            approvalWindow: lim.approvalWindow,
            maxInvestorBalance: cfg.maxInvestorBalance == type(uint80).max ? 0 : cfg.maxInvestorBalance,
            maxHolders: lim.maxHolders,
            maxUkHolders: caps.maxUkHolders,
            maxUsHolders: caps.maxUsHolders,
            maxUsNonAccredited: caps.maxUsNonAccredited,
            crossBorderWindow: caps.crossBorderWindow
        });
    }

    /// @dev Whether `n` is at least as strict as `o` on every rule (0 = off for limits; a 0 minimum
    /// category = jurisdiction not admitted; the approval window is procedural and may change).
    function _within(Terms memory n, Terms memory o) internal pure returns (bool) {
        return _stricterMin(n.usMinCategory, o.usMinCategory) && _stricterMin(n.ukMinCategory, o.ukMinCategory)
            && _stricterCap(n.crossBorderThreshold, o.crossBorderThreshold)
            && _stricterCap(n.maxInvestorBalance, o.maxInvestorBalance) && _stricterCap(n.maxHolders, o.maxHolders)
            && _stricterCap(n.maxUkHolders, o.maxUkHolders) && _stricterCap(n.maxUsHolders, o.maxUsHolders)
            && _stricterCap(n.maxUsNonAccredited, o.maxUsNonAccredited) && n.crossBorderWindow >= o.crossBorderWindow;
    }

    function _stricterMin(uint8 n, uint8 o) private pure returns (bool) {
        return o == 0 ? n == 0 : (n == 0 || n >= o);
    }

    function _stricterCap(uint256 n, uint256 o) private pure returns (bool) {
        return o == 0 || (n != 0 && n <= o);
    }

    /// @dev Address of the code that runs the cold powers in this token's storage (set by the token).
    address internal _extension;

    /// @dev A share split: `ratio` (0 = none started yet), the pre-split units not yet split, and the
    /// split's sequence number (a wallet whose `splitId` equals it has been split).
    struct SplitState {
        uint96 unprocessed;
        uint32 ratio;
        uint32 id;
    }

    /// @dev Cold per-wallet bookkeeping of corporate actions, one slot: the wallet's latest record-date
    /// checkpoint (`recordKey`, 0 = none, and the balance then; earlier ones are in
    /// `_balanceCheckpoints`) and the last split that multiplied it. `address(0)` stands for the
    /// total supply. A transfer reads it only when the wallet's `recordMark` says it is due.
    struct WalletHistory {
        uint48 recordKey;
        uint96 recordBalance;
        uint32 splitId;
    }

    SplitState internal _split;
    /// @dev Cross-border requests whose units are escrowed (counted in `_reserve`); a split cannot
    /// start while any is.
    uint256 internal _pendingCrossBorder;
    /// @dev Every record date scheduled, ascending.
    uint256[] internal _recordDates;
    mapping(address account => WalletHistory) internal _history;
    /// @dev Balance at each record date, keyed by record date (OpenZeppelin `Checkpoints`), but for the
    /// latest, kept in `WalletHistory` until a newer one pushes it here; the total supply under
    /// `address(0)`.
    mapping(address account => Checkpoints.Trace208) internal _balanceCheckpoints;

    /// @dev ERC-173 owner: the admin who last received ownership (`transferOwnership`); `owner()`
    /// answers zero once that account no longer holds DEFAULT_ADMIN_ROLE.
    address internal _owner;
    /// @dev What `identityRegistry()` answers when set: an `ERC3643IdentityRegistry` over `_registry`.
    address internal _identityRegistryAdapter;
    /// @dev What `compliance()` answers when set: an `ERC3643Compliance` bound to this token.
    address internal _complianceAdapter;
    /// @dev The `OfferingRegistry` this security issues in and keeps its lots in (zero: none; the
    /// security then has no restricted units).
    address internal _offeringRegistry;


    /// @dev An investor's position: its wallet's balance if it has one wallet; otherwise the
    /// aggregate, initialised on first use from the balances of all its wallets (listed by `reg`,
    /// the registry the token reads).
    function _position(
        IInvestorRegistry reg,
        address identity,
        uint8 walletCount,
        address wallet,
        Wallet memory w
    ) internal view returns (uint256 pos, bool multi, bool countedNonAcc) {
        if (walletCount <= 1) return (w.balance, false, w.flags & W_COUNTED_NON_ACC != 0);
        Position memory p = _positions[identity];
        if (p.initialized) return (p.balance, true, p.countedNonAccredited);
        address[] memory wallets = reg.walletsOf(identity);
        for (uint256 i = 0; i < wallets.length; ++i) {
            Wallet memory other = wallets[i] == wallet ? w : _wallets[wallets[i]];
            pos += other.balance;
            if (other.flags & W_COUNTED_NON_ACC != 0) countedNonAcc = true;
        }
        return (pos, true, countedNonAcc);
    }

    /// @dev Escrows (`add`) or releases the units of a cross-border request; counts the open escrows,
    /// which a share split waits for (every path that opens or closes a request passes here).
    function _reserve(address wallet, uint256 value, bool add ) internal {
        unchecked {
            if (add) ++_pendingCrossBorder;
            else --_pendingCrossBorder;
        }
        WalletExtra storage x = _extra[wallet];
        uint96 reserved = add ? x.reserved + uint96(value) : x.reserved - uint96(value);
        x.reserved = reserved;
        Wallet storage w = _wallets[wallet];
        if (reserved == 0) w.flags &= ~W_RESERVED;
        else w.flags |= W_RESERVED;
    }

    function _pendingFor(uint256 id, bool checkDeadline ) internal view returns (CrossBorder storage x, uint16 j) {
        x = _crossBorders[id];
        if (x.status == CrossBorderStatus.None) revert UnknownCrossBorderTransfer(id);
        j = _registry.regulatorJurisdiction(_msgSender());
        if (j == 0) revert NotRegulator(_msgSender());
        if (j != x.fromJurisdiction && j != x.toJurisdiction) {
            revert RegulatorOutOfScope(_msgSender(), j, x.fromJurisdiction);
        }
        if (x.status != CrossBorderStatus.Pending) revert CrossBorderTransferNotPending(id, x.status);
        if (checkDeadline && block.timestamp > x.deadline) {
            revert CrossBorderTransferPastDeadline(id, x.deadline, block.timestamp);
        }
    }

    /// @dev Freezes `amount` more units of `wallet` on `actor`'s side. `withinBalance`: ERC-3643's
    /// `freezePartialTokens` (as T-REX: frozen + amount <= balance); ERC-7943's `setFrozenTokens`
    /// may freeze beyond the balance (the frozen amount then still fits in uint96).
    function _freezePartial(address wallet, uint256 amount, uint16 actor, bool withinBalance) internal {
        Wallet storage w = _wallets[wallet];
        uint256 frozen = w.frozen;
        if (withinBalance) {
            uint256 balance = w.balance;
            uint256 freezable = balance > frozen ? balance - frozen : 0;
            if (amount > freezable) revert FreezeExceedsBalance(wallet, amount, freezable);
        } else if (amount > type(uint96).max - frozen) {
            revert AmountTooLarge(amount);
        }
        w.frozen = uint96(frozen + amount);
        if (actor != FROZEN_BY_AGENT) {
            uint256 mine = _regulatorFrozenBy[wallet][actor] + amount;
            _regulatorFrozenBy[wallet][actor] = mine;
            _extra[wallet].regulatorFrozen += uint96(amount);
            emit PartialFreezeByRegulator(wallet, actor, mine);
        }
    }

    function _unfreezePartial(address wallet, uint256 amount, uint16 actor ) internal {
        Wallet storage w = _wallets[wallet];
        uint256 unfreezable = actor == FROZEN_BY_AGENT
            ? w.frozen - _extra[wallet].regulatorFrozen
            : _regulatorFrozenBy[wallet][actor];
        if (amount > unfreezable) revert UnfreezeExceedsOwnFreeze(wallet, amount, unfreezable);
        w.frozen -= uint96(amount);
        if (actor != FROZEN_BY_AGENT) {
            _regulatorFrozenBy[wallet][actor] = unfreezable - amount;
            _extra[wallet].regulatorFrozen -= uint96(amount);
            emit PartialFreezeByRegulator(wallet, actor, unfreezable - amount);
        }
    }

    /// @dev Who acts on `wallet`: FROZEN_BY_AGENT for an agent, else the regulator's jurisdiction
    /// after checking it is in scope (holder's jurisdiction or the home jurisdiction).
    function _actorFor(address wallet ) internal view returns (uint16) {
        if (hasRole(AGENT_ROLE, _msgSender())) return FROZEN_BY_AGENT;
        IInvestorRegistry reg = _registry;
        uint16 regulator = reg.regulatorJurisdiction(_msgSender());
        if (regulator == 0) revert NotAgentOrRegulator(_msgSender());
        if (regulator != _caps.homeJurisdiction) {
            uint16 holder = reg.walletRecord(wallet).jurisdiction;
            if (regulator != holder) revert RegulatorOutOfScope(_msgSender(), regulator, holder);
        }
        return regulator;
    }

    /// @dev Returns true when the caller acts as the home regulator, false as an agent.
    function _requireAgentOrHomeRegulator( ) internal view returns (bool) {
        if (hasRole(AGENT_ROLE, _msgSender())) return false;
        uint16 regulator = _registry.regulatorJurisdiction(_msgSender());
        if (regulator == 0) revert NotAgentOrRegulator(_msgSender());
        uint16 home = _caps.homeJurisdiction;
        if (regulator != home) revert RegulatorOutOfScope(_msgSender(), regulator, home);
        return true;
    }

    function _eligible(IInvestorRegistry.WalletRecord memory rec ) internal view returns (bool) {
        return rec.identity != address(0) && rec.status == IInvestorRegistry.Status.Active
            && rec.kycValidUntil >= block.timestamp;
    }

    /// @dev Exchange Act 12(g)(1)(A) counts holders of record "who are not accredited investors" of any
    /// residence: the investor's accreditation (Rule 501(a)) as the registry records it now.
    function _isNonAccredited(IInvestorRegistry reg, address wallet) internal view returns (bool) {
        return !reg.isAccreditedAt(wallet, block.timestamp);
    }

    function _minCategory(Config memory cfg, uint16 jurisdiction ) internal pure returns (uint8) {
        if (jurisdiction == US) return cfg.categories & 0x0f;
        if (jurisdiction == UK) return cfg.categories >> 4;
        return 0;
    }

    function _setTerms(Terms memory t ) internal {
        if (
            (t.usMinCategory != 0 && (t.usMinCategory < 1 || t.usMinCategory > 3))
                || (t.ukMinCategory != 0 && (t.ukMinCategory < 4 || t.ukMinCategory > 6))
                || t.crossBorderThreshold > type(uint96).max || t.maxInvestorBalance >= type(uint80).max
        ) revert InvalidTerms();
        Config storage cfg = _config;
        cfg.categories = t.usMinCategory | (t.ukMinCategory << 4);
        cfg.maxInvestorBalance = t.maxInvestorBalance == 0 ? type(uint80).max : uint80(t.maxInvestorBalance);
        _limits = Limits({
            crossBorderThreshold: t.crossBorderThreshold == 0 ? type(uint96).max : uint96(t.crossBorderThreshold),
            maxHolders: t.maxHolders,
            approvalWindow: t.approvalWindow
        });
        Caps storage caps = _caps;
        caps.maxUkHolders = t.maxUkHolders;
        caps.maxUsHolders = t.maxUsHolders;
        caps.maxUsNonAccredited = t.maxUsNonAccredited;
        caps.crossBorderWindow = t.crossBorderWindow;
        emit TermsSet(t, _msgSender());
    }
    /// @dev Jurisdiction admitted, category at or above the minimum. (Regulation S follows each lot's
    /// offering: the offering registry's `checkLots`.)
    function _offeringCheck(Config memory cfg, IInvestorRegistry.WalletRecord memory rr)
        internal
        pure
        returns (uint8, uint256)
    {
        uint8 minimum = _minCategory(cfg, rr.jurisdiction);
        if (minimum == 0) return (TransferRules.JURISDICTION_NOT_ADMITTED, 0);
        if (uint8(rr.category) < minimum) return (TransferRules.CATEGORY_NOT_ADMITTED, minimum);
        return (TransferRules.SUCCESS, 0);
    }
}
