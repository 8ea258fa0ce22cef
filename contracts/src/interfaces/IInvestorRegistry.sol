// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @dev `IInvestorRegistry.WalletRecord.flags` bits (bits 240-247 of a `walletWords` word).
uint8 constant REGISTRY_FLAG_ENTITY = 1;
uint8 constant REGISTRY_FLAG_US_PERSON = 2;
uint8 constant REGISTRY_FLAG_QIB = 4;

/// @title IInvestorRegistry
/// @notice Wallet → investor → (jurisdiction, category, KYC expiry, status), shared by every security of
/// the sandbox, plus the directory of regulator accounts and the jurisdiction each one supervises.
/// @dev Jurisdictions are ISO 3166-1 numeric codes (826 United Kingdom, 840 United States), as in
/// T-REX's country modules. An investor is identified by an address (its *identity*), which stands in
/// for the ERC-3643 ONCHAINID: one identity may hold several wallets.
interface IInvestorRegistry {
    /// @notice Investor categories: US categories from Reg D / Rule 144A, UK ones from FCA COBS 3.
    enum Category {
        None,
        UsNonAccredited,
        UsAccredited,
        UsQualifiedInstitutionalBuyer,
        UkRetail,
        UkProfessional,
        UkEligibleCounterparty
    }

    /// @notice A wallet record's status: `Sanctioned` overrides the investor's own status while the
    /// investor or the wallet is on a regulator's sanctions list (see `designate`); the investor record
    /// itself is only ever None, Active or Suspended.
    enum Status {
        None,
        Active,
        Suspended,
        Sanctioned
    }

    /// @notice Whether the holder is a natural person or an entity: a fact about the holder, not its
    /// client category (Bank of England holding limits; Rule 144A QIBs are entities).
    enum HolderType {
        NaturalPerson,
        Entity
    }

    /// @notice The investor attributes the rules read, independent of the supervising jurisdiction.
    /// @param holderType Natural person or entity.
    /// @param usPerson A "U.S. person" under Regulation S Rule 902(k) (a US branch of a UK bank is
    /// one; a US citizen resident abroad is one): the status the Reg S rules read, not the jurisdiction.
    /// @param qib A qualified institutional buyer under Rule 144A(a)(1), of any jurisdiction (an entity).
    /// @param accreditedUntil End of the current verification of accredited-investor status (Rule
    /// 501(a); Rule 506(c)(2)(ii) verification); 0 when not accredited. Accredited while
    /// `block.timestamp <= accreditedUntil`.
    struct Attributes {
        HolderType holderType;
        bool usPerson;
        bool qib;
        uint40 accreditedUntil;
    }

    /// @notice An investor as the registry keeps it (one storage slot).
    struct Investor {
        uint16 jurisdiction;
        Category category;
        Status status;
        uint40 kycValidUntil;
        HolderType holderType;
        bool usPerson;
        bool qib;
        uint40 accreditedUntil;
    }

    /// @notice What a token reads about a wallet on every transfer, packed into one storage slot
    /// (160 + 16 + 8 + 8 + 40 + 8 + 8 bits) so that a transfer costs one cold read per party.
    /// `walletCount` is the number of wallets the investor holds (kept in step on every wallet's
    /// record): a token keeps a per-investor aggregate only for investors with more than one.
    /// `flags` carries the time-independent attributes (`FLAG_ENTITY`, `FLAG_US_PERSON`, `FLAG_QIB`,
    /// bits 240-247 of the word); accreditation expires, so it is read from `investor` when needed.
    struct WalletRecord {
        address identity;
        uint16 jurisdiction;
        Category category;
        Status status;
        uint40 kycValidUntil;
        uint8 walletCount;
        uint8 flags;
    }

    event InvestorRegistered(address indexed identity, uint16 indexed jurisdiction, Category category, uint40 kycValidUntil, address indexed agent);
    event InvestorUpdated(address indexed identity, Category category, uint40 kycValidUntil, address indexed agent);
    event InvestorStatusChanged(address indexed identity, Status status, address indexed actor);
    event WalletAdded(address indexed identity, address indexed wallet, address indexed agent);
    event RegulatorSet(address indexed regulator, uint16 indexed jurisdiction);
    /// @notice `regulator` designated `party` (an investor's identity or a wallet) on the sanctions list of
    /// `regime` (826: OFSI's UK consolidated list; 840: OFAC's SDN list).
    event SanctionsDesignationAdded(uint16 indexed regime, address indexed party, address indexed regulator);
    /// @notice `regulator` removed `party` from the sanctions list of `regime`.
    event SanctionsDesignationRemoved(uint16 indexed regime, address indexed party, address indexed regulator);
    /// @notice The attributes of investor `identity` were set (on registration, derived or given, and
    /// on every change) by `agent`.
    event InvestorAttributesSet(
        address indexed identity,
        HolderType holderType,
        bool usPerson,
        bool qib,
        uint40 accreditedUntil,
        address indexed agent
    );

    error RegistryInvestorAlreadyRegistered(address identity);
    error RegistryInvestorNotRegistered(address identity);
    error RegistryWalletAlreadyLinked(address wallet, address identity);
    error RegistryTooManyWallets(address identity, uint256 limit);
    error RegistryInvalidJurisdiction(uint16 jurisdiction);
    error RegistryInvalidCategory(uint16 jurisdiction, Category category);
    error RegistryZeroAddress();
    error RegulatorOutOfScope(address regulator, uint16 regulatorJurisdiction, uint16 targetJurisdiction);
    error RegistryNotRegulator(address account);
    error RegistryBatchLengthMismatch();
    /// @notice An agent changed an investor it did not onboard: only the investor's onboarding agent
    /// (or the registry's admin) may update it or link wallets to it.
    error RegistryOutsideAgentRemit(address agent, address identity, address onboardingAgent);
    /// @notice A regulator's account may not be an investor's identity or wallet, nor an investor's
    /// account a regulator.
    error RegistryAccountIsRegulator(address account);
    /// @notice An account holding a role of the registry (an onboarding agent, the admin) may not be an
    /// investor's identity or wallet, nor an investor's account be given a role.
    error RegistryAccountIsAgent(address account);
    /// @notice The account is already an investor's identity or wallet.
    error RegistryAccountIsInvestor(address account);
    /// @notice `party` is already on the sanctions list of `regime`.
    error RegistryAlreadyDesignated(uint16 regime, address party);
    /// @notice `party` is not on the sanctions list of `regime`.
    error RegistryNotDesignated(uint16 regime, address party);
    /// @notice A QIB must be an entity (Rule 144A(a)(1) lists institutions; a natural person is never one).
    error RegistryQibMustBeEntity(address identity);

    /// @notice The record of `wallet`; `identity == address(0)` when the wallet is not registered.
    function walletRecord(address wallet) external view returns (WalletRecord memory);

    /// @notice The records of two wallets in one call (what a transfer needs).
    function walletRecords(address a, address b) external view returns (WalletRecord memory, WalletRecord memory);

    /// @notice The records of two wallets as their raw storage words (the `WalletRecord` layout,
    /// lowest-order bits first): the cheapest read for a token's transfer hook.
    function walletWords(address a, address b) external view returns (uint256, uint256);

    /// @notice The wallets linked to `identity`, in the order they were linked.
    function walletsOf(address identity) external view returns (address[] memory);

    /// @notice The investor record of `identity` (status None when it is not registered).
    function investor(address identity) external view returns (Investor memory);

    /// @notice Whether the investor holding `wallet`, of any jurisdiction, is an accredited investor
    /// (Rule 501(a)) with a current verification at `at` (false for an unregistered wallet).
    function isAccreditedAt(address wallet, uint256 at) external view returns (bool);

    /// @notice The sanctions regimes that designate `party` itself, as bits (1: OFSI, 2: OFAC).
    function designationsOf(address party) external view returns (uint8);

    /// @notice Whether `wallet` or the investor it belongs to is designated on any sanctions list.
    function isSanctioned(address wallet) external view returns (bool);

    /// @notice The jurisdiction a regulator account supervises; 0 when `account` is not a regulator.
    function regulatorJurisdiction(address account) external view returns (uint16);

    /// @notice The agent who registered investor `identity` (address(0) when it is not registered): with
    /// the registry's admin, the only account that may update the investor or link wallets to it.
    function onboardingAgentOf(address identity) external view returns (address);
}
