"""Cross-border transfers at or above a security's threshold: the sender requests, the units are held,
and both regulators (of the sender's and of the receiver's jurisdiction) decide. Enforced on chain.

A DvP trade between jurisdictions is cleared the same way: its clearance is listed here with the trade's
id (`settlement_trade_id`), the regulators approve or reject it with the same routes, and once both
approve it is CLEARED and settles with the trade's cash leg (POST /settlements/{id}/settle)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from sandbox.contracts.events import CrossBorderTransferRequested
from sandbox.market import Market
from sandbox.readmodel import ReadView
from sandbox.readmodel.lists import ListedCrossBorder
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
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.reads import event_lists, owners_of_wallets
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import (
    CrossBorderChange,
    CrossBorderPage,
    CrossBorderRequest,
    CrossBorderTransfer,
    SymbolPath,
)
from sandbox_gateway.scope import forbidden, not_found, own_wallets, sees_cross_border
from sandbox_gateway.txresult import tx_fields

router = APIRouter(route_class=GatewayRoute, tags=["cross-border"])

TransferIdPath = Annotated[int, Path(ge=1, lt=2**63, description="Cross-border transfer id.")]
StatusName = Literal["PENDING", "SETTLED", "REJECTED", "EXPIRED", "CLEARED", "WITHDRAWN"]


class _Volumes:
    """The senders' cross-border volumes in their windows now (`crossBorderVolume`): no event carries
    them, so they are read from the chain, once per (security, sender investor) shown in one answer."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self._read: dict[tuple[str, str], tuple[int, int]] = {}

    def of(self, symbol: str, identity: str | None) -> tuple[int, int]:
        if identity is None:
            return 0, 0
        key = (symbol, identity)
        if key not in self._read:
            self._read[key] = self.market.securities[symbol].cross_border_volume(identity)
        return self._read[key]


def _transfer(symbol: str, request: ListedCrossBorder, sender: str | None, volumes: _Volumes) -> CrossBorderTransfer:
    volume, window = volumes.of(symbol, sender)
    is_open = request.status in ("PENDING", "CLEARED")
    return CrossBorderTransfer(
        security=symbol,
        transfer_id=request.transfer_id,
        sender=request.sender,
        receiver=request.receiver,
        amount=request.amount,
        from_jurisdiction=Jurisdiction(request.from_jurisdiction).name,
        to_jurisdiction=Jurisdiction(request.to_jurisdiction).name,
        status=request.status,
        deadline=request.deadline,
        sender_regulator_approved=request.from_approved,
        receiver_regulator_approved=request.to_approved,
        settlement_contract=request.clearance[0] if request.clearance else None,
        settlement_trade_id=request.clearance[1] if request.clearance else None,
        window_seconds=window,
        sender_window_volume=volume,
        window_total=volume + request.amount if is_open else None,
    )


class _Listing:
    """The cross-border requests of the market's securities, from the read model's indexed events (one
    catch-up, one query per security), scoped to one principal."""

    def __init__(self, market: Market, live: ReadView, principal: Principal) -> None:
        self.market = market
        self.principal = principal
        lists = event_lists(live)
        self._owners = {wallet: investor.identity for wallet, investor in owners_of_wallets(lists.investors()).items()}
        self._own = set(own_wallets(principal, market))  # read once, not per request
        self.requests = [
            (symbol, request)
            for symbol in sorted(market.securities)
            for request in lists.cross_border_requests(market.securities[symbol].address)
        ]

    def visible(self, symbol: str, request: ListedCrossBorder) -> bool:
        principal = self.principal
        if principal.role is Role.INVESTOR:
            return bool({request.sender, request.receiver} & self._own)
        jurisdictions = (Jurisdiction(request.from_jurisdiction).name, Jurisdiction(request.to_jurisdiction).name)
        return sees_cross_border(principal, self.market, symbol, (request.sender, request.receiver), jurisdictions)

    def shown(self, items: list[tuple[str, ListedCrossBorder]]) -> list[CrossBorderTransfer]:
        volumes = _Volumes(self.market)
        return [_transfer(symbol, request, self._owners.get(request.sender), volumes) for symbol, request in items]


def _one(market: Market, live: ReadView, principal: Principal, symbol: str, transfer_id: int) -> CrossBorderTransfer:
    security_or_404(market, symbol)
    listing = _Listing(market, live, principal)
    for item in listing.requests:
        if item[0] == symbol and item[1].transfer_id == transfer_id and listing.visible(*item):
            (transfer,) = listing.shown([item])
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
    listing = _Listing(market, live, principal)
    visible = [
        item for item in listing.requests if (status is None or item[1].status == status) and listing.visible(*item)
    ]
    page_items, page = page_of(visible, paging)
    items = listing.shown(page_items)  # the senders' window volumes: read for this page only
    return CrossBorderPage(items=items, page=page)


@router.post(
    "/securities/{symbol}/cross-border-transfers",
    operation_id="cross-border-request",
    status_code=201,
    summary="Request a cross-border transfer (investor)",
    description="Holds the units until both regulators approve; settles then, re-checking every rule.",
)
def request_transfer(
    symbol: SymbolPath, body: CrossBorderRequest, market: MarketDep, live: IndexedDep, principal: InvestorPrincipal
) -> CrossBorderChange:
    token = security_or_404(market, symbol)
    wallets = own_wallets(principal, market)
    if not wallets:
        raise forbidden("You have no wallet to transfer from.")
    receipt = token.request_cross_border_transfer(body.to, body.amount, sender=wallets[0])
    (event,) = token.events(receipt, CrossBorderTransferRequested)
    return CrossBorderChange(transfer=_one(market, live, principal, symbol, event.id), **tx_fields(receipt))


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
