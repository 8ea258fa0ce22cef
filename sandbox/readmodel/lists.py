"""Lists folded from the read model's indexed events: investors, active freezes, cross-border requests.

Each list is one indexed query over the events of the contracts it is about (the registry, a token),
folded in chain order, with no chain read: a list of ten thousand items costs the chain nothing. The
folds mirror what the contracts store and nothing more: every field here is set by one event the
contract emits when it stores it (a freeze's author is the one exception, worked out from who sent it,
as the token does: see `active_freezes`).

    lists = EventLists(model, registry=market.registry.address)
    lists.investors()                       # every registered investor as the registry holds it now
    lists.active_freezes(token.address)     # wallets frozen now, and by whom
    lists.cross_border_requests(token.address)

What is *not* here, because no event carries it: an investor's cross-border volume within a window
(the token keeps it as a time-based queue; a caller reads `crossBorderVolume` for the few it shows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from eth_utils import keccak
from sqlalchemy import and_, or_, select

from sandbox.readmodel._model import ReadModel
from sandbox.readmodel._schema import ContractRow, EventRow
from sandbox.rules import HolderType, InvestorCategory, InvestorStatus

#: `SecurityTokenBase.FROZEN_BY_AGENT`: a freeze imposed by an agent (the issuer), not a regulator.
FROZEN_BY_AGENT = 65535
#: `SecurityTokenBase.AGENT_ROLE`, as the read model stores a bytes32 argument.
AGENT_ROLE = "0x" + keccak(text="AGENT_ROLE").hex()

_CROSS_BORDER_STATUS_OF = {
    "CrossBorderTransferSettled": "SETTLED",
    "CrossBorderTransferRejected": "REJECTED",
    "CrossBorderTransferExpired": "EXPIRED",
    "CrossBorderTransferCleared": "CLEARED",
    "CrossBorderClearanceWithdrawn": "WITHDRAWN",
}


@dataclass(frozen=True)
class ListedInvestor:
    """An investor as the registry holds it now (`InvestorRegistry.investor`, `walletsOf`)."""

    identity: str
    jurisdiction: int
    category: InvestorCategory
    status: InvestorStatus
    kyc_valid_until: int
    #: Linked wallets, in the order they were linked (`walletsOf`).
    wallets: tuple[str, ...]
    holder_type: HolderType
    us_person: bool
    qib: bool
    accredited_until: int
    #: The agent who registered it (`onboardingAgentOf`).
    onboarding_agent: str


@dataclass(frozen=True)
class ListedFreeze:
    """A wallet frozen as a whole now, and by whom (`SecurityToken.frozenBy`): a jurisdiction's ISO code
    for a regulator's freeze, `FROZEN_BY_AGENT` for the issuer's."""

    wallet: str
    frozen_by: int


@dataclass(frozen=True)
class ListedCrossBorder:
    """A cross-border request as the token holds it (`crossBorderTransfer`, `crossBorderClearance`)."""

    transfer_id: int
    sender: str
    receiver: str
    amount: int
    from_jurisdiction: int
    to_jurisdiction: int
    #: PENDING, SETTLED, REJECTED, EXPIRED, CLEARED or WITHDRAWN (`CrossBorderStatus`).
    status: str
    deadline: int
    from_approved: bool
    to_approved: bool
    #: (settlement contract, its trade id) when a settlement contract requested it as a clearance.
    clearance: tuple[str, int] | None


@dataclass(frozen=True)
class _Event:
    contract: str
    name: str
    block_number: int
    tx_index: int
    args: Mapping[str, Any]


class EventLists:
    """Lists of a market read from `model`'s indexed events (index up to the block you need first)."""

    def __init__(self, model: ReadModel, *, registry: str) -> None:
        self.model = model
        self.registry = registry

    def _events(self, wanted: Mapping[str, Sequence[str]]) -> list[_Event]:
        """The indexed events named in `wanted` (contract address → event names) of those contracts,
        merged in chain order: one query."""
        with self.model.session() as session:
            contracts = dict(
                session.execute(
                    select(ContractRow.address, ContractRow.id).where(ContractRow.address.in_(list(wanted)))
                ).all()
            )
            chosen = [
                and_(EventRow.contract_id == contracts[address], EventRow.name.in_(list(names)))
                for address, names in wanted.items()
                if address in contracts
            ]
            if not chosen:
                return []
            address_of = {cid: address for address, cid in contracts.items()}
            rows = session.execute(
                select(EventRow.contract_id, EventRow.name, EventRow.block_number, EventRow.tx_index, EventRow.args)
                .where(or_(*chosen))
                .order_by(EventRow.block_number, EventRow.tx_index, EventRow.log_index)
            ).all()
        return [_Event(address_of[r[0]], r[1], r[2], r[3], r[4]) for r in rows]

    # ------------------------------------------------------------------ investors

    def investors(self) -> list[ListedInvestor]:
        """Every investor the registry registered, in order of registration, as it holds them now."""
        names = (
            "InvestorRegistered",
            "InvestorUpdated",
            "InvestorStatusChanged",
            "InvestorAttributesSet",
            "WalletAdded",
        )
        found: dict[str, ListedInvestor] = {}
        for event in self._events({self.registry: names}):
            args = event.args
            identity = str(args["identity"])
            if event.name == "InvestorRegistered":
                found[identity] = ListedInvestor(
                    identity=identity,
                    jurisdiction=int(args["jurisdiction"]),
                    category=InvestorCategory(int(args["category"])),
                    status=InvestorStatus.ACTIVE,
                    kyc_valid_until=int(args["kycValidUntil"]),
                    wallets=(),
                    holder_type=HolderType.NATURAL_PERSON,
                    us_person=False,
                    qib=False,
                    accredited_until=0,
                    onboarding_agent=str(args["agent"]),
                )
                continue
            investor = found.get(identity)
            if investor is None:  # the registry refuses all of these for an unregistered identity
                continue
            if event.name == "InvestorUpdated":
                investor = replace(
                    investor,
                    category=InvestorCategory(int(args["category"])),
                    kyc_valid_until=int(args["kycValidUntil"]),
                )
            elif event.name == "InvestorStatusChanged":
                investor = replace(investor, status=InvestorStatus(int(args["status"])))
            elif event.name == "InvestorAttributesSet":
                investor = replace(
                    investor,
                    holder_type=HolderType(int(args["holderType"])),
                    us_person=bool(args["usPerson"]),
                    qib=bool(args["qib"]),
                    accredited_until=int(args["accreditedUntil"]),
                )
            else:
                investor = replace(investor, wallets=(*investor.wallets, str(args["wallet"])))
            found[identity] = investor
        return list(found.values())

    # ------------------------------------------------------------------ freezes

    def active_freezes(self, token: str) -> list[ListedFreeze]:
        """The wallets of `token` frozen as a whole now, in order of their first freeze, with who froze
        them. The token records its caller's standing at the time (`_actorFor`): an agent (AGENT_ROLE,
        granted and revoked by `RoleGranted`/`RoleRevoked`) freezes as the issuer, anyone else as the
        regulator of the jurisdiction the registry gives it (`RegulatorSet`). A recovery carries the
        lost wallet's freeze, with its author, to the new wallet."""
        events = self._events(
            {
                token: ("AddressFrozen", "RoleGranted", "RoleRevoked", "RecoverySuccess"),
                self.registry: ("RegulatorSet",),
            }
        )
        agents: set[str] = set()
        regulators: dict[str, int] = {}
        frozen_by: dict[str, int] = {}
        order: dict[str, None] = {}
        for tx_events in _by_transaction(events):
            before = dict(frozen_by)
            recovered = {
                str(e.args["newWallet"]): str(e.args["lostWallet"]) for e in tx_events if e.name == "RecoverySuccess"
            }
            for event in tx_events:
                args = event.args
                if event.contract == self.registry:
                    regulators[str(args["regulator"])] = int(args["jurisdiction"])
                elif event.name in ("RoleGranted", "RoleRevoked") and args.get("role") == AGENT_ROLE:
                    (agents.add if event.name == "RoleGranted" else agents.discard)(str(args["account"]))
                elif event.name == "AddressFrozen":
                    wallet = str(args["userAddress"])
                    if not args["isFrozen"]:
                        frozen_by.pop(wallet, None)
                        continue
                    author = str(args["owner"])
                    lost = recovered.get(wallet)
                    if lost is not None and lost in before:
                        frozen_by[wallet] = before[lost]
                    else:
                        frozen_by[wallet] = FROZEN_BY_AGENT if author in agents else regulators.get(author, 0)
                    order.setdefault(wallet)
        return [ListedFreeze(wallet, frozen_by[wallet]) for wallet in order if frozen_by.get(wallet)]

    # ------------------------------------------------------------------ cross-border requests

    def cross_border_requests(self, token: str) -> list[ListedCrossBorder]:
        """Every cross-border request of `token` (a settlement's clearances included), oldest first, as
        the token holds it now."""
        names = (
            "CrossBorderTransferRequested",
            "CrossBorderClearanceRequested",
            "CrossBorderTransferApproved",
            *_CROSS_BORDER_STATUS_OF,
        )
        found: dict[int, ListedCrossBorder] = {}
        for event in self._events({token: names}):
            args = event.args
            transfer_id = int(args["id"])
            if event.name == "CrossBorderTransferRequested":
                found[transfer_id] = ListedCrossBorder(
                    transfer_id=transfer_id,
                    sender=str(args["from"]),
                    receiver=str(args["to"]),
                    amount=int(args["value"]),
                    from_jurisdiction=int(args["fromJurisdiction"]),
                    to_jurisdiction=int(args["toJurisdiction"]),
                    status="PENDING",
                    deadline=int(args["deadline"]),
                    from_approved=False,
                    to_approved=False,
                    clearance=None,
                )
                continue
            request = found.get(transfer_id)
            if request is None:
                continue
            if event.name == "CrossBorderClearanceRequested":
                request = replace(request, clearance=(str(args["requester"]), int(args["tradeId"])))
            elif event.name == "CrossBorderTransferApproved":
                if int(args["jurisdiction"]) == request.from_jurisdiction:
                    request = replace(request, from_approved=True)
                else:
                    request = replace(request, to_approved=True)
            else:
                request = replace(request, status=_CROSS_BORDER_STATUS_OF[event.name])
            found[transfer_id] = request
        return list(found.values())


def _by_transaction(events: Sequence[_Event]) -> list[list[_Event]]:
    """`events` (in chain order) grouped by the transaction that emitted them."""
    groups: list[list[_Event]] = []
    for event in events:
        if groups and (groups[-1][0].block_number, groups[-1][0].tx_index) == (event.block_number, event.tx_index):
            groups[-1].append(event)
        else:
            groups.append([event])
    return groups
