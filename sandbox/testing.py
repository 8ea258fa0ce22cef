"""A test world in a few lines: one builder for tests and benches (library layer, no HTTP).

    world = TestWorld(accounts=16)                       # a fresh in-process chain (SANDBOX_ENGINE)
    world.registry()                                     # admin + a GB and a US regulator
    alice = world.investor("alice", Jurisdiction.GB, InvestorCategory.UK_RETAIL, wallets=2)
    gilt = world.security("GLT30", holdings={"alice": 100})
    gbp = world.cash("GBP")
    dvp = world.settlement()                              # registered with every cash token

Everything is deployed at once, in the order the calls are made, by the funded accounts of the chain
taken in turn (`account()`), so a world built the same way twice has the same addresses and gas.
A session can build its world once and hand each test the same state: `isolated()` takes a chain
snapshot and reverts to it afterwards (one snapshot and one revert instead of a redeploy).
The builder is engine-neutral: it works on any chain with the dev powers (`snapshot`/`revert`),
`connect()`'s in-process engines included.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from sandbox.chain.factory import InProcessChain, in_process_chain
from sandbox.contracts import CashToken, DvPSettlement, InvestorRegistry, SecurityToken, Terms
from sandbox.contracts.security_token import SecurityTokenExtension
from sandbox.errors import SandboxError
from sandbox.rules import InvestorCategory, Jurisdiction

DAY = 86_400
#: How long the builder's KYC checks stay valid, from the chain's time when the investor is registered.
KYC_VALIDITY = 3650 * DAY
#: The home regulator's approved issuance for a security the builder deploys (units).
ISSUANCE_LIMIT = 10**12
#: Reserves attested for a cash token the builder deploys (minor units): enough for any test.
RESERVES = 10**15
UNLIMITED = 2**256 - 1


def made_up_identity(tag: int) -> str:
    """A made-up identity address (stands in for an ONCHAINID; it never signs)."""
    return to_checksum_address(f"0x{tag:040x}")


@dataclass(frozen=True)
class Investor:
    """A registered investor: its identity (the registry's key) and its wallets, first wallet first."""

    key: str
    identity: str
    wallets: tuple[str, ...]
    jurisdiction: Jurisdiction
    category: InvestorCategory

    @property
    def wallet(self) -> str:
        return self.wallets[0]


class TestWorld:
    """A chain and what the builder has deployed on it (see the module's docstring)."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, chain: InProcessChain | None = None, *, accounts: int = 20, engine: str | None = None) -> None:
        """A world on `chain`, or on a fresh in-process chain of `engine` (default: ``SANDBOX_ENGINE``)
        with `accounts` funded accounts."""
        self.chain: InProcessChain = chain if chain is not None else in_process_chain(engine, num_accounts=accounts)
        #: The funded accounts of the chain, in order.
        self.accounts: list[str] = [account.address for account in self.chain.accounts]
        #: The admin of the registry and (by default) of every token (set by `registry()`).
        self.admin = ""
        #: Regulator account by jurisdiction (set by `registry()`).
        self.regulators: dict[Jurisdiction, str] = {}
        self.investors: dict[str, Investor] = {}
        self.securities: dict[str, SecurityToken] = {}
        self.cash_tokens: dict[str, CashToken] = {}
        self._registry: InvestorRegistry | None = None
        self._extension: str | None = None
        self._dvp: DvPSettlement | None = None
        self._taken = 0

    # ------------------------------------------------------------------ accounts

    def account(self) -> str:
        """The next funded account nobody in this world uses yet."""
        if self._taken >= len(self.accounts):
            raise SandboxError(f"the chain has only {len(self.accounts)} funded accounts: ask for more")
        self._taken += 1
        return self.accounts[self._taken - 1]

    @property
    def outsider(self) -> str:
        """The chain's last funded account: by convention linked to no investor."""
        return self.accounts[-1]

    # ------------------------------------------------------------------ deployments

    def registry(
        self,
        *,
        admin: str | None = None,
        regulators: Iterable[Jurisdiction] | Mapping[Jurisdiction, str] = (Jurisdiction.GB, Jurisdiction.US),
    ) -> InvestorRegistry:
        """Deploys the investor registry (`admin`: the next account) and names a regulator per jurisdiction:
        the next accounts, in order, or the accounts a mapping gives."""
        if self._registry is not None:
            raise SandboxError("this world already has a registry")
        self.admin = admin or self.account()
        registry = InvestorRegistry.deploy(self.chain, admin=self.admin, sender=self.admin)
        self._registry = registry
        named = regulators if isinstance(regulators, Mapping) else dict.fromkeys(regulators, "")
        for jurisdiction, account in named.items():
            regulator = account or self.account()
            registry.set_regulator(regulator, jurisdiction, sender=self.admin)
            self.regulators[jurisdiction] = regulator
        return registry

    @property
    def the_registry(self) -> InvestorRegistry:
        if self._registry is None:
            raise SandboxError("call registry() first")
        return self._registry

    def investor(
        self,
        key: str,
        jurisdiction: Jurisdiction,
        category: InvestorCategory,
        *,
        wallets: int | Sequence[str] = 1,
        identity: str | None = None,
        kyc_until: int | None = None,
    ) -> Investor:
        """Registers an investor: `wallets` new accounts (or these wallets), its identity `identity`
        (default: its first wallet), KYC valid until `kyc_until` (default: `KYC_VALIDITY` from now)."""
        registry = self.the_registry
        if key in self.investors:
            raise SandboxError(f"investor {key!r} is already registered")
        chosen = tuple(self.account() for _ in range(wallets)) if isinstance(wallets, int) else tuple(wallets)
        if not chosen:
            raise SandboxError("an investor needs a wallet")
        who = identity or chosen[0]
        until = kyc_until if kyc_until is not None else self.chain.timestamp() + KYC_VALIDITY
        registry.register_investor(who, chosen[0], jurisdiction, category, until, sender=self.admin)
        for wallet in chosen[1:]:
            registry.add_wallet(who, wallet, sender=self.admin)
        found = Investor(key, who, chosen, jurisdiction, category)
        self.investors[key] = found
        return found

    def add_wallet(self, key: str, wallet: str | None = None) -> str:
        """Links another wallet (default: the next account) to investor `key`."""
        investor = self.investors[key]
        added = wallet or self.account()
        self.the_registry.add_wallet(investor.identity, added, sender=self.admin)
        self.investors[key] = Investor(
            key, investor.identity, (*investor.wallets, added), investor.jurisdiction, investor.category
        )
        return added

    def wallet(self, key: str) -> str:
        """Investor `key`'s first wallet."""
        return self.investors[key].wallet

    def extension(self) -> str:
        """The shared `SecurityTokenExtension` (deployed by the admin on first use)."""
        if self._extension is None:
            self._extension = SecurityTokenExtension.deploy(self.chain, sender=self.admin).address
        return self._extension

    def security(
        self,
        symbol: str,
        *,
        name: str | None = None,
        admin: str | None = None,
        home: Jurisdiction = Jurisdiction.GB,
        admitted: Sequence[Jurisdiction] = (Jurisdiction.GB, Jurisdiction.US),
        terms: Terms | None = None,
        shared_extension: bool = True,
        record_dates: bool = False,
        issuance_limit: int | None = ISSUANCE_LIMIT,
        holdings: Mapping[str, int] | None = None,
    ) -> SecurityToken:
        """Deploys a security token (admin: the world's admin unless given) over the registry, reusing the
        world's extension (`shared_extension`), has its home regulator approve `issuance_limit` (None:
        no approval, nothing can be minted) and mints `holdings` (investor key → units)."""
        registry = self.the_registry
        token_admin = admin or self.admin
        token = SecurityToken.deploy(
            self.chain,
            name=name or symbol,
            symbol=symbol,
            decimals=0,
            registry=registry.address,
            home_jurisdiction=home,
            admitted_jurisdictions=list(admitted),
            admin=token_admin,
            sender=token_admin,
            terms=terms,
            extension=self.extension() if shared_extension else None,
            record_dates=record_dates,
        )
        if issuance_limit is not None:
            token.approve_issuance(issuance_limit, sender=self.regulators[home])
        for key, units in (holdings or {}).items():
            token.mint(self.wallet(key), units, sender=token_admin)
        self.securities[symbol] = token
        return token

    def cash(self, currency: str, *, reserves: int = RESERVES, **limits: Any) -> CashToken:
        """Deploys the GBP or USD cash token (`limits`: the USD token's `individual_limit=`,
        `business_limit=`), attests `reserves` and registers the world's settlement contract if any."""
        registry = self.the_registry.address
        if currency == "GBP":
            token = CashToken.deploy_gbp(self.chain, registry=registry, admin=self.admin, sender=self.admin)
        elif currency == "USD":
            token = CashToken.deploy_usd(self.chain, registry=registry, admin=self.admin, sender=self.admin, **limits)
        else:
            raise SandboxError(f"no cash token for {currency!r}: GBP or USD")
        if self._dvp is not None:
            token.set_settlement_contract(self._dvp.address, True, sender=self.admin)
        if reserves:
            token.attest_reserves(reserves, b"\x01" * 32, sender=self.admin)
        self.cash_tokens[currency] = token
        return token

    def settlement(self) -> DvPSettlement:
        """Deploys the DvP contract and registers it with every cash token deployed so far (later ones
        register it as they are deployed)."""
        if self._dvp is None:
            self._dvp = DvPSettlement.deploy(self.chain, sender=self.admin)
            for token in self.cash_tokens.values():
                token.set_settlement_contract(self._dvp.address, True, sender=self.admin)
        return self._dvp

    def approve_settlement(self, key: str, *tokens: Any) -> None:
        """Investor `key`'s wallets approve the DvP contract for all they hold of `tokens`."""
        dvp = self.settlement()
        for wallet in self.investors[key].wallets:
            for token in tokens:
                token.approve(dvp.address, UNLIMITED, sender=wallet)

    # ------------------------------------------------------------------ isolation

    def snapshot(self) -> Any:
        return self.chain.snapshot()

    def revert(self, snapshot: Any) -> None:
        self.chain.revert(snapshot)

    @contextmanager
    def isolated(self) -> Iterator[TestWorld]:
        """This world as it is now, for the duration of the block: reverted afterwards."""
        with isolated(self.chain):
            yield self


@contextmanager
def isolated(chain: Any) -> Iterator[None]:
    """Runs the block between a snapshot of `chain` and a revert to it (whatever the block raised)."""
    snapshot = chain.snapshot()
    try:
        yield
    finally:
        chain.revert(snapshot)
