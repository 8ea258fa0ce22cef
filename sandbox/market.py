"""A deployed market: the registry, the securities and the participants of a scenario, on a chain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.chain.base import Chain
from sandbox.contracts.registry import InvestorRegistry
from sandbox.contracts.security_token import SecurityToken
from sandbox.errors import SandboxError
from sandbox.rules import InvestorCategory, Jurisdiction
from sandbox.scenario import Scenario

SECONDS_PER_DAY = 86_400

#: Called after each step of loading with (steps done, steps in all, what was done).
Progress = Callable[[int, int, str], None]


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

    def security(self, symbol: str) -> SecurityToken:
        try:
            return self.securities[symbol]
        except KeyError:
            raise SandboxError(f"no security {symbol!r} in this market") from None


def load_scenario(chain: Chain, scenario: Scenario, progress: Progress | None = None) -> Market:
    """Deploys the registry and securities of `scenario` and issues its holdings."""
    if len(chain.accounts) < scenario.accounts_needed:
        raise SandboxError(
            f"scenario {scenario.name!r} needs {scenario.accounts_needed} accounts; the chain has {len(chain.accounts)}"
        )
    address = [a.address for a in chain.accounts]
    operator = address[scenario.operator.account]
    steps = (
        1 + len(scenario.regulators) + len(scenario.investors) + sum(1 + len(s.holdings) for s in scenario.securities)
    )
    done = 0

    def step(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, steps, what)

    registry = InvestorRegistry.deploy(chain, admin=operator, sender=operator)
    market = Market(chain=chain, scenario=scenario, operator=operator, registry=registry)
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
        registry.register_investor(
            wallet,
            wallet,
            Jurisdiction[investor.jurisdiction],
            InvestorCategory[investor.category],
            now + investor.kyc_valid_days * SECONDS_PER_DAY,
            sender=operator,
        )
        step(f"investor {investor.name} onboarded")
    for spec in scenario.securities:
        issuer_account = market.accounts[spec.issuer]
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
        )
        market.securities[spec.symbol] = token
        market.issuer_of[spec.symbol] = spec.issuer
        step(f"security {spec.symbol} deployed")
        for holder, amount in spec.holdings.items():
            token.mint(market.accounts[holder], amount, sender=issuer_account)
            step(f"{amount} {spec.symbol} issued to {holder}")
    return market
