// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IDvPSettlement} from "../interfaces/IDvPSettlement.sol";
import {IERC1404} from "../interfaces/IERC1404.sol";
import {ICrossBorderClearance} from "../interfaces/ICrossBorderClearance.sol";
import {ISecurityToken} from "../interfaces/ISecurityToken.sol";
import {TransferRules} from "../token/TransferRules.sol";
import {SettlementCodes} from "./SettlementCodes.sol";

/// @title DvPSettlement
/// @notice Delivery versus payment (the settlement activity of the Digital Securities Sandbox): a
/// seller and a buyer agree a trade (security, quantity, cash token, cash amount, deadline); one
/// proposes, the other affirms; then anyone may settle it. Settlement moves both legs in one
/// transaction with `transferFrom` (the parties approve this contract on both tokens), so every rule
/// of both tokens applies exactly as to a direct transfer: the contract has no power to route around
/// them. If either leg fails nothing moves, the trade stays affirmed (it may be retried until its
/// deadline) and the reason is recorded: the failing token's ERC-1404 code, or a DvP code for what
/// no pre-check reports (allowance, balance, non-delivery).
///
/// Cross-border trades go through the security token's cross-border approval, not around it: once
/// a trade is affirmed (both parties agreed), either party may `requestClearance`, which asks the
/// token to open a clearance for (seller, buyer, quantity) marked as this contract's, for this
/// trade. The seller's units are escrowed in its wallet; the regulators of both jurisdictions
/// decide it like any cross-border request; when both approve it is Cleared, and `settle` moves the
/// units (every other rule re-checked) together with the cash, atomically, consuming the clearance.
/// Until then `settle` records DVP_AWAITING_CLEARANCE; a rejected or lapsed clearance fails the
/// trade for good (status Failed, the token's CROSS_BORDER_APPROVAL_REQUIRED recorded, nothing
/// moved, the escrow released); cancelling or expiring the trade withdraws its clearance.
/// @dev The two legs run in an external self-call (`executeLegs`) wrapped in try/catch: a revert in
/// either leg undoes both, and the caller's transaction goes on to record the failure. Each leg's
/// delivery is verified by the receiver's balance, so a token that reports success without moving
/// the units (e.g. one that parks a transfer for approval) fails the trade instead of being paid.
/// Uses OpenZeppelin's transient-storage reentrancy guard (EIP-1153; the chain runs Prague), the
/// replacement OpenZeppelin 5.x recommends for the storage-based `ReentrancyGuard`.
contract DvPSettlement is IDvPSettlement, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice The most trades one `settleBatch` call takes.
    uint256 public constant MAX_BATCH = 200;

    uint256 private _tradeCount;
    mapping(uint256 tradeId => Trade) private _trades;
    mapping(uint256 tradeId => uint256 clearanceId) private _clearances;

    // ------------------------------------------------------------------ views

    /// @notice The trade `tradeId` (status None if it does not exist).
    function trade(uint256 tradeId) external view returns (Trade memory) {
        return _trades[tradeId];
    }

    /// @notice The security token's cross-border clearance of trade `tradeId` (0 if none).
    function clearanceOf(uint256 tradeId) external view returns (uint256) {
        return _clearances[tradeId];
    }

    /// @notice How many trades were ever proposed (ids run from 1 to this number).
    function tradeCount() external view returns (uint256) {
        return _tradeCount;
    }

    /// @notice "NAME: sentence" for a DvP failure code (0xA0-0xAF); token codes are explained by the
    /// failing token's `messageForTransferRestriction`.
    function messageForSettlementCode(uint8 code) external pure returns (string memory) {
        return SettlementCodes.message(code);
    }

    // ------------------------------------------------------------------ agreeing a trade

    /// @notice Proposes a trade: `seller` delivers `quantity` of `security` to `buyer` against
    /// `cashAmount` (the whole consideration) of `cash`, by `deadline` (inclusive).
    /// @dev Requirements: caller is `seller` or `buyer`; distinct non-zero parties and tokens;
    /// non-zero amounts; `deadline` not passed.
    /// @return tradeId The new trade's id.
    function propose(
        address seller,
        address buyer,
        address security,
        uint256 quantity,
        address cash,
        uint256 cashAmount,
        uint40 deadline
    ) external nonReentrant returns (uint256 tradeId) {
        if (seller == address(0) || buyer == address(0) || security == address(0) || cash == address(0)) {
            revert DvPZeroAddress();
        }
        if (seller == buyer) revert DvPSameParty(seller);
        if (security == cash) revert DvPSameToken(security);
        if (quantity == 0 || cashAmount == 0) revert DvPZeroAmount(quantity, cashAmount);
        if (deadline < block.timestamp) revert DvPDeadlinePassed(deadline, block.timestamp);
        address proposer = msg.sender;
        if (proposer != seller && proposer != buyer) revert DvPNotAParty(_tradeCount + 1, proposer);
        tradeId = ++_tradeCount;
        _trades[tradeId] = Trade({
            seller: seller,
            deadline: deadline,
            status: TradeStatus.Proposed,
            failedLeg: Leg.None,
            failureCode: 0,
            proposedBySeller: proposer == seller,
            buyer: buyer,
            security: security,
            cash: cash,
            quantity: quantity,
            hasClearance: false,
            cashAmount: cashAmount
        });
        emit TradeProposed(tradeId, seller, buyer, security, quantity, cash, cashAmount, deadline, proposer);
    }

    /// @notice Affirms a proposed trade, which makes it settleable by anyone until its deadline.
    /// @dev Requirements: the trade is Proposed; caller is the party that did not propose it; the
    /// deadline has not passed.
    function affirm(uint256 tradeId) external nonReentrant {
        Trade storage t = _existing(tradeId);
        if (t.status != TradeStatus.Proposed) revert DvPInvalidStatus(tradeId, t.status);
        address counterparty = t.proposedBySeller ? t.buyer : t.seller;
        if (msg.sender != counterparty) revert DvPNotCounterparty(tradeId, msg.sender);
        if (block.timestamp > t.deadline) revert DvPTradeExpired(tradeId, t.deadline, block.timestamp);
        t.status = TradeStatus.Affirmed;
        emit TradeAffirmed(tradeId, msg.sender);
    }

    /// @notice Cancels a trade that has not settled; its open clearance, if any, is withdrawn (the
    /// seller's escrowed units are released).
    /// @dev Requirements: caller is the seller or the buyer; the trade is Proposed or Affirmed.
    function cancel(uint256 tradeId) external nonReentrant {
        Trade storage t = _existing(tradeId);
        if (msg.sender != t.seller && msg.sender != t.buyer) revert DvPNotAParty(tradeId, msg.sender);
        if (t.status != TradeStatus.Proposed && t.status != TradeStatus.Affirmed) {
            revert DvPInvalidStatus(tradeId, t.status);
        }
        t.status = TradeStatus.Cancelled;
        emit TradeCancelled(tradeId, msg.sender);
        _withdrawClearance(tradeId, t);
    }

    /// @notice Marks a trade whose deadline has passed as Expired (anyone may call); its open
    /// clearance, if any, is withdrawn (the seller's escrowed units are released).
    /// @dev Requirements: the trade is Proposed or Affirmed; its deadline has passed.
    function expire(uint256 tradeId) external nonReentrant {
        Trade storage t = _existing(tradeId);
        if (t.status != TradeStatus.Proposed && t.status != TradeStatus.Affirmed) {
            revert DvPInvalidStatus(tradeId, t.status);
        }
        if (block.timestamp <= t.deadline) revert DvPNotExpired(tradeId, t.deadline, block.timestamp);
        _expire(tradeId, t);
    }

    // ------------------------------------------------------------------ cross-border clearance

    /// @notice Asks the security token to clear an affirmed cross-border trade with both regulators:
    /// the token opens a cross-border request for (seller, buyer, quantity) marked as requested by
    /// this contract for this trade, and escrows the seller's units. Both parties agreed to the trade
    /// (one proposed, the other affirmed) and the seller approved this contract for the units, so no
    /// units are escrowed without the seller's consent.
    /// @dev Requirements: caller is the seller or the buyer; the trade is Affirmed, within its
    /// deadline and has no clearance yet; the security token refuses the transfer as it is (with
    /// CROSS_BORDER_APPROVAL_REQUIRED, or with another rule whose error the token's request then
    /// raises); the token accepts the request (every other rule allows the transfer now, the
    /// seller's allowance covers the quantity, the parties are in different jurisdictions).
    /// @return clearanceId The token's cross-border request id.
    function requestClearance(uint256 tradeId) external nonReentrant returns (uint256 clearanceId) {
        Trade storage t = _existing(tradeId);
        if (msg.sender != t.seller && msg.sender != t.buyer) revert DvPNotAParty(tradeId, msg.sender);
        if (t.status != TradeStatus.Affirmed) revert DvPInvalidStatus(tradeId, t.status);
        if (block.timestamp > t.deadline) revert DvPTradeExpired(tradeId, t.deadline, block.timestamp);
        if (t.hasClearance) revert DvPClearanceAlreadyRequested(tradeId, _clearances[tradeId]);
        (address security, address seller, address buyer, uint256 quantity) =
            (t.security, t.seller, t.buyer, t.quantity);
        if (IERC1404(security).detectTransferRestriction(seller, buyer, quantity) == TransferRules.SUCCESS) {
            revert DvPClearanceNotRequired(tradeId);
        }
        clearanceId =
            ICrossBorderClearance(security).requestCrossBorderClearance(seller, buyer, quantity, uint96(tradeId));
        t.hasClearance = true;
        _clearances[tradeId] = clearanceId;
        emit ClearanceRequested(tradeId, clearanceId, msg.sender);
    }

    // ------------------------------------------------------------------ settlement

    /// @notice Settles an affirmed trade: both legs move, or neither does and the reason is recorded
    /// on the trade and in a `SettlementFailed` event (the transaction itself succeeds). Past its
    /// deadline the trade is marked Expired instead. A trade with a clearance settles only once both
    /// regulators approved it (DVP_AWAITING_CLEARANCE until then, the trade still Affirmed); a
    /// rejected or lapsed clearance fails the trade (Failed, CROSS_BORDER_APPROVAL_REQUIRED). Anyone
    /// may call.
    /// @dev Requirements: the trade is Affirmed.
    /// @return settled Whether both legs moved.
    /// @return code 0 when settled, else the failing token's ERC-1404 code or a DvP code.
    function settle(uint256 tradeId) external nonReentrant returns (bool settled, uint8 code) {
        Trade storage t = _existing(tradeId);
        if (t.status != TradeStatus.Affirmed) revert DvPInvalidStatus(tradeId, t.status);
        code = _settle(tradeId, t);
        settled = code == SettlementCodes.SUCCESS;
    }

    /// @notice Settles many trades in one transaction, each atomic on its own: a failing trade moves
    /// nothing of its own and does not stop the others. Trades that are not Affirmed are reported
    /// with DVP_NOT_AFFIRMED and left as they are; expired ones are marked Expired.
    /// @dev Requirements: at most MAX_BATCH trade ids.
    /// @return codes One code per trade, in order: 0 when settled, else the reason.
    function settleBatch(uint256[] calldata tradeIds) external nonReentrant returns (uint8[] memory codes) {
        if (tradeIds.length > MAX_BATCH) revert DvPBatchTooLarge(tradeIds.length, MAX_BATCH);
        codes = new uint8[](tradeIds.length);
        uint256 settledCount;
        for (uint256 i = 0; i < tradeIds.length; ++i) {
            uint256 tradeId = tradeIds[i];
            Trade storage t = _trades[tradeId];
            uint8 code;
            if (t.status != TradeStatus.Affirmed) {
                code = SettlementCodes.NOT_AFFIRMED;
                emit SettlementFailed(tradeId, Leg.None, address(0), code);
            } else {
                code = _settle(tradeId, t);
            }
            codes[i] = code;
            if (code == SettlementCodes.SUCCESS) ++settledCount;
        }
        emit BatchProcessed(tradeIds.length, settledCount);
    }

    /// @notice Moves both legs of trade `tradeId`; only this contract may call it, from `settle`,
    /// so that a failure of either leg reverts both.
    /// The security leg of a cleared trade settles its clearance on the token instead of
    /// `transferFrom`.
    /// @dev Requirements: caller is this contract. Reverts with `DvPLegFailed(leg, code)`, where code
    /// 0 means "ask the token" (the leg's transferFrom failed) and NOT_DELIVERED means the receiver's
    /// balance did not grow by the amount.
    function executeLegs(uint256 tradeId) external {
        if (msg.sender != address(this)) revert DvPOnlySelf(msg.sender);
        Trade storage t = _trades[tradeId];
        (address seller, address buyer) = (t.seller, t.buyer);
        if (t.hasClearance) _settleClearance(t.security, _clearances[tradeId], buyer, t.quantity);
        else _moveLeg(IERC20(t.security), seller, buyer, t.quantity, Leg.Security);
        _moveLeg(IERC20(t.cash), buyer, seller, t.cashAmount, Leg.Cash);
    }

    // ------------------------------------------------------------------ internals

    function _existing(uint256 tradeId) private view returns (Trade storage t) {
        t = _trades[tradeId];
        if (t.status == TradeStatus.None) revert DvPUnknownTrade(tradeId);
    }

    /// @dev Settles an Affirmed trade or records why not; returns the code (0 when settled).
    function _settle(uint256 tradeId, Trade storage t) private returns (uint8) {
        if (block.timestamp > t.deadline) {
            _expire(tradeId, t);
            emit SettlementFailed(tradeId, Leg.None, address(0), SettlementCodes.EXPIRED);
            return SettlementCodes.EXPIRED;
        }
        if (t.hasClearance) {
            uint8 held = _clearanceHold(_clearances[tradeId], t);
            if (held != SettlementCodes.SUCCESS) {
                if (held == TransferRules.CROSS_BORDER_APPROVAL_REQUIRED) {
                    t.status = TradeStatus.Failed;
                    emit TradeFailed(tradeId, held);
                }
                t.failedLeg = Leg.Security;
                t.failureCode = held;
                emit SettlementFailed(tradeId, Leg.Security, t.security, held);
                return held;
            }
        }
        try this.executeLegs(tradeId) {
            t.status = TradeStatus.Settled;
            t.failedLeg = Leg.None;
            t.failureCode = 0;
            emit TradeSettled(tradeId, t.seller, t.buyer, t.security, t.quantity, t.cash, t.cashAmount);
            return SettlementCodes.SUCCESS;
        } catch (bytes memory reason) {
            (Leg leg, uint8 code) = _diagnose(t, reason);
            t.failedLeg = leg;
            t.failureCode = code;
            address token = leg == Leg.Security ? t.security : leg == Leg.Cash ? t.cash : address(0);
            emit SettlementFailed(tradeId, leg, token, code);
            return code;
        }
    }

    /// @dev Marks the trade Expired and withdraws its open clearance.
    function _expire(uint256 tradeId, Trade storage t) private {
        t.status = TradeStatus.Expired;
        emit TradeExpired(tradeId, t.deadline);
        _withdrawClearance(tradeId, t);
    }

    /// @dev Whether trade `t`'s clearance `clearanceId` lets it settle now: SUCCESS when Cleared and
    /// in time, AWAITING_CLEARANCE while the regulators have not both approved,
    /// CROSS_BORDER_APPROVAL_REQUIRED when it was rejected or lapsed (a lapsed one is expired on the
    /// token here, releasing the escrow), LEG_REVERTED when the token does not answer.
    function _clearanceHold(uint256 clearanceId, Trade storage t) private returns (uint8) {
        ICrossBorderClearance token = ICrossBorderClearance(t.security);
        try token.crossBorderTransfer(clearanceId) returns (
            address, address, uint256, ISecurityToken.CrossBorderStatus status, uint256 deadline, bool, bool
        ) {
            bool open = status == ISecurityToken.CrossBorderStatus.Pending
                || status == ISecurityToken.CrossBorderStatus.Cleared;
            if (open && block.timestamp <= deadline) {
                return status == ISecurityToken.CrossBorderStatus.Cleared
                    ? SettlementCodes.SUCCESS
                    : SettlementCodes.AWAITING_CLEARANCE;
            }
            // A lapsed clearance: release the escrow now (anyone may; if the token refuses, its own
            // expiry still can).
            if (open) try token.expireCrossBorderTransfer(clearanceId) {} catch {}
            return TransferRules.CROSS_BORDER_APPROVAL_REQUIRED;
        } catch {
            return SettlementCodes.LEG_REVERTED;
        }
    }

    /// @dev Withdraws trade `t`'s clearance if it is still open (pending or cleared), releasing the
    /// seller's escrowed units. Every call is a try, so that a token that does not answer cannot stop
    /// a cancellation or a batch (its escrow then lapses by the token's own expiry).
    function _withdrawClearance(uint256 tradeId, Trade storage t) private {
        if (!t.hasClearance) return;
        uint256 clearanceId = _clearances[tradeId];
        ICrossBorderClearance token = ICrossBorderClearance(t.security);
        try token.crossBorderTransfer(clearanceId) returns (
            address, address, uint256, ISecurityToken.CrossBorderStatus status, uint256, bool, bool
        ) {
            if (
                status != ISecurityToken.CrossBorderStatus.Pending
                    && status != ISecurityToken.CrossBorderStatus.Cleared
            ) return;
        } catch {
            return;
        }
        try token.withdrawCrossBorderClearance(clearanceId) {
            emit ClearanceWithdrawn(tradeId, clearanceId);
        } catch {}
    }

    /// @dev The security leg of a cleared trade: the token settles the clearance (releasing the
    /// escrow, re-checking every rule but the cross-border one); a refusal is recorded with the code
    /// of the rule whose error the token raised; then check the buyer really got `quantity`.
    function _settleClearance(address security, uint256 clearanceId, address buyer, uint256 quantity) private {
        uint256 before = IERC20(security).balanceOf(buyer);
        try ICrossBorderClearance(security).settleCrossBorderClearance(clearanceId) {}
        catch (bytes memory reason) {
            revert DvPLegFailed(Leg.Security, SettlementCodes.ofSecurityTokenError(reason));
        }
        if (IERC20(security).balanceOf(buyer) != before + quantity) {
            revert DvPLegFailed(Leg.Security, SettlementCodes.NOT_DELIVERED);
        }
    }

    /// @dev One leg: transferFrom through SafeERC20, then check the receiver really got `amount`.
    function _moveLeg(IERC20 token, address from, address to, uint256 amount, Leg leg) private {
        uint256 before = token.balanceOf(to);
        if (!token.trySafeTransferFrom(from, to, amount)) revert DvPLegFailed(leg, 0);
        if (token.balanceOf(to) != before + amount) revert DvPLegFailed(leg, SettlementCodes.NOT_DELIVERED);
    }

    /// @dev Why `executeLegs` reverted: the leg from its `DvPLegFailed` error, then, in the order a
    /// token's transferFrom checks them, allowance -> the token's own rules (ERC-1404) -> balance.
    function _diagnose(Trade storage t, bytes memory reason) private view returns (Leg, uint8) {
        if (reason.length != 68 || bytes4(reason) != DvPLegFailed.selector) {
            return (Leg.None, SettlementCodes.LEG_REVERTED); // e.g. out of gas inside executeLegs
        }
        uint8 legValue;
        uint8 given;
        assembly ("memory-safe") {
            legValue := mload(add(reason, 36))
            given := mload(add(reason, 68))
        }
        Leg leg = Leg(legValue);
        if (given != 0) return (leg, given);
        if (leg == Leg.Security) {
            return (
                leg,
                _legCode(
                    t.security,
                    t.seller,
                    t.buyer,
                    t.quantity,
                    SettlementCodes.SELLER_ALLOWANCE,
                    SettlementCodes.SELLER_BALANCE
                )
            );
        }
        return (
            leg,
            _legCode(
                t.cash, t.buyer, t.seller, t.cashAmount, SettlementCodes.BUYER_ALLOWANCE, SettlementCodes.BUYER_BALANCE
            )
        );
    }

    function _legCode(
        address token,
        address from,
        address to,
        uint256 amount,
        uint8 allowanceCode,
        uint8 balanceCode
    ) private view returns (uint8) {
        // Every probe is a try: a token that does not answer must not make the record itself revert.
        try IERC20(token).allowance(from, address(this)) returns (uint256 allowed) {
            if (allowed < amount) return allowanceCode;
        } catch {}
        try IERC1404(token).detectTransferRestriction(from, to, amount) returns (uint8 restriction) {
            if (restriction != 0) return restriction;
        } catch {}
        try IERC20(token).balanceOf(from) returns (uint256 held) {
            if (held < amount) return balanceCode;
        } catch {}
        return SettlementCodes.LEG_REVERTED;
    }
}
