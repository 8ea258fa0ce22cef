"""Who may see and do what, mirroring the contracts' scope rules (the chain enforces actions; reads
are scoped here, since the chain's state is public to anyone running a node).

- An issuer acts on its own securities and, as onboarding agent, on investors.
- A regulator sees positions of investors of its jurisdiction and every position in securities whose
  home jurisdiction is its own; it acts on investors of its jurisdiction.
- An investor sees and acts on its own wallets only.
- The operator runs the sandbox and sees everything.
Out of scope is 404 for reads (nothing leaks about existence) and 403 for actions.
"""

from __future__ import annotations

from api.principals import Principal, Role
from api.problems import Problem, problem_code
from sandbox.contracts.security_token import SecurityToken
from sandbox.market import Market
from sandbox.rules import Jurisdiction


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
    """The wallets of an investor principal (its identity is its account)."""
    if principal.role is not Role.INVESTOR:
        return ()
    return market.registry.wallets_of(principal.account)


def not_found(what: str, name: str) -> Problem:
    code = problem_code(f"{what} not found")
    return Problem(404, code, f"{what.capitalize()} not found", f"There is no {what} {name!r}.")


def forbidden(detail: str) -> Problem:
    return Problem(403, "OUT_OF_SCOPE", "Out of scope", detail)
