// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {ISecurityToken} from "../interfaces/ISecurityToken.sol";
import {IOfferingRegistry} from "../interfaces/IOfferingRegistry.sol";
import {IERC3643} from "../interfaces/IERC3643.sol";
import {IERC7943Fungible} from "../interfaces/IERC7943Fungible.sol";
import {IERC3643AgentRoleEvents} from "../interfaces/IERC3643AgentRole.sol";
import {TransferRules} from "./TransferRules.sol";
import {SecurityTokenBase} from "./SecurityTokenBase.sol";
import {SecurityTokenExtension} from "./SecurityTokenExtension.sol";
import {SecurityTokenModule} from "./SecurityTokenModule.sol";
import {ISecurityTokenPlumbing} from "./SecurityTokenCrossBorder.sol";
import {ERC3643IdentityRegistry} from "./ERC3643IdentityRegistry.sol";
import {ERC3643Compliance} from "./ERC3643Compliance.sol";

/// @title SecurityToken
/// @notice A permissioned security: ERC-20 whose every transfer, mint and burn passes the sandbox
/// rulebook (`TransferRules`) in one `_update` hook, with an ERC-1404 view pre-check that applies the
/// very same evaluation (`detectTransferRestriction`), the ERC-3643 agent operations, the ERC-7943
/// interface, regulator powers scoped by jurisdiction, issuance approval by the home regulator, and
/// cross-border transfers escrowed until both regulators approve.
/// @dev Gas layout: each wallet's token state (balance, frozen amount, lock-up horizon, record-date
/// mark, flags) is one slot; the hot terms and the record-date state are one slot (`Config`), the
/// rest of the terms a second read only by the rules that need them; the investor registry's address
/// is an immutable, and the registry is called once per transfer (`walletWords`). A repeat transfer
/// of a record-date security reads nothing more than one without record dates. Per-investor aggregates exist only for investors with more than one wallet
/// (a wallet joins its investor with zero balance and never changes investor, so a single-wallet
/// investor's position is its wallet's balance). Amounts are bounded by uint96 (the issuance limit).
/// The compliance of ERC-3643 is built into this contract (`compliance()` returns this address).
contract SecurityToken is SecurityTokenBase, IERC3643, IERC7943Fungible, IERC3643AgentRoleEvents {
    /// @dev The extension's `SecurityTokenModule`: read-only views and corporate actions (record
    /// dates, splits), run by delegatecall in this token's storage.
    address private immutable _module;

    /// @dev The investor registry the token was created with: transfers read it from the code, not
    /// from storage, until `setIdentityRegistry` moves the token to another (F_REGISTRY_MOVED).
    IInvestorRegistry private immutable _createdRegistry;

    /// @param name_ ERC-20 name.
    /// @param symbol_ ERC-20 symbol.
    /// @param decimals_ ERC-20 decimals (0 for whole units of a security).
    /// @param registry_ The investor registry this security reads; the constructor creates the
    /// `ERC3643IdentityRegistry` over it that `identityRegistry()` answers, and the
    /// `ERC3643Compliance` bound to this token that `compliance()` answers.
    /// @param homeJurisdiction_ ISO 3166-1 numeric code of the security's home jurisdiction.
    /// @param terms_ The rule parameters the issuer sets at creation.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and AGENT_ROLE (the issuer), and is the ERC-173 owner.
    /// @param extension_ A deployed `SecurityTokenExtension` (its code runs the cold powers).
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        IInvestorRegistry registry_,
        uint16 homeJurisdiction_,
        Terms memory terms_,
        address admin,
        address extension_
    ) ERC20(name_, symbol_) {
        _extension = extension_;
        _module = address(SecurityTokenExtension(extension_).MODULE());
        _caps.decimals = decimals_;
        _caps.homeJurisdiction = homeJurisdiction_;
        _tokenName = name_;
        _tokenSymbol = symbol_;
        _registry = registry_;
        _createdRegistry = registry_;
        _setTerms(terms_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(AGENT_ROLE, admin);
        _owner = admin;
        emit OwnershipTransferred(address(0), admin);
        // What ERC-3643 tooling reads first: an IIdentityRegistry over the investor registry and a
        // compliance bound to this token (their creation code is in this constructor only).
        address identityAdapter = address(new ERC3643IdentityRegistry(registry_));
        address complianceAdapter = address(new ERC3643Compliance(address(this)));
        _identityRegistryAdapter = identityAdapter;
        _complianceAdapter = complianceAdapter;
        emit IdentityRegistryAdded(identityAdapter);
        emit ComplianceAdded(complianceAdapter);
    }

    // ================================================================== ERC-20 views

    /// @inheritdoc ERC20
    function name() public view override returns (string memory) {
        return _tokenName;
    }

    /// @inheritdoc ERC20
    function symbol() public view override returns (string memory) {
        return _tokenSymbol;
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _caps.decimals;
    }

    /// @inheritdoc ERC20
    function totalSupply() public view override returns (uint256) {
        return _counts.totalSupply;
    }

    /// @inheritdoc ERC20
    function balanceOf(address account) public view override returns (uint256) {
        return _wallets[account].balance;
    }

    // ================================================================== rulebook views

    /// @notice ERC-1404: the rule that would refuse `value` from `from` to `to` now, 0 if none.
    /// `from == address(0)` checks a mint, `to == address(0)` a burn.
    function detectTransferRestriction(address from, address to, uint256 value) public view returns (uint8) {
        return _evaluate(from, to, value, _modeOf(from, to), _asCtx(_newCtx)());
    }

    /// @notice ERC-1404: "NAME: sentence (source)" for a restriction code.
    function messageForTransferRestriction(uint8 restrictionCode) external view returns (string memory) {
        return SecurityTokenExtension(_extension).RULEBOOK().messageForTransferRestriction(restrictionCode);
    }

    /// @notice ERC-7943: whether `amount` may move from `from` to `to` now (the ERC-1404 check is 0).
    function canTransfer(address from, address to, uint256 amount) external view returns (bool allowed) {
        return detectTransferRestriction(from, to, amount) == TransferRules.SUCCESS;
    }

    /// @notice ERC-3643 / ERC-7943: units of `userAddress` frozen (by agents and regulators).
    function getFrozenTokens(address userAddress)
        external
        view
        override(IERC3643, IERC7943Fungible)
        returns (uint256)
    {
        return _wallets[userAddress].frozen;
    }

    /// @notice ERC-3643: whether `userAddress` is frozen as a whole.
    function isFrozen(address userAddress) external view returns (bool) {
        return _wallets[userAddress].flags & W_FROZEN != 0;
    }

    /// @notice Who froze `wallet`: 0 if not frozen, 65535 for the issuer's agent, otherwise the
    /// jurisdiction of the regulator who froze it.
    function frozenBy(address wallet) external view returns (uint16) {
        return _frozenByOf(wallet, _wallets[wallet].flags);
    }

    /// @notice ISO 3166-1 numeric code of the security's home jurisdiction.
    function homeJurisdiction() external view returns (uint16) {
        return _caps.homeJurisdiction;
    }

    /// @notice ERC-3643: the identity registry: an `ERC3643IdentityRegistry` over the investor
    /// registry this token reads, once set (`setIdentityRegistry`); until then the investor registry.
    function identityRegistry() external view returns (address registry) {
        registry = _identityRegistryAdapter;
        if (registry == address(0)) registry = address(_registry);
    }

    /// @notice ERC-3643: the compliance: an `ERC3643Compliance` bound to this token once set
    /// (`setCompliance`); until then this token itself (the rulebook is built in).
    function compliance() external view returns (address compliance_) {
        compliance_ = _complianceAdapter;
        if (compliance_ == address(0)) compliance_ = address(this);
    }

    /// @notice ERC-3643: the token's ONCHAINID. In the sandbox this is an identity of the investor
    /// registry (normally the issuer's), not an ONCHAINID contract.
    function onchainID() external view returns (address) {
        return _onchainID;
    }

    /// @notice ERC-3643: the token's version string.
    function version() public pure returns (string memory) {
        return "sandbox-erc3643-1.0";
    }

    /// @notice ERC-3643: whether transfers are paused (by an agent or a regulator, or while a share
    /// split is processed).
    function paused() public view returns (bool) {
        return _config.flags & (F_PAUSED | F_SPLITTING) != 0;
    }

    /// @notice ERC-165: ERC-20, ERC-7943 fungible, AccessControl and ERC-165 itself.
    function supportsInterface(bytes4 interfaceId) public view override(AccessControl, IERC165) returns (bool) {
        return interfaceId == type(IERC7943Fungible).interfaceId || interfaceId == type(IERC20).interfaceId
            || super.supportsInterface(interfaceId);
    }

    // ================================================================== agent operations

    /// @notice ERC-3643: mints `amount` to `to`; the rulebook applies (issuance approval and limit,
    /// receiver rules, holder caps). With an offering registry attached, units are issued only in its
    /// offerings (`OfferingRegistry.issue`), which make the lots that carry restricted status.
    /// @dev Requirements: caller has AGENT_ROLE (or is this token, running a batch of the extension).
    function mint(address to, uint256 amount) public {
        _checkAgent();
        address offerings = _offeringRegistry;
        if (offerings != address(0) && _msgSender() != offerings) revert IssuanceOutsideOffering();
        _mint(to, amount);
    }

    /// @notice ERC-3643: burns `amount` from `userAddress`, unfreezing agent-frozen units if needed.
    /// @dev Requirements: caller has AGENT_ROLE; the units are not frozen by a regulator nor escrowed.
    function burn(address userAddress, uint256 amount) public {
        _checkAgent();
        _burn(userAddress, amount);
    }

    /// @notice ERC-3643 / ERC-7943: moves `amount` from `from` to `to` whatever the sender-side rules
    /// (frozen wallet by agent, lock-up); the receiver rules still apply. Agent-frozen units are
    /// unfrozen as needed; regulator-frozen and escrowed units cannot move.
    /// @dev Requirements: caller has AGENT_ROLE; `from` not frozen as a whole by a regulator.
    function forcedTransfer(address from, address to, uint256 amount)
        public
        override(IERC3643, IERC7943Fungible)
        returns (bool)
    {
        _checkAgent();
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _move(from, to, amount, M_FORCED);
        emit ForcedTransfer(from, to, amount);
        return true;
    }

    /// @notice ERC-3643: several transfers from the caller.
    /// @dev Requirements: as `transfer` for each; arrays of equal length.
    function batchTransfer(address[] calldata toList, uint256[] calldata amounts) external {
        if (toList.length != amounts.length) revert BatchLengthMismatch();
        for (uint256 i = 0; i < toList.length; ++i) {
            transfer(toList[i], amounts[i]);
        }
    }

    // ================================================================== cross-border plumbing

    /// @notice Plumbing for `requestCrossBorderTransfer` (run by the extension): checks every rule but
    /// the cross-border one for `value` from `from` to `to` now, reverting with the rule's error.
    /// @dev Requirements: none (a view).
    function checkCrossBorder(address from, address to, uint256 value)
        external
        view
        returns (uint16 fromJurisdiction, uint16 toJurisdiction)
    {
        Ctx memory c = _asCtx(_newCtx)();
        uint8 code = _evaluate(from, to, value, M_SETTLE, c);
        if (code != TransferRules.SUCCESS) _revertFor(code, from, to, value, c);
        return (c.sr.jurisdiction, c.rr.jurisdiction);
    }

    /// @notice Plumbing for `approveCrossBorderTransfer` (run by the extension): releases the escrow
    /// and settles, re-checking every rule but the cross-border one.
    /// @dev Requirements: the caller is this token itself (extension code acting for both regulators).
    function settleCrossBorder(address from, address to, uint256 value) external {
        if (_msgSender() != address(this)) revert NotRegulator(_msgSender());
        _reserve(from, value, false);
        _move(from, to, value, M_SETTLE);
    }

    // ================================================================== the rulebook

    /// @dev The single hook every ERC-20 transfer, mint and burn passes (OpenZeppelin ERC20 v5).
    function _update(address from, address to, uint256 value) internal override {
        _move(from, to, value, _modeOf(from, to));
    }

    /// @dev Reads the second terms slot once, only for the rules that need it.
    function _loadLimits(Ctx memory c) private view {
        if (!c.limLoaded) {
            c.lim = _limits;
            c.limLoaded = true;
        }
    }

    function _modeOf(address from, address to) private pure returns (uint8) {
        return from == address(0) ? M_MINT : to == address(0) ? M_BURN : M_TRANSFER;
    }

    /// @dev Evaluates the rulebook, reverts with the rule's error, else applies the move and the state
    /// the rules keep (lots, per-investor positions, holder counts).
    function _move(address from, address to, uint256 value, uint8 mode) private {
        Ctx memory c = _asCtx(_newCtx)();
        uint8 code = _evaluate(from, to, value, mode, c);
        if (code != TransferRules.SUCCESS) _revertFor(code, from, to, value, c);
        if (from == to) {
            // A transfer to oneself moves nothing (as in ERC-20), once the rulebook has passed it. The
            // sender's and receiver's packed slots are the same slot: debiting one copy and crediting
            // the other would create units.
            emit Transfer(from, to, value);
            return;
        }
        uint8 flags = c.cfg.flags;
        if (flags & (F_RECORD_DATES | F_COUNT_CROSS_BORDER) != 0) {
            if (flags & F_RECORD_DATES != 0) _checkpointIfDue(from, to, mode, c);
            // A cross-border transfer (direct or approved) adds to the sender's volume in the window.
            if (flags & F_COUNT_CROSS_BORDER != 0) _recordCrossBorder(c.sr.identity, value);
        }
        // Single-wallet investors carry "counted as non-accredited" in their wallet's flags.
        if (c.leaves && !c.sMulti) c.s.flags &= ~W_COUNTED_NON_ACC;
        bool rNonAcc;
        if (c.joins) {
            rNonAcc = _isNonAccredited(c.registry, to);
            if (rNonAcc && !c.rMulti) c.r.flags |= W_COUNTED_NON_ACC;
        }
        if (mode != M_MINT) _debit(from, to, value, mode, c);
        if (mode != M_BURN) _credit(value, c);
        if (c.sMulti) {
            _positions[c.sr.identity] = Position(
                uint96(c.sameInvestor ? c.sPos : c.sPos - value), true, c.sCountedNonAcc && !c.leaves
            );
        }
        if (c.rMulti && !c.sameInvestor) {
            Position storage p = _positions[c.rr.identity];
            p.balance = uint96(c.rPos + value);
            p.initialized = true;
            if (c.joins) p.countedNonAccredited = rNonAcc;
        }
        if (mode == M_MINT || mode == M_BURN || c.leaves || c.joins) _count(mode, value, c, rNonAcc);
        emit Transfer(from, to, value);
    }

    /// @dev The volume investor `identity` sent across in the window (`crossBorderVolume`, which this
    /// token's fallback runs in `SecurityTokenCrossBorder`, under staticcall).
    function _crossBorderVolume(address identity) private view returns (uint256 volume) {
        bytes4 selector = ISecurityTokenPlumbing.crossBorderVolume.selector;
        assembly ("memory-safe") {
            mstore(0, selector)
            mstore(4, identity)
            if iszero(staticcall(gas(), address(), 0, 36, 0, 32)) {
                returndatacopy(0, 0, returndatasize())
                revert(0, returndatasize())
            }
            volume := mload(0)
        }
    }

    /// @dev Adds `value` to investor `identity`'s cross-border volume (`recordCrossBorderVolume`, which
    /// accepts only this token as caller).
    function _recordCrossBorder(address identity, uint256 value) private {
        bytes4 selector = ISecurityTokenPlumbing.recordCrossBorderVolume.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 4), identity)
            mstore(add(ptr, 36), value)
            if iszero(call(gas(), address(), 0, ptr, 68, 0, 0)) {
                returndatacopy(0, 0, returndatasize())
                revert(0, returndatasize())
            }
        }
    }

    /// @dev Record-date tokens: before a balance changes, records it under the latest scheduled record
    /// date passed, if this wallet (or the supply, `address(0)`) has not been recorded there yet. The
    /// common case, no date passed since the parties' last change, reads only what the rulebook read
    /// (the config word, both wallet words) and writes nothing; the module does the writing, and the
    /// parties' marks, written with their wallet words, say they are recorded.
    function _checkpointIfDue(address from, address to, uint8 mode, Ctx memory c) private {
        Config memory cfg = c.cfg;
        uint256 count = cfg.recordCount;
        if (
            cfg.recordNext < block.timestamp
                || (mode == M_MINT ? _supplyDue(cfg.recordPassed) : c.s.recordMark < count)
                || (mode == M_BURN ? _supplyDue(cfg.recordPassed) : c.r.recordMark < count)
        ) {
            address module = _module;
            bytes4 selector = SecurityTokenModule.checkpointBalances.selector;
            assembly ("memory-safe") {
                let ptr := mload(0x40)
                mstore(ptr, selector)
                mstore(add(ptr, 4), from)
                mstore(add(ptr, 36), to)
                if iszero(delegatecall(gas(), module, ptr, 68, 0, 0)) {
                    returndatacopy(0, 0, returndatasize())
                    revert(0, returndatasize())
                }
            }
            // Both parties are now recorded under the latest record date passed (the module may have
            // moved it forward); their words are written after this with the marks.
            uint16 recorded = _config.recordCount;
            c.s.recordMark = recorded;
            c.r.recordMark = recorded;
        }
    }

    /// @dev Whether the total supply has yet to be recorded under `passed` (mint and burn only).
    function _supplyDue(uint48 passed) private view returns (bool) {
        return _history[address(0)].recordKey < passed;
    }

    /// @dev Cheapest checks first: paused → issuance gate → frozen wallets → unfrozen balance →
    /// the sender's lots within their period (Rule 144 / Reg S: the offering registry) → registry
    /// eligibility (one call for both parties) → jurisdiction → category → cross-border →
    /// per-investor maximum → holder caps.
    function _evaluate(address from, address to, uint256 value, uint8 mode, Ctx memory c)
        internal
        view
        returns (uint8)
    {
        _loadConfig(c.cfg);
        uint8 flags = c.cfg.flags;
        c.registry = flags & F_REGISTRY_MOVED == 0 ? _createdRegistry : _registry;
        if (flags & (F_PAUSED | F_SPLITTING) != 0) {
            // A pause spares forced transfers and burns; a share split in progress stops everything.
            if (flags & F_SPLITTING != 0 || (mode != M_FORCED && mode != M_BURN)) return TransferRules.PAUSED;
        }
        if (mode == M_MINT) {
            if (c.cfg.flags & F_APPROVED == 0) return TransferRules.ISSUANCE_NOT_APPROVED;
            uint256 limit = _caps.issuanceLimit;
            uint256 after_ = _counts.totalSupply + value;
            if (after_ > limit) {
                (c.countAfter, c.limitValue) = (after_, limit);
                return TransferRules.ISSUANCE_LIMIT_EXCEEDED;
            }
        } else {
            c.sSlot = _walletSlot(from);
            _loadWalletAt(c.sSlot, c.s);
            if (mode == M_TRANSFER || mode == M_SETTLE) {
                if (c.s.flags & W_FROZEN != 0) return TransferRules.SENDER_FROZEN;
            }
        }
        if (mode != M_BURN) {
            c.rSlot = _walletSlot(to);
            _loadWalletAt(c.rSlot, c.r);
            if (mode != M_FORCED && c.r.flags & W_FROZEN != 0) return TransferRules.RECEIVER_FROZEN;
        }
        if (mode != M_MINT) {
            uint256 reserved = c.s.flags & W_RESERVED != 0 ? _extra[from].reserved : 0;
            c.reserved = reserved;
            uint256 balance = c.s.balance;
            uint256 blocked = (mode == M_FORCED || mode == M_BURN) ? _extra[from].regulatorFrozen : c.s.frozen;
            if (value + blocked + reserved > balance) return TransferRules.INSUFFICIENT_UNFROZEN_BALANCE;
            if (block.timestamp < c.s.lockedUntil) {
                // Lots live in the offering registry (only it raises a wallet's lot horizon): it says
                // which may go to this receiver.
                uint256 lotCode;
                (lotCode, c.locked, c.nextUnlockAt) =
                    _lotsCheck(_offeringRegistry, from, to, value, mode, balance - reserved);
                if (lotCode != TransferRules.SUCCESS) {
                    c.limitValue = c.nextUnlockAt;
                    return uint8(lotCode);
                }
            }
        }
        if (mode == M_BURN) {
            c.sr = c.registry.walletRecord(from);
            (c.sPos, c.sMulti, c.sCountedNonAcc) =
                _position(c.registry, c.sr.identity, c.sr.walletCount, from, c.s);
            c.leaves = c.sPos == value && value != 0;
            return TransferRules.SUCCESS;
        }
        if (mode == M_MINT) {
            c.rr = c.registry.walletRecord(to);
        } else {
            (uint256 sw, uint256 rw) = c.registry.walletWords(from, to);
            _record(sw, c.sr);
            _record(rw, c.rr);
            if (mode != M_FORCED) {
                if (c.sr.identity == address(0)) return TransferRules.SENDER_NOT_REGISTERED;
                if (c.sr.status != IInvestorRegistry.Status.Active) {
                    return c.sr.status == IInvestorRegistry.Status.Sanctioned
                        ? TransferRules.SENDER_SANCTIONED
                        : TransferRules.SENDER_SUSPENDED;
                }
                if (c.sr.kycValidUntil < block.timestamp) return TransferRules.SENDER_KYC_EXPIRED;
            }
        }
        if (c.rr.identity == address(0)) return TransferRules.RECEIVER_NOT_REGISTERED;
        if (c.rr.status != IInvestorRegistry.Status.Active) {
            return c.rr.status == IInvestorRegistry.Status.Sanctioned
                ? TransferRules.RECEIVER_SANCTIONED
                : TransferRules.RECEIVER_SUSPENDED;
        }
        if (c.rr.kycValidUntil < block.timestamp) return TransferRules.RECEIVER_KYC_EXPIRED;
        uint8 code;
        (code, c.limitValue) = _offeringCheck(c.cfg, c.rr);
        if (code != TransferRules.SUCCESS) return code;
        if ((mode == M_TRANSFER || mode == M_SETTLE) && c.sr.jurisdiction != c.rr.jurisdiction) {
            _loadLimits(c);
            uint256 threshold = c.lim.crossBorderThreshold;
            if (mode == M_TRANSFER && value >= threshold) return TransferRules.CROSS_BORDER_APPROVAL_REQUIRED;
            if (threshold != type(uint96).max && _caps.crossBorderWindow != 0) {
                // Counted over a window: what the investor already sent across in it counts too, and this
                // transfer (direct, or approved: M_SETTLE) is added to it once made.
                c.cfg.flags |= F_COUNT_CROSS_BORDER;
                if (mode == M_TRANSFER) {
                    c.countAfter = _crossBorderVolume(c.sr.identity);
                    if (c.countAfter + value >= threshold) return TransferRules.CROSS_BORDER_APPROVAL_REQUIRED;
                }
            }
        }
        return _holdingCheck(from, to, value, mode, c);
    }

    /// @dev Per-investor maximum balance and holder caps, counted per investor.
    function _holdingCheck(address from, address to, uint256 value, uint8 mode, Ctx memory c)
        private
        view
        returns (uint8)
    {
        if (mode != M_MINT) {
            (c.sPos, c.sMulti, c.sCountedNonAcc) =
                _position(c.registry, c.sr.identity, c.sr.walletCount, from, c.s);
            c.sameInvestor = c.sr.identity == c.rr.identity;
        }
        (c.rPos, c.rMulti,) = _position(c.registry, c.rr.identity, c.rr.walletCount, to, c.r);
        if (c.sameInvestor) return TransferRules.SUCCESS;
        c.leaves = mode != M_MINT && c.sPos == value && value != 0;
        uint256 rAfter = c.rPos + value;
        if (rAfter > c.cfg.maxInvestorBalance) {
            (c.countAfter, c.limitValue) = (rAfter, c.cfg.maxInvestorBalance);
            return TransferRules.INVESTOR_BALANCE_LIMIT;
        }
        c.joins = c.rPos == 0 && value != 0;
        if (!c.joins) return TransferRules.SUCCESS;
        Counts memory n = _counts;
        _loadLimits(c);
        uint256 out = c.leaves ? 1 : 0;
        c.countAfter = n.holders + 1 - out;
        if (c.lim.maxHolders != 0 && c.countAfter > c.lim.maxHolders) {
            c.limitValue = c.lim.maxHolders;
            return TransferRules.HOLDER_LIMIT;
        }
        Caps memory caps = _caps;
        bool uk = c.rr.jurisdiction == UK;
        uint256 sameSide = c.leaves && c.sr.jurisdiction == c.rr.jurisdiction ? 1 : 0;
        c.countAfter = (uk ? n.ukHolders : n.usHolders) + 1 - sameSide;
        c.limitValue = uk ? caps.maxUkHolders : caps.maxUsHolders;
        if (c.limitValue != 0 && c.countAfter > c.limitValue) return TransferRules.JURISDICTION_HOLDER_LIMIT;
        if (_isNonAccredited(c.registry, to)) {
            c.countAfter = n.usNonAccredited + 1 - (c.leaves && c.sCountedNonAcc ? 1 : 0);
            c.limitValue = caps.maxUsNonAccredited;
            if (c.limitValue != 0 && c.countAfter > c.limitValue) return TransferRules.NON_ACCREDITED_HOLDER_LIMIT;
        }
        return TransferRules.SUCCESS;
    }

    /// @dev Reverts with the custom error of `code`, carrying the values involved. Only runs on failure.
    function _revertFor(uint8 code, address from, address to, uint256 value, Ctx memory c) private view {
        if (code == TransferRules.PAUSED) revert TransferPaused();
        if (code == TransferRules.SENDER_FROZEN) revert SenderFrozen(from);
        if (code == TransferRules.RECEIVER_FROZEN) revert ReceiverFrozen(to);
        if (code == TransferRules.INSUFFICIENT_UNFROZEN_BALANCE) {
            uint256 blocked = c.s.frozen + c.reserved;
            revert ERC7943InsufficientUnfrozenBalance(from, value, c.s.balance > blocked ? c.s.balance - blocked : 0);
        }
        if (code == TransferRules.LOCKUP_ACTIVE) {
            revert LockupActive(from, value, c.s.balance - c.locked - c.reserved, c.nextUnlockAt);
        }
        if (code == TransferRules.SENDER_NOT_REGISTERED) revert SenderNotRegistered(from);
        if (code == TransferRules.RECEIVER_NOT_REGISTERED) revert ReceiverNotRegistered(to);
        if (code == TransferRules.SENDER_SUSPENDED) revert SenderSuspended(from, c.sr.identity);
        if (code == TransferRules.RECEIVER_SUSPENDED) revert ReceiverSuspended(to, c.rr.identity);
        if (code == TransferRules.SENDER_SANCTIONED) revert SenderSanctioned(from, c.sr.identity);
        if (code == TransferRules.RECEIVER_SANCTIONED) revert ReceiverSanctioned(to, c.rr.identity);
        if (code == TransferRules.SENDER_KYC_EXPIRED) revert SenderKycExpired(from, c.sr.kycValidUntil, block.timestamp);
        if (code == TransferRules.RECEIVER_KYC_EXPIRED) {
            revert ReceiverKycExpired(to, c.rr.kycValidUntil, block.timestamp);
        }
        if (code == TransferRules.JURISDICTION_NOT_ADMITTED) revert JurisdictionNotAdmitted(to, c.rr.jurisdiction);
        if (code == TransferRules.CATEGORY_NOT_ADMITTED) {
            revert CategoryNotAdmitted(to, c.rr.jurisdiction, uint8(c.rr.category), uint8(c.limitValue));
        }
        if (code == TransferRules.REG_S_DISTRIBUTION_COMPLIANCE) {
            revert RegSDistributionCompliancePeriod(to, c.limitValue, block.timestamp);
        }
        if (code == TransferRules.CROSS_BORDER_APPROVAL_REQUIRED) {
            revert CrossBorderApprovalRequired(
                c.sr.jurisdiction, c.rr.jurisdiction, value, c.lim.crossBorderThreshold, c.countAfter
            );
        }
        if (code == TransferRules.INVESTOR_BALANCE_LIMIT) {
            revert InvestorBalanceLimitExceeded(c.rr.identity, c.countAfter, c.limitValue);
        }
        if (code == TransferRules.HOLDER_LIMIT) revert HolderLimitReached(c.countAfter, c.limitValue);
        if (code == TransferRules.JURISDICTION_HOLDER_LIMIT) {
            revert JurisdictionHolderLimitReached(c.rr.jurisdiction, c.countAfter, c.limitValue);
        }
        if (code == TransferRules.NON_ACCREDITED_HOLDER_LIMIT) {
            revert NonAccreditedHolderLimitReached(c.countAfter, c.limitValue);
        }
        if (code == TransferRules.ISSUANCE_NOT_APPROVED) revert IssuanceNotApproved();
        revert IssuanceLimitExceeded(c.countAfter, c.limitValue);
    }

    // ================================================================== effects

    function _debit(address from, address to, uint256 value, uint8 mode, Ctx memory c) private {
        Wallet memory s = c.s;
        uint256 balance = s.balance;
        if (mode == M_FORCED || mode == M_BURN) {
            if (s.flags & W_FROZEN_BY_REGULATOR != 0) {
                revert RegulatorFrozenUnits(from, value, 0);
            }
            // Agent-frozen units go first once the free ones are exhausted (as T-REX does).
            uint256 blocked = uint256(s.frozen) + c.reserved;
            uint256 free = balance > blocked ? balance - blocked : 0;
            if (value > free) {
                uint256 unfreeze = value - free;
                s.frozen -= uint96(unfreeze);
                emit TokensUnfrozen(from, unfreeze);
                // ERC-7943: a forced transfer or burn that takes frozen units announces the new
                // frozen amount, before its `Transfer`.
                emit Frozen(from, s.frozen);
            }
        }
        s.balance = uint96(balance - value);
        if (s.lockedUntil != 0) {
            if (block.timestamp >= s.lockedUntil) {
                // Every lot has unlocked: from now on this wallet's transfers skip the offering registry.
                s.lockedUntil = 0;
            } else if (value + c.reserved + c.locked > balance) {
                // Only when free units do not cover the movement does a lot move (and keep its status).
                (uint256 sh, uint256 rh,) = _lotsMove(from, to, value, mode, balance - c.reserved);
                s.lockedUntil = uint40(sh);
                if (rh > c.r.lockedUntil) c.r.lockedUntil = uint40(rh);
            }
        }
        _storeWalletAt(c.sSlot, s);
    }

    /// @dev Runs the offering registry's `moveLots` (the same arguments as `checkLots`).
    function _lotsMove(address from, address to, uint256 value, uint8 mode, uint256 spendable)
        private
        returns (uint256, uint256, uint256)
    {
        address lots = _offeringRegistry;
        bytes4 selector = IOfferingRegistry.moveLots.selector;
        uint256 ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, selector)
            mstore(add(p, 4), from)
            mstore(add(p, 36), to)
            mstore(add(p, 68), value)
            mstore(add(p, 100), mode)
            mstore(add(p, 132), spendable)
            ok := call(gas(), lots, 0, p, 164, 0, 0)
        }
        return _lotsResult(ok);
    }

    /// @dev Runs the offering registry's `checkLots` read-only; returns its three return words.
    function _lotsCheck(address lots, address from, address to, uint256 value, uint8 mode, uint256 spendable)
        private
        view
        returns (uint256, uint256, uint256)
    {
        bytes4 selector = IOfferingRegistry.checkLots.selector;
        uint256 ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, selector)
            mstore(add(p, 4), from)
            mstore(add(p, 36), to)
            mstore(add(p, 68), value)
            mstore(add(p, 100), mode)
            mstore(add(p, 132), spendable)
            ok := staticcall(gas(), lots, p, 164, 0, 0)
        }
        return _lotsResult(ok);
    }

    /// @dev The three return words of the offering registry's last call, or its revert bubbled up.
    function _lotsResult(uint256 ok) private pure returns (uint256 a, uint256 b, uint256 d) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            returndatacopy(p, 0, returndatasize())
            if iszero(ok) { revert(p, returndatasize()) }
            a := mload(p)
            b := mload(add(p, 32))
            d := mload(add(p, 64))
        }
    }

    function _credit(uint256 value, Ctx memory c) private {
        Wallet memory r = c.r;
        r.balance += uint96(value);
        _storeWalletAt(c.rSlot, r);
    }

    function _count(uint8 mode, uint256 value, Ctx memory c, bool rNonAcc) private {
        Counts memory n = _counts;
        if (mode == M_MINT) n.totalSupply += uint96(value);
        if (mode == M_BURN) n.totalSupply -= uint96(value);
        if (c.leaves) {
            n.holders -= 1;
            if (c.sr.jurisdiction == UK) n.ukHolders -= 1;
            else n.usHolders -= 1;
            if (c.sCountedNonAcc) n.usNonAccredited -= 1;
        }
        if (c.joins) {
            n.holders += 1;
            if (c.rr.jurisdiction == UK) n.ukHolders += 1;
            else n.usHolders += 1;
            if (rNonAcc) n.usNonAccredited += 1;
        }
        _counts = n;
    }

    /// @dev What one evaluation of the rulebook learnt; the state-changing hook reuses it. Allocated
    /// by `_newCtx`, which lays it out by hand: KEEP its word counts in step with this
    /// struct and the six it holds (Config 6 words, Limits 3, Wallet 5, WalletRecord 7).
    struct Ctx {
        Config cfg;
        Limits lim;
        Wallet s;
        Wallet r;
        IInvestorRegistry.WalletRecord sr;
        IInvestorRegistry.WalletRecord rr;
        IInvestorRegistry registry;
        uint256 reserved;
        uint256 locked;
        uint256 nextUnlockAt;
        uint256 sPos;
        uint256 rPos;
        bool sMulti;
        bool rMulti;
        bool sCountedNonAcc;
        bool sameInvestor;
        bool limLoaded;
        uint256 sSlot;
        uint256 rSlot;
        bool leaves;
        bool joins;
        uint256 limitValue;
        uint256 countAfter;
    }

    /// @dev A zeroed `Ctx` and the six structs it holds, in one block of memory, called as
    /// `_asCtx(_newCtx)()`. `Ctx memory c;` would allocate and zero each struct field by field (about
    /// 1,300 gas, a sixth of a transfer's own work); this zeroes the block with one copy from past
    /// the end of the calldata. The block: the 23 words of `Ctx` (the first six point at its structs),
    /// then Config (6 words), Limits (3), Wallet `s` (5), Wallet `r` (5), WalletRecord `sr` (7) and
    /// `rr` (7), as the compiler lays memory structs out (a word per field, structs by pointer).
    function _newCtx() private pure returns (uint256 p) {
        assembly ("memory-safe") {
            p := mload(0x40)
            let size := 0x700 // (23 + 6 + 3 + 5 + 5 + 7 + 7) * 32
            calldatacopy(p, calldatasize(), size)
            mstore(0x40, add(p, size))
            let q := add(p, 0x2e0) // after Ctx's 23 words
            mstore(p, q) // cfg
            q := add(q, 0xc0)
            mstore(add(p, 0x20), q) // lim
            q := add(q, 0x60)
            mstore(add(p, 0x40), q) // s
            q := add(q, 0xa0)
            mstore(add(p, 0x60), q) // r
            q := add(q, 0xa0)
            mstore(add(p, 0x80), q) // sr
            mstore(add(p, 0xa0), add(q, 0xe0)) // rr
        }
    }

    /// @dev Types `_newCtx`'s block as a `Ctx` (a function returning `Ctx memory` would allocate and
    /// zero its own return value field by field first).
    function _asCtx(function() internal pure returns (uint256) f)
        private
        pure
        returns (function() internal pure returns (Ctx memory) g)
    {
        assembly ("memory-safe") {
            g := f
        }
    }
    // ================================================================== powers run by the extension

    /// @notice ERC-3643: several forced transfers.
    /// @dev Requirements: as `forcedTransfer` for each; arrays of equal length.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function batchForcedTransfer(address[] calldata, address[] calldata, uint256[] calldata) external {
        _delegate();
    }

    /// @notice ERC-3643: several mints.
    /// @dev Requirements: as `mint` for each; arrays of equal length.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function batchMint(address[] calldata, uint256[] calldata) external {
        _delegate();
    }

    /// @notice ERC-3643: several burns.
    /// @dev Requirements: as `burn` for each; arrays of equal length.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function batchBurn(address[] calldata, uint256[] calldata) external {
        _delegate();
    }

    /// @notice ERC-3643: sets the token name.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function setName(string calldata) external {
        _delegate();
    }

    /// @notice ERC-3643: sets the token symbol.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function setSymbol(string calldata) external {
        _delegate();
    }

    /// @notice ERC-3643: sets the token's ONCHAINID, here an identity of the investor registry.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function setOnchainID(address) external {
        _delegate();
    }

    /// @notice ERC-3643: points the token at an `ERC3643IdentityRegistry` (the token then reads its
    /// investor registry) or directly at an investor registry.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; `identityRegistry_` is not zero.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function setIdentityRegistry(address) external {
        _delegate();
    }

    /// @notice ERC-3643: sets the compliance: an `ERC3643Compliance` bound to this token, or this
    /// token's own address (the rulebook is built in either way).
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; `compliance_` is this token or bound to it.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function setCompliance(address) external {
        _delegate();
    }

    /// @notice ERC-3643: pauses transfers and issuance.
    /// @dev Requirements: caller has AGENT_ROLE or is a regulator of the home jurisdiction.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function pause() external {
        _delegate();
    }

    /// @notice ERC-3643: resumes transfers. A pause imposed by the home regulator can only be lifted
    /// by a home regulator.
    /// @dev Requirements: caller has AGENT_ROLE or is a regulator of the home jurisdiction.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function unpause() external {
        _delegate();
    }

    /// @notice ERC-3643: freezes or unfreezes `userAddress` as a whole, recording who did it.
    /// @dev Requirements: caller has AGENT_ROLE, or is a regulator of the holder's jurisdiction or of
    /// the home jurisdiction; a regulator's freeze can only be changed by a regulator of the same
    /// jurisdiction.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function setAddressFrozen(address, bool) external {
        _delegate();
    }

    /// @notice ERC-3643: freezes `amount` more units of `userAddress`, attributed to the caller.
    /// @dev Requirements: as `setAddressFrozen`; as in T-REX, frozen units after it never exceed the
    /// balance.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function freezePartialTokens(address, uint256) external {
        _delegate();
    }

    /// @notice ERC-3643: unfreezes `amount` units of `userAddress` that the caller's side froze.
    /// @dev Requirements: as `setAddressFrozen`; an agent may lift only agent freezes, a regulator
    /// only its jurisdiction's.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function unfreezePartialTokens(address, uint256) external {
        _delegate();
    }

    /// @notice ERC-7943: sets the frozen amount of `account` to `amount` (which may exceed the
    /// balance), by freezing or unfreezing the difference on the caller's side.
    /// @dev Requirements: as `freezePartialTokens` / `unfreezePartialTokens` but for the balance bound.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function setFrozenTokens(address, uint256) external returns (bool) {
        _delegate();
    }

    /// @notice ERC-3643: several `setAddressFrozen`.
    /// @dev Requirements: as `setAddressFrozen` for each; arrays of equal length.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function batchSetAddressFrozen(address[] calldata, bool[] calldata) external {
        _delegate();
    }

    /// @notice ERC-3643: several `freezePartialTokens`.
    /// @dev Requirements: as `freezePartialTokens` for each; arrays of equal length.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function batchFreezePartialTokens(address[] calldata, uint256[] calldata) external {
        _delegate();
    }

    /// @notice ERC-3643: several `unfreezePartialTokens`.
    /// @dev Requirements: as `unfreezePartialTokens` for each; arrays of equal length.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function batchUnfreezePartialTokens(address[] calldata, uint256[] calldata) external {
        _delegate();
    }

    /// @notice ERC-3643: moves the whole position of `lostWallet` (balance, freezes, lots) to
    /// `newWallet`. `investorOnchainID` is the investor's identity in the registry (standing in for
    /// the ONCHAINID): both wallets must be linked to it.
    /// @dev Requirements: caller has AGENT_ROLE; `newWallet` holds nothing; no escrowed units.
    /// @dev Runs `SecurityTokenExtension` by delegatecall in this token's storage.
    function recoveryAddress(address, address, address) external returns (bool) {
        _delegate();
    }

    /// @notice ERC-7943: whether `account` may send at all: not paused, not frozen, registered,
    /// active and within its KYC validity.
    /// @dev Runs `SecurityTokenExtension` read-only in this token's storage.
    function canSend(address) external view returns (bool allowed) {
        _delegateView();
    }

    /// @notice ERC-7943: whether `account` may receive at all: not frozen, registered, active, within
    /// its KYC validity, of an admitted jurisdiction and category. (Whether a sender's restricted or
    /// Reg S lots may go to it is decided per transfer, by the lots' offerings.)
    /// @dev Runs `SecurityTokenExtension` read-only in this token's storage.
    function canReceive(address) external view returns (bool allowed) {
        _delegateView();
    }

    // ================================================================== corporate actions (module)

    /// @notice Switches record-date balances on, for good; emits `RecordDatesEnabled`.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; the total supply is 0.
    /// @dev Runs `SecurityTokenModule` by delegatecall in this token's storage.
    function enableRecordDates() external {
        _delegateModule();
    }

    /// @notice Schedules a record date (unix time); once passed, `balanceOfAt` and `totalSupplyAt`
    /// answer for it. Emits `RecordDateScheduled`.
    /// @dev Requirements: caller has AGENT_ROLE; record dates enabled; the date is in the future; no
    /// share split in progress.
    /// @dev Runs `SecurityTokenModule` by delegatecall in this token's storage.
    function scheduleRecordDate(uint256) external {
        _delegateModule();
    }

    /// @notice Starts an N-for-1 share split (`ratio` units for each unit); movements stop until
    /// `splitBatch` has split every unit outstanding. Emits `SplitStarted`.
    /// @dev Requirements: caller has AGENT_ROLE; ratio >= 2; no split in progress, no cross-border
    /// transfer pending, no scheduled record date to come; scaled amounts fit their storage.
    /// @dev Runs `SecurityTokenModule` by delegatecall in this token's storage.
    function startSplit(uint256) external {
        _delegateModule();
    }

    /// @notice Splits each listed wallet once (balance, frozen units, lots, investor position);
    /// completes the split when no unit is left unsplit. Emits `WalletSplit` per wallet split.
    /// @dev Requirements: caller has AGENT_ROLE; a split is in progress.
    /// @dev Runs `SecurityTokenModule` by delegatecall in this token's storage.
    function splitBatch(address[] calldata) external {
        _delegateModule();
    }

    /// @notice Whether this token keeps record-date balances.
    /// @dev Runs `SecurityTokenModule` read-only in this token's storage.
    function recordDatesEnabled() external view returns (bool) {
        _delegateView();
    }

    /// @notice A wallet's balance at the end of second `recordDate` (a scheduled, passed record date).
    /// @dev Runs `SecurityTokenModule` read-only in this token's storage.
    function balanceOfAt(address, uint256) external view returns (uint256) {
        _delegateView();
    }

    /// @notice The total supply at the end of second `recordDate` (a scheduled, passed record date).
    /// @dev Runs `SecurityTokenModule` read-only in this token's storage.
    function totalSupplyAt(uint256) external view returns (uint256) {
        _delegateView();
    }

    /// @notice Whether a share split is in progress, its ratio and the pre-split units not yet split.
    /// @dev Runs `SecurityTokenModule` read-only in this token's storage.
    function splitInProgress() external view returns (bool inProgress, uint256 ratio, uint256 unprocessedSupply) {
        _delegateView();
    }

    /// @notice Whether `wallet` needs nothing more from the split in progress.
    /// @dev Runs `SecurityTokenModule` read-only in this token's storage.
    function walletSplitDone(address) external view returns (bool) {
        _delegateView();
    }

    /// @notice Plumbing for the read-only views above: runs `data` in `SecurityTokenModule` with this
    /// token's storage. Called through `staticcall` by the views; a direct call can do no more than
    /// calling the token's own functions (the module checks roles itself; its one unguarded function,
    /// `checkpointBalances`, only records balances that are right).
    function delegateView(bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = _module.delegatecall(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    /// @notice Runs any function this contract does not declare in its extension's code, in this
    /// token's storage: the powers no ERC-3643 / ERC-7943 interface declares (`setTerms`,
    /// `setJurisdictionAdmitted`, `approveIssuance`, the cross-border requests and decisions, the
    /// offering registry's `setOfferingRegistry`; see `SecurityTokenExtension` and
    /// `SecurityTokenCrossBorder` for their NatSpec), and the settlement clearances of `SecurityTokenCrossBorder`
    /// (`requestCrossBorderClearance`, `settleCrossBorderClearance`, `withdrawCrossBorderClearance`,
    /// `crossBorderClearance`), which the extension's own fallback reaches. A fallback rather than
    /// more stubs keeps this contract's function dispatch, and so its transfer gas, unchanged.
    /// @dev Requirements: as the function called (the called code checks roles itself).
    fallback() external {
        _delegate();
    }

    /// @dev Runs the current call's view in the extension (via `delegateView` under `staticcall`).
    function _delegateView() private view {
        (bool ok, bytes memory ret) = address(this).staticcall(abi.encodeCall(this.delegateView, (msg.data)));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        bytes memory raw = abi.decode(ret, (bytes));
        assembly ("memory-safe") {
            return(add(raw, 32), mload(raw))
        }
    }

    /// @dev Agents, and the token itself when the extension runs a batch for an agent.
    function _checkAgent() private view {
        if (_msgSender() != address(this)) _checkRole(AGENT_ROLE);
    }

    /// @dev Runs the current call's function in `_module` with this token's storage.
    function _delegateModule() private {
        _delegateTo(_module);
    }

    /// @dev Runs the current call's function in `_extension` with this token's storage.
    function _delegate() private {
        _delegateTo(_extension);
    }

    /// @dev Runs the current call's function in `extension` with this token's storage and returns
    /// (or reverts) with its result.
    function _delegateTo(address extension) private {
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), extension, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
