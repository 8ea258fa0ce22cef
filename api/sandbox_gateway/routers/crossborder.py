"""Cross-border transfers at or above a security's threshold: the sender requests, the units are held,
and both regulators (of the sender's and of the receiver's jurisdiction) decide. Enforced on chain.

A DvP trade between jurisdictions is cleared the same way: its clearance is listed here with the trade's
id (`settlement_trade_id`), the regulators approve or reject it with the same routes, and once both
approve it is CLEARED and settles with the trade's cash leg (POST /settlements/{id}/settle)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from sandbox.contracts.events import CrossBorderTransferRequested
from sandbox.contracts.security_token import SecurityToken
from sandbox.market import Market
from sandbox.readmodel import MarketReadModel
from sandbox.rules import Jurisdiction
from sandbox_gateway.deps import (
    AnyPrincipal,
    IndexedDep,
    InvestorPrincipal,
    MarketDep,
    RegulatorPrincipal,
    security_or_404,
)
from sandbox_gateway.pagination import Paging, page_of
from sandbox_gateway.principals import Principal
from sandbox_gateway.reads import cross_border_requests
from sandbox_gateway.schemas import (
    CrossBorderChange,
    CrossBorderPage,
    CrossBorderRequest,
    CrossBorderTransfer,
    SymbolPath,
)
from sandbox_gateway.scope import forbidden, not_found, own_wallets, sees_cross_border
from sandbox_gateway.txresult import tx_fields

router = APIRouter(tags=["cross-border"])

TransferIdPath = Annotated[int, Path(ge=1, lt=2**63, description="Cross-border transfer id.")]
StatusName = Literal["PENDING", "SETTLED", "REJECTED", "EXPIRED", "CLEARED", "WITHDRAWN"]


def _load(
    market: Market,
    symbol: str,
    token: SecurityToken,
    transfer_id: int,
    jurisdictions: tuple[int, int],
    clearance: tuple[str, int] | None = None,
) -> CrossBorderTransfer:
    state = token.cross_border_transfer(transfer_id)
    identity = market.registry.wallet_record(state.from_).identity
    volume, window = token.cross_border_volume(identity) if identity is not None else (0, 0)
    is_open = state.status.name in ("PENDING", "CLEARED")
    return CrossBorderTransfer(
        security=symbol,
        transfer_id=transfer_id,
        sender=state.from_,
        receiver=state.to,
        amount=state.value,
        from_jurisdiction=Jurisdiction(jurisdictions[0]).name,
        to_jurisdiction=Jurisdiction(jurisdictions[1]).name,
        status=state.status.name,
        deadline=state.deadline,
        sender_regulator_approved=state.from_approved,
        receiver_regulator_approved=state.to_approved,
        settlement_contract=clearance[0] if clearance else None,
        settlement_trade_id=clearance[1] if clearance else None,
        window_seconds=window,
        sender_window_volume=volume,
        window_total=volume + state.value if is_open else None,
    )


def _all(market: Market, live: MarketReadModel) -> list[CrossBorderTransfer]:
    out = []
    for symbol in sorted(market.securities):
        token = market.securities[symbol]
        for request in cross_border_requests(live, token.address):
            jurisdictions = (request.from_jurisdiction, request.to_jurisdiction)
            out.append(_load(market, symbol, token, request.transfer_id, jurisdictions, request.clearance))
    return out


def _visible(principal: Principal, market: Market, transfer: CrossBorderTransfer) -> bool:
    parties = (transfer.sender, transfer.receiver)
    jurisdictions = (transfer.from_jurisdiction, transfer.to_jurisdiction)
    return sees_cross_border(principal, market, transfer.security, parties, jurisdictions)


def _one(
    market: Market, live: MarketReadModel, principal: Principal, symbol: str, transfer_id: int
) -> CrossBorderTransfer:
    security_or_404(market, symbol)
    for transfer in _all(market, live):
        if (
            transfer.security == symbol
            and transfer.transfer_id == transfer_id
            and _visible(principal, market, transfer)
        ):
            return transfer
    raise not_found("cross-border transfer", f"{symbol}/{transfer_id}")


@router.get(
    "/cross-border-transfers",
    operation_id="cross-border-list",
    summary="Cross-border transfers you may see",
    description="A regulator sees those with a party in its jurisdiction (the ones it must decide); "
    "`status=PENDING` lists what awaits a decision, DvP trades' clearances included (with the trade's id).",
)
def list_transfers(
    market: MarketDep,
    live: IndexedDep,
    principal: AnyPrincipal,
    paging: Paging,
    status: Annotated[StatusName | None, Query()] = None,
) -> CrossBorderPage:
    visible = [
        t for t in _all(market, live) if _visible(principal, market, t) and (status is None or t.status == status)
    ]
    items, page = page_of(visible, paging)
    return CrossBorderPage(items=items, page=page)


@router.post(
    "/securities/{symbol}/cross-border-transfers",
    operation_id="cross-border-request",
    status_code=201,
    summary="Request a cross-border transfer (investor)",
    description="Holds the units until both regulators approve; settles then, re-checking every rule.",
)
def request_transfer(
    symbol: SymbolPath, body: CrossBorderRequest, market: MarketDep, principal: InvestorPrincipal
) -> CrossBorderChange:
    token = security_or_404(market, symbol)
    wallets = own_wallets(principal, market)
    if not wallets:
        raise forbidden("You have no wallet to transfer from.")
    receipt = token.request_cross_border_transfer(body.to, body.amount, sender=wallets[0])
    (event,) = token.events(receipt, CrossBorderTransferRequested)
    transfer = _load(market, symbol, token, event.id, (event.from_jurisdiction, event.to_jurisdiction))
    return CrossBorderChange(transfer=transfer, **tx_fields(receipt))


@router.post(
    "/securities/{symbol}/cross-border-transfers/{transfer_id}/approve",
    operation_id="cross-border-approve",
    description=(
        "A regulator of the sender's or the receiver's jurisdiction approves a held cross-border transfer; once "
        "both have, the units move. Other roles are refused."
    ),
    summary="Approve a held cross-border transfer (a regulator of either party)",
)
def approve(
    symbol: SymbolPath,
    transfer_id: TransferIdPath,
    market: MarketDep,
    live: IndexedDep,
    principal: RegulatorPrincipal,
) -> CrossBorderChange:
    _one(market, live, principal, symbol, transfer_id)
    token = market.securities[symbol]
    receipt = token.approve_cross_border_transfer(transfer_id, sender=principal.account)
    return CrossBorderChange(transfer=_one(market, live, principal, symbol, transfer_id), **tx_fields(receipt))


@router.post(
    "/securities/{symbol}/cross-border-transfers/{transfer_id}/reject",
    operation_id="cross-border-reject",
    description=(
        "A regulator of either party's jurisdiction rejects a held cross-border transfer: the held units are "
        "released to the sender. Other roles are refused."
    ),
    summary="Reject a held cross-border transfer; the units are released",
)
def reject(
    symbol: SymbolPath,
    transfer_id: TransferIdPath,
    market: MarketDep,
    live: IndexedDep,
    principal: RegulatorPrincipal,
) -> CrossBorderChange:
    _one(market, live, principal, symbol, transfer_id)
    token = market.securities[symbol]
    receipt = token.reject_cross_border_transfer(transfer_id, sender=principal.account)
    return CrossBorderChange(transfer=_one(market, live, principal, symbol, transfer_id), **tx_fields(receipt))
