"""`Idempotency-Key` for every state-changing request: a retry returns the first result and never sends
a second transaction, also after the gateway restarts.

Records are kept by an `IdempotencyStore` (SQLAlchemy): a SQLite file in the data directory when the
settings name one (``SANDBOX_DATA_DIR``), so they survive a restart; otherwise an in-memory SQLite
database that lives as long as the app. A record is keyed by the principal the request authenticates
as and the key, so two callers cannot collide, and holds a fingerprint of the request (method, path,
query, body) and, once answered, the first response (status, the headers that matter, body).

- The body is read whole first. A request whose body did not arrive whole (the client disconnected
  mid-upload, or sent fewer bytes than its Content-Length) is not run and claims nothing: the full
  retry with the same key runs as a first attempt.
- A request with a new key claims it (an insert, atomic in the database) before it runs. Its answer
  is buffered and stored (committed to the database) *before* its first byte is sent, so a client
  that got an answer gets the same answer on retry, even if the gateway was killed right after
  sending it. Server errors (5xx) and authentication failures (401) are not stored: the claim is
  released and the request may be retried for real.
- A retry with the same key and the same request gets the stored response, marked
  ``Idempotent-Replayed: true``; nothing reaches the routes, so no second transaction is sent.
- The same key with a different request: 422 ``IDEMPOTENCY_KEY_REUSED``.
- A duplicate that arrives while the first is still running waits for it (up to `wait_seconds`) and
  then gets its response; if it is still running then: 409 ``IDEMPOTENCY_IN_PROGRESS``. A claim left
  by a gateway that stopped mid-request (its outcome unknown) is answered the same way; use a new key
  after checking the audit trail.
- Requests without credentials the directory knows are passed on untouched (the route answers 401).
- The principal is derived from the same (single) ``Authorization`` header the routes authenticate
  with. A request carrying more than one ``Authorization`` header (or more than one
  ``Idempotency-Key``) is refused before anything runs: 400 ``AMBIGUOUS_CREDENTIALS`` (422
  ``IDEMPOTENCY_KEY_INVALID``), for every method and route.
- Records older than `retention_seconds` are purged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import Engine, Float, Integer, LargeBinary, String, Text, create_engine, delete, event, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox_gateway.principals import PrincipalDirectory
from sandbox_gateway.problems import PROBLEM_JSON

HEADER = b"idempotency-key"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY_LENGTH = 255
#: Response headers kept with a stored response (the rest — date, server — describe the first answer
#: only); content-length is recomputed on replay.
KEPT_HEADERS = {b"content-type", b"location", b"content-disposition", b"link", b"etag", b"retry-after"}
#: File name of the records in the data directory.
DATABASE_FILE = "gateway-idempotency.sqlite"
DEFAULT_WAIT_SECONDS = 10.0
DEFAULT_RETENTION_SECONDS = 24 * 3600.0
_POLL_SECONDS = 0.02

AMBIGUOUS_CREDENTIALS = "AMBIGUOUS_CREDENTIALS"
AMBIGUOUS_CREDENTIALS_TITLE = "Ambiguous credentials"
AMBIGUOUS_CREDENTIALS_DETAIL = "Send exactly one Authorization header; nothing was done."

IN_PROGRESS = "in-progress"
DONE = "done"


class _Base(DeclarativeBase):
    pass


class IdempotencyRecord(_Base):
    """One (principal, key): the request it was first used for and, once answered, the answer."""

    __tablename__ = "gateway_idempotency"

    principal: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    #: The gateway instance that claimed the key (to tell a running request from an interrupted one).
    owner: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[float] = mapped_column(Float, index=True)
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[str | None] = mapped_column(Text)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True)
class Claim:
    """What claiming a key found: None fields when this request now owns the key."""

    fingerprint: str
    state: str
    owner: str
    created_at: float
    response: StoredResponse | None


class IdempotencyStore:
    """Idempotency records in a database: ``IdempotencyStore.open(data_dir)`` (a SQLite file in it, or
    in memory when `data_dir` is None) or ``IdempotencyStore(url)`` for any SQLAlchemy URL."""

    def __init__(self, url: str = "sqlite://") -> None:
        self.engine, self._in_memory = store_engine(url)
        _Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        #: Identifies this gateway process's claims.
        self.instance = str(uuid.uuid4())

    @classmethod
    def open(cls, data_dir: Path | None) -> IdempotencyStore:
        if data_dir is None:
            return cls()
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{data_dir / DATABASE_FILE}")

    def close(self) -> None:
        """Closes the database file's connections (they reopen on next use). An in-memory store keeps its
        one connection: closing it would forget every record."""
        if not self._in_memory:
            self.engine.dispose()

    def _session(self) -> Session:
        return self._sessions()

    def claim(self, principal: str, key: str, fingerprint: str) -> Claim | None:
        """Claims (principal, key) for a request with `fingerprint`: None if this request now owns it,
        else what an earlier request left."""
        with self._session() as session:
            try:
                with session.begin():
                    session.add(
                        IdempotencyRecord(
                            principal=principal,
                            key=key,
                            fingerprint=fingerprint,
                            state=IN_PROGRESS,
                            owner=self.instance,
                            created_at=time.time(),
                        )
                    )
                return None
            except IntegrityError:
                pass
        found = self.get(principal, key)
        if found is None:  # released between our insert and our read: try once more
            return self.claim(principal, key, fingerprint)
        return found

    def get(self, principal: str, key: str) -> Claim | None:
        with self._session() as session:
            record = session.get(IdempotencyRecord, (principal, key))
            if record is None:
                return None
            response = None
            if record.state == DONE and record.status is not None:
                headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in json.loads(record.headers or "[]")]
                response = StoredResponse(record.status, headers, record.body or b"")
            return Claim(record.fingerprint, record.state, record.owner, record.created_at, response)

    def complete(self, principal: str, key: str, response: StoredResponse) -> None:
        headers = json.dumps([(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers])
        with self._session() as session, session.begin():
            session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key)
                .values(state=DONE, status=response.status, headers=headers, body=response.body)
            )

    def release(self, principal: str, key: str) -> None:
        with self._session() as session, session.begin():
            session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key)
            )

    def purge(self, older_than: float) -> int:
        """Deletes records created before `older_than` (a Unix time); returns how many."""
        with self._session() as session, session.begin():
            result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < older_than))
        return int(getattr(result, "rowcount", 0) or 0)


def store_engine(url: str) -> tuple[Engine, bool]:
    """The engine of a gateway store at `url` and whether it is in memory (the idempotency records and
    the console's records are such stores): an in-memory SQLite database is one connection shared by every
    thread; a SQLite file gets WAL journaling (`_sqlite_pragmas`)."""
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    if in_memory:
        # One connection shared by every thread: an in-memory database exists per connection.
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False}), True
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine, False


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL with NORMAL sync: a committed record survives the process being killed (the restart case);
    # a power cut may lose the newest records, never corrupt the file.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        store: IdempotencyStore,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
    ) -> None:
        self.app = app
        self.store = store
        self.wait_seconds = wait_seconds
        self.retention_seconds = retention_seconds
        #: (principal, key) → set when this process's request holding the key ends
        self._running: dict[tuple[str, str], asyncio.Event] = {}
        self._claims = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorizations = header_values(scope, b"authorization")
        if len(authorizations) > 1:
            await _problem(send, 400, AMBIGUOUS_CREDENTIALS, AMBIGUOUS_CREDENTIALS_TITLE, AMBIGUOUS_CREDENTIALS_DETAIL)
            return
        if scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        keys = header_values(scope, HEADER)
        if not keys:
            await self.app(scope, receive, send)
            return
        key = keys[0].decode("latin-1").strip()
        if len(keys) > 1 or not key or len(key) > MAX_KEY_LENGTH:
            await _problem(
                send,
                422,
                "IDEMPOTENCY_KEY_INVALID",
                "Invalid Idempotency-Key",
                f"Send one Idempotency-Key header of 1 to {MAX_KEY_LENGTH} characters.",
            )
            return
        principal = _principal_of(scope, authorizations[0] if authorizations else None)
        if principal is None:  # not authenticated: the route answers 401, nothing to remember
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive, _content_length(scope))
        if not complete:
            # Cut short (the client went away mid-upload, or sent less than it announced): not run, and
            # the key stays free for the full retry.
            if complete is None:
                return  # disconnected: nobody to answer
            await _problem(
                send,
                400,
                "REQUEST_BODY_INCOMPLETE",
                "Incomplete request body",
                "The request body is shorter than its Content-Length; nothing was done. Send it again whole.",
            )
            return
        fingerprint = hashlib.sha256(
            json.dumps([scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")]).encode()
            + b"\n"
            + body
        ).hexdigest()
        slot = (principal, key)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            found = self.store.claim(principal, key, fingerprint)
            if found is None:
                break  # ours: run it
            if found.fingerprint != fingerprint:
                await _problem(
                    send,
                    422,
                    "IDEMPOTENCY_KEY_REUSED",
                    "Idempotency-Key reused",
                    "This Idempotency-Key was already used for a different request.",
                )
                return
            if found.response is not None:
                await _replay(send, found.response)
                return
            # Claimed and not answered yet: by a request still running here or in another gateway
            # process sharing the data directory (wait for it), or by a gateway that stopped mid-request.
            running_here = self._running.get(slot)
            interrupted = found.owner != self.store.instance and time.time() - found.created_at > self.wait_seconds
            remaining = deadline - time.monotonic()
            if interrupted or remaining <= 0 or (found.owner == self.store.instance and running_here is None):
                detail = (
                    "A request with this Idempotency-Key was interrupted before it was answered; its outcome is "
                    "unknown (see the audit trail). Retry with a new key."
                    if interrupted
                    else "A request with this Idempotency-Key is still being processed; retry later."
                )
                await _problem(send, 409, "IDEMPOTENCY_IN_PROGRESS", "Request in progress", detail)
                return
            if running_here is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(running_here.wait(), timeout=remaining)
            else:
                await asyncio.sleep(min(_POLL_SECONDS, remaining))
        await self._run(scope, body, send, slot)

    async def _run(self, scope: Scope, body: bytes, send: Send, slot: tuple[str, str]) -> None:
        """Runs the request, buffering its answer; stores the answer (or releases the claim), and only
        then sends it."""
        done = self._running[slot] = asyncio.Event()
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        try:
            try:
                await self.app(scope, _replay_body(body), capture)
            except BaseException:
                self.store.release(*slot)  # no answer: the request may be retried for real
                raise
            start = next((m for m in messages if m["type"] == "http.response.start"), None)
            status = int(start["status"]) if start is not None else 500
            headers = start.get("headers", []) if start is not None else []
            response = StoredResponse(
                status,
                [(k.lower(), v) for k, v in headers if k.lower() in KEPT_HEADERS],
                b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body"),
            )
            if status < 500 and status != 401:
                self.store.complete(*slot, response)  # committed before the first byte is sent
            else:  # not remembered: the request may be retried for real
                self.store.release(*slot)
        finally:
            del self._running[slot]
            done.set()
        if start is None:
            await _problem(send, 500, "INTERNAL_ERROR", "Internal error", "The request was not answered.")
        else:
            for message in messages:
                await send(message)
        self._claims += 1
        if self._claims % 1000 == 1:
            self.store.purge(time.time() - self.retention_seconds)


def header_values(scope: Scope, name: bytes) -> list[bytes]:
    """Every value of the request header `name` (lower case), in order."""
    return [value for key, value in scope["headers"] if key.lower() == name]


def _principal_of(scope: Scope, authorization: bytes | None) -> str | None:
    """The key of the principal the request's credentials name, or None: parsed as the routes parse
    them (`sandbox_gateway.deps.get_principal`, through FastAPI's `HTTPBearer`)."""
    app = scope.get("app")
    directory: PrincipalDirectory | None = getattr(getattr(app, "state", None), "principals", None)
    if directory is None or authorization is None:
        return None
    scheme, credentials = get_authorization_scheme_param(authorization.decode("latin-1"))
    if scheme.lower() != "bearer" or not credentials:
        return None
    principal = directory.authenticate(credentials)
    return None if principal is None else principal.key


def _content_length(scope: Scope) -> int | None:
    values = header_values(scope, b"content-length")
    try:
        return int(values[0]) if len(values) == 1 else None
    except ValueError:
        return None


async def _read_body(receive: Receive, content_length: int | None) -> tuple[bytes, bool | None]:
    """The whole body and whether it arrived whole: True, False (the body ended short of its
    Content-Length) or None (the client disconnected before the end of it)."""
    parts = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                body = b"".join(parts)
                return body, content_length is None or len(body) == content_length
        elif message["type"] == "http.disconnect":
            return b"".join(parts), None


def _replay_body(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _replay(send: Send, stored: StoredResponse) -> None:
    headers = MutableHeaders(raw=list(stored.headers))
    headers["content-length"] = str(len(stored.body))
    headers["idempotent-replayed"] = "true"
    await send({"type": "http.response.start", "status": stored.status, "headers": headers.raw})
    await send({"type": "http.response.body", "body": stored.body})


async def _problem(send: Send, status: int, code: str, title: str, detail: str) -> None:
    body = json.dumps(
        {
            "type": f"https://sandbox.example/problems/{code.lower().replace('_', '-')}",
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
