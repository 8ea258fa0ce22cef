"""The indexer: chain logs → read model, incrementally, resumably and idempotently.

It reads logs through the chain seam in bounded block ranges and fetches each block that has logs once,
by number (`get_block(n, full_transactions=True)` gives the block time and every transaction's
sender), never a transaction by hash: eth-tester looks hashes up by walking back through history.
Each range is written in one database transaction together with the contracts' cursors, so a crash
loses at most the range in flight, which the next `sync` redoes. Every event is keyed by
(tx hash, log index): a range indexed twice adds nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from eth_abi.exceptions import DecodingError
from eth_utils import is_address, to_checksum_address
from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from sandbox.chain.base import Chain, Log
from sandbox.contracts.security_token import SecurityToken
from sandbox.errors import ContractReverted
from sandbox.market import Market
from sandbox.readmodel._decode import ZERO_ADDRESS, LogDecoder, default_decoder, jsonable, target_of
from sandbox.readmodel._model import ReadModel, ReadModelDiverged, ReadModelError
from sandbox.readmodel._schema import (
    BalancePeriod,
    BlockRow,
    ContractRow,
    EventRow,
    FreezeChange,
    InvestorRow,
    InvestorVersion,
    Meta,
    WalletRow,
)
from sandbox.rules import InvestorStatus

#: Blocks per `get_logs` call and per database transaction.
DEFAULT_BATCH_BLOCKS = 500
#: Events that are not actions of an agent or a regulator (unless they mint or burn).
PLAIN_EVENTS = frozenset({"Transfer", "Approval"})
_IN_CHUNK = 500  # members of one SQL IN (...) list

_CONTRACTS = cast(Table, ContractRow.__table__)
_BLOCKS = cast(Table, BlockRow.__table__)
_EVENTS = cast(Table, EventRow.__table__)
_PERIODS = cast(Table, BalancePeriod.__table__)

# The statements of a follower's round, built once.
_OPEN_PERIODS = (
    select(
        BalancePeriod.id,
        BalancePeriod.contract_id,
        BalancePeriod.wallet,
        BalancePeriod.from_block,
        BalancePeriod.balance,
        BalancePeriod.investor,
    )
    .where(
        # One contract at a time: SQLite scans the whole table for a (contract, wallet) row-value IN list.
        BalancePeriod.contract_id == bindparam("cid"),
        BalancePeriod.to_block.is_(None),
        BalancePeriod.wallet.in_(bindparam("wallets", expanding=True)),
    )
    # Without statistics SQLite's planner prefers the as-of index (every period of the contract).
    .with_hint(BalancePeriod, "INDEXED BY ix_rm_balance_current", "sqlite")
)
_OWNERS = select(WalletRow.wallet, WalletRow.identity).where(WalletRow.wallet.in_(bindparam("wallets", expanding=True)))
_CHANGE_PERIOD = (
    update(_PERIODS)
    .where(_PERIODS.c.id == bindparam("pid"))
    .values(balance=bindparam("new_balance"), to_block=bindparam("new_to_block"))
)
_NEW_PERIODS = insert(_PERIODS)
# The contracts of a range are every one whose cursor is at the range's start: no list of ids to send.
_MOVE_CURSORS = (
    update(_CONTRACTS).where(_CONTRACTS.c.indexed_to == bindparam("low")).values(indexed_to=bindparam("end"))
)

#: Called with (blocks done, blocks to do) after each indexed range.
SyncProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class SyncReport:
    from_block: int
    to_block: int
    #: Events written by this run (0 when everything was indexed already).
    events: int
    #: Logs skipped because they were already in the read model.
    skipped: int
    #: The block up to which every watched contract is indexed once the run is over (None: nothing is
    #: watched), as `ReadModel.last_indexed_block` would say then.
    indexed_to: int | None = None


class _Watched(NamedTuple):
    """A watched contract (a row of `ContractRow`), as one range needs it."""

    id: int
    address: str
    kind: str
    indexed_to: int


_WATCHED = select(ContractRow.id, ContractRow.address, ContractRow.kind, ContractRow.indexed_to).order_by(
    ContractRow.id
)
_NEWEST_BLOCK = select(BlockRow.number, BlockRow.hash).order_by(BlockRow.number.desc()).limit(1)


@dataclass
class _BlockInfo:
    timestamp: int
    hash: str
    #: tx hash → (position in the block, sender)
    transactions: dict[str, tuple[int, str]]


class Indexer:
    """Fills a `ReadModel` from the logs of the watched contracts.

    ``Indexer(chain, model, [registry.address, *token_addresses])``, then ``sync()`` whenever the chain
    has moved (or ``follow()`` in a thread). Contracts discovered later join with
    ``add_contract(address, from_block=...)``; their history is indexed on the next `sync`, while the
    others carry on from where they stopped. With `confirmations` > 0 the newest blocks are left for
    later, as on a node whose head may still be reorganised.
    """

    def __init__(
        self,
        chain: Chain,
        model: ReadModel,
        contracts: Sequence[str] = (),
        *,
        start_block: int = 0,
        batch_blocks: int = DEFAULT_BATCH_BLOCKS,
        confirmations: int = 0,
        decoder: LogDecoder | None = None,
    ) -> None:
        if batch_blocks < 1:
            raise ReadModelError(f"batch_blocks must be at least 1, not {batch_blocks}")
        if confirmations < 0:
            raise ReadModelError(f"confirmations must not be negative, not {confirmations}")
        self.chain = chain
        self.model = model
        self.batch_blocks = batch_blocks
        self.confirmations = confirmations
        self._decoder = decoder or default_decoder()
        self._lock = threading.Lock()
        #: The newest block the read model recorded (number, hash) as the last `sync` left it (None: not
        #: known yet): `MarketReadModel` compares it with the chain's block to see that nothing diverged.
        self.recorded: tuple[int, str] | None = None
        self._check_chain()
        for address in contracts:
            self.add_contract(address, from_block=start_block)

    @classmethod
    def for_market(cls, market: Market, model: ReadModel, **options: Any) -> Indexer:
        """An indexer over a deployed market's registry and securities (options as for `Indexer`)."""
        contracts = [market.registry.address, *(token.address for token in market.securities.values())]
        return cls(market.chain, model, contracts, **options)

    # ------------------------------------------------------------------ contracts

    def add_contract(self, address: str, *, from_block: int = 0) -> bool:
        """Watches `address` from `from_block` on (e.g. its deployment block); True if it is new.

        A token (anything answering ERC-20 `symbol()`) gets positions; any contract gets its events
        decoded into the audit trail. Watching a contract twice changes nothing.
        """
        if not is_address(address):
            raise ReadModelError(f"{address!r} is not an address")
        if from_block < 0:
            raise ReadModelError(f"from_block must not be negative, not {from_block}")
        address = to_checksum_address(address)
        with self.model.session() as session:
            if session.scalar(select(ContractRow.id).where(ContractRow.address == address)) is not None:
                return False
        row = ContractRow(address=address, kind="contract", indexed_to=from_block - 1)
        token = SecurityToken(self.chain, address)
        try:
            row.symbol = token.symbol()
            row.name = token.name()
            row.decimals = token.decimals()
            row.kind = "token"
        except (ContractReverted, DecodingError, OverflowError, ValueError):  # not an ERC-20 token
            row.symbol = row.name = row.decimals = None
        with self.model.session() as session:
            _one_indexer_at_a_time(session)
            if session.scalar(select(ContractRow.id).where(ContractRow.address == address)) is not None:
                return False  # another process sharing the database added it meanwhile
            session.add(row)
        return True

    def contracts(self) -> list[str]:
        with self.model.session() as session:
            return list(session.scalars(select(ContractRow.address).order_by(ContractRow.id)))

    @property
    def last_indexed_block(self) -> int | None:
        return self.model.last_indexed_block()

    # ------------------------------------------------------------------ indexing

    def sync(self, to_block: int | None = None, *, progress: SyncProgress | None = None) -> SyncReport:
        """Indexes every watched contract up to `to_block` (default: the chain's head less the
        confirmation depth) and returns what was done. Safe to call at any time, from one thread at a
        time per database; stopping half-way loses nothing.

        Each range is one database transaction, which first checks that the read model's newest block
        is still the chain's (`ReadModelDiverged` otherwise) and reads the cursors: a follower's round
        over the blocks mined since the last is a single transaction."""
        with self._lock:
            head = self.chain.block_number() - self.confirmations
            target = head if to_block is None else min(to_block, head)
            first: int | None = None
            total_blocks = 0
            events = skipped = 0
            while True:
                with self.model.engine.begin() as connection:
                    _one_indexer_at_a_time(connection)  # then read the cursors: another process may have moved them
                    newest = self._newest_block(connection)
                    if first is None:
                        self._check_on_chain(newest)
                    watched = [_Watched(*row) for row in connection.execute(_WATCHED)]
                    if not watched:
                        return SyncReport(target + 1, target, 0, 0, None)
                    if first is None:
                        first = min(w.indexed_to for w in watched) + 1
                        total_blocks = max(0, target - first + 1)
                    behind = [w for w in watched if w.indexed_to < target]
                    if not behind:
                        indexed = min(w.indexed_to for w in watched)
                        self.recorded = newest
                        break
                    low = min(w.indexed_to for w in behind)
                    group = [w for w in behind if w.indexed_to == low]
                    ahead = [w.indexed_to for w in behind if w.indexed_to > low]
                    start = low + 1
                    end = min(target, start + self.batch_blocks - 1, *ahead)
                    added, seen, end_hash = self._index_range(
                        connection, group, start, end, -1 if newest is None else newest[0]
                    )
                    if newest is None or end > newest[0]:
                        newest = (end, end_hash)
                    connection.execute(_MOVE_CURSORS, {"low": low, "end": end})
                    indexed = min(end if w.indexed_to == low else w.indexed_to for w in watched)
                    # Every contract behind was in this range and it reached the target: nothing is left
                    # (another indexer can only move cursors forward), so no look at the cursors again.
                    done = end == target and len(group) == len(behind)
                self.recorded = newest
                events += added
                skipped += seen
                if progress is not None:
                    progress(min(total_blocks, end - first + 1), total_blocks)
                if done:
                    break
            return SyncReport(first, target, events, skipped, indexed)

    def reindex(self, from_block: int, to_block: int) -> SyncReport:
        """Runs the indexer again over blocks already indexed; what is there already is left alone,
        so on an intact read model this adds nothing (`events == 0`)."""
        with self._lock:
            head = self.model.last_indexed_block()
            if head is None or to_block > head or from_block < 0 or from_block > to_block:
                raise ReadModelError(
                    f"can only re-index a range of indexed blocks (0..{head}), not {from_block}..{to_block}"
                )
            events = skipped = 0
            for start in range(from_block, to_block + 1, self.batch_blocks):
                end = min(to_block, start + self.batch_blocks - 1)
                with self.model.engine.begin() as connection:
                    group = [_Watched(*row) for row in connection.execute(_WATCHED)]
                    added, seen, _ = self._index_range(connection, group, start, end, None)
                events += added
                skipped += seen
            if events:  # rows added below the cursors: answers computed before may have missed them
                self.model.forget_answers()
            return SyncReport(from_block, to_block, events, skipped)

    def follow(self, stop: threading.Event, *, poll_seconds: float = 1.0) -> None:
        """Keeps syncing until `stop` is set (run it in a thread of its own)."""
        while not stop.is_set():
            self.sync()
            stop.wait(poll_seconds)

    # ------------------------------------------------------------------ one range

    def _index_range(
        self, connection: Connection, group: Sequence[_Watched], start: int, end: int, newest: int | None
    ) -> tuple[int, int, str]:
        """Indexes blocks `start`..`end` of the contracts of `group` in `connection`'s transaction; `newest`
        is the newest block the read model recorded before (None: unknown): nothing above it can be there
        already. Returns the events added, the logs skipped (there already) and the hash of block `end`.

        Written with SQL expressions; the registry's and the agents' rarer events (`_apply`) go through
        an ORM session on the same transaction, opened only for a range that has one."""
        by_address = {c.address: c for c in group}
        logs = self.chain.get_logs(start, end, list(by_address))
        logs = [log for log in logs if log.address in by_address]
        known = self._known_keys(connection, logs, newest)
        fresh = [log for log in logs if (log.transaction_hash, log.log_index) not in known]
        blocks = self._blocks(sorted({log.block_number for log in fresh} | {end}))
        self._store_blocks(connection, blocks, newest)
        for log in fresh:
            if log.transaction_hash not in blocks[log.block_number].transactions:
                raise ReadModelError(
                    f"block {log.block_number} has no transaction {log.transaction_hash}: "
                    "the chain changed under the indexer"
                )
        fresh.sort(
            key=lambda log: (
                log.block_number,
                blocks[log.block_number].transactions[log.transaction_hash][0],
                log.log_index,
            )
        )

        event_rows: list[dict[str, Any]] = []
        deltas: list[tuple[int, str, int, int]] = []  # (contract id, wallet, block, signed amount)
        orm: Session | None = None
        for log in fresh:
            contract = by_address[log.address]
            info = blocks[log.block_number]
            tx_index, actor = info.transactions[log.transaction_hash]
            decoded = self._decoder.decode_args(log)
            if decoded is None:
                name = "0x" + log.topics[0].hex() if log.topics else "anonymous"
                args: dict[str, Any] = {"topics": ["0x" + t.hex() for t in log.topics], "data": "0x" + log.data.hex()}
                target: str | None = None
            else:
                name, args = decoded
                target = target_of(name, args, self._decoder.address_params(log), actor, log.address)
            audit = name not in PLAIN_EVENTS or (
                name == "Transfer" and ZERO_ADDRESS in (args.get("from"), args.get("to"))
            )
            event_rows.append(
                {
                    "contract_id": contract.id,
                    "block_number": log.block_number,
                    "tx_index": tx_index,
                    "log_index": log.log_index,
                    "tx_hash": log.transaction_hash,
                    "timestamp": info.timestamp,
                    "name": name,
                    "actor": actor,
                    "target": target,
                    "audit": audit,
                    "args": jsonable(args),
                }
            )
            if decoded is None:
                continue
            if name == "Transfer":
                if contract.kind == "token" and {"from", "to", "value"} <= args.keys():
                    value = int(args["value"])
                    if args["from"] != ZERO_ADDRESS:
                        deltas.append((contract.id, args["from"], log.block_number, -value))
                    if args["to"] != ZERO_ADDRESS:
                        deltas.append((contract.id, args["to"], log.block_number, value))
                continue
            if orm is None:
                orm = Session(bind=connection)  # joins the transaction: commits nothing by itself
            self._apply(orm, contract, log, tx_index, name, args, actor)
        if event_rows:
            connection.execute(insert(_EVENTS), event_rows)
        if orm is not None:
            orm.flush()  # wallets linked in this range are visible to the balance step
            orm.close()
        if deltas:
            self._apply_balances(connection, deltas)
        linked = [
            {"w": row["args"]["wallet"], "i": row["args"]["identity"]}
            for row in event_rows
            if row["name"] == "WalletAdded" and {"wallet", "identity"} <= row["args"].keys()
        ]
        if linked:  # balances indexed before the registry's events (a token added first) learn their owner
            connection.execute(
                update(_PERIODS)
                .where(_PERIODS.c.wallet == bindparam("w"), _PERIODS.c.investor.is_(None))
                .values(investor=bindparam("i")),
                linked,
            )
        return len(fresh), len(logs) - len(fresh), blocks[end].hash

    def _apply(
        self,
        session: Session,
        contract: _Watched,
        log: Log,
        tx_index: int,
        name: str,
        args: dict[str, Any],
        actor: str,
    ) -> None:
        """The effects of the events other than `Transfer` that the read model understands (every other
        event is only recorded; a `Transfer` of a token becomes balance deltas in `_index_range`). Names
        and arguments are those of the sandbox's registry and token."""
        block = log.block_number
        if name == "AddressFrozen" and "userAddress" in args and "isFrozen" in args:
            session.add(
                FreezeChange(
                    contract_id=contract.id,
                    wallet=args["userAddress"],
                    block_number=block,
                    tx_index=tx_index,
                    log_index=log.log_index,
                    frozen=bool(args["isFrozen"]),
                    actor=actor,
                )
            )
        elif name == "WalletAdded" and "identity" in args and "wallet" in args:
            if session.get(WalletRow, args["wallet"]) is None:
                session.add(WalletRow(wallet=args["wallet"], identity=args["identity"], block_number=block))
        elif name in ("InvestorRegistered", "InvestorUpdated", "InvestorStatusChanged") and "identity" in args:
            investor = session.get(InvestorRow, args["identity"])
            if name == "InvestorRegistered":
                if investor is None:
                    investor = InvestorRow(identity=args["identity"], registered_block=block)
                    session.add(investor)
                investor.registry_address = contract.address
                investor.jurisdiction = int(args["jurisdiction"])
                investor.category = int(args["category"])
                investor.kyc_valid_until = int(args["kycValidUntil"])
                investor.status = int(InvestorStatus.ACTIVE)
            elif investor is None:
                return  # an update of an investor registered before the indexed range
            elif name == "InvestorUpdated":
                investor.category = int(args["category"])
                investor.kyc_valid_until = int(args["kycValidUntil"])
            else:
                investor.status = int(args["status"])
            session.add(
                InvestorVersion(
                    identity=investor.identity,
                    block_number=block,
                    tx_index=tx_index,
                    log_index=log.log_index,
                    jurisdiction=investor.jurisdiction,
                    category=investor.category,
                    status=investor.status,
                    kyc_valid_until=investor.kyc_valid_until,
                )
            )

    def _apply_balances(self, connection: Connection, deltas: list[tuple[int, str, int, int]]) -> None:
        """Turns ordered balance deltas into balance periods: the open period of a wallet is closed at
        the block of its next change, or updated in place when the change falls in the same block.

        Written with SQL expressions, not ORM objects (a round of the follower is mostly this): the open
        periods of the wallets concerned are read once, each changed one is updated once, the new ones are
        inserted together. A new period's investor is the open period's, or else the wallet's owner."""
        pairs = sorted({(cid, wallet) for cid, wallet, _, _ in deltas})
        current: dict[tuple[int, str], dict[str, Any]] = {}
        for contract_id in sorted({cid for cid, _ in pairs}):
            wallets = [wallet for cid, wallet in pairs if cid == contract_id]
            for i in range(0, len(wallets), _IN_CHUNK):
                chunk = {"cid": contract_id, "wallets": wallets[i : i + _IN_CHUNK]}
                for pid, cid, wallet, from_block, balance, investor in connection.execute(_OPEN_PERIODS, chunk):
                    current[(cid, wallet)] = {
                        "pid": pid,
                        "from_block": from_block,
                        "to_block": None,
                        "balance": balance,
                        "investor": investor,
                    }
        owners = {key[1]: row["investor"] for key, row in current.items() if row["investor"] is not None}
        unknown = sorted({wallet for _, wallet in pairs} - owners.keys())
        for i in range(0, len(unknown), _IN_CHUNK):
            owners.update(connection.execute(_OWNERS, {"wallets": unknown[i : i + _IN_CHUNK]}).all())
        changed: dict[int, dict[str, Any]] = {}  # open periods read above that this range changes, by id
        new: list[dict[str, Any]] = []
        for cid, wallet, block, delta in deltas:
            row = current.get((cid, wallet))
            before = 0 if row is None else int(row["balance"])
            after = before + delta
            if after < 0:
                raise ReadModelError(
                    f"{wallet} would hold {after} of contract #{cid} at block {block}: the contract's "
                    "history was not indexed from its start (add it with an earlier from_block)"
                )
            if row is not None and "pid" in row:
                changed[row["pid"]] = row
            if row is not None and row["from_block"] == block:
                row["balance"] = after
                continue
            if row is not None:
                row["to_block"] = block
            row = {
                "contract_id": cid,
                "wallet": wallet,
                "from_block": block,
                "to_block": None,
                "balance": after,
                "investor": owners.get(wallet),
            }
            new.append(row)
            current[(cid, wallet)] = row
        if changed:
            connection.execute(
                _CHANGE_PERIOD,
                [
                    {"pid": pid, "new_balance": row["balance"], "new_to_block": row["to_block"]}
                    for pid, row in changed.items()
                ],
            )
        if new:
            connection.execute(_NEW_PERIODS, new)

    # ------------------------------------------------------------------ blocks

    def _known_keys(self, connection: Connection, logs: Sequence[Log], newest: int | None) -> set[tuple[str, int]]:
        """(tx hash, log index) of the `logs` already in the read model: none when every log is in a
        block above `newest`, the newest block recorded (the blocks of stored events are recorded)."""
        if not logs:
            return set()
        low = min(log.block_number for log in logs)
        high = max(log.block_number for log in logs)
        if newest is not None and low > newest:
            return set()
        rows = connection.execute(
            select(EventRow.tx_hash, EventRow.log_index).where(
                EventRow.block_number >= low, EventRow.block_number <= high
            )
        )
        return {(tx_hash, log_index) for tx_hash, log_index in rows}

    def _blocks(self, numbers: Sequence[int]) -> dict[int, _BlockInfo]:
        out: dict[int, _BlockInfo] = {}
        for number in numbers:
            block = self.chain.block(number)
            transactions = {tx.hash: (position, tx.sender) for position, tx in enumerate(block.transactions)}
            out[number] = _BlockInfo(block.timestamp, block.hash, transactions)
        return out

    @staticmethod
    def _store_blocks(connection: Connection, blocks: dict[int, _BlockInfo], newest: int | None) -> None:
        """Records `blocks` that the read model does not have (none above `newest` can be there)."""
        numbers = [n for n in blocks if newest is None or n <= newest]
        existing: set[int] = set()
        for i in range(0, len(numbers), _IN_CHUNK):
            existing.update(
                connection.scalars(select(BlockRow.number).where(BlockRow.number.in_(numbers[i : i + _IN_CHUNK])))
            )
        new = [
            {"number": n, "timestamp": info.timestamp, "hash": info.hash}
            for n, info in blocks.items()
            if n not in existing
        ]
        if new:
            connection.execute(insert(_BLOCKS), new)

    def _check_chain(self) -> None:
        with self.model.session() as session:
            stored = session.get(Meta, "chain_id")
            if stored is None:
                session.add(Meta(key="chain_id", value=str(self.chain.chain_id)))
            elif stored.value != str(self.chain.chain_id):
                raise ReadModelDiverged(
                    f"the read model was built from chain {stored.value}, not chain {self.chain.chain_id}"
                )

    def check_not_diverged(self, session: Session | None = None) -> None:
        """Raises `ReadModelDiverged` unless the newest block the read model recorded is still on the
        chain, with the same hash: read in `session`; without one, as the last `sync` left it
        (`recorded`), or else in a session of its own."""
        if session is not None:
            self._check_on_chain(self._newest_block(session))
        elif self.recorded is not None:
            self._check_on_chain(self.recorded)
        else:
            with self.model.session() as own:
                self._check_on_chain(self._newest_block(own))

    @staticmethod
    def _newest_block(session: Session | Connection) -> tuple[int, str] | None:
        """The newest block the read model recorded: (number, hash)."""
        row = session.execute(_NEWEST_BLOCK).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def _check_on_chain(self, newest: tuple[int, str] | None) -> None:
        """Raises `ReadModelDiverged` unless `newest` (a recorded block: number, hash) is the chain's."""
        if newest is None:
            return
        number, recorded = newest
        head = self.chain.block_number()
        if number > head:
            raise ReadModelDiverged(f"the read model has block {number} but the chain's head is {head}")
        on_chain = self.chain.block(number).hash
        if on_chain != recorded:
            raise ReadModelDiverged(f"block {number} is {on_chain} on the chain but {recorded} in the read model")


#: The PostgreSQL advisory lock key that serialises indexers sharing one database ("rmindex").
INDEXER_LOCK_KEY = 0x726D696E646578


def _one_indexer_at_a_time(session: Session | Connection) -> None:
    """On PostgreSQL, waits until no other indexer (in any process: two gateways may share one read
    model) is inside a range, and keeps the others out until this session's transaction ends (a
    transaction-scoped advisory lock). The caller reads the cursors after it, so a range another
    process indexed meanwhile is skipped, never written twice. SQLite serialises writers by itself and
    is not meant to be shared between processes."""
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    if dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INDEXER_LOCK_KEY})
