// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IOfferingRegistry} from "../interfaces/IOfferingRegistry.sol";
import {IERC3643} from "../interfaces/IERC3643.sol";
import {IERC7943Fungible} from "../interfaces/IERC7943Fungible.sol";
import {IERC3643AgentRole} from "../interfaces/IERC3643AgentRole.sol";
import {ERC3643Compliance} from "./ERC3643Compliance.sol";
import {SecurityTokenBase} from "./SecurityTokenBase.sol";
import {TransferRulebook} from "../compliance/TransferRulebook.sol";
import {TransferRules} from "./TransferRules.sol";
import {SecurityTokenModule} from "./SecurityTokenModule.sol";
import {SecurityTokenCrossBorder} from "./SecurityTokenCrossBorder.sol";

/// @title SecurityTokenExtension
/// @notice The cold powers of `SecurityToken` (issuer settings, freezes, pause, issuance approval,
/// recovery) and the rulebook's sentences; the cross-border requests and settlement clearances run
/// in `CROSS_BORDER`'s code, which this contract's fallback reaches. A token
/// runs these functions by `delegatecall`, in its own storage; called directly, the extension only
/// touches its own (empty) storage. One extension serves any number of tokens.
/// @dev Kept apart from the token because together they exceed the EIP-170 code-size limit.
contract SecurityTokenExtension is SecurityTokenBase, IERC3643AgentRole {
    /// @notice The ERC-3643 version string of tokens run by this extension.
    string public constant VERSION = "sandbox-erc3643-1.0";

    /// @notice The contract that serves the rulebook's sentences.
    TransferRulebook public immutable RULEBOOK;

    /// @notice The contract whose code serves the token's read-only views and corporate actions
    /// (record dates, splits), run in the token's storage.
    SecurityTokenModule public immutable MODULE;

    /// @notice The contract whose code runs the token's cross-border requests and settlement
    /// clearances (in the token's storage).
    SecurityTokenCrossBorder public immutable CROSS_BORDER;

    /// @param crossBorder_ A deployed `SecurityTokenCrossBorder`. It is deployed apart, not created
    /// here, because the three modules' creation code together exceeds EIP-3860's initcode limit.
    constructor(SecurityTokenCrossBorder crossBorder_) ERC20("", "") {
        RULEBOOK = new TransferRulebook();
        MODULE = new SecurityTokenModule();
        CROSS_BORDER = crossBorder_;
    }

    /// @notice Runs a function this contract lacks (the token's cross-border functions) in
    /// `CROSS_BORDER`'s code, in the storage of whoever runs this code: the token, which reaches
    /// here by `delegatecall`; called directly, it only touches this contract's own (empty) storage.
    fallback() external {
        address crossBorder = address(CROSS_BORDER);
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), crossBorder, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @dev Batches run each item through the token itself (an external call to this address), so the
    /// rulebook hook applies exactly as for a single call; the token accepts such calls from itself.
    /// @notice ERC-3643: several forced transfers.
    /// @dev Requirements: as `forcedTransfer` for each; arrays of equal length.
    function batchForcedTransfer(address[] calldata fromList, address[] calldata toList, uint256[] calldata amounts)
        external
        onlyRole(AGENT_ROLE)
    {
        if (fromList.length != toList.length || toList.length != amounts.length) revert BatchLengthMismatch();
        for (uint256 i = 0; i < fromList.length; ++i) {
            IERC3643(address(this)).forcedTransfer(fromList[i], toList[i], amounts[i]);
        }
    }

    /// @notice ERC-3643: several mints.
    /// @dev Requirements: as `mint` for each; arrays of equal length.
    function batchMint(address[] calldata toList, uint256[] calldata amounts) external onlyRole(AGENT_ROLE) {
        if (toList.length != amounts.length) revert BatchLengthMismatch();
        for (uint256 i = 0; i < toList.length; ++i) {
            IERC3643(address(this)).mint(toList[i], amounts[i]);
        }
    }

    /// @notice ERC-3643: several burns.
    /// @dev Requirements: as `burn` for each; arrays of equal length.
    function batchBurn(address[] calldata userAddresses, uint256[] calldata amounts) external onlyRole(AGENT_ROLE) {
        if (userAddresses.length != amounts.length) revert BatchLengthMismatch();
        for (uint256 i = 0; i < userAddresses.length; ++i) {
            IERC3643(address(this)).burn(userAddresses[i], amounts[i]);
        }
    }


    // ================================================================== issuer (admin) powers

    /// @notice Replaces the security's rule parameters; emits `TermsSet`. Once the home regulator has
    /// approved issuance, the issuer may only tighten them (what the regulator approved bounds them);
    /// a home regulator may change them either way.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE or is a regulator of the home jurisdiction;
    /// for the issuer after approval, every rule at least as strict as now; amounts fit their slots.
    function setTerms(Terms calldata newTerms) external {
        bool regulator = _requireIssuerOrHomeRegulator();
        if (!regulator && _config.flags & F_APPROVED != 0 && !_within(newTerms, _currentTerms())) {
            revert TermsExceedApproval();
        }
        _setTerms(newTerms);
    }

    /// @notice Admits (at the jurisdiction's lowest category, unless a higher minimum is already set)
    /// or refuses investors of `jurisdiction`.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE or is a regulator of the home jurisdiction;
    /// after issuance approval only a home regulator may admit a jurisdiction; `jurisdiction` is 826
    /// or 840.
    function setJurisdictionAdmitted(uint16 jurisdiction, bool admitted) external {
        bool regulator = _requireIssuerOrHomeRegulator();
        uint8 lowest = jurisdiction == US ? 1 : jurisdiction == UK ? 4 : 0;
        if (lowest == 0) revert InvalidTerms();
        uint8 current = _minCategory(_config, jurisdiction);
        if (!regulator && admitted && current == 0 && _config.flags & F_APPROVED != 0) revert TermsExceedApproval();
        uint8 next = admitted ? (current == 0 ? lowest : current) : 0;
        uint8 cats = _config.categories;
        _config.categories = jurisdiction == US ? (cats & 0xf0) | next : (cats & 0x0f) | (next << 4);
        emit JurisdictionAdmissionSet(jurisdiction, next);
    }

    /// @dev True for a home regulator, false for the issuer (DEFAULT_ADMIN_ROLE); reverts otherwise.
    function _requireIssuerOrHomeRegulator() private view returns (bool) {
        if (hasRole(DEFAULT_ADMIN_ROLE, _msgSender())) return false;
        uint16 j = _registry.regulatorJurisdiction(_msgSender());
        if (j == 0) revert AccessControlUnauthorizedAccount(_msgSender(), DEFAULT_ADMIN_ROLE);
        uint16 home = _caps.homeJurisdiction;
        if (j != home) revert RegulatorOutOfScope(_msgSender(), j, home);
        return true;
    }

    /// @notice ERC-3643: sets the token name.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE.
    function setName(string calldata name_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _tokenName = name_;
        emit IERC3643.UpdatedTokenInformation(name_, _tokenSymbol, _caps.decimals, VERSION, _onchainID);
    }

    /// @notice ERC-3643: sets the token symbol.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE.
    function setSymbol(string calldata symbol_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _tokenSymbol = symbol_;
        emit IERC3643.UpdatedTokenInformation(_tokenName, symbol_, _caps.decimals, VERSION, _onchainID);
    }

    /// @notice ERC-3643: sets the token's ONCHAINID, here an identity of the investor registry.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE.
    function setOnchainID(address onchainID_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _onchainID = onchainID_;
        emit IERC3643.UpdatedTokenInformation(_tokenName, _tokenSymbol, _caps.decimals, VERSION, onchainID_);
    }

    /// @notice ERC-3643: points the token at an identity registry: an `ERC3643IdentityRegistry`
    /// (the token reads the investor registry under it, and `identityRegistry()` answers the adapter),
    /// or an investor registry itself (`identityRegistry()` then answers it).
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; `identityRegistry_` is not zero.
    function setIdentityRegistry(address identityRegistry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (identityRegistry_ == address(0)) revert InvalidTerms();
        address registry = identityRegistry_;
        address adapter;
        (bool ok, bytes memory ret) =
            identityRegistry_.staticcall(abi.encodeWithSignature("investorRegistry()"));
        if (ok && ret.length == 32) {
            address under = abi.decode(ret, (address));
            if (under != address(0) && under.code.length != 0) (registry, adapter) = (under, identityRegistry_);
        }
        // Transfers read the token's immutable copy of the registry it was created with until then.
        if (registry != address(_registry)) _config.flags |= F_REGISTRY_MOVED;
        _registry = IInvestorRegistry(registry);
        _identityRegistryAdapter = adapter;
        emit IERC3643.IdentityRegistryAdded(identityRegistry_);
    }

    /// @notice ERC-3643: sets the compliance: an `ERC3643Compliance` bound to this token, or this
    /// token's own address. The rulebook is built into the token either way.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; `compliance_` is this token or a contract
    /// whose `getTokenBound()` is this token.
    function setCompliance(address compliance_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (compliance_ != address(this)) {
            (bool ok, bytes memory ret) =
                compliance_.staticcall(abi.encodeCall(ERC3643Compliance.getTokenBound, ()));
            if (!ok || ret.length != 32 || abi.decode(ret, (address)) != address(this)) {
                revert ComplianceNotBoundToToken(compliance_);
            }
        }
        _complianceAdapter = compliance_ == address(this) ? address(0) : compliance_;
        emit IERC3643.ComplianceAdded(compliance_);
    }

    // ================================================================== ERC-3643 agents, ERC-173 owner

    /// @notice ERC-3643: whether `agent` holds the agent role (AGENT_ROLE).
    function isAgent(address agent) external view returns (bool) {
        return hasRole(AGENT_ROLE, agent);
    }

    /// @notice ERC-3643: gives `agent` the agent role (AGENT_ROLE); emits `AgentAdded` (and
    /// AccessControl's `RoleGranted`). Agents hold the issuer's operational powers, never a
    /// regulator's: they cannot lift a regulator's freeze or pause.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE (the owner holds it); `agent` is not zero and
    /// not an agent yet.
    function addAgent(address agent) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (agent == address(0) || hasRole(AGENT_ROLE, agent)) revert AgentAlreadyAdded(agent);
        _grantRole(AGENT_ROLE, agent);
        emit AgentAdded(agent);
    }

    /// @notice ERC-3643: takes the agent role from `agent`; emits `AgentRemoved` (and `RoleRevoked`).
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; `agent` is an agent.
    function removeAgent(address agent) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!hasRole(AGENT_ROLE, agent)) revert NotAnAgent(agent);
        _revokeRole(AGENT_ROLE, agent);
        emit AgentRemoved(agent);
    }

    /// @notice ERC-173: the owner, the issuer's admin that holds ownership; zero if that account has
    /// since lost DEFAULT_ADMIN_ROLE through AccessControl.
    function owner() public view returns (address) {
        address current = _owner;
        return hasRole(DEFAULT_ADMIN_ROLE, current) ? current : address(0);
    }

    /// @notice ERC-173: hands ownership, and with it DEFAULT_ADMIN_ROLE, to `newOwner`; the previous
    /// owner loses DEFAULT_ADMIN_ROLE (its agent role, if any, stays until `removeAgent`). Regulators'
    /// powers do not depend on ownership.
    /// @dev Requirements: caller is the owner; `newOwner` is not zero (the security always has an
    /// accountable issuer, so ownership cannot be renounced).
    function transferOwnership(address newOwner) external {
        address previous = owner();
        if (_msgSender() != previous) revert OwnableUnauthorizedAccount(_msgSender());
        if (newOwner == address(0)) revert OwnableInvalidOwner(address(0));
        _owner = newOwner;
        _grantRole(DEFAULT_ADMIN_ROLE, newOwner);
        if (newOwner != previous) _revokeRole(DEFAULT_ADMIN_ROLE, previous);
        emit OwnershipTransferred(previous, newOwner);
    }

    /// @notice OpenZeppelin `Ownable` (part of T-REX's `AgentRole`): refused, the security always has
    /// an accountable issuer.
    /// @dev Requirements: none succeed: reverts `OwnableInvalidOwner(0)` for the owner,
    /// `OwnableUnauthorizedAccount` for anyone else.
    function renounceOwnership() external view {
        if (_msgSender() != owner()) revert OwnableUnauthorizedAccount(_msgSender());
        revert OwnableInvalidOwner(address(0));
    }

    // ================================================================== agent and regulator powers

    /// @notice ERC-3643: pauses transfers and issuance.
    /// @dev Requirements: caller has AGENT_ROLE or is a regulator of the home jurisdiction.
    function pause() external {
        bool regulator = _requireAgentOrHomeRegulator();
        _config.flags |= F_PAUSED | (regulator ? F_PAUSED_BY_REGULATOR : 0);
        emit IERC3643.Paused(_msgSender());
    }

    /// @notice ERC-3643: resumes transfers. A pause imposed by the home regulator can only be lifted
    /// by a home regulator.
    /// @dev Requirements: caller has AGENT_ROLE or is a regulator of the home jurisdiction; no share
    /// split in progress.
    function unpause() external {
        bool regulator = _requireAgentOrHomeRegulator();
        uint8 flags = _config.flags;
        if (!regulator && flags & F_PAUSED_BY_REGULATOR != 0) revert PauseImposedByRegulator(_caps.homeJurisdiction);
        if (flags & F_SPLITTING != 0) revert SplitInProgress();
        _config.flags = flags & ~(F_PAUSED | F_PAUSED_BY_REGULATOR);
        emit IERC3643.Unpaused(_msgSender());
    }

    /// @notice ERC-3643: freezes or unfreezes `userAddress` as a whole, recording who did it.
    /// @dev Requirements: caller has AGENT_ROLE, or is a regulator of the holder's jurisdiction or of
    /// the home jurisdiction; a regulator's freeze can only be changed by a regulator of the same
    /// jurisdiction.
    function setAddressFrozen(address userAddress, bool freeze) public {
        uint16 actor = _actorFor(userAddress);
        Wallet storage w = _wallets[userAddress];
        uint8 flags = w.flags;
        uint16 current = _frozenByOf(userAddress, flags);
        if (current != 0 && current != FROZEN_BY_AGENT && current != actor) {
            revert FreezeImposedByRegulator(userAddress, current);
        }
        flags &= ~W_FROZEN;
        if (freeze) flags |= actor == FROZEN_BY_AGENT ? W_FROZEN_BY_AGENT : W_FROZEN_BY_REGULATOR;
        w.flags = flags;
        // The regulator's jurisdiction, kept apart from the wallet's slot (read only when frozen).
        if (freeze && actor != FROZEN_BY_AGENT) _frozenBy[userAddress] = actor;
        else if (current != 0 && current != FROZEN_BY_AGENT) delete _frozenBy[userAddress];
        emit IERC3643.AddressFrozen(userAddress, freeze, _msgSender());
    }

    /// @notice ERC-3643: freezes `amount` more units of `userAddress`, attributed to the caller. Emits
    /// `TokensFrozen` and ERC-7943's `Frozen` with the new frozen amount.
    /// @dev Requirements: as `setAddressFrozen`; as in T-REX, the frozen units after it do not exceed
    /// the balance (only ERC-7943's `setFrozenTokens` freezes beyond it).
    function freezePartialTokens(address userAddress, uint256 amount) public {
        _freezePartial(userAddress, amount, _actorFor(userAddress), true);
        emit IERC3643.TokensFrozen(userAddress, amount);
        emit IERC7943Fungible.Frozen(userAddress, _wallets[userAddress].frozen);
    }

    /// @notice ERC-3643: unfreezes `amount` units of `userAddress` that the caller's side froze.
    /// @dev Requirements: as `setAddressFrozen`; an agent may lift only agent freezes, a regulator
    /// only its jurisdiction's.
    function unfreezePartialTokens(address userAddress, uint256 amount) public {
        _unfreezePartial(userAddress, amount, _actorFor(userAddress));
        emit IERC3643.TokensUnfrozen(userAddress, amount);
        emit IERC7943Fungible.Frozen(userAddress, _wallets[userAddress].frozen);
    }

    /// @notice ERC-7943: sets the frozen amount of `account` to `amount`, by freezing or unfreezing
    /// the difference on the caller's side. As ERC-7943 requires, `amount` may exceed the balance
    /// (units received later stay frozen up to it).
    /// @dev Requirements: as `freezePartialTokens` / `unfreezePartialTokens`, but for the balance
    /// bound; `amount` fits in uint96.
    function setFrozenTokens(address account, uint256 amount) external returns (bool) {
        uint16 actor = _actorFor(account);
        uint256 current = _wallets[account].frozen;
        if (amount > current) {
            _freezePartial(account, amount - current, actor, false);
            emit IERC3643.TokensFrozen(account, amount - current);
        } else if (amount < current) {
            _unfreezePartial(account, current - amount, actor);
            emit IERC3643.TokensUnfrozen(account, current - amount);
        }
        emit IERC7943Fungible.Frozen(account, amount);
        return true;
    }

    /// @notice ERC-3643: several `setAddressFrozen`.
    /// @dev Requirements: as `setAddressFrozen` for each; arrays of equal length.
    function batchSetAddressFrozen(address[] calldata userAddresses, bool[] calldata freeze) external {
        if (userAddresses.length != freeze.length) revert BatchLengthMismatch();
        for (uint256 i = 0; i < userAddresses.length; ++i) {
            setAddressFrozen(userAddresses[i], freeze[i]);
        }
    }

    /// @notice ERC-3643: several `freezePartialTokens`.
    /// @dev Requirements: as `freezePartialTokens` for each; arrays of equal length.
    function batchFreezePartialTokens(address[] calldata userAddresses, uint256[] calldata amounts) external {
        if (userAddresses.length != amounts.length) revert BatchLengthMismatch();
        for (uint256 i = 0; i < userAddresses.length; ++i) {
            freezePartialTokens(userAddresses[i], amounts[i]);
        }
    }

    /// @notice ERC-3643: several `unfreezePartialTokens`.
    /// @dev Requirements: as `unfreezePartialTokens` for each; arrays of equal length.
    function batchUnfreezePartialTokens(address[] calldata userAddresses, uint256[] calldata amounts) external {
        if (userAddresses.length != amounts.length) revert BatchLengthMismatch();
        for (uint256 i = 0; i < userAddresses.length; ++i) {
            unfreezePartialTokens(userAddresses[i], amounts[i]);
        }
    }

    // ================================================================== regulator powers

    /// @notice The DSS "notary" gate: the home regulator approves issuance up to `limit` units
    /// outstanding. Until then nothing can be minted; afterwards never beyond the limit.
    /// @dev Requirements: caller is a regulator of the home jurisdiction; `limit` fits in uint96.
    function approveIssuance(uint256 limit) external {
        uint16 j = _registry.regulatorJurisdiction(_msgSender());
        if (j == 0) revert NotRegulator(_msgSender());
        uint16 home = _caps.homeJurisdiction;
        if (j != home) revert RegulatorOutOfScope(_msgSender(), j, home);
        if (limit > type(uint96).max) revert AmountTooLarge(limit);
        _caps.issuanceLimit = uint96(limit);
        _config.flags |= F_APPROVED;
        emit IssuanceApproved(_msgSender(), j, limit);
    }

    /// @notice ERC-3643: moves the whole position of `lostWallet` (balance, freezes, lots) to
    /// `newWallet`. `investorOnchainID` is the investor's identity in the registry (standing in for
    /// the ONCHAINID): both wallets must be linked to it.
    /// @dev Requirements: caller has AGENT_ROLE; `newWallet` holds nothing; no escrowed units; no share
    /// split in progress. With record dates on, both wallets' balances are checkpointed first.
    function recoveryAddress(address lostWallet, address newWallet, address investorOnchainID)
        external
        onlyRole(AGENT_ROLE)
        returns (bool)
    {
        (IInvestorRegistry.WalletRecord memory a, IInvestorRegistry.WalletRecord memory b) =
            _registry.walletRecords(lostWallet, newWallet);
        Wallet memory w = _wallets[lostWallet];
        WalletExtra memory x = _extra[lostWallet];
        if (
            investorOnchainID == address(0) || a.identity != investorOnchainID || b.identity != investorOnchainID
                || lostWallet == newWallet || w.balance == 0 || _wallets[newWallet].balance != 0
                || _wallets[newWallet].flags & W_FROZEN != 0 || x.reserved != 0
        ) revert RecoveryNotPossible(lostWallet, newWallet, investorOnchainID);
        _beforeRecovery(lostWallet, newWallet);
        if (_offeringRegistry != address(0)) IOfferingRegistry(_offeringRegistry).recoverLots(lostWallet, newWallet);
        _extra[newWallet] = WalletExtra(0, x.regulatorFrozen);
        delete _extra[lostWallet];
        for (uint256 k = 0; k < 2; ++k) {
            uint16 j = k == 0 ? UK : US;
            uint256 f = _regulatorFrozenBy[lostWallet][j];
            if (f != 0) {
                _regulatorFrozenBy[newWallet][j] = f;
                delete _regulatorFrozenBy[lostWallet][j];
            }
        }
        if (w.flags & W_FROZEN_BY_REGULATOR != 0) {
            _frozenBy[newWallet] = _frozenBy[lostWallet];
            delete _frozenBy[lostWallet];
        }
        // Both wallets were just recorded under the latest record date passed (`_beforeRecovery`).
        if (_config.flags & F_RECORD_DATES != 0) w.recordMark = _config.recordCount;
        _wallets[newWallet] = w;
        delete _wallets[lostWallet];
        _recoveryEvents(lostWallet, newWallet, w);
        emit IERC3643.RecoverySuccess(lostWallet, newWallet, investorOnchainID);
        return true;
    }

    /// @dev The events of a recovery, in T-REX's order, so that an indexer replaying them ends with
    /// the chain's state: the lost wallet's freezes lifted, the units moved, the same freezes on the
    /// new wallet (ERC-7943 `Frozen` with each new frozen amount; regulators' shares re-attributed).
    function _recoveryEvents(address lostWallet, address newWallet, Wallet memory w) private {
        if (w.flags & W_FROZEN != 0) emit IERC3643.AddressFrozen(lostWallet, false, _msgSender());
        if (w.frozen != 0) {
            emit IERC3643.TokensUnfrozen(lostWallet, w.frozen);
            emit IERC7943Fungible.Frozen(lostWallet, 0);
        }
        for (uint256 k = 0; k < 2; ++k) {
            uint16 j = k == 0 ? UK : US;
            uint256 f = _regulatorFrozenBy[newWallet][j];
            if (f != 0) emit PartialFreezeByRegulator(lostWallet, j, 0);
        }
        emit Transfer(lostWallet, newWallet, w.balance);
        if (w.frozen != 0) {
            emit IERC3643.TokensFrozen(newWallet, w.frozen);
            emit IERC7943Fungible.Frozen(newWallet, w.frozen);
        }
        for (uint256 k = 0; k < 2; ++k) {
            uint16 j = k == 0 ? UK : US;
            uint256 f = _regulatorFrozenBy[newWallet][j];
            if (f != 0) emit PartialFreezeByRegulator(newWallet, j, f);
        }
        if (w.flags & W_FROZEN != 0) emit IERC3643.AddressFrozen(newWallet, true, _msgSender());
    }

    /// @dev No recovery during a split (it would carry a wallet's split state); with record dates on,
    /// both wallets' balances are checkpointed before they change.
    function _beforeRecovery(address lostWallet, address newWallet) private {
        uint8 flags = _config.flags;
        if (flags & F_SPLITTING != 0) revert SplitInProgress();
        if (flags & F_RECORD_DATES != 0) {
            address module = address(MODULE);
            bytes4 selector = SecurityTokenModule.checkpointBalances.selector;
            assembly ("memory-safe") {
                let ptr := mload(0x40)
                mstore(ptr, selector)
                mstore(add(ptr, 4), lostWallet)
                mstore(add(ptr, 36), newWallet)
                if iszero(delegatecall(gas(), module, ptr, 68, 0, 0)) {
                    returndatacopy(0, 0, returndatasize())
                    revert(0, returndatasize())
                }
            }
        }
    }
}
