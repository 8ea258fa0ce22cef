"""Replaying a scenario's history on a loaded market: time moving, transfers, delivery versus
payment, cross-border approvals, freezes and further issuance, each through the contracts' own
entry points, so every rule applies as it would to a participant.

A step that the scenario expects to be refused (``expect_refusal`` / ``expect_failure``) must be
refused by exactly that rule; any other outcome stops loading with a `ScenarioReplayError` naming the
step. Replay is deterministic: the same scenario on a fresh chain with the fixed clock gives the
same blocks, hashes included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sandbox.chain.base import Chain, DevChain
from sandbox.contracts.cash_token import CashToken
from sandbox.contracts.corporate_actions import BondPayingAgent, EquityPayingAgent, payment_code_name
from sandbox.contracts.offerings import OfferingRegistry
from sandbox.contracts.registry import InvestorRegistry
from sandbox.contracts.restricted_token import RestrictedToken
from sandbox.contracts.security_token import SecurityToken
from sandbox.contracts.settlement import DvPSettlement, SettlementResult
from sandbox.errors import ContractReverted, SandboxError
from sandbox.history import holders_of
from sandbox.rules import SanctionsRegime, code_name
from sandbox.scenario import (
    Action,
    AdvanceTime,
    CrossBorderTransfer,
    DeclareCoupon,
    DeclareDividend,
    Designate,
    DvPBatch,
    DvPTrade,
    ExemptFromHoldingLimits,
    Freeze,
    Issue,
    PayCoupon,
    PayDividend,
    RemoveDesignation,
    Scenario,
    SecuritySpec,
    Split,
    TradeTerms,
    Transfer,
    Unfreeze,
)


class ReplayMarket(Protocol):
    """What replay needs of a loaded market, read-only: its chain, scenario, participants and contracts.
    Replay changes the chain only; what it records it returns (`Replayed`)."""

    @property
    def chain(self) -> Chain: ...
    @property
    def scenario(self) -> Scenario: ...
    @property
    def operator(self) -> str: ...
    @property
    def accounts(self) -> Mapping[str, str]: ...
    @property
    def issuer_of(self) -> Mapping[str, str]: ...
    @property
    def cash(self) -> Mapping[str, CashToken]: ...
    @property
    def cash_symbol_of(self) -> Mapping[str, str]: ...
    @property
    def settlement(self) -> DvPSettlement | None: ...
    @property
    def registry(self) -> InvestorRegistry: ...
    @property
    def treasuries(self) -> Mapping[str, str]: ...
    @property
    def wallets(self) -> Mapping[str, tuple[str, ...]]: ...
    def security(self, symbol: str) -> SecurityToken: ...
    def cash_token(self, currency: str) -> CashToken: ...
    def wallet(self, ref: str) -> str: ...
    def chain_time(self, moment: datetime) -> int: ...
    def paying_agent(self, symbol: str) -> BondPayingAgent | EquityPayingAgent: ...
    def scenario_security(self, symbol: str) -> SecuritySpec: ...


SECONDS_PER_DAY = 86_400
#: Wallets split per transaction (the split's cost grows with the wallets listed and their lots).
SPLIT_BATCH = 25


class ScenarioReplayError(SandboxError):
    """A step of a scenario's history did not go as the scenario says."""


@dataclass(frozen=True)
class HistoryEntry:
    """One replayed step of a scenario's history: its number (from 1), kind, what it did, and the
    chain's newest block and time once it was done. `trade_ids` lists the DvP trades it created."""

    step: int
    kind: str
    summary: str
    block: int
    timestamp: int
    trade_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Replayed:
    """What replaying a history did: one `HistoryEntry` per step, and the distribution ids of the
    dividends it declared (security symbol → ids, oldest first)."""

    history: tuple[HistoryEntry, ...]
    dividends: Mapping[str, tuple[int, ...]]


def replay_history(market: ReplayMarket, history: Sequence[Action], step: Callable[[str], None]) -> Replayed:
    """Replays `history` on `market`'s chain, reporting each step through `step`, and returns what it
    did (the market itself is not changed)."""
    entries: list[HistoryEntry] = []
    dividends: dict[str, list[int]] = {}
    for number, action in enumerate(history, 1):
        try:
            summary, trade_ids = _replay(market, action, dividends)
        except ContractReverted as exc:
            raise ScenarioReplayError(f"history step {number} ({action.kind}) was refused: {exc}") from exc
        except ScenarioReplayError as exc:
            raise ScenarioReplayError(f"history step {number} ({action.kind}): {exc}") from exc
        if action.note:
            summary = f"{summary} ({action.note})"
        chain = market.chain
        entries.append(HistoryEntry(number, action.kind, summary, chain.block_number(), chain.timestamp(), trade_ids))
        step(summary)
    return Replayed(tuple(entries), {symbol: tuple(ids) for symbol, ids in dividends.items()})


def _replay(market: ReplayMarket, action: Action, dividends: dict[str, list[int]]) -> tuple[str, tuple[int, ...]]:
    match action:
        case AdvanceTime():
            return _advance_time(market, action), ()
        case Transfer():
            return _transfer(market, action), ()
        case Issue():
            return _issue(market, action), ()
        case DvPTrade():
            return _settle_trades(market, [action], batch=False)
        case DvPBatch():
            return _settle_trades(market, action.trades, batch=True)
        case CrossBorderTransfer():
            return _cross_border(market, action), ()
        case Freeze() | Unfreeze():
            frozen = isinstance(action, Freeze)
            asset = _asset(market, action.asset)
            asset.set_address_frozen(market.wallet(action.wallet), frozen, sender=market.accounts[action.by])
            verb = "froze" if frozen else "unfroze"
            reason = f": {action.reason}" if isinstance(action, Freeze) and action.reason else ""
            return f"{action.by} {verb} {action.wallet} on {action.asset}{reason}", ()
        case Designate() | RemoveDesignation():
            regime, sender = SanctionsRegime[action.regime], market.accounts[action.by]
            if isinstance(action, Designate):
                market.registry.designate(regime, market.wallet(action.party), sender=sender)
                return f"{action.by} designated {action.party} on the {action.regime} list", ()
            market.registry.remove_designation(regime, market.wallet(action.party), sender=sender)
            return f"{action.by} removed {action.party} from the {action.regime} list", ()
        case ExemptFromHoldingLimits():
            market.cash_token(action.currency).set_holding_limit_exemption(
                market.wallet(action.investor), action.exempt, sender=market.accounts[action.by]
            )
            verb = "exempted" if action.exempt else "withdrew the exemption of"
            return f"{action.by} {verb} {action.investor} from the {action.currency} holding limits", ()
        case DeclareCoupon():
            declared = _bond_agent(market, action.security).schedule_coupon(
                action.period - 1, sender=market.accounts[market.issuer_of[action.security]]
            )
            return f"coupon {action.period} of {action.security} declared (distribution {declared.distribution_id})", ()
        case PayCoupon():
            agent = _bond_agent(market, action.security)
            distribution_id = agent.coupon_distribution(action.period - 1)
            return f"coupon {action.period} of {action.security}: {_pay(market, action.security, distribution_id)}", ()
        case DeclareDividend():
            declared = _equity_agent(market, action.security).declare_dividend(
                action.amount_per_share,
                market.chain_time(action.record_date),
                market.chain_time(action.payment_date),
                sender=market.accounts[market.issuer_of[action.security]],
            )
            dividends.setdefault(action.security, []).append(declared.distribution_id)
            return (
                f"dividend of {action.amount_per_share / 100:.2f} per share on {action.security} declared "
                f"(distribution {declared.distribution_id})",
                (),
            )
        case PayDividend():
            declared_ids = dividends.get(action.security)
            if not declared_ids:
                raise ScenarioReplayError(f"no dividend of {action.security} was declared")
            return f"dividend on {action.security}: {_pay(market, action.security, declared_ids[-1])}", ()
        case Split():
            return _split(market, action), ()
    raise ScenarioReplayError(f"unknown action {action!r}")  # pragma: no cover - the union is closed


def _bond_agent(market: ReplayMarket, symbol: str) -> BondPayingAgent:
    agent = market.paying_agent(symbol)
    if not isinstance(agent, BondPayingAgent):
        raise ScenarioReplayError(f"{symbol} is not a bond")
    return agent


def _equity_agent(market: ReplayMarket, symbol: str) -> EquityPayingAgent:
    agent = market.paying_agent(symbol)
    if not isinstance(agent, EquityPayingAgent):
        raise ScenarioReplayError(f"{symbol} is not an equity")
    return agent


def _investor_wallets(market: ReplayMarket) -> list[tuple[str, str]]:
    """(reference, address) of every investor wallet, in the scenario's order."""
    out: list[tuple[str, str]] = []
    for investor in market.scenario.investors:
        for index, wallet in enumerate(market.wallets[investor.key]):
            out.append((f"{investor.key}/{index}" if index else investor.key, wallet))
    return out


def _pay(market: ReplayMarket, symbol: str, distribution_id: int) -> str:
    """Funds a distribution from the issuer's treasury and pays every wallet that held the security at
    its record date, in batches of the agent's maximum. Payments the rules refuse are held."""
    agent, token = market.paying_agent(symbol), market.security(symbol)
    issuer_key = market.issuer_of[symbol]
    issuer, treasury = market.accounts[issuer_key], market.treasuries[issuer_key]
    distribution = agent.distribution(distribution_id)
    cash = CashToken(market.chain, distribution.cash)
    cash.approve(agent.address, agent.required_funding(distribution_id), sender=treasury)
    agent.fund(distribution_id, sender=treasury)
    # Every wallet that ever received units: the agent pays each its record-date entitlement and skips
    # the wallets owed nothing (one log scan instead of a balance read per wallet).
    holders = holders_of(token)
    by_address = {wallet: ref for ref, wallet in _investor_wallets(market)}
    paid, held = 0, []
    size = agent.max_batch()
    for start in range(0, len(holders), size):
        batch = agent.pay_batch(distribution_id, holders[start : start + size], sender=issuer)
        paid += len(batch.paid)
        held += [f"{by_address.get(h.holder, h.holder)}: {payment_code_name(h.code)}" for h in batch.held]
    total = agent.distribution(distribution_id).paid
    currency = next(c for c, s in market.cash_symbol_of.items() if market.cash[s].address == cash.address)
    summary = f"{currency} {total / 100:,.2f} paid to {paid} wallets"
    if held:
        summary += f", {len(held)} held ({'; '.join(held)})"
    return summary


def _split(market: ReplayMarket, action: Split) -> str:
    agent, token = _equity_agent(market, action.security), market.security(action.security)
    issuer = market.accounts[market.issuer_of[action.security]]
    agent.start_split(action.ratio, sender=issuer)
    wallets = holders_of(token)  # the split skips the wallets that hold nothing now
    for start in range(0, len(wallets), SPLIT_BATCH):
        if not token.split_in_progress().in_progress:
            break
        agent.split_batch(wallets[start : start + SPLIT_BATCH], sender=issuer)
    if token.split_in_progress().in_progress:
        raise ScenarioReplayError(f"the {action.ratio}-for-1 split of {action.security} left units unsplit")
    holding = sum(1 for wallet in wallets if token.balance_of(wallet) > 0)
    return f"{action.ratio}-for-1 split of {action.security}: {holding} wallets hold {token.total_supply()} shares"


def _asset(market: ReplayMarket, symbol: str) -> SecurityToken | CashToken:
    if symbol in ("GBP", "USD"):
        return market.cash_token(symbol)
    return market.security(symbol)


def _advance_time(market: ReplayMarket, action: AdvanceTime) -> str:
    chain = market.chain
    if not isinstance(chain, DevChain):
        raise ScenarioReplayError("moving time needs a chain with dev powers")
    target = market.chain_time(action.to)
    now = chain.timestamp()
    if target <= now:
        raise ScenarioReplayError(
            f"{action.to.isoformat()} is chain time {target}, not after the newest block ({now}); "
            "loading took the chain past it"
        )
    chain.time_travel(target)
    return f"time advanced to {action.to.strftime('%Y-%m-%d %H:%M')} UTC"


def _transfer(market: ReplayMarket, action: Transfer) -> str:
    token: RestrictedToken = _asset(market, action.asset)
    sender, receiver = market.wallet(action.sender), market.wallet(action.receiver)
    what = f"{_amount(action.asset, action.amount)} from {action.sender} to {action.receiver}"
    if action.expect_refusal is None:
        token.transfer(receiver, action.amount, sender=sender)
        return f"transferred {what}"
    try:
        token.transfer(receiver, action.amount, sender=sender)
    except ContractReverted as exc:
        if exc.rule_name != action.expect_refusal:
            raise ScenarioReplayError(
                f"transfer of {what} was expected to be refused by {action.expect_refusal}, "
                f"but {exc.rule_name or exc.error_name} refused it"
            ) from exc
        return f"transfer of {what} refused by {exc.rule_name}, as expected"
    raise ScenarioReplayError(
        f"transfer of {what} was expected to be refused by {action.expect_refusal}, but it went through"
    )


def _issue(market: ReplayMarket, action: Issue) -> str:
    """Issues units: in the named offering when the security has offerings (its rules apply), else by
    a plain mint; a refusal the step expects must come from exactly that rule."""
    token = market.security(action.security)
    issuer = market.accounts[market.issuer_of[action.security]]
    receiver = market.wallet(action.receiver)
    where = f" in offering {action.offering}" if action.offering else ""
    what = f"{action.amount} {action.security} to {action.receiver}{where}"
    try:
        if action.offering is None:
            token.mint(receiver, action.amount, sender=issuer)
        else:
            offerings = OfferingRegistry.for_token(token)
            if offerings is None:
                raise ScenarioReplayError(f"{action.security} has no offerings")
            offering_id = market.scenario_security(action.security).offering_id(action.offering)
            offerings.issue(offering_id, receiver, action.amount, sender=issuer)
    except ContractReverted as exc:
        if action.expect_refusal is None or exc.rule_name != action.expect_refusal:
            raise
        return f"issuance of {what} refused by {exc.rule_name}, as expected"
    if action.expect_refusal is not None:
        raise ScenarioReplayError(
            f"issuance of {what} was expected to be refused by {action.expect_refusal}, but it went through"
        )
    return f"{action.amount} {action.security} issued to {action.receiver}{where}"


def _amount(asset: str, amount: int) -> str:
    if asset in ("GBP", "USD"):
        return f"{asset} {amount / 100:,.2f}"
    return f"{amount} {asset}"


def _settlement(market: ReplayMarket) -> DvPSettlement:
    if market.settlement is None:
        raise ScenarioReplayError("delivery versus payment needs a cash token in the scenario")
    return market.settlement


def _settle_trades(market: ReplayMarket, trades: Sequence[TradeTerms], *, batch: bool) -> tuple[str, tuple[int, ...]]:
    """Agrees each trade (allowances, proposal, affirmation) and settles them: one `settle` per trade,
    or one `settleBatch` for all."""
    settlement = _settlement(market)
    # Allowances are set to what the trades of this step need in all (approve replaces, not adds).
    needs: dict[tuple[str, str], tuple[RestrictedToken, int]] = {}
    for trade in trades:
        security, cash = market.security(trade.security), market.cash_token(trade.currency)
        seller, buyer = market.wallet(trade.seller), market.wallet(trade.buyer)
        held = needs.get((security.address, seller), (security, 0))[1]
        needs[(security.address, seller)] = (security, held + trade.quantity)
        owed = needs.get((cash.address, buyer), (cash, 0))[1]
        needs[(cash.address, buyer)] = (cash, owed + trade.cash_amount)
    for (_, owner), (token, amount) in needs.items():
        token.approve(settlement.address, amount, sender=owner)
    now = market.chain.timestamp()
    trade_ids: list[int] = []
    for trade in trades:
        seller, buyer = market.wallet(trade.seller), market.wallet(trade.buyer)
        proposer, affirmer = (seller, buyer) if trade.proposer == "seller" else (buyer, seller)
        proposed = settlement.propose(
            seller=seller,
            buyer=buyer,
            security=market.security(trade.security).address,
            quantity=trade.quantity,
            cash=market.cash_token(trade.currency).address,
            cash_amount=trade.cash_amount,
            deadline=now + trade.deadline_days * SECONDS_PER_DAY,
            sender=proposer,
        )
        settlement.affirm(proposed.trade_id, sender=affirmer)
        trade_ids.append(proposed.trade_id)
    if batch:
        results = settlement.settle_batch(trade_ids, sender=market.operator).results
    else:
        results = (settlement.settle(trade_ids[0], sender=market.operator).result,)
    settled = 0
    for trade, result in zip(trades, results, strict=True):
        what = (
            f"{trade.quantity} {trade.security} from {trade.seller} to {trade.buyer} at {trade.currency} {trade.price}"
        )
        if result.settled:
            if trade.expect_failure is not None:
                raise ScenarioReplayError(
                    f"trade {result.trade_id} ({what}) settled; {trade.expect_failure} was expected"
                )
            settled += 1
            continue
        failure = _failure_name(result)
        if failure != trade.expect_failure:
            raise ScenarioReplayError(f"trade {result.trade_id} ({what}) failed to settle: {failure}")
    if len(trades) == 1:
        trade = trades[0]
        what = (
            f"{trade.quantity} {trade.security} from {trade.seller} to {trade.buyer} at {trade.currency} {trade.price}"
        )
        outcome = "settled" if settled else f"failed as expected ({trade.expect_failure})"
        return f"DvP trade {trade_ids[0]}: {what} {outcome}", tuple(trade_ids)
    return f"DvP batch of {len(trades)} trades: {settled} settled, {len(trades) - settled} failed as expected", tuple(
        trade_ids
    )


def _failure_name(result: SettlementResult) -> str:
    """The name of the rule (or DvP condition) that stopped a settlement."""
    return code_name(result.code)


def _cross_border(market: ReplayMarket, action: CrossBorderTransfer) -> str:
    token = market.security(action.security)
    sender, receiver = market.wallet(action.sender), market.wallet(action.receiver)
    receipt = token.request_cross_border_transfer(receiver, action.amount, sender=sender)
    (requested,) = token.events(receipt, "CrossBorderTransferRequested")
    transfer_id = int(requested.args["id"])
    jurisdictions = {
        investor.key: investor.jurisdiction
        for investor in market.scenario.investors
        if investor.key in (action.sender.split("/")[0], action.receiver.split("/")[0])
    }
    for side in (action.sender, action.receiver):
        jurisdiction = jurisdictions[side.split("/")[0]]
        regulator = next((r for r in market.scenario.regulators if r.jurisdiction == jurisdiction), None)
        if regulator is None:
            raise ScenarioReplayError(f"no regulator of {jurisdiction} to approve the cross-border transfer")
        token.approve_cross_border_transfer(transfer_id, sender=market.accounts[regulator.key])
    return (
        f"cross-border transfer {transfer_id}: {action.amount} {action.security} from {action.sender} "
        f"to {action.receiver}, approved by both regulators"
    )
