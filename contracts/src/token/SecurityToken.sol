// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {ISecurityToken} from "../interfaces/ISecurityToken.sol";
import {TransferRules} from "./TransferRules.sol";

/// @title SecurityToken
/// @notice A permissioned security: ERC-20 whose every transfer and mint passes the sandbox rulebook
/// (`TransferRules`) in one `_update` hook, with an ERC-1404 view pre-check that applies the very same
/// checks (`detectTransferRestriction`), and ERC-3643-named agent and regulator controls.
/// @dev The pre-check and the hook share `_restriction`, so a transfer reverts exactly when the view
/// reports a non-zero code; the revert then re-reads what it needs to carry the numbers involved.
contract SecurityToken is ISecurityToken, ERC20, AccessControl, Pausable {
    /// @notice Role of the issuer's agents (ERC-3643 agent operations).
    bytes32 public constant AGENT_ROLE = keccak256("AGENT_ROLE");

    /// @dev Marks a freeze imposed by an agent rather than by a regulator.
    uint16 private constant FROZEN_BY_AGENT = type(uint16).max;

    IInvestorRegistry private _registry;
    uint16 private immutable _homeJurisdiction;
    uint8 private immutable _decimals;

    mapping(uint16 jurisdiction => bool) private _admitted;
    /// @dev 0 = not frozen; FROZEN_BY_AGENT; otherwise the jurisdiction of the regulator who froze it.
    mapping(address wallet => uint16 frozenBy) private _frozenBy;

    /// @param name_ ERC-20 name.
    /// @param symbol_ ERC-20 symbol.
    /// @param decimals_ ERC-20 decimals (0 for whole units of a security).
    /// @param registry_ The investor registry this security reads.
    /// @param homeJurisdiction_ ISO 3166-1 numeric code of the security's home jurisdiction.
    /// @param admitted_ Jurisdictions whose investors may hold the security.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and AGENT_ROLE (the issuer).
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        IInvestorRegistry registry_,
        uint16 homeJurisdiction_,
        uint16[] memory admitted_,
        address admin
    ) ERC20(name_, symbol_) {
        _decimals = decimals_;
        _registry = registry_;
        _homeJurisdiction = homeJurisdiction_;
        for (uint256 i = 0; i < admitted_.length; ++i) {
            _admitted[admitted_[i]] = true;
            emit JurisdictionAdmissionSet(admitted_[i], true);
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(AGENT_ROLE, admin);
        emit IdentityRegistryAdded(address(registry_));
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice ERC-3643: the investor registry (the standard's identity registry).
    function identityRegistry() external view returns (address) {
        return address(_registry);
    }

    /// @notice ISO 3166-1 numeric code of the security's home jurisdiction.
    function homeJurisdiction() external view returns (uint16) {
        return _homeJurisdiction;
    }

    /// @notice Whether investors of `jurisdiction` may hold this security.
    function isJurisdictionAdmitted(uint16 jurisdiction) external view returns (bool) {
        return _admitted[jurisdiction];
    }

    /// @notice ERC-3643: whether `wallet` is frozen.
    function isFrozen(address wallet) external view returns (bool) {
        return _frozenBy[wallet] != 0;
    }

    /// @notice Who froze `wallet`: 0 if not frozen, 65535 for the issuer's agent, otherwise the
    /// jurisdiction of the regulator who froze it.
    function frozenBy(address wallet) external view returns (uint16) {
        return _frozenBy[wallet];
    }

    /// @notice ERC-1404: the rule that would refuse `value` from `from` to `to` now, 0 if none.
    /// `from == address(0)` checks a mint.
    function detectTransferRestriction(address from, address to, uint256 value) external view returns (uint8) {
        return _restriction(from, to, value);
    }

    /// @notice ERC-1404: "NAME: sentence" for a restriction code.
    function messageForTransferRestriction(uint8 restrictionCode) external pure returns (string memory) {
        return TransferRules.message(restrictionCode);
    }

    // ------------------------------------------------------------------ agent operations

    /// @notice ERC-3643: mints `amount` to `to`; the receiver rules apply.
    /// @dev Requirements: caller has AGENT_ROLE; `to` passes the rulebook as a receiver.
    function mint(address to, uint256 amount) external onlyRole(AGENT_ROLE) {
        _mint(to, amount);
    }

    /// @notice ERC-3643: burns `amount` from `from`.
    /// @dev Requirements: caller has AGENT_ROLE; `from` holds `amount`.
    function burn(address from, uint256 amount) external onlyRole(AGENT_ROLE) {
        _burn(from, amount);
    }

    /// @notice ERC-3643: pauses transfers.
    /// @dev Requirements: caller has AGENT_ROLE or is a regulator of the home jurisdiction.
    function pause() external {
        _requireAgentOrRegulatorOf(_homeJurisdiction);
        _pause();
    }

    /// @notice ERC-3643: resumes transfers.
    /// @dev Requirements: caller has AGENT_ROLE or is a regulator of the home jurisdiction.
    function unpause() external {
        _requireAgentOrRegulatorOf(_homeJurisdiction);
        _unpause();
    }

    /// @notice Admits or refuses investors of `jurisdiction`.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE.
    function setJurisdictionAdmitted(uint16 jurisdiction, bool admitted) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _admitted[jurisdiction] = admitted;
        emit JurisdictionAdmissionSet(jurisdiction, admitted);
    }

    /// @notice ERC-3643: freezes or unfreezes `userAddress`.
    /// @dev Requirements: caller has AGENT_ROLE, or is a regulator whose jurisdiction is the holder's
    /// or the security's home; a regulator's freeze can only be lifted by a regulator of the same
    /// jurisdiction.
    function setAddressFrozen(address userAddress, bool freeze) external {
        uint16 actor = _freezeActor(userAddress);
        uint16 current = _frozenBy[userAddress];
        if (!freeze && current != 0 && current != FROZEN_BY_AGENT && current != actor) {
            revert FreezeImposedByRegulator(userAddress, current);
        }
        _frozenBy[userAddress] = freeze ? actor : 0;
        emit AddressFrozen(userAddress, freeze, _msgSender());
    }

    // ------------------------------------------------------------------ the rulebook

    /// @dev The single hook every transfer, mint and burn passes (OpenZeppelin ERC20 v5).
    function _update(address from, address to, uint256 value) internal override {
        if (to != address(0)) {
            uint8 code = _restriction(from, to, value);
            if (code != TransferRules.SUCCESS) _revertFor(code, from, to);
        }
        super._update(from, to, value);
    }

    /// @dev Cheapest checks first: paused → frozen wallets → registry eligibility → jurisdiction.
    /// Burns (`to == 0`) are agent powers and are not restricted here.
    function _restriction(address from, address to, uint256) internal view returns (uint8) {
        bool isMint = from == address(0);
        if (!isMint && paused()) return TransferRules.PAUSED;
        if (!isMint && _frozenBy[from] != 0) return TransferRules.SENDER_FROZEN;
        if (_frozenBy[to] != 0) return TransferRules.RECEIVER_FROZEN;
        (IInvestorRegistry.WalletRecord memory sender, IInvestorRegistry.WalletRecord memory receiver) =
            _registry.walletRecords(from, to);
        if (!isMint) {
            if (sender.identity == address(0)) return TransferRules.SENDER_NOT_REGISTERED;
            if (sender.status != IInvestorRegistry.Status.Active) return TransferRules.SENDER_SUSPENDED;
            if (sender.kycValidUntil < block.timestamp) return TransferRules.SENDER_KYC_EXPIRED;
        }
        if (receiver.identity == address(0)) return TransferRules.RECEIVER_NOT_REGISTERED;
        if (receiver.status != IInvestorRegistry.Status.Active) return TransferRules.RECEIVER_SUSPENDED;
        if (receiver.kycValidUntil < block.timestamp) return TransferRules.RECEIVER_KYC_EXPIRED;
        if (!_admitted[receiver.jurisdiction]) return TransferRules.JURISDICTION_NOT_ADMITTED;
        return TransferRules.SUCCESS;
    }

    /// @dev Reverts with the custom error of `code`, carrying the values involved. Only runs on failure.
    function _revertFor(uint8 code, address from, address to) private view {
        if (code == TransferRules.PAUSED) revert TransferPaused();
        if (code == TransferRules.SENDER_FROZEN) revert SenderFrozen(from);
        if (code == TransferRules.RECEIVER_FROZEN) revert ReceiverFrozen(to);
        if (code == TransferRules.SENDER_NOT_REGISTERED) revert SenderNotRegistered(from);
        if (code == TransferRules.RECEIVER_NOT_REGISTERED) revert ReceiverNotRegistered(to);
        (IInvestorRegistry.WalletRecord memory sender, IInvestorRegistry.WalletRecord memory receiver) =
            _registry.walletRecords(from, to);
        if (code == TransferRules.SENDER_SUSPENDED) revert SenderSuspended(from, sender.identity);
        if (code == TransferRules.RECEIVER_SUSPENDED) revert ReceiverSuspended(to, receiver.identity);
        if (code == TransferRules.SENDER_KYC_EXPIRED) revert SenderKycExpired(from, sender.kycValidUntil, block.timestamp);
        if (code == TransferRules.RECEIVER_KYC_EXPIRED) {
            revert ReceiverKycExpired(to, receiver.kycValidUntil, block.timestamp);
        }
        revert JurisdictionNotAdmitted(to, receiver.jurisdiction);
    }

    // ------------------------------------------------------------------ powers

    /// @dev Returns who acts on `wallet`'s freeze: FROZEN_BY_AGENT for an agent, else the regulator's
    /// jurisdiction after checking it is in scope (holder's jurisdiction or the home jurisdiction).
    function _freezeActor(address wallet) private view returns (uint16) {
        if (hasRole(AGENT_ROLE, _msgSender())) return FROZEN_BY_AGENT;
        uint16 regulator = _registry.regulatorJurisdiction(_msgSender());
        if (regulator == 0) revert NotAgentOrRegulator(_msgSender());
        if (regulator != _homeJurisdiction) {
            uint16 holder = _registry.walletRecord(wallet).jurisdiction;
            if (regulator != holder) revert RegulatorOutOfScope(_msgSender(), regulator, holder);
        }
        return regulator;
    }

    function _requireAgentOrRegulatorOf(uint16 jurisdiction) private view {
        if (hasRole(AGENT_ROLE, _msgSender())) return;
        uint16 regulator = _registry.regulatorJurisdiction(_msgSender());
        if (regulator == 0) revert NotAgentOrRegulator(_msgSender());
        if (regulator != jurisdiction) revert RegulatorOutOfScope(_msgSender(), regulator, jurisdiction);
    }
}
