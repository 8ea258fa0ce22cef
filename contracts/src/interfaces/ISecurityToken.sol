// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title ISecurityToken
/// @notice Events and custom errors of the sandbox security token. Every rule error names the rule of
/// `TransferRules` it enforces and carries the values involved.
interface ISecurityToken {
    /// @notice ERC-3643 event: `userAddress` frozen or unfrozen by `owner`.
    event AddressFrozen(address indexed userAddress, bool indexed isFrozen, address indexed owner);
    /// @notice ERC-3643 event.
    event IdentityRegistryAdded(address indexed identityRegistry);
    event JurisdictionAdmissionSet(uint16 indexed jurisdiction, bool admitted);

    error TransferPaused();
    error SenderFrozen(address wallet);
    error ReceiverFrozen(address wallet);
    error SenderNotRegistered(address wallet);
    error ReceiverNotRegistered(address wallet);
    error SenderSuspended(address wallet, address investor);
    error ReceiverSuspended(address wallet, address investor);
    error SenderKycExpired(address wallet, uint256 kycValidUntil, uint256 checkedAt);
    error ReceiverKycExpired(address wallet, uint256 kycValidUntil, uint256 checkedAt);
    error JurisdictionNotAdmitted(address wallet, uint16 jurisdiction);

    /// @notice The caller is a regulator, but neither of the holder's jurisdiction nor of the
    /// security's home jurisdiction.
    error RegulatorOutOfScope(address regulator, uint16 regulatorJurisdiction, uint16 targetJurisdiction);
    /// @notice The caller is neither an agent of this token nor a regulator.
    error NotAgentOrRegulator(address account);
    /// @notice A regulator's freeze may only be lifted by a regulator of the same jurisdiction.
    error FreezeImposedByRegulator(address wallet, uint16 regulatorJurisdiction);
}
