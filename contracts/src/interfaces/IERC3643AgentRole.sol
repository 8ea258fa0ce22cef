// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title IERC3643AgentRoleEvents
/// @notice The events and errors of `IERC3643AgentRole`, which the token declares (its functions run
/// in `SecurityTokenExtension`, reached through the token's fallback).
interface IERC3643AgentRoleEvents {
    /// @notice ERC-3643: `agent` was given the agent role.
    event AgentAdded(address indexed _agent);
    /// @notice ERC-3643: `agent` lost the agent role.
    event AgentRemoved(address indexed _agent);
    /// @notice ERC-173: ownership moved from `previousOwner` to `newOwner`.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice `account` already holds the agent role.
    error AgentAlreadyAdded(address account);
    /// @notice `account` does not hold the agent role.
    error NotAnAgent(address account);
    /// @notice The caller is not the owner (OpenZeppelin `Ownable`'s error).
    error OwnableUnauthorizedAccount(address account);
    /// @notice Ownership cannot go to `owner` (the zero address: the security always has an issuer).
    error OwnableInvalidOwner(address owner);
}

/// @title IERC3643AgentRole
/// @notice ERC-3643's agent role (T-REX 4.1.x `AgentRole`: `isAgent`, `addAgent`, `removeAgent`)
/// and ERC-173 ownership (`owner`, `transferOwnership`), with the standards' exact signatures and
/// events. On the sandbox token the agents are the holders of `AGENT_ROLE` and the owner is the
/// issuer's admin (`DEFAULT_ADMIN_ROLE`); regulators are neither and keep their own powers.
interface IERC3643AgentRole is IERC3643AgentRoleEvents {
    function isAgent(address agent) external view returns (bool);
    function addAgent(address agent) external;
    function removeAgent(address agent) external;
    function owner() external view returns (address);
    function transferOwnership(address newOwner) external;
    function renounceOwnership() external;
}
