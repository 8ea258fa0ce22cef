"""A deployed market: the registry, the securities and the participants of a scenario, on a chain."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from sandbox.chain.base import Chain, DevChain, Receipt
from sandbox.contracts.cash_token import CashToken
from sandbox.contracts.corporate_actions import BondPayingAgent, BondTerms, DayCount, EquityPayingAgent
from sandbox.contracts.offerings import Exemption, OfferingRegistry, OfferingTerms
from sandbox.contracts.registry import InvestorRegistry
from sandbox.contracts.restricted_token import RestrictedToken
from sandbox.contracts.security_token import SecurityToken, SecurityTokenExtension, Terms
from sandbox.contracts.settlement import BatchResult, DvPSettlement, ProposedTrade, SingleSettlement
from sandbox.errors import ContractReverted, SandboxError
from sandbox.replay import HistoryEntry, replay_history
from sandbox.rules import RULEBOOK_BY_CODE, Family, HolderType, InvestorCategory, Jurisdiction
from sandbox.scenario import CashTokenSpec, DayCountName, RulesSpec, Scenario, SecuritySpec

SECONDS_PER_DAY = 86_400
#: Units (whole tokens) a scenario's home regulator approves beyond the seeded holdings.
ISSUANCE_HEADROOM = 1_000_000

#: The scenario's day-count names → the bond paying agent's conventions.
DAY_COUNTS: dict[DayCountName, DayCount] = {
    "30/360": DayCount.THIRTY_360_BOND_BASIS,
    "30E/360": DayCount.THIRTY_E_360,
    "ACT/365": DayCount.ACTUAL_365_FIXED,
    "30/360 US": DayCount.THIRTY_360_US,
    "ACT/ACT ICMA": DayCount.ACTUAL_ACTUAL_ICMA,
}
#: An issuer's treasury is registered as a business investor of its jurisdiction.
TREASURY_CATEGORY = {"GB": InvestorCategory.UK_ELIGIBLE_COUNTERPARTY, "US": InvestorCategory.US_QIB}

#: Called after each step of loading with (steps done, steps in all, what was done).
Progress = Callable[[int, int, str], None]

#: The largest ERC-20 allowance; OpenZeppelin's ERC-20 never spends an allowance of this much down.
MAX_ALLOWANCE = 2**256 - 1


class SymbolTaken(SandboxError):
    """A security or cash token of this symbol exists, or is being created right now."""

    def __init__(self, symbol: str) -> None:
        super().__init__(f"a token {symbol!r} already exists")
        self.symbol = symbol


class InvalidInvestorAttributes(SandboxError):
    """Attributes the registry would refuse (`InvestorAttributes.refusal`), caught before sending anything."""


@dataclass(frozen=True)
class MarketSnapshot:
    chain_snapshot: Any
    securities: dict[str, SecurityToken]
    issuer_of: dict[str, str]
    cash: dict[str, CashToken]
    cash_issuer_of: dict[str, str]
    accounts: dict[str, str]


@dataclass
class Market:
    chain: Chain
    scenario: Scenario
    operator: str
    registry: InvestorRegistry
    securities: dict[str, SecurityToken] = field(default_factory=dict)
    #: participant key → chain address
    accounts: dict[str, str] = field(default_factory=dict)
    #: security symbol → issuer key
    issuer_of: dict[str, str] = field(default_factory=dict)
    #: cash token symbol → facade, and → issuer key
    cash: dict[str, CashToken] = field(default_factory=dict)
    cash_issuer_of: dict[str, str] = field(default_factory=dict)
    #: currency ("GBP", "USD") → cash token symbol
    cash_symbol_of: dict[str, str] = field(default_factory=dict)
    #: the delivery-versus-payment contract (deployed when the scenario has cash tokens)
    settlement: DvPSettlement | None = None
    #: the shared `SecurityTokenExtension` new securities delegate their cold powers to
    extension: str | None = None
    #: called with the market after it changes (a security added): e.g. to persist its deployment
    listeners: list[Callable[[Market], None]] = field(default_factory=list, metadata={"transient": True})
    #: investor key → every wallet of the investor (its first wallet, then ``key/1``, ``key/2``, …)
    wallets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: seconds added to a date of the scenario's calendar to get chain time (see `sandbox.scenario`)
    calendar_offset: int = 0
    #: what replaying the scenario's history did, step by step
    history: list[HistoryEntry] = field(default_factory=list)
    #: issuer key → its treasury wallet (funds coupons and dividends)
    treasuries: dict[str, str] = field(default_factory=dict)
    #: security symbol → the paying agent of a bond or share class
    paying_agents: dict[str, BondPayingAgent | EquityPayingAgent] = field(default_factory=dict)
    #: guards `_account_locks` and `_reserved_symbols`
    _guard: threading.Lock = field(
        default_factory=threading.Lock, repr=False, compare=False, metadata={"transient": True}
    )
    #: account (lower-case) → the lock held while the sandbox reads that account's chain state and sends
    #: what depends on it (see `accounts_locked`)
    _account_locks: dict[str, threading.Lock] = field(
        default_factory=dict, repr=False, compare=False, metadata={"transient": True}
    )
    #: symbols of securities being deployed (see `create_security`)
    _reserved_symbols: set[str] = field(default_factory=set, repr=False, compare=False, metadata={"transient": True})

    def snapshot(self) -> MarketSnapshot:
        """Marks the chain and this object's own bookkeeping (securities added later, ...); `revert`
        returns both to it. Needs a chain with dev powers."""
        if not isinstance(self.chain, DevChain):
            raise SandboxError("snapshots need a chain with dev powers (the embedded chain or anvil)")
        return MarketSnapshot(
            self.chain.snapshot(),
            dict(self.securities),
            dict(self.issuer_of),
            dict(self.cash),
            dict(self.cash_issuer_of),
            dict(self.accounts),
        )

    def revert(self, snapshot: MarketSnapshot) -> None:
        assert isinstance(self.chain, DevChain)
        self.chain.revert(snapshot.chain_snapshot)
        self.securities, self.issuer_of = dict(snapshot.securities), dict(snapshot.issuer_of)
        self.cash, self.cash_issuer_of = dict(snapshot.cash), dict(snapshot.cash_issuer_of)
        self.accounts = dict(snapshot.accounts)

    def add_security(self, symbol: str, token: SecurityToken, issuer_key: str) -> None:
        """Adds a security created after loading (e.g. through the gateway)."""
        if symbol in self.securities:
            raise SandboxError(f"security {symbol!r} already exists")
        self.securities[symbol] = token
        self.issuer_of[symbol] = issuer_key
        for listener in self.listeners:
            listener(self)

    def security(self, symbol: str) -> SecurityToken:
        try:
            return self.securities[symbol]
        except KeyError:
            raise SandboxError(f"no security {symbol!r} in this market") from None

    def symbol_of(self, address: str) -> str | None:
        """The symbol of the security or cash token deployed at `address` (None if it is neither)."""
        for symbol, token in [*self.securities.items(), *self.cash.items()]:
            if token.address.lower() == address.lower():
                return symbol
        return None

    def scenario_security(self, symbol: str) -> SecuritySpec:
        """The scenario's spec of security `symbol` (its offerings, in particular)."""
        spec = next((s for s in self.scenario.securities if s.symbol == symbol), None)
        if spec is None:
            raise SandboxError(f"no security {symbol!r} in this market's scenario")
        return spec

    def offerings(self, symbol: str) -> OfferingRegistry | None:
        """The offering registry of security `symbol`, or None when it issues without offerings."""
        return OfferingRegistry.for_token(self.security(symbol))

    def open_offering(self, symbol: str, terms: OfferingTerms, *, sender: str) -> tuple[OfferingRegistry, int]:
        """Opens an offering of security `symbol` for its issuer `sender`; the security's first
        offering deploys and attaches its `OfferingRegistry` (on chain, only before anything is issued:
        `SecurityToken.setOfferingRegistry` refuses otherwise). Returns the registry and the id."""
        token = self.security(symbol)
        offerings = OfferingRegistry.for_token(token)
        if offerings is None:
            offerings = OfferingRegistry.deploy(self.chain, token=token, registry=self.registry.address, sender=sender)
            offerings.attach(admin=sender)
        return offerings, offerings.open_offering(terms, sender=sender)

    def cash_token(self, currency: str) -> CashToken:
        """The cash token of a currency ("GBP", "USD")."""
        symbol = self.cash_symbol_of.get(currency)
        if symbol is None or symbol not in self.cash:
            raise SandboxError(f"no {currency} cash token in this market")
        return self.cash[symbol]

    def wallet(self, ref: str) -> str:
        """The address of a scenario wallet reference: ``alice`` (first wallet) or ``alice/2``."""
        key, _, index = ref.partition("/")
        wallets = self.wallets.get(key)
        if wallets is None or int(index or 0) >= len(wallets):
            raise SandboxError(f"no wallet {ref!r} in this market")
        return wallets[int(index or 0)]

    def chain_time(self, moment: datetime) -> int:
        """Chain time (Unix seconds) of a moment of the scenario's calendar."""
        return int(moment.timestamp()) + self.calendar_offset

    def chain_date(self, day: date) -> int:
        """Chain time of 00:00 UTC on a date of the scenario's calendar."""
        return self.chain_time(datetime.combine(day, datetime.min.time(), UTC))

    def paying_agent(self, symbol: str) -> BondPayingAgent | EquityPayingAgent:
        try:
            return self.paying_agents[symbol]
        except KeyError:
            raise SandboxError(f"security {symbol!r} has no paying agent in this market") from None

    # ------------------------------------------------------------------ writes that read first
    #
    # An ERC-20 allowance is set, not added to: raising it means reading it and sending a new value.
    # Two such read-modify-writes for one account must not interleave (the second would overwrite the
    # first), nor a spend of the allowance fall between a read and its write. So every write of the
    # sandbox's that depends on an account's chain state runs under that account's lock, and refusable
    # sends go first: a request the chain refuses leaves nothing behind.

    @contextmanager
    def accounts_locked(self, *accounts: str) -> Iterator[None]:
        """Holds the locks of `accounts` (taken in one global order, so callers never deadlock): no other
        write of this market's for those accounts runs until the block ends. Not reentrant."""
        with self._guard:
            locks = [self._account_locks.setdefault(a, threading.Lock()) for a in sorted({a.lower() for a in accounts})]
        with ExitStack() as stack:
            for lock in locks:
                stack.enter_context(lock)
            yield

    def token_at(self, address: str) -> SecurityToken | CashToken:
        """The market's security or cash token deployed at `address`."""
        symbol = self.symbol_of(address)
        if symbol is None:
            raise SandboxError(f"no security or cash token of this market at {address}")
        return self.securities[symbol] if symbol in self.securities else self.cash[symbol]

    def _dvp(self) -> DvPSettlement:
        if self.settlement is None:
            raise SandboxError("this market has no delivery-versus-payment contract")
        return self.settlement

    @staticmethod
    def _allow_more(token: RestrictedToken, owner: str, spender: str, amount: int) -> None:
        """Raises `owner`'s allowance to `spender` by `amount`, saturating at `MAX_ALLOWANCE` (an
        allowance that large already covers everything). Call with `owner`'s lock held."""
        current = token.allowance(owner, spender)
        wanted = min(current + amount, MAX_ALLOWANCE)
        if wanted != current:
            token.approve(spender, wanted, sender=owner)

    def propose_trade(
        self,
        *,
        proposer: str,
        seller: str,
        buyer: str,
        security: str,
        quantity: int,
        cash: str,
        cash_amount: int,
        deadline: int,
    ) -> ProposedTrade:
        """Proposes a DvP trade for `proposer` (the seller or the buyer; `security` and `cash` are
        symbols) and raises the proposer's allowance to the DvP contract by what the trade takes from
        it, so the trade settles once affirmed. The proposal is sent first: if the chain refuses it,
        nothing was sent."""
        dvp = self._dvp()
        security_token, cash_token = self.security(security), self.cash[cash]
        gives: RestrictedToken = security_token if proposer == seller else cash_token
        with self.accounts_locked(proposer):
            proposed = dvp.propose(
                seller=seller,
                buyer=buyer,
                security=security_token.address,
                quantity=quantity,
                cash=cash_token.address,
                cash_amount=cash_amount,
                deadline=deadline,
                sender=proposer,
            )
            self._allow_more(gives, proposer, dvp.address, quantity if gives is security_token else cash_amount)
        return proposed

    def affirm_trade(self, trade_id: int, *, sender: str) -> Receipt:
        """Affirms trade `trade_id` for `sender` (the party that did not propose it) and raises its
        allowance to the DvP contract by what the trade takes from it. The affirmation is sent first:
        if the chain refuses it, nothing was sent."""
        dvp = self._dvp()
        trade = dvp.trade(trade_id)
        selling = sender.lower() == trade.seller.lower()
        gives = self.token_at(trade.security if selling else trade.cash)  # refused before anything is sent
        with self.accounts_locked(sender):
            receipt = dvp.affirm(trade_id, sender=sender)
            self._allow_more(gives, sender, dvp.address, trade.quantity if selling else trade.cash_amount)
        return receipt

    def settle_trade(self, trade_id: int, *, sender: str) -> SingleSettlement:
        """Settles trade `trade_id` (spending both parties' allowances) with both parties' locks held,
        so no allowance raise of theirs overwrites the spend."""
        dvp = self._dvp()
        trade = dvp.trade(trade_id)
        with self.accounts_locked(trade.seller, trade.buyer):
            return dvp.settle(trade_id, sender=sender)

    def settle_trades(self, trade_ids: Sequence[int], *, sender: str) -> BatchResult:
        """`settle_trade` for many trades in one transaction (every party's lock held)."""
        dvp = self._dvp()
        parties = [p for t in {dvp.trade(i) for i in trade_ids} for p in (t.seller, t.buyer)]
        with self.accounts_locked(*parties):
            return dvp.settle_batch(trade_ids, sender=sender)

    def fund_distribution(self, symbol: str, distribution_id: int, *, payer: str) -> Receipt:
        """Funds distribution `distribution_id` of `symbol`'s paying agent from `payer`, approving the
        agent for exactly the shortfall it will pull, and only when that is all that stands in the way:
        the funding is first run as a dry run (an eth_call) and every other refusal (state, dates, role,
        the payer's balance, the cash token's rules) is answered before anything is sent."""
        agent = self.paying_agent(symbol)
        with self.accounts_locked(payer):
            try:
                agent.preview_fund(distribution_id, sender=payer)
            except ContractReverted as exc:
                if exc.error_name != "PayingAgentFundingFailed":
                    raise
                cash = self.token_at(agent.distribution(distribution_id).cash)
                shortfall = int(exc.args_by_name["shortfall"])
                allowed = cash.allowance(payer, agent.address)
                if (
                    allowed >= shortfall
                    or cash.balance_of(payer) < shortfall
                    or cash.detect_transfer_restriction(payer, agent.address, shortfall) != 0
                ):
                    raise  # not (only) the allowance: the dry run's refusal stands
                cash.approve(agent.address, shortfall, sender=payer)
                try:
                    return agent.fund(distribution_id, sender=payer)
                except ContractReverted:
                    cash.approve(agent.address, allowed, sender=payer)  # leave the allowance as it was
                    raise
            return agent.fund(distribution_id, sender=payer)

    def update_investor(
        self,
        identity: str,
        *,
        category: InvestorCategory | None = None,
        kyc_valid_until: int | None = None,
        holder_type: HolderType | None = None,
        us_person: bool | None = None,
        qib: bool | None = None,
        accredited_until: int | None = None,
        sender: str,
    ) -> Receipt:
        """Changes an investor's category, KYC expiry and/or attributes, keeping what is not given as the
        registry holds it. The registry takes each group at once, so this reads the record and writes
        it back: under the identity's lock, so two partial updates never undo each other. Attributes the
        registry would refuse (a natural person as QIB) raise `InvalidInvestorAttributes` before anything
        is sent. Returns the last receipt."""
        with self.accounts_locked(identity):
            current = self.registry.investor(identity)
            was = current.attributes
            attributes = was.overridden(
                holder_type=holder_type, us_person=us_person, qib=qib, accredited_until=accredited_until
            )
            if attributes.refusal is not None:
                raise InvalidInvestorAttributes(attributes.refusal)
            receipt = None
            if attributes != was:
                receipt = self.registry.set_investor_attributes(identity, attributes, sender=sender)
            if category is not None or kyc_valid_until is not None or receipt is None:
                receipt = self.registry.update_investor(
                    identity,
                    current.category if category is None else category,
                    current.kyc_valid_until if kyc_valid_until is None else kyc_valid_until,
                    sender=sender,
                )
            return receipt

    def create_security(
        self,
        *,
        symbol: str,
        issuer_key: str,
        deploy: Callable[[], SecurityToken],
    ) -> SecurityToken:
        """Deploys a security with `deploy` and adds it under `symbol` for `issuer_key`. The symbol is
        reserved before anything is sent and released if the deployment fails, so of concurrent
        creations of one symbol exactly one deploys; the others raise `SymbolTaken`."""
        with self._guard:
            if symbol in self.securities or symbol in self.cash or symbol in self._reserved_symbols:
                raise SymbolTaken(symbol)
            self._reserved_symbols.add(symbol)
        try:
            token = deploy()
            self.add_security(symbol, token, issuer_key)
        finally:
            with self._guard:
                self._reserved_symbols.discard(symbol)
        return token

    def deploy_security(
        self,
        *,
        symbol: str,
        name: str,
        issuer_key: str,
        issuer_account: str,
        home: str,
        admitted: Sequence[str],
        decimals: int,
        rules: RulesSpec,
    ) -> SecurityToken:
        """Deploys a new security of an issuer (its admin and sender) on the market's registry and shared
        extension, with `rules`, and adds it under `symbol` (reserved first, see `create_security`; raises
        `SymbolTaken`). Nothing is issued until the home regulator approves."""

        def deploy() -> SecurityToken:
            return SecurityToken.deploy(
                self.chain,
                name=name,
                symbol=symbol,
                decimals=decimals,
                registry=self.registry.address,
                home_jurisdiction=Jurisdiction[home],
                admitted_jurisdictions=[Jurisdiction[j] for j in admitted],
                admin=issuer_account,
                sender=issuer_account,
                extension=self.extension,
                terms=terms_of(rules),
            )

        return self.create_security(symbol=symbol, issuer_key=issuer_key, deploy=deploy)

    def explain_code(self, code: int, token: str | None) -> tuple[str | None, str]:
        """The machine name of a settlement's failure `code` (any family's, from `sandbox.rules`) and its
        sentence, as stated by the contract that states it: the failing `token` for its own rulebook, else
        the DvP contract."""
        rule = RULEBOOK_BY_CODE.get(code)
        stating: RestrictedToken | None = None
        if rule is not None and rule.family is Family.TOKEN:
            stating = next((t for t in self.securities.values() if t.address == token), None)
        elif rule is not None and rule.family is Family.CASH:
            stating = next((t for t in self.cash.values() if t.address == token), None)
        if stating is not None:
            return rule.name if rule else None, stating.rule_message(code)
        if self.settlement is None:
            raise SandboxError("this market has no DvP contract to explain a settlement code")
        return (rule.name if rule else None), self.settlement.message_for_settlement_code(code)


def terms_of(rules: RulesSpec) -> Terms:
    """The on-chain `Terms` of a scenario's rule parameters. (Rule 144 and Regulation S periods are not
    among them: they follow each lot's offering.)"""

    def category(name: str | None) -> int:
        return int(InvestorCategory[name]) if name else 0

    return Terms(
        us_min_category=category(rules.us_min_category),
        uk_min_category=category(rules.uk_min_category),
        cross_border_threshold=rules.cross_border_threshold,
        approval_window=rules.approval_window_days * SECONDS_PER_DAY,
        max_investor_balance=rules.max_investor_balance,
        max_holders=rules.max_holders,
        max_uk_holders=rules.max_uk_holders,
        max_us_holders=rules.max_us_holders,
        max_us_non_accredited=rules.max_us_non_accredited,
        cross_border_window=rules.cross_border_window_days * SECONDS_PER_DAY,
    )


def _loading_steps(scenario: Scenario) -> int:
    """The steps `load_scenario` reports progress for (each sends one transaction or a few)."""
    return (
        1
        + len(scenario.regulators)
        + len(scenario.issuers)
        + len(scenario.investors)
        + sum(1 + len(s.holdings) + sum(len(o.holdings) for o in s.offerings) for s in scenario.securities)
        + (1 if scenario.cash_tokens else 0)
        + sum(1 + len(c.holdings) for c in scenario.cash_tokens)
        + sum(1 for i in scenario.issuers if i.treasury_account is not None)
        + sum(1 for s in scenario.securities if s.bond is not None or s.equity is not None)
        + len(scenario.history)
    )


#: Blocks the loading of a scenario mines per progress step, at most (the demo: 51 blocks, 35 steps).
_BLOCKS_PER_STEP_BOUND = 2


def load_scenario(chain: Chain, scenario: Scenario, progress: Progress | None = None) -> Market:
    """Deploys the registry and securities of `scenario` and issues its holdings."""
    if len(chain.accounts) < scenario.accounts_needed:
        raise SandboxError(
            f"scenario {scenario.name!r} needs {scenario.accounts_needed} accounts; the chain has {len(chain.accounts)}"
        )
    address = [a.address for a in chain.accounts]
    operator = address[scenario.operator.account]
    steps = _loading_steps(scenario)
    done = 0

    def step(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, steps, what)

    if any(a.kind == "advance_time" for a in scenario.history) and not isinstance(chain, DevChain):
        raise SandboxError(f"scenario {scenario.name!r} moves time, which needs a chain with dev powers")
    registry = InvestorRegistry.deploy(chain, admin=operator, sender=operator)
    market = Market(chain=chain, scenario=scenario, operator=operator, registry=registry)
    if scenario.calendar_start is not None:
        # Anchor the scenario's day 0 at the chain's day when loading begins.
        start_of_day = chain.timestamp() - chain.timestamp() % SECONDS_PER_DAY
        day0 = datetime.combine(scenario.calendar_start, datetime.min.time(), UTC)
        market.calendar_offset = start_of_day - int(day0.timestamp())
    step("investor registry deployed")
    for regulator in scenario.regulators:
        market.accounts[regulator.key] = address[regulator.account]
        registry.set_regulator(address[regulator.account], Jurisdiction[regulator.jurisdiction], sender=operator)
        step(f"regulator {regulator.name} registered")
    for issuer in scenario.issuers:
        market.accounts[issuer.key] = address[issuer.account]
        # Issuers onboard their own investors (the registry's onboarding agents).
        registry.grant_role("ONBOARDING_AGENT_ROLE", address[issuer.account], sender=operator)
        step(f"issuer {issuer.name} made an onboarding agent")
    now = chain.timestamp()
    for investor in scenario.investors:
        wallet = address[investor.account]
        market.accounts[investor.key] = wallet
        market.wallets[investor.key] = tuple(address[a] for a in investor.all_accounts)
        # The first wallet's address is the investor's identity; further wallets link to it.
        registry.register_investor(
            wallet,
            wallet,
            Jurisdiction[investor.jurisdiction],
            InvestorCategory[investor.category],
            now + investor.kyc_valid_days * SECONDS_PER_DAY,
            attributes=investor.attributes(now) if investor.gives_attributes else None,
            sender=operator,
        )
        for extra in investor.extra_accounts:
            registry.add_wallet(wallet, address[extra], sender=operator)
        step(f"investor {investor.name} onboarded")
    for issuer in scenario.issuers:
        if issuer.treasury_account is None:
            continue
        # A business investor of the issuer's jurisdiction, so it may hold the cash that funds payments.
        treasury = address[issuer.treasury_account]
        market.treasuries[issuer.key] = treasury
        market.wallets[issuer.key] = (treasury,)
        registry.register_investor(
            treasury,
            treasury,
            Jurisdiction[issuer.jurisdiction],
            TREASURY_CATEGORY[issuer.jurisdiction],
            now + 10 * 365 * SECONDS_PER_DAY,
            sender=operator,
        )
        step(f"treasury of {issuer.name} onboarded")
    extension = SecurityTokenExtension.deploy(chain, sender=operator).address
    market.extension = extension
    for spec in scenario.securities:
        issuer_account = market.accounts[spec.issuer]
        home_regulator = next((r for r in scenario.regulators if r.jurisdiction == spec.home), None)
        if home_regulator is None:
            raise SandboxError(f"security {spec.symbol}: no regulator of its home jurisdiction {spec.home}")
        token = SecurityToken.deploy(
            chain,
            name=spec.name,
            symbol=spec.symbol,
            decimals=spec.decimals,
            registry=registry.address,
            home_jurisdiction=Jurisdiction[spec.home],
            admitted_jurisdictions=[Jurisdiction[j] for j in spec.admitted],
            admin=issuer_account,
            sender=issuer_account,
            extension=extension,
            terms=terms_of(spec.rules),
            record_dates=spec.record_dates,
        )
        # The DSS notary gate: the home regulator approves issuance before anything is minted.
        offered = sum(sum(o.holdings.values()) for o in spec.offerings)
        token.approve_issuance(
            sum(spec.holdings.values()) + offered + ISSUANCE_HEADROOM * 10**spec.decimals,
            sender=address[home_regulator.account],
        )
        market.securities[spec.symbol] = token
        market.issuer_of[spec.symbol] = spec.issuer
        step(f"security {spec.symbol} deployed")
        if spec.bond is None and spec.equity is None:
            if spec.offerings:
                _open_offerings(market, spec, token, step)
            else:
                _issue_holdings(market, spec, step)
    if scenario.cash_tokens:
        market.settlement = DvPSettlement.deploy(chain, sender=operator)
        step("delivery-versus-payment contract deployed")
    for cash_spec in scenario.cash_tokens:
        _load_cash(market, cash_spec, step)
    # Bonds and share classes get their paying agent before any unit exists (record dates can only be
    # switched on at zero supply), once the cash tokens they pay in are deployed.
    for spec in scenario.securities:
        if spec.bond is not None or spec.equity is not None:
            _deploy_paying_agent(market, spec)
            step(f"paying agent of {spec.symbol} deployed")
            if spec.offerings:
                _open_offerings(market, spec, market.securities[spec.symbol], step)
            else:
                _issue_holdings(market, spec, step)
    if scenario.history:
        market.history.extend(replay_history(market, scenario.history, step).history)
    return market


def _open_offerings(market: Market, spec: SecuritySpec, token: SecurityToken, step: Callable[[str], None]) -> None:
    """Deploys and attaches the security's `OfferingRegistry`, records the issuer's reporting status,
    opens each offering (ids 1, 2, ... in the order listed) and issues its holdings in it."""
    issuer = market.accounts[spec.issuer]
    offerings = OfferingRegistry.deploy(market.chain, token=token, registry=market.registry.address, sender=issuer)
    offerings.attach(admin=issuer)
    if spec.reporting_since is not None:
        offerings.set_reporting_since(market.chain_date(spec.reporting_since), sender=issuer)
    for offering in spec.offerings:
        terms = OfferingTerms(
            Exemption[offering.exemption],
            market.chain_time(offering.first_offer),
            market.chain_time(offering.closing),
            offering.equity,
        )
        offerings.open_offering(terms, sender=issuer)
    for number, offering in enumerate(spec.offerings, 1):
        for holder, amount in offering.holdings.items():
            offerings.issue(number, market.wallet(holder), amount, sender=issuer)
            step(f"{amount} {spec.symbol} issued to {holder} in offering {offering.key}")


def _issue_holdings(market: Market, spec: SecuritySpec, step: Callable[[str], None]) -> None:
    token, issuer = market.securities[spec.symbol], market.accounts[spec.issuer]
    for holder, amount in spec.holdings.items():
        token.mint(market.wallet(holder), amount, sender=issuer)
        step(f"{amount} {spec.symbol} issued to {holder}")


def _deploy_paying_agent(market: Market, spec: SecuritySpec) -> None:
    """Deploys and wires the bond's or share class's paying agent; the issuer's treasury may fund and
    pay (ISSUER_ROLE)."""
    token, issuer = market.securities[spec.symbol], market.accounts[spec.issuer]
    cash_issuer = market.accounts[market.cash_issuer_of[market.cash_symbol_of[_paying_currency(spec)]]]
    cash = market.cash_token(_paying_currency(spec))
    agent: BondPayingAgent | EquityPayingAgent
    if spec.bond is not None:
        bond = spec.bond
        limit = token.issuance_approval().limit
        terms = BondTerms(
            isin=bond.isin,
            cash=cash.address,
            face_value=bond.face_value,
            coupon_rate_bps=bond.coupon_bps,
            day_count=DAY_COUNTS[bond.day_count],
            issue_date=market.chain_date(bond.issue_date),
            coupon_dates=tuple(market.chain_date(d) for d in bond.coupon_dates),
            maturity=market.chain_date(bond.maturity),
            issuance_limit=limit,
            payment_dates=tuple(market.chain_date(d) for d in bond.payment_dates()),
            # The token's record key is the last second on the register of record: `balanceOfAt` is
            # the balance at the end of that second, so a transfer stamped at close itself is after it.
            record_dates=tuple(market.chain_time(t) - 1 for t in bond.record_instants()),
            frequency=bond.frequency,
            close_of_business=f"{bond.close_of_business:%H:%M} {bond.zone}",
        )
        agent = BondPayingAgent.deploy(
            market.chain,
            terms=terms,
            security=token.address,
            issuer=issuer,
            sender=issuer,
            token_admin=issuer,
            cash_admin=cash_issuer,
        )
    else:
        assert spec.equity is not None
        agent = EquityPayingAgent.deploy(
            market.chain,
            share_class=spec.equity.share_class,
            security=token.address,
            cash=cash.address,
            par_value=spec.equity.par_value,
            issuer=issuer,
            sender=issuer,
            token_admin=issuer,
            cash_admin=cash_issuer,
        )
    treasury = market.treasuries[spec.issuer]
    agent.grant_role("ISSUER_ROLE", treasury, sender=issuer)
    market.paying_agents[spec.symbol] = agent


def _paying_currency(spec: SecuritySpec) -> str:
    if spec.bond is not None:
        return spec.bond.currency
    assert spec.equity is not None
    return spec.equity.currency


#: What `fund_accounts` gives each scenario account that holds less than `minimum`: far more than loading
#: any scenario costs at a development node's gas prices (the demo spends well under 1 ether in all).
SEED_FUNDING_WEI = 100 * 10**18
SEED_MINIMUM_WEI = 10**18
_PLAIN_TRANSFER_GAS = 21_000


def fund_accounts(
    chain: Chain, count: int, *, minimum: int = SEED_MINIMUM_WEI, amount: int = SEED_FUNDING_WEI
) -> list[str]:
    """Makes sure the first `count` accounts of `chain` can pay for loading a scenario: each holding less
    than `minimum` wei receives `amount` from the first account. Returns the accounts it funded.

    A node started with fewer funded accounts than a scenario needs (a default anvil has 10; the demo
    needs 17) would otherwise stop halfway with "insufficient funds" and leave a partial deployment.
    Checked before anything is sent: if the first account cannot fund them all (with gas to spare),
    `SandboxError` says so and nothing is sent."""
    if count > len(chain.accounts):
        raise SandboxError(f"the scenario needs {count} accounts; this chain signs for {len(chain.accounts)}")
    funder = chain.accounts[0].address
    poor = [a.address for a in chain.accounts[1:count] if chain.balance(a.address) < minimum]
    if not poor:
        return []
    gas_price = chain.gas_price()
    needed = len(poor) * (amount + 2 * _PLAIN_TRANSFER_GAS * gas_price) + minimum
    available = chain.balance(funder)
    if available < needed:
        raise SandboxError(
            f"{len(poor)} of the {count} accounts the scenario needs hold less than {minimum / 10**18:g} ether, "
            f"and the first account ({funder}) holds {available / 10**18:g} ether, less than the "
            f"{needed / 10**18:g} needed to fund them: fund the accounts (or start the node with more "
            "funded accounts, e.g. `anvil --accounts 20`); nothing was sent"
        )
    for account in poor:
        chain.transact(funder, account, b"", value=amount, gas=_PLAIN_TRANSFER_GAS)
    return poor


def wall_clock_loading_start(scenario: Scenario, now: int | None = None) -> int:
    """Where loading `scenario` for a chain that then follows the wall clock starts (a timestamp), the
    loading itself running on the fixed clock, a second per block.

    - A scenario whose history moves time starts as many days before today (`now`, default the wall
      clock) as the history spans, at midnight, so the history ends in the past.
    - Any other starts as many seconds before `now` as the loading can mine blocks, and so ends at or
      before `now`. Loaded on the wall clock itself, the chain ended a second per block ahead of the
      wall (the demo: 51 blocks, 50 s), and until the wall caught up every new block was dated in the
      future ("as of now" missed them). Never before today's midnight: the loading's dates (day 0 of a
      calendar, KYC expiries) stay on the day it runs."""
    today = int(time.time()) if now is None else now
    midnight = today - today % SECONDS_PER_DAY
    if scenario.history_days:
        return midnight - scenario.history_days * SECONDS_PER_DAY
    return max(midnight, today - _BLOCKS_PER_STEP_BOUND * _loading_steps(scenario))


def load_embedded(
    scenario: Scenario,
    *,
    clock: Literal["fixed", "wall"] = "fixed",
    accounts: int = 0,
    progress: Progress | None = None,
    now: int | None = None,
    mnemonic: str | None = None,
    engine: str | None = None,
) -> Market:
    """A new in-process chain (`engine`: ``"embedded"`` for py-evm, ``"revm"``; default ``SANDBOX_ENGINE``,
    else revm: `sandbox.chain.default_engine`) with `scenario` loaded on it (at least `accounts` accounts,
    derived from `mnemonic`; by default the well-known development one).

    With the fixed clock the chain starts at its fixed genesis (2026-01-01), so a scenario's calendar
    runs on the dates written. With the wall clock, the loading runs on the fixed clock from a genesis
    at `wall_clock_loading_start` (`now`: default the wall clock), so it ends in the past, and the
    chain then follows the wall clock."""
    from sandbox.chain.factory import InProcessChain, in_process_chain  # noqa: PLC0415

    num_accounts = max(accounts, scenario.accounts_needed)
    keys: dict[str, Any] = {} if mnemonic is None else {"mnemonic": mnemonic}
    chain: InProcessChain
    if clock == "wall":
        genesis = wall_clock_loading_start(scenario, now)
        chain = in_process_chain(engine, num_accounts=num_accounts, clock="fixed", genesis_timestamp=genesis, **keys)
        market = load_scenario(chain, scenario, progress)
        chain.set_clock("wall")
        return market
    chain = in_process_chain(engine, num_accounts=num_accounts, clock=clock, **keys)
    return load_scenario(chain, scenario, progress)


def _load_cash(market: Market, spec: CashTokenSpec, step: Callable[[str], None]) -> None:
    """Deploys a cash token, registers the DvP contract as a settlement account (exempt from holding
    limits), attests the reserves and issues the holdings."""
    issuer = market.accounts[spec.issuer]
    deploy = CashToken.deploy_gbp if spec.currency == "GBP" else CashToken.deploy_usd
    token = deploy(market.chain, registry=market.registry.address, admin=issuer, sender=issuer)
    symbol = token.symbol()
    market.cash[symbol] = token
    market.cash_issuer_of[symbol] = spec.issuer
    market.cash_symbol_of[spec.currency] = symbol
    if market.settlement is not None:
        token.set_settlement_contract(market.settlement.address, True, sender=issuer)
    reserves = spec.reserves if spec.reserves is not None else sum(spec.holdings.values())
    token.attest_reserves(reserves, b"scenario".ljust(32, b"\0"), sender=issuer)
    step(f"{spec.currency} cash token {symbol} deployed")
    for holder, amount in spec.holdings.items():
        token.mint(market.wallet(holder), amount, sender=issuer)
        step(f"{amount / 100:,.2f} {symbol} issued to {holder}")
