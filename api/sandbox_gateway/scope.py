"""Who may see and do what, mirroring the contracts' scope rules (the chain enforces actions; reads
are scoped here, since the chain's state is public to anyone running a node).

- An issuer acts on its own securities and, as onboarding agent, on the investors it onboarded (the
  registry records who onboarded whom and refuses other agents: `changes_investor`).
- A regulator sees positions of investors of its jurisdiction and every position in securities whose
  home jurisdiction is its own; it acts on investors of its jurisdiction.
- An investor sees and acts on its own wallets only; the gateway signs only for wallets linked to it
  whose key the sandbox holds for no one else (`own_wallets`).
- The operator runs the sandbox and sees everything.
- A wallet belongs to one party: no investor's identity or wallet is any other participant's account
  (`wallet_refusal`).
- Audit trails and transfer pre-checks follow the positions' scope (`sees_position`): an on-chain
  action is visible to whoever sees a position it is about (`ActionScope`); a gateway request to its
  author, to the operator, and to a regulator when its path names a security or an investor in its
  remit (`sees_request`).
Out of scope is 404 for reads (nothing leaks about existence) and 403 for actions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from eth_utils import to_checksum_address

from sandbox.contracts.security_token import SecurityToken
from sandbox.contracts.settlement import Trade
from sandbox.market import Market
from sandbox.rules import InvestorStatus, Jurisdiction
from sandbox_gateway.principals import Principal, Role
from sandbox_gateway.problems import Problem, problem_code

_ZERO = "0x0000000000000000000000000000000000000000"
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def home_of(token: SecurityToken) -> str:
    return Jurisdiction(token.home_jurisdiction()).name


def issues(principal: Principal, market: Market, symbol: str) -> bool:
    return principal.role is Role.ISSUER and market.issuer_of.get(symbol) == principal.key


def sees_position(
    principal: Principal, market: Market, symbol: str, home: str, holder: str | None, wallet: str
) -> bool:
    if principal.role is Role.OPERATOR:
        return True
    if principal.role is Role.ISSUER:
        return issues(principal, market, symbol)
    if principal.role is Role.REGULATOR:
        return principal.jurisdiction in (home, holder)
    return wallet in own_wallets(principal, market)


def sees_investor(principal: Principal, identity: str, jurisdiction: str) -> bool:
    if principal.role in (Role.OPERATOR, Role.ISSUER):
        return True
    if principal.role is Role.REGULATOR:
        return principal.jurisdiction == jurisdiction
    return principal.account == identity


def own_wallets(principal: Principal, market: Market) -> tuple[str, ...]:
    """The wallets of an investor principal (its identity is its account): those linked to it on chain,
    less any whose key the sandbox holds for another participant. The gateway signs an investor's
    transactions only from these, so a wallet linked by mistake or malice never lends its key."""
    if principal.role is not Role.INVESTOR:
        return ()
    held_for = key_holders(market)
    linked = market.registry.wallets_of(principal.account)
    return tuple(w for w in linked if held_for.get(w, principal.key) == principal.key)


def key_holders(market: Market) -> dict[str, str]:
    """Address → the participant (key) the sandbox holds that address's signing key for: the operator,
    regulators, issuers, investors' wallets and issuers' treasuries."""
    held_for = {market.operator: "operator"}
    for key, address in market.accounts.items():
        held_for[address] = key
    for key, wallets in market.wallets.items():
        for wallet in wallets:
            held_for.setdefault(wallet, key)
    return held_for


def principal_accounts(market: Market) -> set[str]:
    """The signing accounts of the operator, regulators and issuers: never an investor's."""
    scenario = market.scenario
    keys = [r.key for r in scenario.regulators] + [i.key for i in scenario.issuers]
    return {market.operator, *(market.accounts[k] for k in keys if k in market.accounts)}


def wallet_refusal(market: Market, wallet: str, identity: str) -> Problem | None:
    """Why `wallet` may not become (or be linked as) a wallet of investor `identity`, None if it may: a
    wallet belongs to one party. Mirrors the registry's own checks (regulators', agents' and other
    investors' accounts) and adds the gateway's: no account whose key the sandbox holds for someone else."""
    registry = market.registry
    linked = registry.wallet_record(wallet).identity
    if linked is not None and linked == identity:
        return Problem(409, "WALLET_ALREADY_LINKED", "Wallet already linked", f"{wallet} is already {identity}'s.")
    held_for = key_holders(market)
    # The investor's participant key when the sandbox holds its keys (a scenario investor), else None.
    registered = registry.investor(identity).status is not InvestorStatus.NONE
    owner = held_for.get(identity) if registered else None
    other = (
        linked is not None
        or (wallet != identity and registry.investor(wallet).status is not InvestorStatus.NONE)
        or wallet in principal_accounts(market)
        or registry.regulator_jurisdiction(wallet) != 0
        or registry.has_role("ONBOARDING_AGENT_ROLE", wallet)
        or registry.has_role("DEFAULT_ADMIN_ROLE", wallet)
        or held_for.get(wallet, owner) != owner
    )
    if other:
        return Problem(
            409,
            "WALLET_OF_ANOTHER_PARTY",
            "Wallet of another party",
            f"{wallet} belongs to another participant of the sandbox (a regulator, an issuer, the operator or "
            "another investor); a wallet belongs to one party.",
        )
    return None


def changes_investor(principal: Principal, market: Market, identity: str) -> bool:
    """Whether `principal` may update investor `identity` or link wallets to it: the operator (the
    registry's admin) and the agent who onboarded it, as the registry enforces."""
    if principal.role is Role.OPERATOR:
        return True
    return principal.role is Role.ISSUER and market.registry.onboarding_agent_of(identity) == principal.account


def holder_jurisdiction(market: Market, wallet: str) -> str | None:
    """The jurisdiction of the investor holding `wallet` (None when the wallet is no investor's)."""
    record = market.registry.wallet_record(wallet)
    return Jurisdiction(record.jurisdiction).name if record.identity else None


def sees_trade(principal: Principal, market: Market, trade: Trade) -> bool:
    """Whether a DvP trade is visible: to the operator, its parties, the issuer of its security, and the
    regulators of either party's jurisdiction or of the security's home."""
    if principal.role is Role.OPERATOR:
        return True
    if principal.role is Role.INVESTOR:
        return bool({trade.seller, trade.buyer} & set(own_wallets(principal, market)))
    symbol = market.symbol_of(trade.security) or trade.security
    if principal.role is Role.ISSUER:
        return issues(principal, market, symbol)
    token = market.securities.get(symbol)
    parties = {_registered_jurisdiction(market, w) for w in (trade.seller, trade.buyer)}
    return principal.jurisdiction in parties or (token is not None and home_of(token) == principal.jurisdiction)


def _registered_jurisdiction(market: Market, wallet: str) -> str | None:
    """The jurisdiction of a wallet's investor; None for a wallet not (or no longer) registered, or of a
    jurisdiction this gateway does not know (a trade proposed on chain directly may name any address)."""
    record = market.registry.wallet_record(wallet)
    if record.identity is None:
        return None
    try:
        return Jurisdiction(record.jurisdiction).name
    except ValueError:
        return None


def sees_cross_border(
    principal: Principal, market: Market, symbol: str, parties: tuple[str, str], jurisdictions: tuple[str, str]
) -> bool:
    """Whether a cross-border transfer of `symbol` between `parties` (sender, receiver wallets) of
    `jurisdictions` is visible: to the operator, the regulators of either jurisdiction, the security's
    issuer and the two parties."""
    if principal.role is Role.OPERATOR:
        return True
    if principal.role is Role.REGULATOR:
        return principal.jurisdiction in jurisdictions
    if principal.role is Role.ISSUER:
        return issues(principal, market, symbol)
    return bool(set(parties) & set(own_wallets(principal, market)))


class ActionScope:
    """Which on-chain actions (audit rows) a principal sees: an action on a security is visible to whoever
    sees a position it names (`sees_position`, with the contract itself standing for the security as a
    whole); an action of the registry about an investor to the investor's regulator and the agent who
    onboarded it; any other registry action (a regulator set, a role granted) to the account it names.
    Registry reads are cached for the one request this lives for."""

    def __init__(self, principal: Principal, market: Market) -> None:
        self.principal = principal
        self.market = market
        self._symbols: dict[str, str] = {token.address: symbol for symbol, token in market.securities.items()}
        self._homes: dict[str, str] = {}
        self._holders: dict[str, str | None] = {}
        self._registry_actions: dict[str, bool] = {}

    def sees(self, contract: str, target: str | None, args: Mapping[str, Any]) -> bool:
        principal, market = self.principal, self.market
        if principal.role is Role.OPERATOR:
            return True
        if principal.role is Role.INVESTOR:
            return False
        if contract == market.registry.address:
            if target is None:
                return False
            seen = self._registry_actions.get(target)
            if seen is None:  # one registry read per investor per request, not one per action about it
                seen = self._registry_actions[target] = self._sees_registry_action(target)
            return seen
        symbol = self._symbols.get(contract)
        if symbol is None:
            return False
        home = self._homes.get(symbol)
        if home is None:
            home = self._homes[symbol] = home_of(market.securities[symbol])
        parties = [contract, *([target] if target else []), *_addresses(args.values())]
        # Only a regulator's scope depends on the holder's jurisdiction: read the registry for no one else.
        holder = self._holder if principal.role is Role.REGULATOR else _nobody
        return any(sees_position(principal, market, symbol, home, holder(p), p) for p in dict.fromkeys(parties))

    def _sees_registry_action(self, target: str) -> bool:
        principal, market = self.principal, self.market
        record = market.registry.investor(target)
        if record.status is InvestorStatus.NONE:
            return target == principal.account  # e.g. its own appointment as a regulator or agent
        if principal.role is Role.REGULATOR:
            return sees_investor(principal, target, Jurisdiction(record.jurisdiction).name)
        return changes_investor(principal, market, target)

    def _holder(self, wallet: str) -> str | None:
        if wallet == self.market.registry.address or wallet in self._symbols:
            return None
        if wallet not in self._holders:
            self._holders[wallet] = holder_jurisdiction(self.market, wallet)
        return self._holders[wallet]


def _nobody(wallet: str) -> str | None:
    return None


def _addresses(values: Iterable[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str) and _ADDRESS.match(v) and v != _ZERO]


def sees_request(principal: Principal, market: Market, author: str | None, path: str) -> bool:
    """Whether `principal` sees a gateway request (its audit record): its author and the operator always; a
    regulator also when the request's path names a security whose home is its jurisdiction or an investor
    of its jurisdiction (what the path alone decides: other requests stay their author's)."""
    if principal.role is Role.OPERATOR or author == principal.key:
        return True
    if principal.role is not Role.REGULATOR:
        return False
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "securities":
        token = market.securities.get(parts[1])
        return token is not None and home_of(token) == principal.jurisdiction
    if len(parts) >= 2 and parts[0] == "investors" and _ADDRESS.match(parts[1]):
        identity = to_checksum_address(parts[1])
        record = market.registry.investor(identity)
        if record.status is InvestorStatus.NONE:
            return False
        return sees_investor(principal, identity, Jurisdiction(record.jurisdiction).name)
    return False


def not_found(what: str, name: str) -> Problem:
    code = problem_code(f"{what} not found")
    return Problem(404, code, f"{what.capitalize()} not found", f"There is no {what} {name!r}.")


def forbidden(detail: str) -> Problem:
    return Problem(403, "OUT_OF_SCOPE", "Out of scope", detail)
