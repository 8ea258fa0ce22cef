// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title ICashToken
/// @notice Events and custom errors of the sandbox's cash (settlement) tokens: fully reserved,
/// issuer-minted GBP and USD tokens held only by registered investors and registered settlement
/// contracts, with per-investor holding limits. Every rule error names the rule of `CashRules` it
/// enforces and carries the values involved.
interface ICashToken {
    /// @notice The reserves backing the token, as attested by `attestor` (in token units).
    event ReservesAttested(uint256 reserves, uint256 supply, bytes32 indexed attestationRef, address indexed attestor);
    /// @notice `amount` minted to `to` by the issuer, against attested reserves.
    event Issued(address indexed to, uint256 amount, uint256 reserves, uint256 supply);
    /// @notice `amount` burnt from `holder` on redemption (the issuer owes it in fiat).
    event Redeemed(address indexed holder, uint256 amount, address indexed operator);
    /// @notice Holding limits changed (type(uint256).max means no limit).
    event HoldingLimitsSet(uint256 individualLimit, uint256 businessLimit);
    /// @notice A regulator of the currency's home exempted investor `identity` from the holding limits
    /// (`exempt`), or withdrew the exemption (Bank of England: businesses that need larger balances).
    event HoldingLimitExemptionSet(address indexed identity, bool exempt, address indexed regulator);
    /// @notice `account` added to or removed from the settlement contracts (exempt from registry and limits).
    event SettlementContractSet(address indexed account, bool registered);
    /// @notice ERC-3643 event: `userAddress` frozen or unfrozen by `owner`.
    event AddressFrozen(address indexed userAddress, bool indexed isFrozen, address indexed owner);

    error CashTransferPaused();
    error CashSenderFrozen(address wallet, uint16 frozenBy);
    error CashReceiverFrozen(address wallet, uint16 frozenBy);
    error CashSenderNotEligible(address wallet);
    error CashReceiverNotEligible(address wallet);
    error CashSenderSuspended(address wallet, address investor);
    error CashReceiverSuspended(address wallet, address investor);
    /// @notice The sender (its wallet or its investor) is designated on a sanctions list.
    error CashSenderSanctioned(address wallet, address investor);
    /// @notice The receiver (its wallet or its investor) is designated on a sanctions list.
    error CashReceiverSanctioned(address wallet, address investor);
    error CashSenderKycExpired(address wallet, uint256 kycValidUntil, uint256 checkedAt);
    error CashReceiverKycExpired(address wallet, uint256 kycValidUntil, uint256 checkedAt);
    /// @notice The receiving individual would hold more than the individual limit across its wallets.
    error CashIndividualHoldingLimitExceeded(address investor, uint256 held, uint256 value, uint256 limit);
    /// @notice The receiving business would hold more than the business limit across its wallets.
    error CashBusinessHoldingLimitExceeded(address investor, uint256 held, uint256 value, uint256 limit);
    /// @notice A mint would take the supply above the attested reserves.
    error CashMintExceedsReserves(uint256 amount, uint256 reserves, uint256 supply);
    /// @notice Settlement-contract status changes only while the account holds nothing.
    error CashSettlementContractHoldsBalance(address account, uint256 balance);
    /// @notice Only contracts can be registered as settlement contracts.
    error CashNotAContract(address account);
    error CashZeroAddress();
    /// @notice The caller is neither the issuer nor a regulator.
    error CashNotIssuerOrRegulator(address account);
    /// @notice The caller is not a regulator (only the currency's home regulators grant exemptions).
    error CashNotRegulator(address account);
    /// @notice The regulator supervises neither the holder's jurisdiction nor the currency's home.
    error CashRegulatorOutOfScope(address regulator, uint16 regulatorJurisdiction, uint16 targetJurisdiction);
    /// @notice A regulator's freeze may only be lifted by a regulator of the same jurisdiction.
    error CashFreezeImposedByRegulator(address wallet, uint16 regulatorJurisdiction);

    /// @notice ERC-1404: the rule that would refuse `value` from `from` to `to` now, 0 if none.
    function detectTransferRestriction(address from, address to, uint256 value) external view returns (uint8);

    /// @notice ERC-1404: "NAME: sentence" for a restriction code.
    function messageForTransferRestriction(uint8 restrictionCode) external view returns (string memory);

    /// @notice Whether `account` is a registered settlement contract.
    function isSettlementContract(address account) external view returns (bool);
}
