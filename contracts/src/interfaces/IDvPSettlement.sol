// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.26;

/// @title IDvPSettlement
/// @notice Types, events and custom errors of the sandbox's delivery-versus-payment contract.
interface IDvPSettlement {
    /// @notice `Failed`: the regulators refused the trade's cross-border clearance (or it lapsed);
    /// the trade can never settle and nothing moved.
    enum TradeStatus {
        None,
        Proposed,
        Affirmed,
        Settled,
        Cancelled,
        Expired,
        Failed
    }

    /// @notice Which leg of a trade failed: the security delivery (seller to buyer) or the cash
    /// payment (buyer to seller); `None` when the failure is not a leg's (state, expiry).
    enum Leg {
        None,
        Security,
        Cash
    }

    /// @notice A trade as stored. `cashAmount` is the whole consideration (not a per-unit price), in
    /// the cash token's smallest units. `failedLeg` / `failureCode` record the last failed attempt.
    /// `hasClearance`: `requestClearance` opened a cross-border clearance for the trade on its
    /// security token (its id is `clearanceOf(tradeId)`); kept in the first slot so that trades
    /// without one pay nothing to find out.
    struct Trade {
        address seller;
        uint40 deadline;
        TradeStatus status;
        Leg failedLeg;
        uint8 failureCode;
        bool proposedBySeller;
        bool hasClearance;
        address buyer;
        address security;
        address cash;
        uint256 quantity;
        uint256 cashAmount;
    }

    event TradeProposed(
        uint256 indexed tradeId,
        address indexed seller,
        address indexed buyer,
        address security,
        uint256 quantity,
        address cash,
        uint256 cashAmount,
        uint64 deadline,
        address proposer
    );
    event TradeAffirmed(uint256 indexed tradeId, address indexed affirmedBy);
    /// @notice Both legs moved in one transaction.
    event TradeSettled(
        uint256 indexed tradeId,
        address indexed seller,
        address indexed buyer,
        address security,
        uint256 quantity,
        address cash,
        uint256 cashAmount
    );
    /// @notice A settlement attempt failed and nothing moved. `code` is the failing token's ERC-1404
    /// code (security token rulebook 0x10-0x7F, cash rules 0x80-0x9F) or a DvP code (0xA0-0xAF).
    event SettlementFailed(uint256 indexed tradeId, Leg leg, address indexed token, uint8 code);
    event TradeCancelled(uint256 indexed tradeId, address indexed cancelledBy);
    event TradeExpired(uint256 indexed tradeId, uint64 deadline);
    /// @notice The security token opened cross-border clearance `clearanceId` for trade `tradeId`:
    /// the seller's units are escrowed until both regulators decide.
    event ClearanceRequested(uint256 indexed tradeId, uint256 indexed clearanceId, address indexed requestedBy);
    /// @notice The trade ended (cancelled or expired) before settling: its open clearance was
    /// withdrawn and the seller's units released.
    event ClearanceWithdrawn(uint256 indexed tradeId, uint256 indexed clearanceId);
    /// @notice The trade can never settle (its clearance was refused or lapsed); `code` says why.
    event TradeFailed(uint256 indexed tradeId, uint8 code);
    /// @notice A batch was processed: `settled` of `trades` settled, the others failed (see their events).
    event BatchProcessed(uint256 trades, uint256 settled);

    error DvPZeroAddress();
    error DvPZeroAmount(uint256 quantity, uint256 cashAmount);
    error DvPSameParty(address account);
    error DvPSameToken(address token);
    error DvPDeadlinePassed(uint64 deadline, uint256 checkedAt);
    /// @notice The caller is neither the seller nor the buyer of the trade.
    error DvPNotAParty(uint256 tradeId, address account);
    /// @notice Only the counterparty of the proposer may affirm.
    error DvPNotCounterparty(uint256 tradeId, address account);
    error DvPUnknownTrade(uint256 tradeId);
    error DvPInvalidStatus(uint256 tradeId, TradeStatus status);
    error DvPTradeExpired(uint256 tradeId, uint64 deadline, uint256 checkedAt);
    error DvPNotExpired(uint256 tradeId, uint64 deadline, uint256 checkedAt);
    error DvPBatchTooLarge(uint256 size, uint256 limit);
    /// @notice Only the contract itself may execute the legs (from inside `settle`).
    error DvPOnlySelf(address caller);
    /// @notice The trade needs no cross-border clearance: it can settle as it is (or fails for
    /// another reason, which `settle` records).
    error DvPClearanceNotRequired(uint256 tradeId);
    /// @notice The trade already has clearance `clearanceId` (one per trade).
    error DvPClearanceAlreadyRequested(uint256 tradeId, uint256 clearanceId);
    /// @notice Internal: a leg failed inside `executeLegs`; caught by `settle` and recorded.
    error DvPLegFailed(Leg leg, uint8 code);
}
