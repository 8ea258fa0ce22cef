"""The read model's queries: positions (now and as of a block or time), cap tables, the audit trail."""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from eth_utils import is_address, to_checksum_address
from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    String,
    cast,
    create_engine,
    event,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.orm import Session, aliased, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from sandbox.errors import SandboxError
from sandbox.readmodel._schema import (
    SCHEMA_VERSION,
    BalancePeriod,
    Base,
    BlockRow,
    ContractRow,
    EventRow,
    FreezeChange,
    InvestorRow,
    InvestorVersion,
    Meta,
    WalletRow,
)
from sandbox.rules import InvestorCategory, Jurisdiction

#: Where the read model lives when nobody says otherwise: a SQLite file in the working directory.
DEFAULT_URL = "sqlite:///sandbox-readmodel.sqlite"


class ReadModelError(SandboxError):
    """A read-model query or indexing step was refused (unknown security, bad filter, ...)."""


class NotIndexedYet(ReadModelError):
    """The block or time asked for lies beyond what has been indexed: run the indexer first."""


class ReadModelDiverged(ReadModelError):
    """The chain no longer holds the blocks the read model was built from (a reverted snapshot, a
    reorganisation deeper than the confirmation depth, or another chain): rebuild the read model."""


@dataclass(frozen=True)
class Security:
    """A token the read model knows."""

    address: str
    symbol: str | None
    name: str | None
    decimals: int | None
    indexed_to: int


class Position(NamedTuple):
    """What one wallet holds of one security.

    An immutable record like the other results, but a named tuple: a cap table of 10,000 holders
    builds 10,000 of them, and a frozen dataclass's ``__init__`` costs four times as much.
    """

    security: str
    symbol: str | None
    wallet: str
    #: The registry identity that owns the wallet; None for a wallet the registry does not know.
    investor: str | None
    balance: int
    frozen: bool


@dataclass(frozen=True)
class InvestorPosition:
    """What one investor holds of one security, over all its wallets."""

    security: str
    symbol: str | None
    investor: str
    balance: int
    wallets: tuple[Position, ...]


@dataclass(frozen=True)
class Breakdown:
    holders: int
    balance: int
    #: balance / total of the security (0.0 when nothing is outstanding).
    share: float


class CapTableEntry(NamedTuple):
    """One investor (or one unregistered wallet) on a cap table (a named tuple, as `Position`)."""

    investor: str | None
    wallets: tuple[str, ...]
    #: ISO 3166 alpha-2 of the investor's jurisdiction ("GB", "US"), or "UNREGISTERED".
    jurisdiction: str
    #: `InvestorCategory` name, or "UNREGISTERED".
    category: str
    balance: int
    share: float


@dataclass(frozen=True)
class CapTable:
    security: str
    symbol: str | None
    #: The block the table describes (the indexed head for "now"; -1 before anything was indexed).
    block: int
    total: int
    holders: tuple[CapTableEntry, ...]
    by_jurisdiction: Mapping[str, Breakdown]
    by_category: Mapping[str, Breakdown]


class Holding(NamedTuple):
    """One wallet's position on a register of holders (a named tuple, as `Position`)."""

    wallet: str
    #: The registry identity that owns the wallet; None for a wallet the registry does not know.
    investor: str | None
    #: ISO 3166 alpha-2 of the investor's jurisdiction ("GB", "US"); None for an unregistered wallet.
    jurisdiction: str | None
    #: `InvestorCategory` name; None for an unregistered wallet.
    category: str | None
    balance: int
    frozen: bool


@dataclass(frozen=True)
class Register:
    """The register of holders of a security as of one block: every non-zero position."""

    security: str
    symbol: str | None
    #: The block the register describes (the indexed head for "now"; -1 before anything was indexed).
    block: int
    #: Sum of every position: the security's total supply as of `block`.
    total: int
    holdings: tuple[Holding, ...]


@dataclass(frozen=True)
class RegisterPage:
    """One page of a register of holders, with what a paginated answer needs about the whole."""

    security: str
    symbol: str | None
    #: The block the page describes (the indexed head for "now"; -1 before anything was indexed).
    block: int
    #: That block's time, None if the read model has no row for it.
    timestamp: int | None
    #: Sum of every position (in the filter or not): the security's total supply as of `block`.
    total: int
    #: Positions matching the filter, on every page.
    count: int
    holdings: tuple[Holding, ...]


@dataclass(frozen=True)
class HolderGroup:
    """Holders of one (jurisdiction, category) pair: None and None for wallets the registry does not know."""

    jurisdiction: str | None
    category: str | None
    #: Investors (an unregistered wallet counts as one), not wallets.
    holders: int
    balance: int


@dataclass(frozen=True)
class HolderBreakdown:
    """A security's holders grouped by their investors' jurisdiction and category as of one block."""

    security: str
    symbol: str | None
    block: int
    timestamp: int | None
    #: Sum of every position (in the filter or not): the security's total supply as of `block`.
    total: int
    groups: tuple[HolderGroup, ...]


#: Digits per part when SQLite sums zero-padded uint256 strings exactly: the 78 digits in 6 parts of 13;
#: a part's sum fits a 64-bit integer for up to 900,000 positions.
_SUM_PART_DIGITS = 13
_SUM_PARTS = 6
assert len(str(2**256 - 1)) == _SUM_PART_DIGITS * _SUM_PARTS


@dataclass(frozen=True)
class AuditEntry:
    """One regulatory or agent action: an event that is not a plain transfer or approval."""

    event: str
    contract: str
    symbol: str | None
    #: The sender of the transaction that emitted the event.
    actor: str
    target: str | None
    tx_hash: str
    block_number: int
    log_index: int
    timestamp: int
    args: Mapping[str, Any]


@dataclass(frozen=True)
class IndexedEvent:
    """One indexed log of a watched contract: its event name, where it sits in the chain and its
    arguments as stored (ABI names; addresses checksummed; integers past 2**53 as strings)."""

    name: str
    block_number: int
    tx_index: int
    log_index: int
    args: Mapping[str, Any]


@dataclass(frozen=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]
    #: How many entries match the filters in all (not only on this page).
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.entries)
        return end if end < self.total else None


@dataclass(frozen=True)
class SequencedEvent:
    """Any indexed event of a watched contract with its place in the read model's event sequence (ids grow
    in chain order as blocks are indexed; a rebuilt read model starts again from 1)."""

    sequence: int
    event: str
    contract: str
    symbol: str | None
    actor: str
    target: str | None
    tx_hash: str
    block_number: int
    log_index: int
    timestamp: int
    audit: bool
    args: Mapping[str, Any]


UNREGISTERED = "UNREGISTERED"
MAX_PAGE = 1000
#: Answers (`register_page`, `holder_breakdown`) a `ReadModel` keeps for reuse, least recently used dropped
#: (at most 128 pages of up to 500 positions: ~20 MB at worst).
DEFAULT_ANSWER_CACHE = 128


class _Answers:
    """A bounded, thread-safe LRU of query answers (immutable: frozen dataclasses of tuples).

    A key holds everything that determines the answer (`ReadModel._state_key`): a hit is the same
    answer the database would give. `hits` and `misses` count lookups (a benchmark reports them)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...] | None) -> Any:
        if key is None or self.size <= 0:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[Any, ...] | None, value: Any) -> None:
        if key is None or self.size <= 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@cache
def _jurisdiction_name(code: int) -> str:
    try:
        return Jurisdiction(code).name
    except ValueError:
        return str(code)


@cache
def _category_name(code: int) -> str:
    try:
        return InvestorCategory(code).name
    except ValueError:
        return str(code)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector while a large result is built.

    A cap table of 10,000 holders allocates tens of thousands of tuples, none of them in a cycle; the
    collector would run dozens of times meanwhile, scanning the whole heap, and more than double the
    time of the query. Reference counting still frees everything; collection resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _address(value: str, what: str) -> str:
    if not is_address(value):
        raise ReadModelError(f"{what} {value!r} is not an address")
    return to_checksum_address(value)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers do not block the indexer's writes; NORMAL sync is durable at each checkpoint and
    # never corrupts (a crash can lose the last commits, which the indexer simply redoes).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A live read model's follower checkpoints (copies the WAL into the database, syncing both) about once a
    # second, off the writes' path (`ReadModel.checkpoint`); SQLite's own checkpoint, run by whichever commit
    # finds the WAL over the limit, is then only a backstop (~40 MB rather than its 4 MB default).
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    dbapi_connection.isolation_level = None  # transactions begin where SQLAlchemy begins them (`_begin_sqlite`)


class _SQLiteCompiler(SQLiteCompiler):
    """SQLite's compiler, rendering a table's ``with_hint(table, "INDEXED BY ...", "sqlite")`` after the
    table's name (SQLAlchemy renders none for SQLite): a query whose best plan SQLite's planner, without
    statistics, does not find names its indexes (`ReadModel._in_investor_order`)."""

    def get_from_hint_text(self, table: Any, text: str | None) -> str | None:
        return text


def _begin_sqlite(connection: Any) -> None:
    """A read snapshot from the first query of a session to its end (WAL: it blocks no writer). Sent on
    the driver's connection: this is SQLAlchemy's own "begin" step, with nothing for it to compile."""
    connection.connection.driver_connection.execute("BEGIN")


class _RecordJoin(NamedTuple):
    """An investor's record joined to a query: the table (an alias), the join condition, its columns."""

    table: Any
    on: Any
    jurisdiction: Any
    category: Any


class ReadModel:
    """The relational read model of a sandbox market.

    ``ReadModel()`` opens (and creates) the SQLite file `DEFAULT_URL`; ``ReadModel("postgresql+psycopg://
    user@host:port/db")`` or any SQLAlchemy URL opens another database; ``ReadModel.sqlite(path)`` a
    given file. The tables are created on first use. Queries take ``block=`` or ``at=`` (a unix time)
    to answer as of the past; without them they answer as of the newest indexed block.
    """

    def __init__(self, url: str = DEFAULT_URL, *, echo: bool = False, answer_cache: int = DEFAULT_ANSWER_CACHE) -> None:
        self.url = url
        #: Positions pages and holder breakdowns already computed, keyed on the database state they were
        #: read from (`_state_key`); 0 disables the reuse.
        self.answers = _Answers(answer_cache)
        #: Bumped by `reset`: nothing computed before a rebuild is reused after it.
        self._generation = 0
        # One snapshot per session: a read's queries (the indexed block, the count, the page) all see the
        # same commit of the indexer, never part of one that landed between two of them. PostgreSQL: in
        # REPEATABLE READ; SQLite: in a transaction begun before the first query (pysqlite itself would
        # begin none for a SELECT, leaving each query its own snapshot).
        isolation = {"isolation_level": "REPEATABLE READ"} if url.startswith("postgresql") else {}
        self.engine: Engine = create_engine(url, echo=echo, **isolation)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _set_sqlite_pragmas)
            event.listen(self.engine, "begin", _begin_sqlite)
            self.engine.dialect.statement_compiler = _SQLiteCompiler
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            self._create_schema()
        except BaseException:
            self.engine.dispose()
            raise

    @classmethod
    def sqlite(cls, path: str | Path, *, answer_cache: int = DEFAULT_ANSWER_CACHE) -> ReadModel:
        return cls(f"sqlite:///{Path(path)}", answer_cache=answer_cache)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> ReadModel:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction, committed on success and rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def reset(self) -> None:
        """Drops every table and creates them empty: the read model is then rebuilt by indexing again
        (what to do when it `ReadModelDiverged` from the chain)."""
        self.forget_answers()
        Base.metadata.drop_all(self.engine)
        self._create_schema()

    def checkpoint(self) -> None:
        """On SQLite, copies what the write-ahead log holds into the database file (a PASSIVE checkpoint: it
        waits for no reader nor writer, and leaves what they still need for the next); elsewhere nothing.
        `MarketReadModel`'s follower calls it about once a second, so that the indexer's commits, which may
        be a write's acknowledgement, seldom run one themselves."""
        if self.engine.dialect.name != "sqlite":
            return
        connection = self.engine.raw_connection()  # no transaction: a checkpoint cannot run inside one
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()

    def forget_answers(self) -> None:
        """Reuses none of the answers computed so far (nor any being computed now): after a change to what
        is indexed that moves no contract's cursor (a `reset`, an `Indexer.reindex` that filled a gap)."""
        self._generation += 1
        self.answers.clear()

    def _create_schema(self) -> None:
        Base.metadata.create_all(self.engine)
        # create_all adds no index to a table that exists: add those a newer sandbox defines.
        for table in Base.metadata.sorted_tables:
            for index in table.indexes:
                index.create(self.engine, checkfirst=True)
        with self.session() as session:
            version = session.get(Meta, "schema_version")
            if version is None:
                session.add(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
            elif version.value != str(SCHEMA_VERSION):
                raise ReadModelError(
                    f"the read model at {self.engine.url!r} has schema version {version.value}; "
                    f"this sandbox writes version {SCHEMA_VERSION}: rebuild it"
                )

    # ------------------------------------------------------------------ what is indexed

    def last_indexed_block(self) -> int | None:
        """The highest block up to which every watched contract is indexed (None: nothing watched)."""
        with self.session() as session:
            value = session.scalar(select(func.min(ContractRow.indexed_to)))
        return None if value is None else int(value)

    def securities(self) -> list[Security]:
        """The tokens the read model knows, in the order they were added."""
        with self.session() as session:
            rows = session.scalars(
                select(ContractRow).where(ContractRow.kind == "token").order_by(ContractRow.id)
            ).all()
        return [Security(r.address, r.symbol, r.name, r.decimals, r.indexed_to) for r in rows]

    def block_at(self, timestamp: int) -> int:
        """The newest indexed block whose time is at or before `timestamp` (-1 if none is)."""
        with self.session() as session:
            return self._block_at(session, timestamp, self._head(session))

    def events(self, contract: str, names: Sequence[str], *, block: int | None = None) -> list[IndexedEvent]:
        """Every indexed event of `contract` (address or token symbol) with one of `names`, up to `block`
        (default: everything indexed), oldest first: one indexed query, no chain read."""
        with self.session() as session:
            conditions: list[ColumnElement[bool]] = [
                EventRow.contract_id == self._any_contract(session, contract).id,
                EventRow.name.in_(list(names)),
            ]
            if block is not None:
                conditions.append(EventRow.block_number <= block)
            rows = session.execute(
                select(EventRow.name, EventRow.block_number, EventRow.tx_index, EventRow.log_index, EventRow.args)
                .where(*conditions)
                .order_by(EventRow.block_number, EventRow.tx_index, EventRow.log_index)
            ).all()
        return [IndexedEvent(r.name, r.block_number, r.tx_index, r.log_index, r.args) for r in rows]

    # ------------------------------------------------------------------ positions

    def positions(self, security: str, *, block: int | None = None, at: int | None = None) -> list[Position]:
        """Every non-zero position in `security` (address or symbol), largest first."""
        with self.session() as session, _gc_paused():
            contract = self._contract(session, security)
            as_of = self._as_of(session, block, at, contract.indexed_to)
            rows = self._holdings(session, contract.id, as_of)
            frozen = {wallet for cid, wallet in self._frozen(session, [contract.id], as_of)}
            address, symbol = contract.address, contract.symbol
            return [
                Position(address, symbol, wallet, investor, balance, wallet in frozen)
                for wallet, balance, investor in rows
            ]

    @classmethod
    def _holdings(cls, session: Session, contract_id: int, as_of: int | None) -> list[tuple[str, int, str | None]]:
        """(wallet, balance, investor) of every non-zero position, largest first. Answered from one
        covering index; sorted here, which is cheaper than SQLite's sort of padded decimal strings."""
        # The balance is read as the driver gives it (a padded string on SQLite, a Decimal on PostgreSQL)
        # and converted here: 10,000 rows through `Uint256`'s result processor cost twice as much.
        raw_balance = type_coerce(BalancePeriod.balance, String)
        query = select(BalancePeriod.wallet, raw_balance, BalancePeriod.investor).where(
            BalancePeriod.contract_id == contract_id, BalancePeriod.balance > 0, *cls._valid_at(as_of)
        )
        rows = [(wallet, int(balance), investor) for wallet, balance, investor in session.connection().execute(query)]
        rows.sort(key=itemgetter(0))  # by wallet, then (stable) by balance, largest first
        rows.sort(key=itemgetter(1), reverse=True)
        return rows

    def investor_positions(
        self, investor: str, *, block: int | None = None, at: int | None = None
    ) -> list[InvestorPosition]:
        """What `investor` holds of each security, over all its wallets. `investor` may be the registry
        identity or any of its wallets (an address the registry does not know counts as one wallet)."""
        address = _address(investor, "investor")
        with self.session() as session:
            identity = session.scalar(select(WalletRow.identity).where(WalletRow.wallet == address))
            if identity is None:
                identity = address
            wallets = list(session.scalars(select(WalletRow.wallet).where(WalletRow.identity == identity)))
            if not wallets:  # a wallet the registry does not know stands for itself
                wallets = [address]
            contracts = {c.id: c for c in session.scalars(select(ContractRow).where(ContractRow.kind == "token"))}
            if not contracts:
                return []
            head = min(c.indexed_to for c in contracts.values())
            as_of = self._as_of(session, block, at, head)
            query = (
                select(BalancePeriod.contract_id, BalancePeriod.wallet, BalancePeriod.balance)
                .where(BalancePeriod.wallet.in_(wallets), BalancePeriod.balance > 0)
                .where(*self._valid_at(as_of))
                .order_by(BalancePeriod.contract_id, BalancePeriod.wallet)
            )
            rows = session.execute(query).all()
            frozen = self._frozen(session, list(contracts), as_of)
        grouped: dict[int, list[Position]] = defaultdict(list)
        for contract_id, wallet, balance in rows:
            c = contracts[contract_id]
            grouped[contract_id].append(
                Position(c.address, c.symbol, wallet, identity, balance, (contract_id, wallet) in frozen)
            )
        return [
            InvestorPosition(
                contracts[cid].address,
                contracts[cid].symbol,
                identity,
                sum(p.balance for p in positions),
                tuple(positions),
            )
            for cid, positions in sorted(grouped.items())
        ]

    # ------------------------------------------------------------------ cap table

    def cap_table(self, security: str, *, block: int | None = None, at: int | None = None) -> CapTable:
        """Holders of `security` grouped by investor, with breakdowns by jurisdiction and category
        (the investors' records as of the same block)."""
        with _gc_paused():
            return self._cap_table(security, block, at)

    def _cap_table(self, security: str, block: int | None, at: int | None) -> CapTable:
        with self.session() as session:
            contract = self._contract(session, security)
            as_of = self._as_of(session, block, at, contract.indexed_to)
            rows = self._holdings(session, contract.id, as_of)
            records = self._investor_records(session, as_of)
        # Written for speed: a cap table of 10,000 holders is built from 10,000 rows on every call.
        total = 0
        groups: dict[str, tuple[str | None, list[str], list[int]]] = {}
        for wallet, balance, identity in rows:
            total += balance
            group = groups.get(identity or wallet)
            if group is None:
                groups[identity or wallet] = (identity, [wallet], [balance])
            else:
                group[1].append(wallet)
                group[2].append(balance)
        entries: list[CapTableEntry] = []
        # (jurisdiction, category) names → [holders, balance]; split into the two breakdowns at the end
        by_pair: dict[tuple[str, str], list[int]] = {}
        names: dict[tuple[int, int], tuple[str, str]] = {}
        unregistered = (UNREGISTERED, UNREGISTERED)
        for identity, wallets, balances in groups.values():
            balance = balances[0] if len(balances) == 1 else sum(balances)
            record = records.get(identity) if identity else None
            if record is None:
                pair = unregistered
            elif record in names:
                pair = names[record]
            else:
                pair = names[record] = (_jurisdiction_name(record[0]), _category_name(record[1]))
            if len(wallets) > 1:
                wallets.sort()
            entries.append(CapTableEntry(identity, tuple(wallets), pair[0], pair[1], balance, balance / total))
            counts = by_pair.get(pair)
            if counts is None:
                by_pair[pair] = [1, balance]
            else:
                counts[0] += 1
                counts[1] += balance
        by_jurisdiction: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for (jurisdiction, category), (holders, amount) in by_pair.items():
            for table, key in ((by_jurisdiction, jurisdiction), (by_category, category)):
                table[key][0] += holders
                table[key][1] += amount
        # Groups appear in the order of their largest wallet; a stable sort puts them by total.
        entries.sort(key=itemgetter(4), reverse=True)

        def share(amount: int) -> float:
            return amount / total if total else 0.0

        return CapTable(
            contract.address,
            contract.symbol,
            contract.indexed_to if as_of is None else as_of,
            total,
            tuple(entries),
            {k: Breakdown(n, b, share(b)) for k, (n, b) in sorted(by_jurisdiction.items())},
            {k: Breakdown(n, b, share(b)) for k, (n, b) in sorted(by_category.items())},
        )

    # ------------------------------------------------------------------ register of holders

    def register(self, security: str, *, block: int | None = None, at: int | None = None) -> Register:
        """Every non-zero position in `security` with its investor's jurisdiction and category (as of the
        same block) and whether the wallet is frozen: what a positions page or a cap table is built
        from, in one read transaction. Largest first, then by wallet."""
        with self.session() as session, _gc_paused():
            contract = self._contract(session, security)
            as_of = self._as_of(session, block, at, contract.indexed_to)
            rows = self._holdings(session, contract.id, as_of)
            frozen = {wallet for _, wallet in self._frozen(session, [contract.id], as_of)}
            records = self._investor_records(session, as_of) if rows else {}
            names: dict[tuple[int, int], tuple[str, str]] = {}
            holdings: list[Holding] = []
            total = 0
            for wallet, balance, investor in rows:
                total += balance
                record = records.get(investor) if investor else None
                if record is None:
                    holdings.append(Holding(wallet, investor, None, None, balance, wallet in frozen))
                    continue
                pair = names.get(record)
                if pair is None:
                    pair = names[record] = (_jurisdiction_name(record[0]), _category_name(record[1]))
                holdings.append(Holding(wallet, investor, pair[0], pair[1], balance, wallet in frozen))
            return Register(
                contract.address,
                contract.symbol,
                contract.indexed_to if as_of is None else as_of,
                total,
                tuple(holdings),
            )

    def register_page(
        self,
        security: str,
        *,
        block: int | None = None,
        jurisdiction: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> RegisterPage:
        """One page of `register` (same order: largest first, then by wallet), optionally only the
        positions of investors of `jurisdiction` ("GB", "US"; unregistered wallets have none), with the
        number of positions that match and the total of all. The page is cut by the database, now and as
        of a past `block` alike (the investors' records then as of that block): a page of a 10,000-holder
        register reads its rows from the `ix_rm_balance_ranked` index (now) or sorts them in the database
        (the past); only the total and the count touch every position, and without a jurisdiction filter
        only the page's rows are joined to their investors' records."""
        if limit < 1 or offset < 0:
            raise ReadModelError(f"a page needs limit >= 1 and offset >= 0, not {limit} and {offset}")
        wanted = self._jurisdiction_code(jurisdiction)
        with self.session() as session:
            contract = self._contract(session, security)
            as_of = self._as_of(session, block, None, contract.indexed_to)
            key = self._state_key(session, contract.id, as_of, ("page", wanted, offset, limit))
            found: RegisterPage | None = self.answers.get(key)
            if found is not None:
                return found
            page = self._register_page(session, contract, as_of, wanted, offset, limit)
        self.answers.put(key, page)
        return page

    def _register_page(
        self, session: Session, contract: ContractRow, as_of: int | None, wanted: int | None, offset: int, limit: int
    ) -> RegisterPage:
        at_block = contract.indexed_to if as_of is None else as_of
        timestamp = session.scalar(select(BlockRow.timestamp).where(BlockRow.number == at_block))
        connection = session.connection()
        valid = [BalancePeriod.contract_id == contract.id, BalancePeriod.balance > 0, *self._valid_at(as_of)]
        raw_balance = type_coerce(BalancePeriod.balance, String)
        # The total of every position and, without a filter, their number: one pass over the index.
        ((lead, total),) = self._summed(session, lambda sums: select(func.count(), *sums).where(*valid), 1)
        wallet_order: Any = BalancePeriod.wallet
        if self.engine.dialect.name == "postgresql":
            wallet_order = BalancePeriod.wallet.collate("C")  # the order Python's sort gives
        order = (BalancePeriod.balance.desc(), wallet_order)
        rows: list[Any]
        if wanted is None:
            # Every position matches: the count needs no investor record, and only the page's rows
            # are joined to their investors' records (as of `as_of`), after the database cut the page.
            count = int(lead[0] or 0)
            page = (
                select(BalancePeriod.wallet, raw_balance.label("balance"), BalancePeriod.investor)
                .where(*valid)
                .order_by(*order)
                .offset(offset)
                .limit(limit)
                .subquery()
            )
            record = self._record_at(as_of, page.c.investor)
            rows = list(
                connection.execute(
                    select(page.c.wallet, page.c.balance, page.c.investor, record.jurisdiction, record.category)
                    .select_from(page)
                    .outerjoin(record.table, record.on)
                )
            )
            rows.sort(key=itemgetter(0))  # the page's own order again (a join keeps none): by wallet,
            rows.sort(key=lambda row: int(row[1]), reverse=True)  # then (stable) largest first
        else:
            record = self._record_at(as_of, BalancePeriod.investor)
            columns = (BalancePeriod.wallet, raw_balance, BalancePeriod.investor)
            matching = (
                select(*columns, record.jurisdiction, record.category)
                .select_from(BalancePeriod)
                .outerjoin(record.table, record.on)
                .where(*valid, record.jurisdiction == wanted)
            )
            counted = self._in_investor_order(select(func.count()), as_of, record).select_from(BalancePeriod)
            counted = counted.outerjoin(record.table, record.on).where(*valid, record.jurisdiction == wanted)
            count = session.scalar(counted) or 0
            rows = list(connection.execute(matching.order_by(*order).offset(offset).limit(limit)))
        frozen = {wallet for _, wallet in self._frozen(session, [contract.id], as_of)} if rows else set()
        holdings = tuple(
            Holding(
                wallet,
                investor,
                None if j is None else _jurisdiction_name(j),
                None if c is None else _category_name(c),
                int(balance),
                wallet in frozen,
            )
            for wallet, balance, investor, j, c in rows
        )
        return RegisterPage(
            contract.address,
            contract.symbol,
            at_block,
            None if timestamp is None else int(timestamp),
            total,
            int(count),
            holdings,
        )

    def holder_breakdown(
        self, security: str, *, block: int | None = None, jurisdiction: str | None = None
    ) -> HolderBreakdown:
        """Holders and balance per (jurisdiction, category), optionally only investors of
        `jurisdiction`, with the total of every position: what a cap table's figures are made of,
        aggregated by the database (exact uint256 sums on SQLite too) rather than from 10,000 rows."""
        wanted = self._jurisdiction_code(jurisdiction)
        with self.session() as session:
            contract = self._contract(session, security)
            as_of = self._as_of(session, block, None, contract.indexed_to)
            key = self._state_key(session, contract.id, as_of, ("groups", wanted))
            found: HolderBreakdown | None = self.answers.get(key)
            if found is not None:
                return found
            breakdown = self._holder_breakdown(session, contract, as_of, wanted)
        self.answers.put(key, breakdown)
        return breakdown

    def _holder_breakdown(
        self, session: Session, contract: ContractRow, as_of: int | None, wanted: int | None
    ) -> HolderBreakdown:
        at_block = contract.indexed_to if as_of is None else as_of
        timestamp = session.scalar(select(BlockRow.timestamp).where(BlockRow.number == at_block))
        valid = [BalancePeriod.contract_id == contract.id, BalancePeriod.balance > 0, *self._valid_at(as_of)]
        total = None
        if wanted is not None:  # else the groups hold every position: the total is their sum
            ((_, total),) = self._summed(session, lambda sums: select(*sums).where(*valid), 0)
        record = self._record_at(as_of, BalancePeriod.investor)
        holder = func.coalesce(BalancePeriod.investor, BalancePeriod.wallet)

        def grouped(sums: list[Any]) -> Any:
            query = (
                self._in_investor_order(
                    select(record.jurisdiction, record.category, func.count(holder.distinct()), *sums), as_of, record
                )
                .select_from(BalancePeriod)
                .outerjoin(record.table, record.on)
                .where(*valid)
                .group_by(record.jurisdiction, record.category)
            )
            return query if wanted is None else query.where(record.jurisdiction == wanted)

        groups = [
            HolderGroup(
                None if lead[0] is None else _jurisdiction_name(lead[0]),
                None if lead[1] is None else _category_name(lead[1]),
                int(lead[2]),
                balance,
            )
            for lead, balance in self._summed(session, grouped, 3)
        ]
        groups.sort(key=lambda g: (g.jurisdiction or "", g.category or ""))
        if total is None:
            total = sum(g.balance for g in groups)
        return HolderBreakdown(
            contract.address,
            contract.symbol,
            at_block,
            None if timestamp is None else int(timestamp),
            total,
            tuple(groups),
        )

    def _state_key(
        self, session: Session, contract_id: int, as_of: int | None, question: tuple[Any, ...]
    ) -> tuple[Any, ...] | None:
        """A key under which the answer to `question` about contract `contract_id`, as of `as_of` (None:
        the newest indexed block), may be reused: it names every state of the database the answer is
        read from (None: not to be reused).

        Now: every watched contract's cursor (an indexer's range moves at least one of them in the
        transaction that writes it, and what is indexed is never otherwise changed), and the newest
        stored block's hash. As of a past block indexed for every watched contract: nothing indexed later
        changes it, except a wallet linked to its investor after its balances were indexed (the
        indexer then fills in the investor of its earlier periods), so the number of linked wallets, and
        the hash of the newest stored block at or before `as_of` (a chain rebuilt differently differs
        there). Both also hold the read model's `_generation`, bumped when it is `reset`."""
        if self.answers.size <= 0:
            return None
        cursors = tuple(
            (int(i), int(c))
            for i, c in session.execute(select(ContractRow.id, ContractRow.indexed_to).order_by(ContractRow.id))
        )
        if as_of is None:
            newest = session.execute(select(BlockRow.number, BlockRow.hash).order_by(BlockRow.number.desc()).limit(1))
            return (self._generation, contract_id, question, None, cursors, tuple(newest.first() or ()))
        if as_of > min(c for _, c in cursors):
            return None  # not indexed for every contract yet: what is indexed next may change it
        linked = session.scalar(select(func.count()).select_from(WalletRow))
        stored = session.execute(
            select(BlockRow.number, BlockRow.hash)
            .where(BlockRow.number <= as_of)
            .order_by(BlockRow.number.desc())
            .limit(1)
        )
        ids = tuple(i for i, _ in cursors)
        return (self._generation, contract_id, question, as_of, ids, linked, tuple(stored.first() or ()))

    def _block_time(self, number: int) -> int | None:
        with self.session() as session:
            value = session.scalar(select(BlockRow.timestamp).where(BlockRow.number == number))
        return None if value is None else int(value)

    def _summed(
        self, session: Session, build: Callable[[list[Any]], Any], lead: int
    ) -> list[tuple[tuple[Any, ...], int]]:
        """Runs the query ``build(sum columns)`` (its first `lead` columns, then the sum columns);
        returns (first `lead` columns, exact sum of `BalancePeriod.balance`) per row.

        On SQLite a floating-point TOTAL with MAX and COUNT comes first: when max * count < 2**53 every
        partial sum is an integer a double holds exactly, so the total is exact; otherwise (18-decimal
        tokens, say) the query runs again with the sum in parts."""
        if self.engine.dialect.name == "sqlite":
            raw = type_coerce(BalancePeriod.balance, String)
            fast = [func.total(cast(raw, Integer)), func.max(raw), func.count()]
            rows = list(session.execute(build(fast)))
            if all(row[lead + 1] is None or int(row[lead + 1]) * int(row[lead + 2]) < 2**53 for row in rows):
                return [(tuple(row[:lead]), int(row[lead])) for row in rows]
        return [
            (tuple(row[:lead]), self._exact_sum(row[lead:])) for row in session.execute(build(self._balance_sums()))
        ]

    def _balance_sums(self) -> list[Any]:
        """Columns that sum `BalancePeriod.balance` exactly: SUM on PostgreSQL (NUMERIC is exact); on
        SQLite, whose SUM stops at 64 bits, the padded decimal string summed in 12-digit parts."""
        if self.engine.dialect.name == "postgresql":
            return [func.coalesce(func.sum(BalancePeriod.balance), 0)]
        raw = type_coerce(BalancePeriod.balance, String)
        return [
            func.coalesce(func.sum(cast(func.substr(raw, 1 + i * _SUM_PART_DIGITS, _SUM_PART_DIGITS), Integer)), 0)
            for i in range(_SUM_PARTS)
        ]

    @staticmethod
    def _exact_sum(parts: Sequence[Any]) -> int:
        if len(parts) == 1:
            return int(parts[0])
        total = 0
        for part in parts:  # most significant first
            total = total * 10**_SUM_PART_DIGITS + int(part)
        return total

    @staticmethod
    def _jurisdiction_code(jurisdiction: str | None) -> int | None:
        if jurisdiction is None:
            return None
        try:
            return int(Jurisdiction[jurisdiction])
        except KeyError:
            raise ReadModelError(f"unknown jurisdiction {jurisdiction!r}") from None

    @staticmethod
    def _in_investor_order(query: Any, as_of: int | None, record: _RecordJoin) -> Any:
        """`query`, which joins every position now to its investor's record (`_record_at`), told on SQLite
        to walk the positions in investor order and the records by their covering index: then the
        join reads both indexes in step (SQLite's planner would walk the positions by balance, the
        index that also bounds ``balance > 0``, and seek each investor's row). As of a past block, and
        on PostgreSQL, `query` as it is."""
        if as_of is not None:
            return query
        return query.with_hint(BalancePeriod, "INDEXED BY ix_rm_balance_by_investor", "sqlite").with_hint(
            record.table, "INDEXED BY ix_rm_investor_record", "sqlite"
        )

    @staticmethod
    def _record_at(as_of: int | None, investor: Any) -> _RecordJoin:
        """How to join the record of the investor in column `investor` as it stood at `as_of` (None: now):
        `rm_investors` by identity for now; for the past, the investor's newest version at or before
        `as_of`, found per row by one seek of `ix_rm_investor_version_at` (a join on the newest version
        per investor made SQLite quadratic)."""
        if as_of is None:
            now = aliased(InvestorRow)
            return _RecordJoin(now, now.identity == investor, now.jurisdiction, now.category)
        version, newest = aliased(InvestorVersion), aliased(InvestorVersion)
        latest = (
            select(newest.id)
            .where(newest.identity == investor, newest.block_number <= as_of)
            .order_by(newest.block_number.desc(), newest.tx_index.desc(), newest.log_index.desc())
            .limit(1)
            .scalar_subquery()
        )
        return _RecordJoin(version, version.id == latest, version.jurisdiction, version.category)

    # ------------------------------------------------------------------ audit trail

    def audit_trail(
        self,
        *,
        security: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        events: Sequence[str] | None = None,
        from_block: int | None = None,
        to_block: int | None = None,
        since: int | None = None,
        until: int | None = None,
        offset: int = 0,
        limit: int = 100,
        newest_first: bool = False,
    ) -> AuditPage:
        """Regulatory and agent actions, oldest first (or newest first), filtered and paginated.

        `security` is a watched contract's address or a token's symbol (the registry's address selects
        registry actions); `actor` the transaction's sender; `target` whom the action was about;
        `events` event names; blocks and times (`since`/`until`, unix seconds) are inclusive bounds.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise ReadModelError(f"limit must be between 1 and {MAX_PAGE}, not {limit}")
        if offset < 0:
            raise ReadModelError(f"offset must not be negative, not {offset}")
        with self.session() as session:
            conditions: list[ColumnElement[bool]] = [EventRow.audit.is_(True)]
            if security is not None:
                conditions.append(EventRow.contract_id == self._any_contract(session, security).id)
            if actor is not None:
                conditions.append(EventRow.actor == _address(actor, "actor"))
            if target is not None:
                conditions.append(EventRow.target == _address(target, "target"))
            if events:
                conditions.append(EventRow.name.in_(list(events)))
            if from_block is not None:
                conditions.append(EventRow.block_number >= from_block)
            if to_block is not None:
                conditions.append(EventRow.block_number <= to_block)
            if since is not None:
                conditions.append(EventRow.timestamp >= since)
            if until is not None:
                conditions.append(EventRow.timestamp <= until)
            total = session.scalar(select(func.count()).select_from(EventRow).where(*conditions)) or 0
            order = (
                (EventRow.block_number.desc(), EventRow.tx_index.desc(), EventRow.log_index.desc())
                if newest_first
                else (EventRow.block_number, EventRow.tx_index, EventRow.log_index)
            )
            rows = session.execute(
                select(EventRow, ContractRow.address, ContractRow.symbol)
                .join(ContractRow, ContractRow.id == EventRow.contract_id)
                .where(*conditions)
                .order_by(*order)
                .offset(offset)
                .limit(limit)
            ).all()
        entries = tuple(
            AuditEntry(
                e.name,
                address,
                symbol,
                e.actor,
                e.target,
                e.tx_hash,
                e.block_number,
                e.log_index,
                e.timestamp,
                e.args,
            )
            for e, address, symbol in rows
        )
        return AuditPage(entries, int(total), offset, limit)

    def last_event_sequence(self) -> int:
        """The newest event's sequence number (0 when none is indexed)."""
        with self.session() as session:
            return int(session.scalar(select(func.max(EventRow.id))) or 0)

    def events_after(self, sequence: int, *, limit: int = 500) -> tuple[SequencedEvent, ...]:
        """Indexed events whose sequence number is above `sequence`, in sequence (chain) order, at most `limit`."""
        if not 1 <= limit <= MAX_PAGE:
            raise ReadModelError(f"limit must be between 1 and {MAX_PAGE}, not {limit}")
        with self.session() as session:
            rows = session.execute(
                select(EventRow, ContractRow.address, ContractRow.symbol)
                .join(ContractRow, ContractRow.id == EventRow.contract_id)
                .where(EventRow.id > sequence)
                .order_by(EventRow.id)
                .limit(limit)
            ).all()
        return tuple(
            SequencedEvent(
                e.id,
                e.name,
                address,
                symbol,
                e.actor,
                e.target,
                e.tx_hash,
                e.block_number,
                e.log_index,
                e.timestamp,
                e.audit,
                e.args,
            )
            for e, address, symbol in rows
        )

    # ------------------------------------------------------------------ helpers

    def _contract(self, session: Session, security: str) -> ContractRow:
        contract = self._any_contract(session, security)
        if contract.kind != "token":
            raise ReadModelError(f"{security} is not a token")
        return contract

    def _any_contract(self, session: Session, key: str) -> ContractRow:
        if is_address(key):
            found = session.scalar(select(ContractRow).where(ContractRow.address == to_checksum_address(key)))
            if found is None:
                raise ReadModelError(f"the read model does not watch {key}")
            return found
        matches = session.scalars(select(ContractRow).where(ContractRow.symbol == key)).all()
        if not matches:
            raise ReadModelError(f"no security with symbol {key!r} in the read model")
        if len(matches) > 1:
            raise ReadModelError(f"symbol {key!r} is ambiguous: use the address")
        return matches[0]

    @staticmethod
    def _head(session: Session) -> int:
        value = session.scalar(select(func.min(ContractRow.indexed_to)))
        return -1 if value is None else int(value)

    def _as_of(self, session: Session, block: int | None, at: int | None, head: int) -> int | None:
        """The block a query answers for: None for the newest indexed state."""
        if block is not None and at is not None:
            raise ReadModelError("give block= or at=, not both")
        if block is not None:
            if block < 0:
                raise ReadModelError(f"block must not be negative, not {block}")
            if block > head:
                raise NotIndexedYet(f"block {block} is not indexed yet (indexed up to {head})")
            return block
        if at is not None:
            return self._block_at(session, at, head)
        return None

    @staticmethod
    def _block_at(session: Session, timestamp: int, head: int) -> int:
        head_time = session.scalar(select(BlockRow.timestamp).where(BlockRow.number == head))
        if head_time is None or timestamp > head_time:
            raise NotIndexedYet(
                f"time {timestamp} is later than the newest indexed block ({head} at {head_time}): index further first"
            )
        found = session.scalar(
            select(func.max(BlockRow.number)).where(BlockRow.timestamp <= timestamp, BlockRow.number <= head)
        )
        return -1 if found is None else int(found)

    @staticmethod
    def _valid_at(as_of: int | None) -> list[ColumnElement[bool]]:
        if as_of is None:
            return [BalancePeriod.to_block.is_(None)]
        return [
            BalancePeriod.from_block <= as_of,
            or_(BalancePeriod.to_block.is_(None), BalancePeriod.to_block > as_of),
        ]

    @staticmethod
    def _frozen(session: Session, contract_ids: list[int], as_of: int | None) -> set[tuple[int, str]]:
        query = select(FreezeChange.contract_id, FreezeChange.wallet, FreezeChange.frozen).where(
            FreezeChange.contract_id.in_(contract_ids)
        )
        if as_of is not None:
            query = query.where(FreezeChange.block_number <= as_of)
        state: dict[tuple[int, str], bool] = {}
        for contract_id, wallet, frozen in session.execute(
            query.order_by(FreezeChange.block_number, FreezeChange.tx_index, FreezeChange.log_index)
        ):
            state[(contract_id, wallet)] = frozen
        return {key for key, frozen in state.items() if frozen}

    @staticmethod
    def _investor_records(session: Session, as_of: int | None) -> dict[str, tuple[int, int]]:
        """identity → (jurisdiction, category), now or as of a block."""
        connection = session.connection()
        if as_of is None:
            now = select(InvestorRow.identity, InvestorRow.jurisdiction, InvestorRow.category)
            return {identity: (j, c) for identity, j, c in connection.execute(now)}
        then = (
            select(InvestorVersion.identity, InvestorVersion.jurisdiction, InvestorVersion.category)
            .where(InvestorVersion.block_number <= as_of)
            .order_by(InvestorVersion.block_number, InvestorVersion.tx_index, InvestorVersion.log_index)
        )
        # later versions overwrite earlier ones
        return {identity: (j, c) for identity, j, c in connection.execute(then)}
