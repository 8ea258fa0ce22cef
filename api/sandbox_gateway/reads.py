"""What the gateway's lists are read from: the read model's indexed events (`MarketReadModel.events`,
caught up to the chain's head first, so a write the gateway acknowledged is seen), never a scan of the
chain's logs from block 0."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.contracts.events import (
    AddressFrozen,
    CrossBorderClearanceRequested,
    CrossBorderTransferRequested,
    InvestorRegistered,
)
from sandbox.readmodel import MarketReadModel


def ever_frozen(live: MarketReadModel, token: str) -> list[str]:
    """Every wallet a freeze of `token` (address) ever named, in order of its first freeze event."""
    events = live.events(token, [AddressFrozen.event_name])
    return list(dict.fromkeys(str(e.args["userAddress"]) for e in events))


@dataclass(frozen=True)
class CrossBorderRequest:
    """A cross-border transfer as requested (`CrossBorderTransferRequested`), with the settlement
    contract and trade that requested it as a clearance (`CrossBorderClearanceRequested`), if one did."""

    transfer_id: int
    from_jurisdiction: int
    to_jurisdiction: int
    clearance: tuple[str, int] | None


def cross_border_requests(live: MarketReadModel, token: str) -> list[CrossBorderRequest]:
    """Every cross-border transfer requested on `token` (address), oldest first."""
    events = live.events(token, [CrossBorderClearanceRequested.event_name, CrossBorderTransferRequested.event_name])
    clearances = {
        int(e.args["id"]): (str(e.args["requester"]), int(e.args["tradeId"]))
        for e in events
        if e.name == CrossBorderClearanceRequested.event_name
    }
    return [
        CrossBorderRequest(
            int(e.args["id"]),
            int(e.args["fromJurisdiction"]),
            int(e.args["toJurisdiction"]),
            clearances.get(int(e.args["id"])),
        )
        for e in events
        if e.name == CrossBorderTransferRequested.event_name
    ]


def registered_identities(live: MarketReadModel) -> list[str]:
    """Every investor identity the market's registry ever registered, in order of registration."""
    events = live.events(live.market.registry.address, [InvestorRegistered.event_name])
    return list(dict.fromkeys(str(e.args["identity"]) for e in events))
