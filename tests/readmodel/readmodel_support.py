"""What the read-model tests share besides fixtures (a module of its own, so tests can import it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.chain.base import Receipt
from sandbox.chain.embedded import EmbeddedChain
from sandbox.contracts.security_token import SecurityToken
from sandbox.market import Market
from sandbox.rules import InvestorCategory


@dataclass
class History:
    """The demo market plus a few weeks of activity the tests know about."""

    chain: EmbeddedChain
    market: Market
    token: SecurityToken
    symbol: str
    #: the security's holders from the scenario (key → wallet), largest holding first
    holders: dict[str, str]
    #: the second wallet linked to the first holder's identity
    second_wallet: str
    loaded_block: int
    receipts: dict[str, Receipt] = field(default_factory=dict)
    #: the investor whose category changed, its category before and after
    recategorised: str = ""
    category_before: InvestorCategory = InvestorCategory.NONE
    category_after: InvestorCategory = InvestorCategory.NONE
    regulator: str = ""
    frozen_wallet: str = ""

    @property
    def head(self) -> int:
        return self.chain.block_number()

    def contracts(self) -> list[str]:
        return [self.market.registry.address, *(t.address for t in self.market.securities.values())]
