"""The gateway's app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.principals import PrincipalDirectory
from api.problems import install_problem_handlers
from api.routers import freezes, health, positions
from api.settings import Settings
from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import Market, load_scenario
from sandbox.scenario import Scenario

DESCRIPTION = """
A UK-US digital-securities sandbox: securities whose rules are enforced on chain, an investor registry,
and the UK and US regulators' powers, each scoped to its own jurisdiction.

Authenticate with `Authorization: Bearer <API key>`; `sandbox serve` prints the demo keys. Errors are
RFC 9457 `application/problem+json` documents with a stable machine `code`.
"""


def build_market(settings: Settings) -> Market:
    """A fresh embedded chain with the configured scenario deployed on it."""
    scenario = Scenario.from_file(settings.scenario)
    chain = EmbeddedChain(num_accounts=max(settings.accounts, scenario.accounts_needed), clock=settings.clock)
    return load_scenario(chain, scenario)


def create_app(settings: Settings | None = None, *, market: Market | None = None) -> FastAPI:
    """Builds the gateway. Pass `market` to serve an already deployed market (tests, the CLI);
    otherwise one is built from `settings` at start-up."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not hasattr(app.state, "market"):
            _attach(app, build_market(settings))
        yield

    app = FastAPI(
        title=settings.title,
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "health", "description": "Liveness; needs no key."},
            {"name": "positions", "description": "Who holds what (issuers and regulators)."},
            {"name": "freezes", "description": "Regulator freezes of wallets."},
        ],
    )
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(positions.router)
    app.include_router(freezes.router)
    if market is not None:
        _attach(app, market)
    return app


def _attach(app: FastAPI, market: Market) -> None:
    app.state.market = market
    app.state.principals = PrincipalDirectory.from_market(market)
