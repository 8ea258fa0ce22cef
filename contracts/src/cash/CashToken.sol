// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IInvestorRegistry, REGISTRY_FLAG_ENTITY} from "../interfaces/IInvestorRegistry.sol";
import {ICashToken} from "../interfaces/ICashToken.sol";
import {CashRules} from "./CashRules.sol";

/// @title CashToken
/// @notice A settlement cash token of the sandbox (a fully reserved stablecoin / tokenized deposit in
/// the GENIUS Act mould): only the issuer mints, and never beyond the reserves last attested; holders
/// redeem by burning. Only registered investors of the `InvestorRegistry` (active, KYC current) and
/// settlement contracts registered here may hold it. Holding limits apply per investor *identity*,
/// summed over all its wallets: for the GBP token the Bank of England consultation on systemic
/// sterling stablecoins (10 Nov 2025) proposes 20,000 pounds per individual and 10 million pounds per
/// business, per coin. The holder's type is a fact the registry keeps (natural person or entity), not
/// its client category. The limits do not apply to wholesale settlement in the Digital Securities
/// Sandbox (an entity paid by a transfer a registered settlement contract executes, e.g. the DvP
/// contract's cash leg; a natural person's settlement is retail and stays capped), nor to a holder
/// the currency's home regulator exempts (`setHoldingLimitExemption`: the Bank could exempt businesses
/// that need larger balances). Regulators freeze wallets as on the security token.
/// @dev The DSS exemption follows the caller: `transferFrom` by a registered settlement contract, and
/// `detectTransferRestriction` asked by one, see no business limit.
/// Invariant kept by `_update`: every non-settlement wallet with a balance is linked to an identity,
/// and `identityBalance(id)` is the sum of the balances of `id`'s non-settlement wallets; a wallet's
/// settlement status only changes while it holds nothing, so the sum never goes stale.
/// Amounts have 2 decimals (pence / cents), so 19,999.99 pounds is exactly 1,999,999.
contract CashToken is ICashToken, ERC20, AccessControl, Pausable {
    /// @notice Role of the issuer: mint, burn, freeze, pause.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Role of whoever attests the reserves (the issuer's auditor in a real scheme).
    bytes32 public constant RESERVE_ATTESTOR_ROLE = keccak256("RESERVE_ATTESTOR_ROLE");
    /// @notice A holding limit of this value means "no limit".
    uint256 public constant NO_LIMIT = type(uint256).max;

    /// @dev Marks a freeze imposed by the issuer rather than by a regulator.
    uint16 private constant FROZEN_BY_ISSUER = type(uint16).max;

    IInvestorRegistry private immutable _registry;
    uint16 private immutable _homeJurisdiction;

    uint256 private _reserves;
    uint256 private _individualLimit;
    uint256 private _businessLimit;

    /// @dev What this token keeps per wallet, in one slot (one cold read per party on a transfer).
    struct WalletState {
        /// @dev 0 = not frozen; FROZEN_BY_ISSUER; otherwise the jurisdiction of the regulator who froze it.
        uint16 frozenBy;
        bool settlementContract;
    }

    /// @dev What this token keeps per investor identity, in one slot.
    struct Holding {
        /// @dev The sum of the balances of the identity's non-settlement wallets.
        uint248 balance;
        /// @dev Exempted from the holding limits by a regulator of the currency's home.
        bool exempt;
    }

    mapping(address wallet => WalletState) private _wallets;
    mapping(address identity => Holding) private _holdings;

    /// @param name_ ERC-20 name.
    /// @param symbol_ ERC-20 symbol.
    /// @param registry_ The investor registry that says who may hold the token.
    /// @param homeJurisdiction_ ISO 3166-1 numeric code of the currency's home (826 for GBP, 840 for USD):
    /// its regulators may freeze any wallet and pause the token.
    /// @param individualLimit Per-individual holding limit in token units (NO_LIMIT for none).
    /// @param businessLimit Per-business holding limit in token units (NO_LIMIT for none).
    /// @param admin Receives DEFAULT_ADMIN_ROLE, ISSUER_ROLE and RESERVE_ATTESTOR_ROLE.
    constructor(
        string memory name_,
        string memory symbol_,
        IInvestorRegistry registry_,
        uint16 homeJurisdiction_,
        uint256 individualLimit,
        uint256 businessLimit,
        address admin
    ) ERC20(name_, symbol_) {
        if (address(registry_) == address(0) || admin == address(0)) revert CashZeroAddress();
        _registry = registry_;
        _homeJurisdiction = homeJurisdiction_;
        _individualLimit = individualLimit;
        _businessLimit = businessLimit;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, admin);
        _grantRole(RESERVE_ATTESTOR_ROLE, admin);
        emit HoldingLimitsSet(individualLimit, businessLimit);
    }

    // ------------------------------------------------------------------ views

    /// @notice 2: amounts are in pence or cents.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    /// @notice The investor registry this token reads.
    function identityRegistry() external view returns (address) {
        return address(_registry);
    }

    /// @notice ISO 3166-1 numeric code of the currency's home jurisdiction.
    function homeJurisdiction() external view returns (uint16) {
        return _homeJurisdiction;
    }

    /// @notice The reserves last attested, in token units.
    function reserves() external view returns (uint256) {
        return _reserves;
    }

    /// @notice How much more the issuer may mint now: attested reserves minus supply (0 if short).
    function mintableAmount() external view returns (uint256) {
        uint256 supply = totalSupply();
        return _reserves > supply ? _reserves - supply : 0;
    }

    /// @notice The per-individual and per-business holding limits (NO_LIMIT for none).
    function holdingLimits() external view returns (uint256 individualLimit, uint256 businessLimit) {
        return (_individualLimit, _businessLimit);
    }

    /// @notice The sum of the balances of all non-settlement wallets of investor `identity`.
    function identityBalance(address identity) external view returns (uint256) {
        return _holdings[identity].balance;
    }

    /// @notice Whether a regulator of the currency's home exempted investor `identity` from the limits.
    function isHoldingLimitExempt(address identity) external view returns (bool) {
        return _holdings[identity].exempt;
    }

    /// @notice The holder type of `wallet`'s investor, as the registry keeps it, and the limit that
    /// follows (the individual limit for a natural person, the business limit for an entity); NO_LIMIT
    /// for an unregistered wallet, a settlement contract or an exempted investor.
    function holdingLimitOf(address wallet)
        external
        view
        returns (IInvestorRegistry.HolderType holderType, uint256 limit)
    {
        if (_wallets[wallet].settlementContract) return (IInvestorRegistry.HolderType.Entity, NO_LIMIT);
        IInvestorRegistry.WalletRecord memory record = _registry.walletRecord(wallet);
        bool individual = _isIndividual(record);
        holderType = individual ? IInvestorRegistry.HolderType.NaturalPerson : IInvestorRegistry.HolderType.Entity;
        if (record.identity == address(0) || _holdings[record.identity].exempt) return (holderType, NO_LIMIT);
        limit = individual ? _individualLimit : _businessLimit;
    }

    /// @inheritdoc ICashToken
    function isSettlementContract(address account) external view returns (bool) {
        return _wallets[account].settlementContract;
    }

    /// @notice ERC-3643: whether `wallet` is frozen.
    function isFrozen(address wallet) external view returns (bool) {
        return _wallets[wallet].frozenBy != 0;
    }

    /// @notice Who froze `wallet`: 0 if not frozen, 65535 for the issuer, otherwise the jurisdiction of
    /// the regulator who froze it.
    function frozenBy(address wallet) external view returns (uint16) {
        return _wallets[wallet].frozenBy;
    }

    /// @inheritdoc ICashToken
    /// @dev `from == address(0)` checks a mint; `to == address(0)` checks a holder's redemption. Asked
    /// by a registered settlement contract, the answer is for a transfer it executes (no business limit).
    function detectTransferRestriction(address from, address to, uint256 value) external view returns (uint8) {
        (IInvestorRegistry.WalletRecord memory sender, IInvestorRegistry.WalletRecord memory receiver) =
            _records(from, to);
        return _restriction(from, to, value, sender, receiver);
    }

    /// @inheritdoc ICashToken
    function messageForTransferRestriction(uint8 restrictionCode) external pure returns (string memory) {
        return CashRules.message(restrictionCode);
    }

    // ------------------------------------------------------------------ issuer operations

    /// @notice Records the reserves backing the token (an attestation; may show a shortfall).
    /// @dev Requirements: caller has RESERVE_ATTESTOR_ROLE.
    /// @param newReserves The reserves, in token units (pence / cents).
    /// @param attestationRef A reference to the attestation report (e.g. its hash).
    function attestReserves(uint256 newReserves, bytes32 attestationRef) external onlyRole(RESERVE_ATTESTOR_ROLE) {
        _reserves = newReserves;
        emit ReservesAttested(newReserves, totalSupply(), attestationRef, _msgSender());
    }

    /// @notice Mints `amount` to `to` against the attested reserves; the receiver rules apply.
    /// @dev Requirements: caller has ISSUER_ROLE; supply + amount <= reserves; `to` passes the cash
    /// rules as a receiver (eligible, not frozen, within its holding limit).
    function mint(address to, uint256 amount) external onlyRole(ISSUER_ROLE) {
        uint256 supply = totalSupply();
        if (supply + amount > _reserves) revert CashMintExceedsReserves(amount, _reserves, supply);
        _mint(to, amount);
        emit Issued(to, amount, _reserves, supply + amount);
    }

    /// @notice Redeems `amount` of the caller's tokens: they are burnt and the issuer owes their value in fiat.
    /// @dev Requirements: the caller passes the sender rules (not paused, not frozen, eligible) and
    /// holds `amount`.
    function redeem(uint256 amount) external {
        address holder = _msgSender();
        (IInvestorRegistry.WalletRecord memory sender, IInvestorRegistry.WalletRecord memory none) =
            _records(holder, address(0));
        uint8 code = _restriction(holder, address(0), amount, sender, none);
        if (code != CashRules.SUCCESS) _revertFor(code, holder, address(0), amount, sender, none);
        _burn(holder, amount);
        emit Redeemed(holder, amount, holder);
    }

    /// @notice Burns `amount` from `from` on a redemption processed by the issuer (e.g. a deposit
    /// withdrawn at the bank); an issuer power, not subject to the transfer rules.
    /// @dev Requirements: caller has ISSUER_ROLE; `from` holds `amount`.
    function burn(address from, uint256 amount) external onlyRole(ISSUER_ROLE) {
        _burn(from, amount);
        emit Redeemed(from, amount, _msgSender());
    }

    /// @notice Sets the holding limits in token units (NO_LIMIT for none). Lowering a limit does not
    /// take anything away: a holder above the new limit only cannot receive more.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE.
    function setHoldingLimits(uint256 individualLimit, uint256 businessLimit) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _individualLimit = individualLimit;
        _businessLimit = businessLimit;
        emit HoldingLimitsSet(individualLimit, businessLimit);
    }

    /// @notice Exempts investor `identity` from the holding limits, or withdraws the exemption: the
    /// Bank of England's power (consultation, 10 Nov 2025: businesses that need larger balances), so
    /// only a regulator of the currency's home may use it, not the issuer. Withdrawing it takes
    /// nothing away: a holder above its limit only cannot receive more.
    /// @dev Requirements: caller is a regulator of the home jurisdiction; `identity` is not zero.
    function setHoldingLimitExemption(address identity, bool exempt) external {
        if (identity == address(0)) revert CashZeroAddress();
        uint16 regulator = _registry.regulatorJurisdiction(_msgSender());
        if (regulator == 0) revert CashNotRegulator(_msgSender());
        if (regulator != _homeJurisdiction) {
            revert CashRegulatorOutOfScope(_msgSender(), regulator, _homeJurisdiction);
        }
        _holdings[identity].exempt = exempt;
        emit HoldingLimitExemptionSet(identity, exempt, _msgSender());
    }

    /// @notice Registers or deregisters a settlement contract (e.g. the DvP contract): it may hold and
    /// move the token without being a registered investor, and no holding limit applies to it.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; `account` holds no tokens; when registering,
    /// `account` is a contract.
    function setSettlementContract(address account, bool registered) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert CashZeroAddress();
        if (registered && account.code.length == 0) revert CashNotAContract(account);
        uint256 balance = balanceOf(account);
        if (balance != 0) revert CashSettlementContractHoldsBalance(account, balance);
        _wallets[account].settlementContract = registered;
        emit SettlementContractSet(account, registered);
    }

    /// @notice Pauses transfers (mints and issuer burns still work).
    /// @dev Requirements: caller has ISSUER_ROLE or is a regulator of the home jurisdiction.
    function pause() external {
        _requireIssuerOrRegulatorOf(_homeJurisdiction);
        _pause();
    }

    /// @notice Resumes transfers.
    /// @dev Requirements: caller has ISSUER_ROLE or is a regulator of the home jurisdiction.
    function unpause() external {
        _requireIssuerOrRegulatorOf(_homeJurisdiction);
        _unpause();
    }

    /// @notice ERC-3643: freezes or unfreezes `userAddress` (it can then neither send nor receive).
    /// @dev Requirements: caller has ISSUER_ROLE, or is a regulator of the holder's jurisdiction or of
    /// the currency's home jurisdiction (GBP: UK, USD: US), who may freeze any wallet; a regulator's
    /// freeze can only be lifted by a regulator of the same jurisdiction.
    function setAddressFrozen(address userAddress, bool freeze) external {
        uint16 actor = _freezeActor(userAddress);
        uint16 current = _wallets[userAddress].frozenBy;
        if (!freeze && current != 0 && current != FROZEN_BY_ISSUER && current != actor) {
            revert CashFreezeImposedByRegulator(userAddress, current);
        }
        _wallets[userAddress].frozenBy = freeze ? actor : 0;
        emit AddressFrozen(userAddress, freeze, _msgSender());
    }

    // ------------------------------------------------------------------ the rules

    /// @dev The single hook of every transfer, mint and burn: applies the rules to transfers and mints
    /// (burns are checked by `redeem`, or are issuer powers), then keeps the per-identity sums.
    function _update(address from, address to, uint256 value) internal override {
        (IInvestorRegistry.WalletRecord memory sender, IInvestorRegistry.WalletRecord memory receiver) =
            _records(from, to);
        if (to != address(0)) {
            uint8 code = _restriction(from, to, value, sender, receiver);
            if (code != CashRules.SUCCESS) _revertFor(code, from, to, value, sender, receiver);
        }
        super._update(from, to, value);
        // Moves between two wallets of one investor leave its sum unchanged.
        if (sender.identity != receiver.identity) {
            uint248 amount = SafeCast.toUint248(value);
            if (sender.identity != address(0)) _holdings[sender.identity].balance -= amount;
            if (receiver.identity != address(0)) _holdings[receiver.identity].balance += amount;
        }
    }

    /// @dev Registry records of the parties whose balances count towards an identity: a zero record
    /// for the zero address and for settlement contracts (which are exempt), so one registry call at
    /// most, none when neither side needs it.
    function _records(address from, address to)
        private
        view
        returns (IInvestorRegistry.WalletRecord memory sender, IInvestorRegistry.WalletRecord memory receiver)
    {
        bool needSender = from != address(0) && !_wallets[from].settlementContract;
        bool needReceiver = to != address(0) && !_wallets[to].settlementContract;
        if (needSender && needReceiver) return _registry.walletRecords(from, to);
        if (needSender) sender = _registry.walletRecord(from);
        if (needReceiver) receiver = _registry.walletRecord(to);
    }

    /// @dev Cheapest checks first: paused -> frozen wallets -> eligibility -> holding limit.
    /// `from == 0` is a mint (no sender rules), `to == 0` a redemption (no receiver rules).
    function _restriction(
        address from,
        address to,
        uint256 value,
        IInvestorRegistry.WalletRecord memory sender,
        IInvestorRegistry.WalletRecord memory receiver
    ) private view returns (uint8) {
        bool isMint = from == address(0);
        bool isRedemption = to == address(0);
        if (!isMint && paused()) return CashRules.PAUSED;
        if (!isMint && _wallets[from].frozenBy != 0) return CashRules.SENDER_FROZEN;
        if (!isRedemption && _wallets[to].frozenBy != 0) return CashRules.RECEIVER_FROZEN;
        if (!isMint && !_wallets[from].settlementContract) {
            if (sender.identity == address(0)) return CashRules.SENDER_NOT_ELIGIBLE;
            if (sender.status != IInvestorRegistry.Status.Active) {
                return sender.status == IInvestorRegistry.Status.Sanctioned
                    ? CashRules.SENDER_SANCTIONED
                    : CashRules.SENDER_SUSPENDED;
            }
            if (sender.kycValidUntil < block.timestamp) return CashRules.SENDER_KYC_EXPIRED;
        }
        if (isRedemption || _wallets[to].settlementContract) return CashRules.SUCCESS;
        if (receiver.identity == address(0)) return CashRules.RECEIVER_NOT_ELIGIBLE;
        if (receiver.status != IInvestorRegistry.Status.Active) {
            return receiver.status == IInvestorRegistry.Status.Sanctioned
                ? CashRules.RECEIVER_SANCTIONED
                : CashRules.RECEIVER_SUSPENDED;
        }
        if (receiver.kycValidUntil < block.timestamp) return CashRules.RECEIVER_KYC_EXPIRED;
        if (sender.identity == receiver.identity) return CashRules.SUCCESS; // same investor: holdings unchanged
        Holding memory holding = _holdings[receiver.identity];
        if (holding.exempt) return CashRules.SUCCESS;
        bool individual = _isIndividual(receiver);
        // Wholesale settlement in the DSS: an entity paid by a transfer a registered settlement contract
        // executes (the DvP contract's cash leg). A natural person's settlement is retail, still capped.
        if (!individual && _wallets[_msgSender()].settlementContract) return CashRules.SUCCESS;
        uint256 limit = individual ? _individualLimit : _businessLimit;
        if (limit != NO_LIMIT && holding.balance + value > limit) {
            return individual ? CashRules.INDIVIDUAL_HOLDING_LIMIT : CashRules.BUSINESS_HOLDING_LIMIT;
        }
        return CashRules.SUCCESS;
    }

    /// @dev Reverts with the custom error of `code`, carrying the values involved. Only runs on failure.
    function _revertFor(
        uint8 code,
        address from,
        address to,
        uint256 value,
        IInvestorRegistry.WalletRecord memory sender,
        IInvestorRegistry.WalletRecord memory receiver
    ) private view {
        if (code == CashRules.PAUSED) revert CashTransferPaused();
        if (code == CashRules.SENDER_FROZEN) revert CashSenderFrozen(from, _wallets[from].frozenBy);
        if (code == CashRules.RECEIVER_FROZEN) revert CashReceiverFrozen(to, _wallets[to].frozenBy);
        if (code == CashRules.SENDER_NOT_ELIGIBLE) revert CashSenderNotEligible(from);
        if (code == CashRules.RECEIVER_NOT_ELIGIBLE) revert CashReceiverNotEligible(to);
        if (code == CashRules.SENDER_SUSPENDED) revert CashSenderSuspended(from, sender.identity);
        if (code == CashRules.RECEIVER_SUSPENDED) revert CashReceiverSuspended(to, receiver.identity);
        if (code == CashRules.SENDER_SANCTIONED) revert CashSenderSanctioned(from, sender.identity);
        if (code == CashRules.RECEIVER_SANCTIONED) revert CashReceiverSanctioned(to, receiver.identity);
        if (code == CashRules.SENDER_KYC_EXPIRED) revert CashSenderKycExpired(from, sender.kycValidUntil, block.timestamp);
        if (code == CashRules.RECEIVER_KYC_EXPIRED) {
            revert CashReceiverKycExpired(to, receiver.kycValidUntil, block.timestamp);
        }
        uint256 held = _holdings[receiver.identity].balance;
        if (code == CashRules.INDIVIDUAL_HOLDING_LIMIT) {
            revert CashIndividualHoldingLimitExceeded(receiver.identity, held, value, _individualLimit);
        }
        revert CashBusinessHoldingLimitExceeded(receiver.identity, held, value, _businessLimit);
    }

    /// @dev A natural person, as the registry records it (its holder type, not its client category).
    function _isIndividual(IInvestorRegistry.WalletRecord memory record) private pure returns (bool) {
        return record.flags & REGISTRY_FLAG_ENTITY == 0;
    }

    // ------------------------------------------------------------------ powers

    /// @dev FROZEN_BY_ISSUER for the issuer, else the regulator's jurisdiction once checked in scope
    /// (the holder's jurisdiction or the currency's home).
    function _freezeActor(address wallet) private view returns (uint16) {
        if (hasRole(ISSUER_ROLE, _msgSender())) return FROZEN_BY_ISSUER;
        uint16 regulator = _registry.regulatorJurisdiction(_msgSender());
        if (regulator == 0) revert CashNotIssuerOrRegulator(_msgSender());
        if (regulator != _homeJurisdiction) {
            uint16 holder = _registry.walletRecord(wallet).jurisdiction;
            if (regulator != holder) revert CashRegulatorOutOfScope(_msgSender(), regulator, holder);
        }
        return regulator;
    }

    function _requireIssuerOrRegulatorOf(uint16 jurisdiction) private view {
        if (hasRole(ISSUER_ROLE, _msgSender())) return;
        uint16 regulator = _registry.regulatorJurisdiction(_msgSender());
        if (regulator == 0) revert CashNotIssuerOrRegulator(_msgSender());
        if (regulator != jurisdiction) revert CashRegulatorOutOfScope(_msgSender(), regulator, jurisdiction);
    }
}
