// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {
    IInvestorRegistry,
    REGISTRY_FLAG_ENTITY,
    REGISTRY_FLAG_QIB,
    REGISTRY_FLAG_US_PERSON
} from "../interfaces/IInvestorRegistry.sol";

/// @title InvestorRegistry
/// @notice The sandbox's register of investors and regulators (the identity half of T-REX's
/// registry / compliance / token split, without the ONCHAINID claim stack).
/// @dev Investor data is kept once per investor and copied into each of its wallets' records, so a
/// token reads one slot per party on a transfer. Updates rewrite every wallet of the investor; the
/// number of wallets per investor is bounded by `MAX_WALLETS_PER_INVESTOR`. A wallet, once linked,
/// never changes investor: tokens rely on that to keep per-investor positions.
///
/// Who may change whom (each party's account is one party's only):
/// - an investor is changed (category, KYC expiry, wallets) only by the agent who onboarded it or by
///   the admin; suspension and reinstatement belong to the regulators of its jurisdiction;
/// - a party designated on a sanctions list (an investor's identity: all its wallets; or one wallet)
///   can neither send nor receive: its wallet records carry `Status.Sanctioned` whatever the investor's
///   own status; each regime's list is kept by the regulators of its jurisdiction only (OFSI's by the
///   UK's, OFAC's by the US's);
/// - a regulator's account, an account holding a role of this registry (an onboarding agent, the
///   admin) and an investor's identity or wallet are three disjoint sets: an agent can neither register
///   nor link a regulator's or an agent's account as an investor's, and neither a regulator nor a role
///   can be given to an investor's account.
contract InvestorRegistry is IInvestorRegistry, AccessControl {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice Role of the onboarding agents who register investors and their wallets.
    bytes32 public constant ONBOARDING_AGENT_ROLE = keccak256("ONBOARDING_AGENT_ROLE");

    uint16 public constant JURISDICTION_UK = 826;
    uint16 public constant JURISDICTION_US = 840;
    uint256 public constant MAX_WALLETS_PER_INVESTOR = 16;

    /// @notice `WalletRecord.flags` bit: the investor is an entity (clear: a natural person).
    uint8 public constant FLAG_ENTITY = REGISTRY_FLAG_ENTITY;
    /// @notice `WalletRecord.flags` bit: the investor is a US person under Regulation S.
    uint8 public constant FLAG_US_PERSON = REGISTRY_FLAG_US_PERSON;
    /// @notice `WalletRecord.flags` bit: the investor is a qualified institutional buyer (Rule 144A).
    uint8 public constant FLAG_QIB = REGISTRY_FLAG_QIB;

    mapping(address wallet => WalletRecord) private _wallets;
    mapping(address identity => Investor) private _investors;
    mapping(address identity => address[]) private _investorWallets;
    mapping(address account => uint16 jurisdiction) private _regulators;
    mapping(address identity => address agent) private _onboardingAgents;
    /// @dev Bits of the regimes designating a party (1: OFSI / UK, 2: OFAC / US).
    mapping(address party => uint8 regimes) private _designations;
    mapping(uint16 regime => EnumerableSet.AddressSet) private _designated;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and ONBOARDING_AGENT_ROLE.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ONBOARDING_AGENT_ROLE, admin);
    }

    // ------------------------------------------------------------------ regulators

    /// @notice Registers `regulator` as supervising `jurisdiction` (0 removes it).
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; `jurisdiction` is 0, 826 or 840; when
    /// registering, `regulator` is neither an investor's identity or wallet nor holds a role here.
    function setRegulator(address regulator, uint16 jurisdiction) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (regulator == address(0)) revert RegistryZeroAddress();
        if (jurisdiction != 0) {
            _requireKnownJurisdiction(jurisdiction);
            _requireNotInvestor(regulator);
            if (_holdsRole(regulator)) revert RegistryAccountIsAgent(regulator);
        }
        _regulators[regulator] = jurisdiction;
        emit RegulatorSet(regulator, jurisdiction);
    }

    /// @inheritdoc IInvestorRegistry
    function regulatorJurisdiction(address account) external view returns (uint16) {
        return _regulators[account];
    }

    // ------------------------------------------------------------------ sanctions

    /// @notice Designates `party` (an investor's identity, covering all its wallets, or a single wallet,
    /// registered or not) on the sanctions list of `regime`: while designated on any list it can
    /// neither send nor receive (UK: Sanctions and Anti-Money Laundering Act 2018, OFSI's consolidated
    /// list; US: IEEPA and 31 CFR Chapter V, OFAC's SDN list: the assets are frozen).
    /// @dev Requirements: caller is a regulator of jurisdiction `regime` (826 keeps OFSI's list, 840
    /// OFAC's); `party` is not zero and not yet on that list.
    function designate(uint16 regime, address party) external {
        uint8 bit = _requireSanctionsAuthority(regime, party);
        if (_designations[party] & bit != 0) revert RegistryAlreadyDesignated(regime, party);
        _designations[party] |= bit;
        _designated[regime].add(party);
        _syncParty(party);
        emit SanctionsDesignationAdded(regime, party, _msgSender());
    }

    /// @notice Removes `party` from the sanctions list of `regime` (it stays barred while another list
    /// designates it or its investor).
    /// @dev Requirements: caller is a regulator of jurisdiction `regime`; `party` is on that list.
    function removeDesignation(uint16 regime, address party) external {
        uint8 bit = _requireSanctionsAuthority(regime, party);
        if (_designations[party] & bit == 0) revert RegistryNotDesignated(regime, party);
        _designations[party] &= ~bit;
        _designated[regime].remove(party);
        _syncParty(party);
        emit SanctionsDesignationRemoved(regime, party, _msgSender());
    }

    /// @notice The parties designated on the sanctions list of `regime`, in no particular order.
    function designatedParties(uint16 regime) external view returns (address[] memory) {
        return _designated[regime].values();
    }

    /// @inheritdoc IInvestorRegistry
    function designationsOf(address party) external view returns (uint8) {
        return _designations[party];
    }

    /// @inheritdoc IInvestorRegistry
    function isSanctioned(address wallet) external view returns (bool) {
        return _designations[wallet] != 0 || _designations[_wallets[wallet].identity] != 0;
    }

    // ------------------------------------------------------------------ investors

    /// @inheritdoc IInvestorRegistry
    function onboardingAgentOf(address identity) external view returns (address) {
        return _onboardingAgents[identity];
    }

    /// @notice Registers investor `identity` with its first wallet, its attributes derived from its
    /// jurisdiction and category (see `defaultAttributes`); the caller becomes the investor's
    /// onboarding agent (see `onboardingAgentOf`).
    /// @dev Requirements: caller has ONBOARDING_AGENT_ROLE; `identity` not yet registered; neither
    /// `identity` nor `wallet` is a regulator's account or holds a role here; `wallet` not linked to
    /// any investor; the category belongs to the jurisdiction.
    function registerInvestor(
        address identity,
        address wallet,
        uint16 jurisdiction,
        Category category,
        uint40 kycValidUntil
    ) external onlyRole(ONBOARDING_AGENT_ROLE) {
        Attributes memory attributes = defaultAttributes(jurisdiction, category, kycValidUntil);
        _register(identity, wallet, jurisdiction, category, kycValidUntil, attributes);
    }

    /// @notice Registers investor `identity` with its first wallet and the attributes given; the caller
    /// becomes the investor's onboarding agent.
    /// @dev Requirements: as `registerInvestor`; a QIB is an entity.
    function registerInvestorWithAttributes(
        address identity,
        address wallet,
        uint16 jurisdiction,
        Category category,
        uint40 kycValidUntil,
        Attributes calldata attributes
    ) external onlyRole(ONBOARDING_AGENT_ROLE) {
        _register(identity, wallet, jurisdiction, category, kycValidUntil, attributes);
    }

    /// @notice The attributes `registerInvestor` gives an investor registered without any (what older
    /// scenarios get): a natural person when UK retail or US non-accredited, an entity otherwise; a US
    /// person when of the US; a QIB when in the US QIB category; accredited (US_ACCREDITED, US_QIB)
    /// until its KYC expires.
    function defaultAttributes(uint16 jurisdiction, Category category, uint40 kycValidUntil)
        public
        pure
        returns (Attributes memory)
    {
        bool natural = category == Category.UkRetail || category == Category.UsNonAccredited;
        bool accredited = category == Category.UsAccredited || category == Category.UsQualifiedInstitutionalBuyer;
        return Attributes({
            holderType: natural ? HolderType.NaturalPerson : HolderType.Entity,
            usPerson: jurisdiction == JURISDICTION_US,
            qib: category == Category.UsQualifiedInstitutionalBuyer,
            accreditedUntil: accredited ? kycValidUntil : 0
        });
    }

    function _register(
        address identity,
        address wallet,
        uint16 jurisdiction,
        Category category,
        uint40 kycValidUntil,
        Attributes memory attributes
    ) private {
        if (identity == address(0)) revert RegistryZeroAddress();
        if (_investors[identity].status != Status.None) revert RegistryInvestorAlreadyRegistered(identity);
        // An unregistered identity that is already a wallet is another investor's wallet.
        if (_wallets[identity].identity != address(0)) revert RegistryAccountIsInvestor(identity);
        _requireNotPrincipal(identity);
        _requireCategoryOf(jurisdiction, category);
        Investor storage investor_ = _investors[identity];
        investor_.jurisdiction = jurisdiction;
        investor_.category = category;
        investor_.status = Status.Active;
        investor_.kycValidUntil = kycValidUntil;
        _onboardingAgents[identity] = _msgSender();
        emit InvestorRegistered(identity, jurisdiction, category, kycValidUntil, _msgSender());
        _writeAttributes(identity, investor_, attributes);
        _linkWallet(identity, wallet);
    }

    /// @notice Registers several investors, each with its first wallet, in one transaction.
    /// @dev Requirements: as `registerInvestor` for each entry; all arrays of the same length.
    function batchRegisterInvestors(
        address[] calldata identities,
        address[] calldata wallets,
        uint16[] calldata jurisdictions,
        Category[] calldata categories,
        uint40[] calldata kycValidUntil
    ) external onlyRole(ONBOARDING_AGENT_ROLE) {
        uint256 n = identities.length;
        if (wallets.length != n || jurisdictions.length != n || categories.length != n || kycValidUntil.length != n) {
            revert RegistryBatchLengthMismatch();
        }
        for (uint256 i = 0; i < n; ++i) {
            _register(
                identities[i],
                wallets[i],
                jurisdictions[i],
                categories[i],
                kycValidUntil[i],
                defaultAttributes(jurisdictions[i], categories[i], kycValidUntil[i])
            );
        }
    }

    /// @notice Links another wallet to a registered investor.
    /// @dev Requirements: caller has ONBOARDING_AGENT_ROLE and is the investor's onboarding agent or
    /// has DEFAULT_ADMIN_ROLE; investor registered; wallet unlinked, not a regulator's account and
    /// holding no role here; fewer than MAX_WALLETS_PER_INVESTOR wallets.
    function addWallet(address identity, address wallet) external onlyRole(ONBOARDING_AGENT_ROLE) {
        if (_investors[identity].status == Status.None) revert RegistryInvestorNotRegistered(identity);
        _requireRemit(identity);
        _linkWallet(identity, wallet);
    }

    /// @notice Updates an investor's category and KYC expiry.
    /// @dev Requirements: caller has ONBOARDING_AGENT_ROLE and is the investor's onboarding agent or
    /// has DEFAULT_ADMIN_ROLE; investor registered; category valid for the investor's jurisdiction.
    function updateInvestor(address identity, Category category, uint40 kycValidUntil)
        external
        onlyRole(ONBOARDING_AGENT_ROLE)
    {
        Investor storage investor_ = _requireInvestor(identity);
        _requireRemit(identity);
        _requireCategoryOf(investor_.jurisdiction, category);
        investor_.category = category;
        investor_.kycValidUntil = kycValidUntil;
        _syncWallets(identity, investor_);
        emit InvestorUpdated(identity, category, kycValidUntil, _msgSender());
    }

    /// @notice Sets an investor's attributes (holder type, US person, QIB, accreditation expiry).
    /// @dev Requirements: caller has ONBOARDING_AGENT_ROLE and is the investor's onboarding agent or
    /// has DEFAULT_ADMIN_ROLE; investor registered; a QIB is an entity.
    function setInvestorAttributes(address identity, Attributes calldata attributes)
        external
        onlyRole(ONBOARDING_AGENT_ROLE)
    {
        Investor storage investor_ = _requireInvestor(identity);
        _requireRemit(identity);
        _writeAttributes(identity, investor_, attributes);
        _syncWallets(identity, investor_);
    }

    /// @notice The attributes of investor `identity` (all zero when it is not registered).
    function attributesOf(address identity) external view returns (Attributes memory) {
        Investor storage investor_ = _investors[identity];
        return Attributes(investor_.holderType, investor_.usPerson, investor_.qib, investor_.accreditedUntil);
    }

    /// @inheritdoc IInvestorRegistry
    function isAccreditedAt(address wallet, uint256 at) external view returns (bool) {
        address identity = _wallets[wallet].identity;
        return identity != address(0) && at <= _investors[identity].accreditedUntil;
    }

    /// @notice Suspends an investor: its wallets can neither send nor receive until reinstated.
    /// @dev Requirements: caller is a regulator of the investor's jurisdiction.
    function suspendInvestor(address identity) external {
        _setStatus(identity, Status.Suspended);
    }

    /// @notice Lifts a suspension.
    /// @dev Requirements: caller is a regulator of the investor's jurisdiction.
    function reinstateInvestor(address identity) external {
        _setStatus(identity, Status.Active);
    }

    /// @inheritdoc IInvestorRegistry
    function investor(address identity) external view returns (Investor memory) {
        return _investors[identity];
    }

    /// @inheritdoc IInvestorRegistry
    function walletsOf(address identity) external view returns (address[] memory) {
        return _investorWallets[identity];
    }

    /// @inheritdoc IInvestorRegistry
    function walletRecord(address wallet) external view returns (WalletRecord memory) {
        return _wallets[wallet];
    }

    /// @inheritdoc IInvestorRegistry
    function walletRecords(address a, address b) external view returns (WalletRecord memory, WalletRecord memory) {
        return (_wallets[a], _wallets[b]);
    }

    /// @inheritdoc IInvestorRegistry
    function walletWords(address a, address b) external view returns (uint256 wordA, uint256 wordB) {
        WalletRecord storage ra = _wallets[a];
        WalletRecord storage rb = _wallets[b];
        assembly ("memory-safe") {
            wordA := sload(ra.slot)
            wordB := sload(rb.slot)
        }
    }

    // ------------------------------------------------------------------ internals

    function _setStatus(address identity, Status status) private {
        Investor storage investor_ = _requireInvestor(identity);
        uint16 regulatorJurisdiction_ = _regulators[_msgSender()];
        if (regulatorJurisdiction_ == 0) revert RegistryNotRegulator(_msgSender());
        if (regulatorJurisdiction_ != investor_.jurisdiction) {
            revert RegulatorOutOfScope(_msgSender(), regulatorJurisdiction_, investor_.jurisdiction);
        }
        investor_.status = status;
        _syncWallets(identity, investor_);
        emit InvestorStatusChanged(identity, status, _msgSender());
    }

    /// @dev Roles go only to accounts that are not investors' (OpenZeppelin's grant path, so `grantRole`
    /// and the constructor both pass here).
    function _grantRole(bytes32 role, address account) internal virtual override returns (bool) {
        _requireNotInvestor(account);
        if (_regulators[account] != 0) revert RegistryAccountIsRegulator(account);
        return super._grantRole(role, account);
    }

    function _linkWallet(address identity, address wallet) private {
        if (wallet == address(0)) revert RegistryZeroAddress();
        address linked = _wallets[wallet].identity;
        if (linked != address(0)) revert RegistryWalletAlreadyLinked(wallet, linked);
        // Another investor's identity is that investor's, even when not (or no longer) among its wallets.
        if (wallet != identity && _investors[wallet].status != Status.None) revert RegistryAccountIsInvestor(wallet);
        _requireNotPrincipal(wallet);
        address[] storage wallets = _investorWallets[identity];
        if (wallets.length >= MAX_WALLETS_PER_INVESTOR) revert RegistryTooManyWallets(identity, MAX_WALLETS_PER_INVESTOR);
        wallets.push(wallet);
        _syncWallets(identity, _investors[identity]);
        emit WalletAdded(identity, wallet, _msgSender());
    }

    function _syncWallets(address identity, Investor storage investor_) private {
        address[] storage wallets = _investorWallets[identity];
        uint256 n = wallets.length;
        WalletRecord memory record = WalletRecord(
            identity,
            investor_.jurisdiction,
            investor_.category,
            investor_.status,
            investor_.kycValidUntil,
            uint8(n),
            _flagsOf(investor_)
        );
        bool investorDesignated = _designations[identity] != 0;
        for (uint256 i = 0; i < n; ++i) {
            address wallet = wallets[i];
            // A designation overrides the investor's own status on the wallets it covers.
            record.status = investorDesignated || _designations[wallet] != 0 ? Status.Sanctioned : investor_.status;
            _wallets[wallet] = record;
        }
    }

    /// @dev Re-writes the wallet records a designation of `party` touches (none for a wallet or identity
    /// the registry does not know: the designation applies when it is registered or linked).
    function _syncParty(address party) private {
        address identity = _investors[party].status != Status.None ? party : _wallets[party].identity;
        if (identity != address(0)) _syncWallets(identity, _investors[identity]);
    }

    /// @dev The caller keeps `regime`'s list; returns the regime's bit.
    function _requireSanctionsAuthority(uint16 regime, address party) private view returns (uint8) {
        if (party == address(0)) revert RegistryZeroAddress();
        _requireKnownJurisdiction(regime);
        uint16 regulator = _regulators[_msgSender()];
        if (regulator == 0) revert RegistryNotRegulator(_msgSender());
        if (regulator != regime) revert RegulatorOutOfScope(_msgSender(), regulator, regime);
        return regime == JURISDICTION_UK ? 1 : 2;
    }

    function _writeAttributes(address identity, Investor storage investor_, Attributes memory a) private {
        if (a.qib && a.holderType != HolderType.Entity) revert RegistryQibMustBeEntity(identity);
        investor_.holderType = a.holderType;
        investor_.usPerson = a.usPerson;
        investor_.qib = a.qib;
        investor_.accreditedUntil = a.accreditedUntil;
        emit InvestorAttributesSet(identity, a.holderType, a.usPerson, a.qib, a.accreditedUntil, _msgSender());
    }

    function _flagsOf(Investor storage investor_) private view returns (uint8 flags) {
        if (investor_.holderType == HolderType.Entity) flags |= FLAG_ENTITY;
        if (investor_.usPerson) flags |= FLAG_US_PERSON;
        if (investor_.qib) flags |= FLAG_QIB;
    }

    /// @dev The caller is the investor's onboarding agent or the admin.
    function _requireRemit(address identity) private view {
        address agent = _onboardingAgents[identity];
        if (_msgSender() != agent && !hasRole(DEFAULT_ADMIN_ROLE, _msgSender())) {
            revert RegistryOutsideAgentRemit(_msgSender(), identity, agent);
        }
    }

    /// @dev `account` is neither a regulator's nor holds a role of this registry.
    function _requireNotPrincipal(address account) private view {
        if (_regulators[account] != 0) revert RegistryAccountIsRegulator(account);
        if (_holdsRole(account)) revert RegistryAccountIsAgent(account);
    }

    /// @dev `account` is neither an investor's identity nor one of its wallets.
    function _requireNotInvestor(address account) private view {
        if (_investors[account].status != Status.None || _wallets[account].identity != address(0)) {
            revert RegistryAccountIsInvestor(account);
        }
    }

    function _holdsRole(address account) private view returns (bool) {
        return hasRole(ONBOARDING_AGENT_ROLE, account) || hasRole(DEFAULT_ADMIN_ROLE, account);
    }

    function _requireInvestor(address identity) private view returns (Investor storage investor_) {
        investor_ = _investors[identity];
        if (investor_.status == Status.None) revert RegistryInvestorNotRegistered(identity);
    }

    function _requireKnownJurisdiction(uint16 jurisdiction) private pure {
        if (jurisdiction != JURISDICTION_UK && jurisdiction != JURISDICTION_US) {
            revert RegistryInvalidJurisdiction(jurisdiction);
        }
    }

    function _requireCategoryOf(uint16 jurisdiction, Category category) private pure {
        _requireKnownJurisdiction(jurisdiction);
        bool ok = jurisdiction == JURISDICTION_US
            ? (category >= Category.UsNonAccredited && category <= Category.UsQualifiedInstitutionalBuyer)
            : (category >= Category.UkRetail && category <= Category.UkEligibleCounterparty);
        if (!ok) revert RegistryInvalidCategory(jurisdiction, category);
    }
}
