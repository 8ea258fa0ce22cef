"""Dependencies: the market, the authenticated principal, and role-scoped principal aliases.

Every route depends on one of the principal aliases unless it says otherwise: deny by default.

The dependencies are `async def` because none of them blocks: FastAPI runs a plain `def` dependency
in its thread pool, one thread hop per dependency per request (four on every authenticated route),
which under load cost more CPU than the rest of the framework (bench/RESULTS.md, gateway load).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sandbox.contracts.security_token import SecurityToken
from sandbox.market import Market
from sandbox.readmodel import MarketReadModel, ReadModel, ReadView
from sandbox_gateway.idempotency import AMBIGUOUS_CREDENTIALS, AMBIGUOUS_CREDENTIALS_DETAIL, AMBIGUOUS_CREDENTIALS_TITLE
from sandbox_gateway.principals import Principal, PrincipalDirectory, Role
from sandbox_gateway.problems import Problem
from sandbox_gateway.reads import read_view

_bearer = HTTPBearer(auto_error=False, description="A sandbox API key: `Authorization: Bearer <key>`.")


async def get_market(request: Request) -> Market:
    market: Market = request.app.state.market
    return market


async def get_directory(request: Request) -> PrincipalDirectory:
    directory: PrincipalDirectory = request.app.state.principals
    return directory


MarketDep = Annotated[Market, Depends(get_market)]


def get_indexed(request: Request) -> ReadView:
    """The one read path of the gateway: the request's view (`sandbox_gateway.reads.read_view`) of the
    app's read model or, in an app without one, of a throwaway read model of its own (a temporary SQLite
    file, indexed on first use and rebuilt if the chain is reverted). Every list and position is answered
    from it: the app's read model as its follower indexed it, at least up to the caller's own last write
    (read-your-writes); the throwaway one, which nobody follows, indexed up to the chain's head by each
    read. (A plain `def`: building the fallback blocks, so it runs in the thread pool.)"""
    return read_view(request, _read_side(request))


def _read_side(request: Request) -> MarketReadModel:
    state = request.app.state
    live: MarketReadModel | None = getattr(state, "read_side", None)
    if live is not None:
        return live
    with _FALLBACK_LOCK:
        fallback: MarketReadModel | None = getattr(state, "fallback_read_side", None)
        if fallback is None:
            scratch = Path(tempfile.mkdtemp(prefix="sandbox-readmodel-"))
            model = ReadModel.sqlite(scratch / "readmodel.sqlite")
            fallback = MarketReadModel(request.app.state.market, model)
            state.fallback_read_side = fallback
            weakref.finalize(fallback, _discard, model, scratch)  # with the app (or at exit)
    return fallback


def _discard(model: ReadModel, scratch: Path) -> None:
    model.close()
    shutil.rmtree(scratch, ignore_errors=True)


_FALLBACK_LOCK = threading.Lock()


async def _indexed(request: Request) -> ReadView:
    """`get_indexed` as a route's dependency: without a thread hop when the app has its read model (making
    the view blocks on nothing; a request's hops between threads cost GIL hand-overs under load)."""
    live: MarketReadModel | None = getattr(request.app.state, "read_side", None)
    if live is not None:
        return read_view(request, live)
    return await run_in_threadpool(get_indexed, request)


IndexedDep = Annotated[ReadView, Depends(_indexed)]


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    directory: Annotated[PrincipalDirectory, Depends(get_directory)],
) -> Principal:
    if len(request.headers.getlist("authorization")) > 1:
        # Which one would count is a parser's accident (HTTPBearer reads the first): refuse both.
        raise Problem(400, AMBIGUOUS_CREDENTIALS, AMBIGUOUS_CREDENTIALS_TITLE, AMBIGUOUS_CREDENTIALS_DETAIL)
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Problem(
            401,
            "AUTHENTICATION_REQUIRED",
            "Authentication required",
            "Send an API key as `Authorization: Bearer <key>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = directory.authenticate(credentials.credentials)
    if principal is None:
        raise Problem(
            401,
            "INVALID_API_KEY",
            "Invalid API key",
            "The API key is not known to this sandbox.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.principal = principal
    return principal


AnyPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    allowed = ", ".join(r.value for r in roles)

    async def dependency(principal: AnyPrincipal) -> Principal:
        if principal.role not in roles:
            raise Problem(
                403,
                "ROLE_NOT_ALLOWED",
                "Role not allowed",
                f"This operation is for the {allowed} role; you are authenticated as {principal.role.value}.",
            )
        return principal

    return dependency


RegulatorPrincipal = Annotated[Principal, Depends(require_roles(Role.REGULATOR))]
RegulatorOrIssuerPrincipal = Annotated[Principal, Depends(require_roles(Role.REGULATOR, Role.ISSUER))]


def security_or_404(market: Market, symbol: str) -> SecurityToken:
    token = market.securities.get(symbol)
    if token is None:
        raise Problem(404, "SECURITY_NOT_FOUND", "Security not found", f"There is no security {symbol!r}.")
    return token


IssuerPrincipal = Annotated[Principal, Depends(require_roles(Role.ISSUER))]
InvestorPrincipal = Annotated[Principal, Depends(require_roles(Role.INVESTOR))]
OnboardingPrincipal = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.ISSUER))]
ReaderPrincipal = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.REGULATOR, Role.ISSUER))]
AuditorPrincipal = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.REGULATOR))]
OperatorPrincipal = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]
