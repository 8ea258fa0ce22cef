"""The console's pages. Each one is a client of the gateway's own routes: it calls the same route functions
with the session's principal, so it sees and does exactly what that principal's API key may (the routes'
scope rules, the chain's rules), and nothing by a second path."""

from __future__ import annotations

import csv
import hmac
import io
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, TypeVar

from eth_utils import to_checksum_address
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sandbox.contracts.corporate_actions import EquityPayingAgent
from sandbox.errors import SandboxError
from sandbox.market import Market
from sandbox.readmodel import ReadView
from sandbox.rules import InvestorCategory, Jurisdiction
from sandbox_gateway.asof import AsOfParams
from sandbox_gateway.console.refusals import REFUSED, STATE_CHANGING, RefusalScope
from sandbox_gateway.console.refusals import record as record_refusal
from sandbox_gateway.console.sessions import (
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    LOGIN_COOKIE,
    LOGIN_SECONDS,
    Session,
    SessionStore,
)
from sandbox_gateway.console.store import ConsoleStore, Decision
from sandbox_gateway.deps import get_indexed
from sandbox_gateway.pagination import PageParams
from sandbox_gateway.principals import Principal, PrincipalDirectory, Role
from sandbox_gateway.problems import Problem
from sandbox_gateway.routers import (
    audit,
    corporate_actions,
    crossborder,
    events,
    freezes,
    investors,
    positions,
    sanctions,
    securities,
)
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import (
    MAX_BATCH,
    ClaimRequest,
    CouponSchedule,
    CrossBorderTransfer,
    DividendDeclaration,
    FreezeRequest,
    IssuanceApproval,
    MintRequest,
    PartialFreeze,
    PaymentRun,
)
from sandbox_gateway.scope import holder_jurisdiction, sees_position
from sandbox_gateway.scope import home_of as security_home

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

router = APIRouter(route_class=GatewayRoute, prefix="/console", include_in_schema=False)

T = TypeVar("T")
PAGE = 100


# ---------------------------------------------------------------- sessions


class SignInRequired(Exception):
    """No valid session: a page redirects to the sign-in form, an htmx request is told to."""


def store(request: Request) -> SessionStore:
    sessions: SessionStore = request.app.state.console_sessions
    return sessions


def current_session(request: Request) -> Session:
    session = store(request).get(request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired
    request.state.principal = session.principal  # the gateway's audit log records who acted
    return session


async def checked_session(request: Request) -> Session:
    """The session of a POST, whose CSRF token (form field or header) must be the session's."""
    session = current_session(request)
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not session.csrf_ok(token):
        raise Problem(
            403,
            "CSRF_TOKEN_INVALID",
            "Form not from this console",
            "The form did not carry this session's CSRF token; reload the page and try again.",
        )
    return session


SessionDep = Annotated[Session, Depends(current_session)]
PostSessionDep = Annotated[Session, Depends(checked_session)]


def _require(principal: Principal, *roles: Role) -> None:
    """The role check the API's routes make in their dependencies (`sandbox_gateway.deps.require_roles`)."""
    if principal.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Problem(
            403,
            "ROLE_NOT_ALLOWED",
            "Role not allowed",
            f"This page is for the {allowed} role; you are signed in as {principal.role.value}.",
        )


# ---------------------------------------------------------------- presentation


def names_by_key(market: Market) -> dict[str, str]:
    """Participant key → name (the operator's key is "operator")."""
    scenario = market.scenario
    by_key = {"operator": "Sandbox operator"}
    for regulator in scenario.regulators:
        by_key[regulator.key] = regulator.name
    for issuer in scenario.issuers:
        by_key[issuer.key] = issuer.name
    for investor in scenario.investors:
        by_key[investor.key] = investor.name
    return by_key


def names_of(market: Market) -> dict[str, str]:
    """Address → a participant's name, for the scenario's participants and their wallets."""
    scenario = market.scenario
    by_key = {"operator": "Sandbox operator"}
    for regulator in scenario.regulators:
        by_key[regulator.key] = regulator.name
    for issuer in scenario.issuers:
        by_key[issuer.key] = issuer.name
    for investor in scenario.investors:
        by_key[investor.key] = investor.name
    names = {market.operator: by_key["operator"]}
    for key, address in market.accounts.items():
        if key in by_key:
            names[address] = by_key[key]
    for key, wallets in market.wallets.items():
        for wallet in wallets:
            names.setdefault(wallet, by_key.get(key, key))
    for key, treasury in market.treasuries.items():
        names.setdefault(treasury, f"{by_key.get(key, key)} (treasury)")
    return names


def amount(value: int | str | None, decimals: int = 0, currency: str | None = None) -> str:
    """An integer amount of minor units as a decimal with thousands separators (and its currency)."""
    if value is None:
        return ""
    number = int(value)
    sign, number = ("-", -number) if number < 0 else ("", number)
    whole, fraction = divmod(number, 10**decimals) if decimals else (number, 0)
    text = f"{sign}{whole:,}" + (f".{fraction:0{decimals}d}" if decimals else "")
    return f"{text} {currency}" if currency else text


def iso_utc(timestamp: int | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def short(address: str | None) -> str:
    return f"{address[:6]}…{address[-4:]}" if address else ""


def duration(seconds: int) -> str:
    """A window's length: "30 days", "12 hours", "90 seconds"."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


PAST = {"approve": "approved", "reject": "rejected", "decline": "declined", "freeze": "froze", "release": "released"}

templates.env.filters["duration"] = duration
templates.env.filters["past"] = lambda decision: PAST.get(decision, decision)
templates.env.filters["amount"] = amount
templates.env.filters["iso"] = iso_utc
templates.env.filters["short"] = short


def render(request: Request, name: str, session: Session | None, status: int = 200, **context: Any) -> HTMLResponse:
    market: Market = request.app.state.market
    names = _names(request)
    context.update(
        me=session.principal if session else None,
        csrf=session.csrf if session else "",
        names=names,
        who_names=_names_by_key(request),
        CSRF_FIELD=CSRF_FIELD,
        path=request.url.path,
        isin_of=lambda symbol: _isin(market, symbol),
    )
    return templates.TemplateResponse(request, name, context, status_code=status)


def _isin(market: Market, symbol: str) -> str | None:
    for security in market.scenario.securities:
        if security.symbol == symbol and security.bond is not None:
            return security.bond.isin
    return None


def refusal(exc: Exception) -> tuple[int, str, str]:
    """(status, code, sentence) of a refused action, as the API would answer it."""
    if isinstance(exc, Problem):
        return exc.status, exc.code, exc.detail
    if isinstance(exc, SandboxError):
        return exc.refusal.status, exc.code, exc.detail
    raise exc


def attempt(
    request: Request, principal: Principal, action: Callable[[], T], form: dict[str, Any] | None = None
) -> tuple[T | None, tuple[int, str, str] | None]:
    """Runs a console form's action; a refusal is returned to show in place, and recorded with the refusals
    (as the API's refused requests are, `RefusalMiddleware`): what the form named decides who sees it."""
    try:
        return action(), None
    except (Problem, SandboxError) as exc:
        refused = refusal(exc)
        status, code, detail = refused
        if status in REFUSED and request.method in STATE_CHANGING:
            record_refusal(
                console_store(request),
                _market(request),
                principal,
                request.method,
                request.url.path,
                form,
                status,
                code,
                detail,
            )
        return None, refused


def console_store(request: Request) -> ConsoleStore:
    found: ConsoleStore = request.app.state.console_store
    return found


def _names(request: Request) -> dict[str, str]:
    state = request.app.state
    names: dict[str, str] | None = getattr(state, "console_names", None)
    if names is None:
        names = state.console_names = names_of(state.market)
    return names


def _names_by_key(request: Request) -> dict[str, str]:
    state = request.app.state
    names: dict[str, str] | None = getattr(state, "console_key_names", None)
    if names is None:
        names = state.console_key_names = names_by_key(state.market)
    return names


def _live(request: Request) -> ReadView:
    """The read model the API's routes answer from (`sandbox_gateway.deps.get_indexed`)."""
    return get_indexed(request)


def _market(request: Request) -> Market:
    market: Market = request.app.state.market
    return market


def parse_at(value: str | None) -> int | None:
    """An as-of time from the picker: a Unix time (what the page's script sends, from the user's time zone),
    or an ISO date-time read as UTC; empty for now."""
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Problem(
            422, "AS_OF_INVALID", "Not a date and time", f"{value!r} is not an ISO date-time (2026-12-31T23:59)."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


# ---------------------------------------------------------------- sign-in


def secure_cookies(request: Request) -> bool:
    """Whether the console's cookies are marked Secure: over https (the scheme uvicorn saw, or the one a trusted
    proxy forwarded), or always with `SANDBOX_COOKIE_SECURE=1`."""
    return bool(request.app.state.console_cookie_secure) or request.url.scheme == "https"


def _login_page(request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
    """The sign-in form with a fresh CSRF token, also set in the (pre-session) sign-in cookie."""
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, status=status, error=error, login_csrf=token)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=LOGIN_SECONDS,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/console/login",
    )
    return response


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    api_key: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not (csrf_token and cookie and hmac.compare_digest(csrf_token.encode(), cookie.encode())):
        raise Problem(
            403,
            "CSRF_TOKEN_INVALID",
            "Form not from this console",
            "The sign-in form did not carry its CSRF token; reload the sign-in page and try again.",
        )
    directory: PrincipalDirectory = request.app.state.principals
    principal = directory.authenticate(api_key) if api_key else None
    if principal is None:
        return _login_page(request, status=401, error="That key is not known to this sandbox.")
    session = store(request).open(principal)
    # A session starts from everything acknowledged before it: its first read reflects the chain's head as
    # of then (`sandbox_gateway.reads`; a sign-in counts as a write of unknown block).
    request.state.principal = principal
    response = RedirectResponse(home_of(principal), status_code=303)
    response.set_cookie(COOKIE, session.id, httponly=True, samesite="strict", secure=secure_cookies(request), path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/console/login")
    return response


@router.post("/logout")
def logout(request: Request, session: PostSessionDep) -> Response:
    store(request).close(session.id)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=secure_cookies(request), httponly=True, samesite="strict")
    return response


def home_of(principal: Principal) -> str:
    if principal.role is Role.ISSUER:
        return "/console/issuer"
    if principal.role is Role.INVESTOR:
        return "/console/holdings"
    return "/console/overview"


@router.get("")
def index(session: SessionDep) -> Response:
    return RedirectResponse(home_of(session.principal), status_code=303)


@router.get("/events")
async def event_stream(
    request: Request,
    session: SessionDep,
    last_event_id: Annotated[str | None, Query(max_length=40, pattern=r"^\d{1,18}(:\d{1,18})?$")] = None,
) -> Response:
    """The API's event stream (GET /events) for the session's principal."""
    resume = events.resume_from(request.headers.get("Last-Event-ID"), last_event_id)
    return await events.stream_response(request, session.principal, resume)


# ---------------------------------------------------------------- regulator: overview


def _security_rows(request: Request, principal: Principal) -> list[dict[str, Any]]:
    market, live = _market(request), _live(request)
    listed = securities.list_securities(market, principal, PageParams(limit=500, offset=0))
    rows = []
    for summary in listed.items:
        if principal.role is Role.ISSUER and market.issuer_of.get(summary.symbol) != principal.key:
            continue
        table = positions.cap_table(summary.symbol, market, live, principal, AsOfParams(block=None, at=None), "json")
        assert not isinstance(table, Response)
        detail = _detail(request, summary.symbol, table.total_supply, approval=True)
        rows.append({"detail": detail, "cap": table, "isin": _isin(market, summary.symbol)})
    return rows


@dataclass(frozen=True)
class Detail:
    """What a page shows of a security besides its positions: its terms (public to every principal, as
    GET /securities/{symbol}) and, where asked, its issuance approval."""

    symbol: str
    name: str
    decimals: int
    home_jurisdiction: str
    total_supply: int
    issuance_approved: bool = False
    issuance_limit: int = 0


def _detail(request: Request, symbol: str, total_supply: int, *, approval: bool = False) -> Detail:
    """A security's fixed terms (read once per app: `GET /securities/{symbol}` reads the holder counts and
    rules as well, which a page does not show) and, with `approval`, its issuance approval now."""
    market = _market(request)
    cache: dict[str, tuple[str, int, str]] = request.app.state.console_terms
    if symbol not in cache:
        summary = securities._summary(market, symbol)
        cache[symbol] = (summary.name, market.securities[symbol].decimals(), summary.home_jurisdiction)
    name, decimals, home = cache[symbol]
    detail = Detail(symbol, name, decimals, home, total_supply)
    if approval:
        issuance = market.securities[symbol].issuance_approval()
        detail = replace(detail, issuance_approved=issuance.approved, issuance_limit=issuance.limit)
    return detail


def _pending(request: Request, principal: Principal) -> list[CrossBorderTransfer]:
    page = crossborder.list_transfers(
        _market(request), _live(request), principal, PageParams(limit=500, offset=0), "PENDING"
    )
    return page.items


@router.get("/overview")
def overview(request: Request, session: SessionDep) -> HTMLResponse:
    principal = session.principal
    _require(principal, Role.REGULATOR, Role.OPERATOR)
    rows = _security_rows(request, principal)
    pending = _pending(request, principal)
    awaiting = [t for t in pending if _awaits(principal, t)]
    unapproved = [r for r in rows if not r["detail"].issuance_approved]
    return render(request, "overview.html", session, rows=rows, awaiting=awaiting, unapproved=unapproved)


@router.get("/overview/figures")
def overview_figures(request: Request, session: SessionDep) -> HTMLResponse:
    """The overview's figures alone (what a live update reloads)."""
    principal = session.principal
    _require(principal, Role.REGULATOR, Role.OPERATOR)
    rows = _security_rows(request, principal)
    awaiting = [t for t in _pending(request, principal) if _awaits(principal, t)]
    unapproved = [r for r in rows if not r["detail"].issuance_approved]
    return render(request, "_figures.html", session, rows=rows, awaiting=awaiting, unapproved=unapproved)


def _awaits(principal: Principal, transfer: CrossBorderTransfer) -> bool:
    """Whether a pending transfer still waits for this regulator's own decision."""
    if principal.role is not Role.REGULATOR:
        return True
    mine_from = principal.jurisdiction == transfer.from_jurisdiction and not transfer.sender_regulator_approved
    mine_to = principal.jurisdiction == transfer.to_jurisdiction and not transfer.receiver_regulator_approved
    return mine_from or mine_to


# ---------------------------------------------------------------- approvals inbox


def _inbox_context(request: Request, principal: Principal) -> dict[str, Any]:
    """What awaits a decision: held cross-border transfers (with the sender's window total, the rule that held
    each, and the reasons given so far) and securities whose issuance awaits approval."""
    market = _market(request)
    kept = console_store(request)
    items = []
    on_chain: dict[str, set[str]] = {}
    for transfer in _pending(request, principal):
        if transfer.security not in on_chain:
            on_chain[transfer.security] = _decision_txs(request, transfer.security)
        token = market.securities[transfer.security]
        terms = token.terms()
        items.append(
            {
                "t": transfer,
                "awaits": _awaits(principal, transfer),
                "sender_category": _category(market, transfer.sender),
                "receiver_category": _category(market, transfer.receiver),
                "threshold": getattr(terms, "cross_border_threshold", None),
                "decimals": _detail(request, transfer.security, 0).decimals,
                "decisions": [
                    d
                    for d in kept.decisions(
                        security=transfer.security, kind="cross-border", subject=str(transfer.transfer_id)
                    )
                    if d.tx_hash is None or d.tx_hash in on_chain[transfer.security]
                ],
            }
        )
    return {"items": items, "issuance": _issuance_pending(request, principal)}


def _decision_txs(request: Request, symbol: str) -> set[str]:
    """Transactions of the cross-border decisions on `symbol` the chain holds (a reason whose decision a
    development revert undid is not shown against a later transfer that reuses its id). An existence check
    only, so read unscoped: the transfer itself is in the principal's scope, and both regulators see who
    decided it and why."""
    live = _live(request)
    live.catch_up()
    contract = _market(request).securities[symbol].address
    found: set[str] = set()
    offset, total = 0, 1
    while offset < total:
        page = live.model.audit_trail(
            security=contract,
            events=["CrossBorderTransferApproved", "CrossBorderTransferRejected"],
            offset=offset,
            limit=500,
        )
        found.update(entry.tx_hash for entry in page.entries)
        offset, total = offset + len(page.entries), page.total
        if not page.entries:
            break
    return found


def _issuance_pending(request: Request, principal: Principal) -> list[dict[str, Any]]:
    """Securities without an issuance approval that this principal may see decided: a regulator those whose
    home is its jurisdiction (only it may approve, on chain), the operator all."""
    market = _market(request)
    kept = console_store(request)
    pending = []
    for symbol in sorted(market.securities):
        token = market.securities[symbol]
        if token.issuance_approval().approved:
            continue
        detail = securities.get_security(symbol, market, principal)
        if principal.role is Role.REGULATOR and detail.home_jurisdiction != principal.jurisdiction:
            continue
        pending.append(
            {
                "s": detail,
                "isin": _isin(market, symbol),
                "decisions": kept.decisions(security=symbol, kind="issuance"),
            }
        )
    return pending


def _category(market: Market, wallet: str) -> str | None:
    record = market.registry.wallet_record(wallet)
    return InvestorCategory(record.category).name if record.identity else None


@router.get("/inbox")
def inbox(request: Request, session: SessionDep) -> HTMLResponse:
    _require(session.principal, Role.REGULATOR, Role.OPERATOR)
    return render(request, "inbox.html", session, **_inbox_context(request, session.principal), outcome=None)


@router.get("/inbox/items")
def inbox_items(request: Request, session: SessionDep) -> HTMLResponse:
    _require(session.principal, Role.REGULATOR, Role.OPERATOR)
    return render(request, "_inbox_items.html", session, **_inbox_context(request, session.principal), outcome=None)


def _decided(
    request: Request,
    principal: Principal,
    *,
    kind: str,
    security: str,
    subject: str,
    decision: str,
    reason: str,
    action: Callable[[], str | None],
    form: dict[str, Any],
    amount: int | None = None,
) -> tuple[str | None, tuple[int, str, str] | None]:
    """Runs a decision with its reason kept: the reason is committed (pending) before the transaction is sent,
    marked done with its hash after, and dropped if the decision is refused. Returns (tx_hash, refusal)."""
    kept = console_store(request)
    decision_id = kept.begin_decision(
        actor=principal.key,
        kind=kind,
        security=security,
        subject=subject,
        decision=decision,
        reason=reason.strip(),
        amount=amount,
    )
    tx_hash, refused = attempt(request, principal, action, form)
    if refused is not None:
        kept.abandon_decision(decision_id)
    else:
        kept.complete_decision(decision_id, tx_hash)
    return tx_hash, refused


@router.post("/inbox/{symbol}/{transfer_id}/{decision}")
def decide(
    request: Request,
    symbol: str,
    transfer_id: int,
    decision: str,
    session: PostSessionDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    principal = session.principal
    _require(principal, Role.REGULATOR)
    market = _market(request)
    if decision not in ("approve", "reject"):
        raise Problem(404, "NOT_FOUND", "Not found", f"There is no decision {decision!r}.")
    act = crossborder.approve if decision == "approve" else crossborder.reject
    tx_hash, refused = _decided(
        request,
        principal,
        kind="cross-border",
        security=symbol,
        subject=str(transfer_id),
        decision=decision,
        reason=reason,
        action=lambda: act(symbol, transfer_id, market, _live(request), principal).tx_hash,
        form={"reason": reason},
    )
    outcome = {
        "decision": decision,
        "symbol": symbol,
        "transfer_id": transfer_id,
        "reason": reason.strip(),
        "tx_hash": tx_hash,
        "refused": refused,
    }
    status = refused[0] if refused else 200
    return render(
        request, "_inbox_items.html", session, status=status, **_inbox_context(request, principal), outcome=outcome
    )


@router.post("/issuance/{symbol}/{decision}")
def decide_issuance(
    request: Request,
    symbol: str,
    decision: str,
    session: PostSessionDep,
    limit: Annotated[int | None, Form(ge=1, lt=2**96)] = None,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    """The home regulator approves issuance up to a limit (on chain, POST /securities/{symbol}/issuance-approval)
    or declines it: the chain has no refusal of issuance (the security simply stays unapproved), so a decline is
    the gateway's record only, with its reason."""
    principal = session.principal
    _require(principal, Role.REGULATOR)
    market = _market(request)
    if decision not in ("approve", "decline"):
        raise Problem(404, "NOT_FOUND", "Not found", f"There is no decision {decision!r}.")
    securities.get_security(symbol, market, principal)  # 404 for an unknown security, before anything is kept

    def act() -> str | None:
        if decision == "decline":
            if not reason.strip():
                raise Problem(422, "REASON_REQUIRED", "Reason required", "Say why issuance is declined.")
            token = market.securities[symbol]
            home = securities._summary(market, symbol).home_jurisdiction
            if home != principal.jurisdiction:  # as the chain would refuse an approval
                raise Problem(
                    403,
                    "REGULATOR_OUT_OF_SCOPE",
                    "Not your security",
                    f"{symbol} is a {home} security: only its home regulator decides its issuance.",
                )
            if token.issuance_approval().approved:
                raise Problem(409, "ISSUANCE_ALREADY_APPROVED", "Already approved", f"{symbol} is approved already.")
            return None
        if limit is None:
            raise Problem(422, "FORM_INCOMPLETE", "Form incomplete", "Give the most units that may be issued.")
        return securities.approve_issuance(symbol, IssuanceApproval(limit=limit), market, principal).tx_hash

    tx_hash, refused = _decided(
        request,
        principal,
        kind="issuance",
        security=symbol,
        subject=symbol,
        decision=decision,
        reason=reason,
        action=act,
        form={"limit": limit, "reason": reason},
        amount=limit if decision == "approve" else None,
    )
    outcome = {"decision": decision, "symbol": symbol, "reason": reason.strip(), "tx_hash": tx_hash, "refused": refused}
    status = refused[0] if refused else 200
    return render(
        request, "_inbox_items.html", session, status=status, **_inbox_context(request, principal), outcome=outcome
    )


# ---------------------------------------------------------------- a security: cap table, positions, freezes


def _security_context(
    request: Request, principal: Principal, symbol: str, at: int | None, offset: int
) -> dict[str, Any]:
    market, live = _market(request), _live(request)
    as_of = AsOfParams(block=None, at=at)
    table = positions.cap_table(symbol, market, live, principal, as_of, "json")  # 404 out of scope
    assert not isinstance(table, Response)
    detail = _detail(request, symbol, table.total_supply)
    page = positions.list_positions(symbol, market, live, principal, PageParams(limit=PAGE, offset=offset), as_of)
    frozen = _freeze_rows(request, principal, symbol)
    return {"detail": detail, "cap": table, "positions": page, "frozen": frozen, "at": at, "offset": offset}


def _last_action(request: Request, principal: Principal, symbol: str, wallet: str, event: str) -> Any:
    """The newest on-chain action `event` about `wallet` in `symbol` that `principal` may see (the audit trail's)."""
    market, indexed = _market(request), _live(request)
    found = None
    offset: int | None = 0
    while offset is not None:
        page = audit.list_actions(
            market, indexed, principal, PageParams(limit=500, offset=offset), symbol, None, wallet, event
        )
        if page.items:
            found = page.items[-1]
        offset = page.page.next_offset
    return found


def _reason_of(decisions: dict[str, Decision], action: Any) -> Decision | None:
    """The reason given for the chain's `action` (matched by its transaction: a freeze imposed later through the
    API, without a reason, does not inherit an earlier one)."""
    return decisions.get(action.tx_hash) if action is not None else None


def _freeze_rows(request: Request, principal: Principal, symbol: str) -> list[dict[str, Any]]:
    """The active freezes of `symbol` in `principal`'s remit, whole wallets (GET /securities/{symbol}/frozen-wallets)
    and frozen amounts, each with who imposed it (the chain's record: jurisdiction, actor, transaction) and why
    (the reason given in the console, kept by the gateway)."""
    market, live = _market(request), _live(request)
    token = market.securities[symbol]
    decisions = {d.tx_hash: d for d in console_store(request).decisions(security=symbol) if d.tx_hash}
    rows: list[dict[str, Any]] = []
    for f in freezes.list_freezes(symbol, market, live, principal, PageParams(limit=500, offset=0)).items:
        action = _last_action(request, principal, symbol, f.wallet, "AddressFrozen")
        rows.append(
            {
                "kind": "wallet",
                "wallet": f.wallet,
                "by": {f.frozen_by or "issuer": None},
                "action": action,
                "reason": _reason_of(decisions, action),
            }
        )
    home = security_home(token)
    partial = list(dict.fromkeys(str(e.args["userAddress"]) for e in live.events(token.address, ["TokensFrozen"])))
    for wallet in partial:
        holder = holder_jurisdiction(market, wallet)
        if not sees_position(principal, market, symbol, home, holder, wallet):
            continue
        total = token.get_frozen_tokens(wallet)
        if total == 0:
            continue
        by: dict[str, int | None] = {}
        for jurisdiction in Jurisdiction:
            units = token.regulator_frozen_tokens(wallet, jurisdiction)
            if units:
                by[jurisdiction.name] = units
        if total - sum(v or 0 for v in by.values()) > 0:
            by["issuer"] = total - sum(v or 0 for v in by.values())
        action = _last_action(request, principal, symbol, wallet, "TokensFrozen")
        rows.append(
            {
                "kind": "amount",
                "wallet": wallet,
                "amount": total,
                "by": by,
                "action": action,
                "reason": _reason_of(decisions, action),
            }
        )
    return rows


@router.get("/securities/{symbol}")
def security(
    request: Request,
    symbol: str,
    session: SessionDep,
    at: Annotated[str | None, Query(max_length=40)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    _require(session.principal, Role.REGULATOR, Role.OPERATOR, Role.ISSUER)
    context = _security_context(request, session.principal, symbol, parse_at(at), offset)
    return render(request, "security.html", session, **context, outcome=None)


@router.get("/securities/{symbol}/live")
def security_live(
    request: Request,
    symbol: str,
    session: SessionDep,
    at: Annotated[str | None, Query(max_length=40)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    _require(session.principal, Role.REGULATOR, Role.OPERATOR, Role.ISSUER)
    context = _security_context(request, session.principal, symbol, parse_at(at), offset)
    return render(request, "_security_body.html", session, **context, outcome=None)


FREEZE_ACTIONS = "^(freeze|release|freeze-amount|release-amount)$"


@router.post("/securities/{symbol}/freezes")
def freeze(
    request: Request,
    symbol: str,
    session: PostSessionDep,
    wallet: Annotated[str, Form(max_length=42)],
    action: Annotated[str, Form(pattern=FREEZE_ACTIONS)] = "freeze",
    units: Annotated[int | None, Form(ge=1, lt=2**96)] = None,
    reason: Annotated[str, Form(max_length=500)] = "",
    back: Annotated[str, Form(pattern="^(security|freezes)$")] = "security",
) -> HTMLResponse:
    """Freezes or releases a wallet, or an amount of it (the API's freeze routes with the session's principal),
    keeping the reason given (by the gateway: the chain's freeze functions carry none)."""
    principal = session.principal
    _require(principal, Role.REGULATOR, Role.ISSUER)
    market = _market(request)

    def act() -> str:
        if action == "freeze":
            return freezes.freeze_wallet(symbol, FreezeRequest(wallet=wallet), market, principal).tx_hash
        if action == "release":
            return freezes.unfreeze_wallet(symbol, wallet, market, principal).tx_hash
        if units is None:
            raise Problem(422, "FORM_INCOMPLETE", "Form incomplete", "Give the number of units.")
        body = PartialFreeze(wallet=wallet, amount=units)
        if action == "freeze-amount":
            return freezes.freeze_amount(symbol, body, market, principal).tx_hash
        return freezes.release_amount(symbol, body, market, principal).tx_hash

    tx_hash, refused = _decided(
        request,
        principal,
        kind="partial-freeze" if action.endswith("-amount") else "freeze",
        security=symbol,
        subject=wallet,
        decision="release" if action.startswith("release") else "freeze",
        reason=reason,
        action=act,
        form={"wallet": wallet, "units": units, "reason": reason},
        amount=units if action.endswith("-amount") else None,
    )
    outcome = {"action": action, "wallet": wallet, "reason": reason.strip(), "tx_hash": tx_hash, "refused": refused}
    status = refused[0] if refused else 200
    if back == "freezes":
        return render(
            request,
            "_freezes_body.html",
            session,
            status=status,
            **_freezes_context(request, principal),
            outcome=outcome,
        )
    context = _security_context(request, principal, symbol, None, 0)
    return render(request, "_security_body.html", session, status=status, **context, outcome=outcome)


def _freezes_context(request: Request, principal: Principal) -> dict[str, Any]:
    market = _market(request)
    sections = []
    for symbol in sorted(market.securities):
        if principal.role is Role.ISSUER and market.issuer_of.get(symbol) != principal.key:
            continue
        rows = _freeze_rows(request, principal, symbol)
        sections.append({"detail": _detail(request, symbol, 0), "rows": rows})
    return {"sections": sections}


@router.get("/freezes")
def freezes_page(request: Request, session: SessionDep) -> HTMLResponse:
    """Every active freeze in the principal's remit, across securities: whole wallets and frozen amounts, who
    imposed each and why, with release in place."""
    _require(session.principal, Role.REGULATOR, Role.OPERATOR, Role.ISSUER)
    return render(request, "freezes.html", session, **_freezes_context(request, session.principal), outcome=None)


@router.get("/freezes/items")
def freezes_items(request: Request, session: SessionDep) -> HTMLResponse:
    _require(session.principal, Role.REGULATOR, Role.OPERATOR, Role.ISSUER)
    return render(request, "_freezes_body.html", session, **_freezes_context(request, session.principal), outcome=None)


# ---------------------------------------------------------------- sanctions


@router.get("/sanctions")
def sanctions_lists(request: Request, session: SessionDep) -> HTMLResponse:
    """The sanctions lists (public, GET /sanctions/{regime}), the one the regulator keeps first. Read only:
    designations are made through the API (POST /sanctions/{regime}/designations)."""
    principal = session.principal
    _require(principal, Role.REGULATOR, Role.OPERATOR)
    market = _market(request)
    regimes = ["OFSI", "OFAC"] if principal.jurisdiction != "US" else ["OFAC", "OFSI"]
    lists = [
        sanctions.list_designations(regime, market, principal, PageParams(limit=500, offset=0))  # type: ignore[arg-type]
        for regime in regimes
    ]
    return render(request, "sanctions.html", session, lists=lists)


# ---------------------------------------------------------------- refusals


def _refusals_context(request: Request, principal: Principal, limit: int | None = PAGE) -> dict[str, Any]:
    """Refused requests in `principal`'s remit (`RefusalScope`: as the API scopes the actions they were about),
    newest first, with how many each rule refused."""
    market = _market(request)
    visible = RefusalScope(principal, market).visible(console_store(request).refusals_after(0))
    by_code: dict[str, int] = {}
    for refused in visible:
        by_code[refused.code] = by_code.get(refused.code, 0) + 1
    names = names_by_key(market)
    return {"refusals": list(reversed(visible))[:limit], "by_code": by_code, "total": len(visible), "who": names}


@router.get("/refusals")
def refusals(request: Request, session: SessionDep) -> HTMLResponse:
    _require(session.principal, Role.REGULATOR, Role.OPERATOR)
    return render(request, "refusals.html", session, **_refusals_context(request, session.principal))


@router.get("/refusals/items")
def refusal_items(request: Request, session: SessionDep) -> HTMLResponse:
    _require(session.principal, Role.REGULATOR, Role.OPERATOR)
    return render(request, "_refusal_items.html", session, **_refusals_context(request, session.principal))


# ---------------------------------------------------------------- audit trail


@router.get("/audit")
def audit_trail(
    request: Request,
    session: SessionDep,
    security: Annotated[str | None, Query(max_length=20)] = None,
    actor: Annotated[str | None, Query(max_length=42)] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    principal = session.principal
    _require(principal, Role.REGULATOR, Role.OPERATOR, Role.ISSUER)
    market = _market(request)
    indexed = get_indexed(request)
    start = _day(since)
    end = _day(until, end_of_day=True)
    page, refused = attempt(
        request,
        principal,
        lambda: audit.list_actions(
            market,
            indexed,
            principal,
            PageParams(limit=PAGE, offset=offset),
            security or None,
            actor or None,
            None,
            kind or None,
            None,
            None,
            start,
            end,
        ),
    )
    filters = {
        "security": security or "",
        "actor": actor or "",
        "kind": kind or "",
        "since": since or "",
        "until": until or "",
    }
    reasons = console_store(request).decisions_by_tx([a.tx_hash for a in page.items]) if page else {}
    return render(
        request,
        "audit.html",
        session,
        page=page,
        refused=refused,
        filters=filters,
        symbols=sorted(market.securities),
        reasons=reasons,
    )


def _day(value: str | None, *, end_of_day: bool = False) -> int | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Problem(422, "DATE_INVALID", "Not a date", f"{value!r} is not an ISO date (2026-12-31).") from None
    moment = datetime.combine(day, time.max if end_of_day else time.min, UTC)
    return int(moment.timestamp())


# ---------------------------------------------------------------- reports


@router.get("/reports")
def reports(request: Request, session: SessionDep) -> HTMLResponse:
    _require(session.principal, Role.REGULATOR, Role.OPERATOR, Role.ISSUER)
    rows = _security_rows(request, session.principal)
    return render(request, "reports.html", session, rows=rows, today=datetime.now(UTC).date().isoformat())


@router.get("/reports/holdings/{symbol}.{fmt}")
def holdings_report(
    request: Request,
    symbol: str,
    fmt: str,
    session: SessionDep,
    as_of: Annotated[str | None, Query(max_length=10, description="ISO date: holdings at its end (UTC).")] = None,
) -> Response:
    """Holdings of a security at the end of a day (UTC), as CSV or JSON, named for filing."""
    principal = session.principal
    _require(principal, Role.REGULATOR, Role.OPERATOR, Role.ISSUER)
    if fmt not in ("csv", "json"):
        raise Problem(404, "REPORT_FORMAT_UNKNOWN", "No such format", "Reports are csv or json.")
    market, live = _market(request), _live(request)
    day = date.fromisoformat(as_of) if as_of else datetime.now(UTC).date()
    end = _day(day.isoformat(), end_of_day=True)
    now = market.chain.timestamp()
    at = None if end is None or end >= now else end
    rows: list[Any] = []
    offset = 0
    while True:
        page = positions.list_positions(
            symbol, market, live, principal, PageParams(limit=500, offset=offset), AsOfParams(block=None, at=at)
        )
        rows.extend(page.items)
        if page.page.next_offset is None:
            break
        offset = page.page.next_offset
    names = _names(request)
    filename = f"{symbol}-holdings-as-of-{day.isoformat()}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    fields = ["security", "wallet", "investor", "name", "jurisdiction", "category", "balance", "frozen"]
    records = [
        {
            "security": p.security,
            "wallet": p.wallet,
            "investor": p.investor,
            "name": names.get(p.investor or p.wallet),
            "jurisdiction": p.jurisdiction,
            "category": p.category,
            "balance": p.balance,
            "frozen": p.frozen,
        }
        for p in rows
    ]
    if fmt == "json":
        body = {
            "report": "holdings",
            "security": symbol,
            "as_of_date": day.isoformat(),
            "block_number": page.block_number,
            "block_timestamp": iso_utc(page.block_timestamp),
            "prepared_for": principal.name,
            "holdings": records,
        }
        return Response(json.dumps(body, indent=2), media_type="application/json", headers=headers)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    writer.writerows(records)
    return Response(out.getvalue(), media_type="text/csv", headers=headers)


@router.get("/reports/{kind}.{fmt}")
def period_report(
    request: Request,
    kind: str,
    fmt: str,
    session: SessionDep,
    since: Annotated[str, Query(max_length=10, description="ISO date, first day (UTC).")],
    until: Annotated[str, Query(max_length=10, description="ISO date, last day (UTC).")],
) -> Response:
    """Freezes and releases (from the on-chain audit trail) or refusals (the gateway's record) over a period, as
    CSV or JSON, named for filing: `freezes-2026-01-01-to-2026-06-30.csv`."""
    principal = session.principal
    _require(principal, Role.REGULATOR, Role.OPERATOR)
    if kind not in ("freezes", "refusals") or fmt not in ("csv", "json"):
        raise Problem(404, "REPORT_UNKNOWN", "No such report", "Reports: freezes or refusals, as csv or json.")
    start, end = _day(since), _day(until, end_of_day=True)
    assert start is not None and end is not None
    records: list[dict[str, Any]] = []
    if kind == "freezes":
        market, indexed = _market(request), get_indexed(request)
        offset: int | None = 0
        names = _names(request)
        while offset is not None:
            page = audit.list_actions(
                market,
                indexed,
                principal,
                PageParams(limit=500, offset=offset),
                None,
                None,
                None,
                "AddressFrozen",
                None,
                None,
                start,
                end,
            )
            records.extend(
                {
                    "time": iso_utc(a.timestamp),
                    "security": a.security,
                    "wallet": a.target,
                    "holder": names.get(a.target or ""),
                    "frozen": a.arguments.get("isFrozen"),
                    "by": names.get(a.actor, a.actor),
                    "tx_hash": a.tx_hash,
                    "block": a.block_number,
                }
                for a in page.items
            )
            offset = page.page.next_offset
    else:
        context = _refusals_context(request, principal, limit=None)
        who = context["who"]
        records = [
            {
                "time": iso_utc(int(r.at)),
                "principal": who.get(r.principal, r.principal),
                "request": f"{r.method} {r.path}",
                "status": r.status,
                "code": r.code,
                "detail": r.detail,
            }
            for r in reversed(context["refusals"])
            if start <= r.at <= end
        ]
    filename = f"{kind}-{since}-to-{until}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "json":
        body = {"report": kind, "from": since, "to": until, "prepared_for": principal.name, "items": records}
        return Response(json.dumps(body, indent=2), media_type="application/json", headers=headers)
    out = io.StringIO()
    fields = list(records[0]) if records else (["time", "security", "wallet"] if kind == "freezes" else ["time"])
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    writer.writerows(records)
    return Response(out.getvalue(), media_type="text/csv", headers=headers)


# ---------------------------------------------------------------- issuer


def _issuer_context(request: Request, principal: Principal) -> dict[str, Any]:
    market = _market(request)
    rows = _security_rows(request, principal)
    distributions: dict[str, list[Any]] = {}
    for row in rows:
        symbol = row["detail"].symbol
        try:
            listed = corporate_actions.list_distributions(symbol, market, principal, PageParams(limit=500, offset=0))
        except Problem:  # no paying agent (neither a bond nor a share class)
            continue
        distributions[symbol] = listed.items
    bonds = {s.symbol: s.bond for s in market.scenario.securities if s.bond is not None}
    equities = {symbol for symbol, agent in market.paying_agents.items() if isinstance(agent, EquityPayingAgent)}
    return {
        "rows": rows,
        "distributions": distributions,
        "bonds": bonds,
        "equities": equities,
        "max_batch": MAX_BATCH,
        "now": market.chain.timestamp(),
        "today": datetime.fromtimestamp(market.chain.timestamp(), UTC).date().isoformat(),
    }


@router.get("/issuer")
def issuer(request: Request, session: SessionDep) -> HTMLResponse:
    _require(session.principal, Role.ISSUER)
    return render(request, "issuer.html", session, **_issuer_context(request, session.principal), outcome=None)


def pay_everyone(market: Market, live: ReadView, principal: Principal, symbol: str, distribution_id: int) -> list[str]:
    """Pays a funded distribution to every holder of record, in runs of at most `MAX_BATCH`
    wallets (POST .../payments for each run); returns the runs' transaction hashes. The register is read as of the
    record date from the read model, a page at a time; a wallet paid already is skipped on chain."""
    view = corporate_actions.get_distribution(symbol, distribution_id, market, principal)
    tx_hashes: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = positions.list_positions(
            symbol,
            market,
            live,
            principal,
            PageParams(limit=MAX_BATCH, offset=offset),
            AsOfParams(block=None, at=view.record_date),
        )
        holders = [p.wallet for p in page.items if p.balance > 0]
        if holders:
            run = corporate_actions.pay(symbol, distribution_id, PaymentRun(holders=holders), market, principal)
            tx_hashes.append(run.tx_hash)
        offset = page.page.next_offset
    if not tx_hashes:
        raise Problem(409, "NO_HOLDERS_OF_RECORD", "Nobody to pay", "No wallet held units at the record date.")
    return tx_hashes


def _day_bound(value: str | None, field: str, *, end_of_day: bool) -> int:
    moment = _day(value, end_of_day=end_of_day)
    if moment is None:
        raise Problem(422, "FORM_INCOMPLETE", "Form incomplete", f"Give the {field} (a date).")
    return moment


@router.post("/issuer/{symbol}/{action}")
def issuer_action(
    request: Request,
    symbol: str,
    action: str,
    session: PostSessionDep,
    period: Annotated[int | None, Form(ge=1, le=400)] = None,
    distribution_id: Annotated[int | None, Form(ge=1, lt=2**63)] = None,
    to: Annotated[str | None, Form(max_length=42)] = None,
    units: Annotated[int | None, Form(ge=1, lt=2**96)] = None,
    amount_per_share: Annotated[int | None, Form(ge=1, lt=2**96)] = None,
    record_day: Annotated[str | None, Form(max_length=10)] = None,
    payment_day: Annotated[str | None, Form(max_length=10)] = None,
) -> HTMLResponse:
    """The issuer's forms, each the API's route with the session's principal: schedule a coupon or the
    redemption (a bond), declare a dividend (a share class), fund, pay every holder of record, mint."""
    principal = session.principal
    _require(principal, Role.ISSUER)
    market, live = _market(request), _live(request)

    runs = 0

    def run() -> str:
        nonlocal runs
        if action == "coupon" and period is not None:
            body = CouponSchedule(period=period)
            return corporate_actions.schedule_coupon(symbol, body, market, principal).tx_hash
        if action == "redemption":
            return corporate_actions.schedule_redemption(symbol, market, principal).tx_hash
        if action == "dividend" and amount_per_share is not None:
            declaration = DividendDeclaration(
                amount_per_share=amount_per_share,
                record_date=_day_bound(record_day, "record date", end_of_day=True),
                payment_date=_day_bound(payment_day, "payment date", end_of_day=False),
            )
            return corporate_actions.declare_dividend(symbol, declaration, market, principal).tx_hash
        if action == "fund" and distribution_id is not None:
            return corporate_actions.fund(symbol, distribution_id, market, principal).tx_hash
        if action == "pay" and distribution_id is not None:
            hashes = pay_everyone(market, live, principal, symbol, distribution_id)
            runs = len(hashes)
            return hashes[-1]
        if action == "mint" and to and units:
            return securities.mint(symbol, MintRequest(to=to, amount=units), market, principal).tx_hash
        raise Problem(422, "FORM_INCOMPLETE", "Form incomplete", f"The {action} form is missing a value.")

    form = {"to": to, "units": units, "distribution_id": distribution_id, "period": period}
    tx_hash, refused = attempt(request, principal, run, form)
    outcome = {"action": action, "symbol": symbol, "tx_hash": tx_hash, "refused": refused, "runs": runs}
    status = refused[0] if refused else 200
    context = _issuer_context(request, principal)
    return render(request, "_issuer_body.html", session, status=status, **context, outcome=outcome)


# ---------------------------------------------------------------- investor


@router.get("/investors/{identity}")
def investor_holdings(request: Request, identity: str, session: SessionDep) -> HTMLResponse:
    """One investor's holdings across securities and wallets, scoped as GET /investors/{identity}/positions."""
    principal = session.principal
    market, live = _market(request), _live(request)
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", identity):
        raise Problem(404, "INVESTOR_NOT_FOUND", "Investor not found", f"There is no investor {identity!r}.")
    identity = to_checksum_address(identity)
    held = investors.investor_positions(
        identity, market, live, principal, PageParams(limit=500, offset=0), AsOfParams(block=None, at=None)
    )
    return render(request, "investor.html", session, held=held, identity=identity)


def _claimable(request: Request, principal: Principal, held: Any) -> list[dict[str, Any]]:
    """Payments owed to the investor's wallets and not yet paid (unpaid, or held by the chain): what it may
    claim (POST /securities/{symbol}/distributions/{id}/claims)."""
    market = _market(request)
    found = []
    listed: dict[str, list[Any]] = {}
    for p in held.items:
        if p.security not in listed:
            try:
                listed[p.security] = corporate_actions.list_distributions(
                    p.security, market, principal, PageParams(limit=500, offset=0)
                ).items
            except Problem:  # no paying agent
                listed[p.security] = []
        for x in listed[p.security]:
            if x.state == "DECLARED":
                continue
            try:
                owed = corporate_actions.payment(p.security, x.distribution_id, p.wallet, market, principal)
            except (Problem, SandboxError):  # nothing owed yet (record date not passed)
                continue
            if owed.status != "PAID" and owed.entitlement > 0:
                found.append({"distribution": x, "wallet": p.wallet, "payment": owed})
    return found


def _holdings_context(request: Request, principal: Principal) -> dict[str, Any]:
    market, live = _market(request), _live(request)
    if principal.role is not Role.INVESTOR:
        raise Problem(403, "ROLE_NOT_ALLOWED", "Role not allowed", "This page is for investors.")
    identity = to_checksum_address(principal.account)
    held = investors.investor_positions(
        identity, market, live, principal, PageParams(limit=500, offset=0), AsOfParams(block=None, at=None)
    )
    return {"held": held, "claims": _claimable(request, principal, held)}


@router.get("/holdings")
def holdings(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "holdings.html", session, **_holdings_context(request, session.principal), outcome=None)


@router.post("/holdings/{symbol}/{distribution_id}/claim")
def claim(
    request: Request,
    symbol: str,
    distribution_id: int,
    session: PostSessionDep,
    wallet: Annotated[str, Form(max_length=42)],
) -> HTMLResponse:
    """The investor claims a payment owed to one of its wallets (the API's claim route, its principal)."""
    principal = session.principal
    _require(principal, Role.INVESTOR)
    market = _market(request)
    body = ClaimRequest(wallet=wallet)
    done, refused = attempt(
        request,
        principal,
        lambda: corporate_actions.claim(symbol, distribution_id, body, market, principal).tx_hash,
        {"wallet": wallet},
    )
    outcome = {"action": "claim", "symbol": symbol, "tx_hash": done, "refused": refused}
    status = refused[0] if refused else 200
    return render(
        request, "_holdings_body.html", session, status=status, **_holdings_context(request, principal), outcome=outcome
    )
