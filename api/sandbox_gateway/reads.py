"""What the gateway's lists are read from: the read model's indexed events (`sandbox.readmodel.lists`),
caught up to the chain's head first, so a write the gateway acknowledged is seen by the next read; never
a scan of the chain's logs, and no chain read per listed item."""

from __future__ import annotations

from sandbox.readmodel import MarketReadModel
from sandbox.readmodel.lists import EventLists, ListedInvestor


def event_lists(live: MarketReadModel) -> EventLists:
    """The market's lists, from its read model caught up to the chain's head."""
    live.catch_up()
    return EventLists(live.model, registry=live.market.registry.address)


def owners_of_wallets(investors: list[ListedInvestor]) -> dict[str, ListedInvestor]:
    """wallet → the investor it is linked to."""
    return {wallet: investor for investor in investors for wallet in investor.wallets}
