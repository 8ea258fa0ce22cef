// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";

/// @title ERC3643IdentityRegistry
/// @notice ERC-3643's `IIdentityRegistry` (T-REX 4.1.x) read over the sandbox's `InvestorRegistry`,
/// for tools that call a token's `identityRegistry()` and expect one. A wallet is `contains`-ed when
/// the registry links it to an investor; `identity` is that investor's identity (standing in for its
/// ONCHAINID); `investorCountry` its jurisdiction (ISO 3166-1 numeric); `isVerified` means the
/// investor is active and within its KYC validity (the registry's record stands in for ONCHAINID
/// claims, so there is no claim-topics or trusted-issuers registry: those getters answer zero).
/// Writes go to the investor registry itself (its onboarding agents and admin); the adapter's write
/// functions refuse with `UseInvestorRegistry`. Stateless: one adapter serves any number of tokens.
contract ERC3643IdentityRegistry {
    /// @notice T-REX events, declared so that the ABI is the standard's; this adapter never emits them.
    event ClaimTopicsRegistrySet(address indexed claimTopicsRegistry);
    event CountryUpdated(address indexed investorAddress, uint16 indexed country);
    event IdentityRegistered(address indexed investorAddress, address indexed identity);
    event IdentityRemoved(address indexed investorAddress, address indexed identity);
    event IdentityStorageSet(address indexed identityStorage);
    event IdentityUpdated(address indexed oldIdentity, address indexed newIdentity);
    event TrustedIssuersRegistrySet(address indexed trustedIssuersRegistry);

    /// @notice Writes are made in the investor registry `registry`, not through this adapter.
    error UseInvestorRegistry(address registry);

    /// @notice The investor registry this adapter reads.
    IInvestorRegistry public immutable investorRegistry;

    /// @param registry_ The investor registry to read.
    constructor(IInvestorRegistry registry_) {
        investorRegistry = registry_;
    }

    /// @notice ERC-3643: whether `userAddress` is linked to an investor that is active and within its
    /// KYC validity now (what the token's receiver rules start from).
    function isVerified(address userAddress) external view returns (bool) {
        IInvestorRegistry.WalletRecord memory r = investorRegistry.walletRecord(userAddress);
        return r.identity != address(0) && r.status == IInvestorRegistry.Status.Active
            && r.kycValidUntil >= block.timestamp;
    }

    /// @notice ERC-3643: the identity of the investor `userAddress` belongs to (zero if none).
    function identity(address userAddress) external view returns (address) {
        return investorRegistry.walletRecord(userAddress).identity;
    }

    /// @notice ERC-3643: the jurisdiction (ISO 3166-1 numeric) of the investor `userAddress` belongs
    /// to (zero if none).
    function investorCountry(address userAddress) external view returns (uint16) {
        return investorRegistry.walletRecord(userAddress).jurisdiction;
    }

    /// @notice ERC-3643: whether `userAddress` is linked to an investor, whatever its status.
    function contains(address userAddress) external view returns (bool) {
        return investorRegistry.walletRecord(userAddress).identity != address(0);
    }

    /// @notice ERC-3643: the identity storage; the investor registry holds the records itself.
    function identityStorage() external view returns (address) {
        return address(investorRegistry);
    }

    /// @notice ERC-3643: no trusted-issuers registry (records, not claims): zero.
    function issuersRegistry() external pure returns (address) {
        return address(0);
    }

    /// @notice ERC-3643: no claim-topics registry (records, not claims): zero.
    function topicsRegistry() external pure returns (address) {
        return address(0);
    }

    /// @notice Refused: register investors and wallets in the investor registry.
    function registerIdentity(address, address, uint16) external view {
        revert UseInvestorRegistry(address(investorRegistry));
    }

    /// @notice Refused: unlink wallets in the investor registry.
    function deleteIdentity(address) external view {
        revert UseInvestorRegistry(address(investorRegistry));
    }

    /// @notice Refused: register investors in the investor registry.
    function batchRegisterIdentity(address[] calldata, address[] calldata, uint16[] calldata) external view {
        revert UseInvestorRegistry(address(investorRegistry));
    }

    /// @notice Refused: an investor's jurisdiction is fixed at registration.
    function updateCountry(address, uint16) external view {
        revert UseInvestorRegistry(address(investorRegistry));
    }

    /// @notice Refused: a wallet never changes investor.
    function updateIdentity(address, address) external view {
        revert UseInvestorRegistry(address(investorRegistry));
    }

    /// @notice Refused: there is no separate identity storage.
    function setIdentityRegistryStorage(address) external view {
        revert UseInvestorRegistry(address(investorRegistry));
    }

    /// @notice Refused: there is no claim-topics registry.
    function setClaimTopicsRegistry(address) external view {
        revert UseInvestorRegistry(address(investorRegistry));
    }

    /// @notice Refused: there is no trusted-issuers registry.
    function setTrustedIssuersRegistry(address) external view {
        revert UseInvestorRegistry(address(investorRegistry));
    }
}
