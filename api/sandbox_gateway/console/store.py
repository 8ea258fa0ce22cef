"""What the gateway keeps for the console that the chain does not: the reasons regulators and issuers give with
their decisions (cross-border approvals and rejections, issuance approvals and declines, freezes and releases),
the requests the rulebook refused (a refused transaction reverts and leaves nothing on chain), and the event
stream's id base (so ids never restart when the read model is rebuilt after a chain revert).

Kept by the gateway, NOT on chain: the token's decision functions carry no reason, and the token core is full
(EIP-170). The records live in a database next to the read model: a SQLite file in the data directory
(``gateway-console.sqlite``, so they survive a restart with ``--data-dir``), else an in-memory database that
lives as long as the app. A decision's reason is written (committed) *before* its transaction is sent and
marked done with the transaction's hash after it: an acknowledged decision's reason is never lost, and a
gateway stopped in between leaves the reason marked ``pending`` (the chain's audit trail tells whether the
decision was made)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Float, Integer, String, Text, delete, func, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.types import JSON

from sandbox_gateway.idempotency import store_engine

#: File name of the console's records in the data directory.
DATABASE_FILE = "gateway-console.sqlite"
PENDING = "pending"
DONE = "done"


class _Base(DeclarativeBase):
    pass


class DecisionRow(_Base):
    """A decision taken through the console, with the reason its author gave."""

    __tablename__ = "console_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)
    #: The principal's key ("fca", "thames", "operator").
    actor: Mapped[str] = mapped_column(String(200), index=True)
    #: "cross-border", "issuance", "freeze", "partial-freeze".
    kind: Mapped[str] = mapped_column(String(32))
    security: Mapped[str] = mapped_column(String(40), index=True)
    #: A cross-border transfer's id, or a wallet.
    subject: Mapped[str] = mapped_column(String(66))
    #: "approve", "reject", "decline", "freeze", "release".
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    #: Units (an issuance limit, a frozen amount) as a decimal string (they may exceed 64 bits).
    amount: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(String(66), index=True)


class RefusalRow(_Base):
    """A state-changing request the gateway or the chain refused (4xx with a problem code)."""

    __tablename__ = "console_refusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)
    principal: Mapped[str | None] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text)
    #: The security the request was about (its symbol), if its path names one.
    security: Mapped[str | None] = mapped_column(String(40))
    #: Every address the request named (path, body) and the author's own wallets: what its scope is decided by.
    parties: Mapped[list[str]] = mapped_column(JSON)


class MetaRow(_Base):
    __tablename__ = "console_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


@dataclass(frozen=True)
class Decision:
    id: int
    at: float
    actor: str
    kind: str
    security: str
    subject: str
    decision: str
    reason: str
    amount: int | None
    state: str
    tx_hash: str | None


@dataclass(frozen=True)
class Refusal:
    id: int
    at: float
    principal: str | None
    method: str
    path: str
    status: int
    code: str
    detail: str
    security: str | None
    parties: tuple[str, ...]


def _decision(row: DecisionRow) -> Decision:
    return Decision(
        row.id,
        row.at,
        row.actor,
        row.kind,
        row.security,
        row.subject,
        row.decision,
        row.reason,
        None if row.amount is None else int(row.amount),
        row.state,
        row.tx_hash,
    )


def _refusal(row: RefusalRow) -> Refusal:
    return Refusal(
        row.id,
        row.at,
        row.principal,
        row.method,
        row.path,
        row.status,
        row.code,
        row.detail,
        row.security,
        tuple(row.parties or ()),
    )


class ConsoleStore:
    """The console's records: ``ConsoleStore.open(data_dir)`` (a SQLite file in it, or in memory when
    `data_dir` is None) or ``ConsoleStore(url)`` for any SQLAlchemy URL."""

    def __init__(self, url: str = "sqlite://") -> None:
        self.engine, in_memory = store_engine(url)
        self._in_memory = in_memory
        _Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The in-memory database is one connection: one thread at a time uses it.
        self._lock = threading.RLock() if in_memory else None

    @classmethod
    def open(cls, data_dir: Path | None) -> ConsoleStore:
        if data_dir is None:
            return cls()
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{data_dir / DATABASE_FILE}")

    def close(self) -> None:
        if not self._in_memory:
            self.engine.dispose()

    def _write(self, statement: Any) -> Any:
        if self._lock is None:
            with self._sessions() as session, session.begin():
                return session.execute(statement)
        with self._lock, self._sessions() as session, session.begin():
            return session.execute(statement)

    def _read(self, statement: Any) -> list[Any]:
        if self._lock is None:
            with self._sessions() as session:
                return list(session.scalars(statement))
        with self._lock, self._sessions() as session:
            return list(session.scalars(statement))

    def _add(self, row: _Base) -> None:
        if self._lock is None:
            with self._sessions() as session, session.begin():
                session.add(row)
            return
        with self._lock, self._sessions() as session, session.begin():
            session.add(row)

    # ------------------------------------------------------------------ decisions

    def begin_decision(
        self,
        *,
        actor: str,
        kind: str,
        security: str,
        subject: str,
        decision: str,
        reason: str,
        amount: int | None = None,
    ) -> int:
        """Records a decision about to be sent (state pending), committed; returns its id."""
        row = DecisionRow(
            at=time.time(),
            actor=actor,
            kind=kind,
            security=security,
            subject=subject,
            decision=decision,
            reason=reason,
            amount=None if amount is None else str(amount),
            state=PENDING,
        )
        self._add(row)
        return int(row.id)

    def complete_decision(self, decision_id: int, tx_hash: str | None) -> None:
        """The decision was made (on chain, by `tx_hash`; None for one the chain has no function for)."""
        self._write(update(DecisionRow).where(DecisionRow.id == decision_id).values(state=DONE, tx_hash=tx_hash))

    def abandon_decision(self, decision_id: int) -> None:
        """The decision was refused: nothing was decided, nothing is kept."""
        self._write(delete(DecisionRow).where(DecisionRow.id == decision_id))

    def decisions(
        self, *, security: str | None = None, kind: str | None = None, subject: str | None = None
    ) -> list[Decision]:
        """Decisions (pending and done), oldest first."""
        statement = select(DecisionRow).order_by(DecisionRow.id)
        if security is not None:
            statement = statement.where(DecisionRow.security == security)
        if kind is not None:
            statement = statement.where(DecisionRow.kind == kind)
        if subject is not None:
            statement = statement.where(DecisionRow.subject == subject)
        return [_decision(row) for row in self._read(statement)]

    def decisions_by_tx(self, tx_hashes: list[str]) -> dict[str, Decision]:
        if not tx_hashes:
            return {}
        rows = self._read(select(DecisionRow).where(DecisionRow.tx_hash.in_(tx_hashes)))
        return {row.tx_hash: _decision(row) for row in rows}

    # ------------------------------------------------------------------ refusals

    def record_refusal(
        self,
        *,
        principal: str | None,
        method: str,
        path: str,
        status: int,
        code: str,
        detail: str,
        security: str | None,
        parties: list[str],
    ) -> int:
        row = RefusalRow(
            at=time.time(),
            principal=principal,
            method=method,
            path=path[:500],
            status=status,
            code=code[:100],
            detail=detail,
            security=security,
            parties=parties,
        )
        self._add(row)
        return int(row.id)

    def refusals_after(self, refusal_id: int, *, limit: int | None = None) -> list[Refusal]:
        """Refusals recorded after `refusal_id`, oldest first."""
        statement = select(RefusalRow).where(RefusalRow.id > refusal_id).order_by(RefusalRow.id)
        if limit is not None:
            statement = statement.limit(limit)
        return [_refusal(row) for row in self._read(statement)]

    def last_refusal_id(self) -> int:
        found = self._read(select(func.max(RefusalRow.id)))
        return int(found[0] or 0) if found else 0

    # ------------------------------------------------------------------ small values

    def get(self, key: str) -> str | None:
        found = self._read(select(MetaRow.value).where(MetaRow.key == key))
        return str(found[0]) if found else None

    def put(self, key: str, value: str) -> None:
        if self._lock is None:
            with self._sessions() as session, session.begin():
                session.merge(MetaRow(key=key, value=value))
            return
        with self._lock, self._sessions() as session, session.begin():
            session.merge(MetaRow(key=key, value=value))
