"""The gateway's app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.chain.groupcommit import refusals_send_nothing
from sandbox.market import Market, load_embedded
from sandbox.readmodel import MarketReadModel, ReadModel
from sandbox.scenario import Scenario
from sandbox_gateway.audit import AuditMiddleware, GatewayAuditLog
from sandbox_gateway.console import mount as mount_console
from sandbox_gateway.idempotency import MAX_KEY_LENGTH, STATE_CHANGING, IdempotencyMiddleware, IdempotencyStore
from sandbox_gateway.limits import RequestLimits
from sandbox_gateway.principals import PrincipalDirectory
from sandbox_gateway.problems import document_problems, install_problem_handlers
from sandbox_gateway.reads import ReadYourWrites, WriteMarks
from sandbox_gateway.routers import (
    audit,
    cash,
    corporate_actions,
    crossborder,
    events,
    freezes,
    health,
    investors,
    me,
    offerings,
    operator,
    positions,
    sanctions,
    securities,
    settlements,
    transfers,
)
from sandbox_gateway.settings import Settings

DESCRIPTION = """
A UK-US digital-securities sandbox: securities whose rules are enforced on chain, an investor registry,
and the UK and US regulators' powers, each scoped to its own jurisdiction.

Authenticate with `Authorization: Bearer <API key>`; `sandbox serve` prints the demo keys. Errors are
RFC 9457 `application/problem+json` documents with a stable machine `code`.
"""


TAGS = [
    {"name": "health", "description": "Liveness; needs no key."},
    {"name": "me", "description": "Who the key authenticates: name, role, jurisdiction."},
    {"name": "securities", "description": "Securities, their terms and issuance (issuers; everyone reads)."},
    {"name": "offerings", "description": "Offerings of a security and issuance in them (issuers; regulators read)."},
    {"name": "investors", "description": "Onboarding (operator, issuers), suspension (regulators), holdings."},
    {"name": "transfers", "description": "Pre-checks and transfers (investors)."},
    {"name": "cross-border", "description": "Held cross-border transfers: request (investors), decide (regulators)."},
    {"name": "positions", "description": "Positions and cap tables (issuers and regulators, within scope)."},
    {"name": "freezes", "description": "Freezes of wallets (regulators and issuers)."},
    {"name": "cash", "description": "GBP and USD settlement tokens (cash issuers; holders read)."},
    {"name": "sanctions", "description": "OFSI's and OFAC's lists on chain (kept by each one's regulators)."},
    {"name": "settlements", "description": "Delivery versus payment: propose, affirm, settle (investors)."},
    {
        "name": "corporate-actions",
        "description": "Coupons, redemptions and dividends: declared and funded by issuers, paid to or claimed "
        "by holders.",
    },
    {"name": "audit", "description": "What changed, who asked (operator and regulators)."},
    {"name": "operator", "description": "Development tools of the sandbox operator."},
    {
        "name": "events",
        "description": "A live, scoped, resumable stream of chain events (Server-Sent Events) for supervisors' "
        "own systems; the console's pages use it too.",
    },
]
ROUTERS = [
    health.router,
    me.router,
    securities.router,
    offerings.router,
    investors.router,
    transfers.router,
    crossborder.router,
    positions.router,
    freezes.router,
    cash.router,
    sanctions.router,
    settlements.router,
    corporate_actions.router,
    audit.router,
    operator.router,
    events.router,
]


def build_market(settings: Settings) -> Market:
    """A fresh embedded chain with the configured scenario deployed on it."""
    scenario = Scenario.from_file(settings.scenario)
    return load_embedded(scenario, clock=settings.clock, accounts=settings.accounts)


def create_app(
    settings: Settings | None = None, *, market: Market | None = None, read_model: ReadModel | None = None
) -> FastAPI:
    """Builds the gateway. Pass `market` to serve an already deployed market (tests, the CLI);
    otherwise one is built from `settings` at start-up.

    With `read_model`, positions, cap tables and investors' positions are answered from that event-indexed
    read model (kept in step with the market's chain by a `MarketReadModel`: indexed up to the chain's head
    before each answer, and followed by a thread while the app runs); without one, from the chain's logs
    and state. The answers are the same."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not hasattr(app.state, "market"):
            _attach(app, build_market(settings), read_model)
        live: MarketReadModel | None = app.state.read_side
        if live is not None:
            live.start()
        try:
            yield
        finally:
            if live is not None:
                live.stop()
            app.state.idempotency.close()
            app.state.console_store.close()

    app = FastAPI(
        title=settings.title,
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=TAGS,
        docs_url=None,  # served from local files by the console (no CDN): `console.mount`
        redoc_url=None,
    )
    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_console(app, settings)  # the supervisors' console under /console, and /docs
    app.state.read_side = None
    app.state.write_marks = WriteMarks(settings.read_after)
    # Innermost: sees the principal the route authenticated, and the blocks of the receipts it returned.
    app.add_middleware(
        ReadYourWrites,
        marks=app.state.write_marks,
        state=app.state,
        acknowledge_indexed_seconds=settings.acknowledge_indexed_seconds,
    )
    # A request the chain will refuse sends nothing: in process each transaction is executed in its block and
    # taken back out if it reverts; on a node it is dry-run on the pending block first.
    app.add_middleware(RefusalsSendNothing)
    app.state.audit_log = GatewayAuditLog()
    # Outermost last: an idempotent replay is answered before it reaches the audit log.
    app.add_middleware(AuditMiddleware, log=app.state.audit_log)
    app.state.idempotency = IdempotencyStore.open(settings.data_dir)
    app.add_middleware(
        IdempotencyMiddleware,
        store=app.state.idempotency,
        wait_seconds=settings.idempotency_wait_seconds,
        retention_seconds=settings.idempotency_retention_seconds,
    )
    # Bodies are bounded (size, nesting) before any layer inside reads or parses them.
    app.add_middleware(RequestLimits, max_body=settings.max_body_bytes, max_depth=settings.max_json_depth)
    # Outermost of all, when configured: CORS. It answers a preflight itself (no body, no key), and puts
    # its headers on every other answer, the limits' refusals and 401s included, so a browser app can
    # read why it was refused; it reads no body, so nothing it does precedes the limits' checks.
    add_cors(app, settings.cors_origin_list)
    if market is not None:
        _attach(app, market, read_model)
    _document(app)
    return app


class RefusalsSendNothing:
    """ASGI middleware running every request in `sandbox.chain.groupcommit.refusals_send_nothing`: a
    transaction the chain would revert (a rule refusing it) is answered with that refusal and never sent,
    so a refused request leaves no block, nonce or fee behind. The rule is still the chain's: the
    contracts decide, executed in the block (in process) or dry-run on the pending block (on a node)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with refusals_send_nothing():  # copied into the thread that runs a sync route
            await self.app(scope, receive, send)


#: What a browser on an allowed origin may send (CORS): the bearer key, JSON bodies, the idempotency key.
CORS_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")


def add_cors(app: Any, origins: list[str]) -> None:
    """Lets browsers on `origins` call `app` (an outermost ASGI layer; nothing when `origins` is empty).
    Keys travel as bearer headers, never cookies, so credentials mode stays off."""
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=list(CORS_HEADERS),
            allow_credentials=False,
            expose_headers=["Idempotent-Replayed"],
            max_age=600,
        )


#: The optional header every state-changing operation takes (api/sandbox_gateway/idempotency.py).
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID is fine): a retry with the same key and the same request gets the "
    "first answer again (marked `Idempotent-Replayed: true`) and sends no second transaction; the same key with "
    "a different request is refused (422 IDEMPOTENCY_KEY_REUSED). Keys are per API key and kept for a day.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


def _document(app: FastAPI) -> None:
    """The OpenAPI document as FastAPI generates it, plus what it cannot know: one `Problem` component and
    each operation's real error responses (api/sandbox_gateway/problems.py), and the `Idempotency-Key` header."""
    generate = app.openapi
    routes = [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]

    def openapi() -> dict[str, Any]:
        schema = generate()
        document_problems(schema, routes)
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                if method.upper() not in STATE_CHANGING:
                    continue
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(dict(IDEMPOTENCY_KEY_PARAMETER))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _attach(app: FastAPI, market: Market, read_model: ReadModel | None) -> None:
    if read_model is not None:
        live = MarketReadModel(market, read_model)
        live.catch_up()  # whatever the chain holds that the read model has not seen yet
        app.state.read_side = live
    app.state.market = market
    app.state.principals = PrincipalDirectory.from_market(market)
