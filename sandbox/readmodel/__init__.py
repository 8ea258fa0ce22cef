"""The event-indexed read model: positions (now and as of any block or time), cap tables, audit trail.

    model = ReadModel()                       # SQLite file `sandbox-readmodel.sqlite` in the cwd
    model = ReadModel("postgresql+psycopg://user@127.0.0.1:5432/sandbox")   # or any SQLAlchemy URL
    indexer = Indexer.for_market(market, model)   # or Indexer(chain, model, [registry, *tokens])
    indexer.sync()                            # incremental, resumable, idempotent
    threading.Thread(target=indexer.follow, args=(stop_event,), daemon=True).start()  # keep up
    model.positions("THAMES28", at=unix_time)
    model.cap_table("THAMES28", block=120).by_jurisdiction
    model.audit_trail(actor=regulator, events=["AddressFrozen"], limit=50)

In a serving process, `MarketReadModel(market, model)` keeps a read model in step with the market's
chain with a follower thread; a read (`MarketReadModel.reader`) waits only for the block its caller
names (read-your-writes), never for other callers' writes.

`sandbox.readmodel.pgserver.TemporaryPostgres` starts a throwaway PostgreSQL server for tests.
"""

from sandbox.readmodel._decode import LogDecoder
from sandbox.readmodel._indexer import DEFAULT_BATCH_BLOCKS, Indexer, SyncReport
from sandbox.readmodel._live import MarketReadModel, ReadView
from sandbox.readmodel._model import (
    DEFAULT_URL,
    UNREGISTERED,
    AuditEntry,
    AuditPage,
    Breakdown,
    CapTable,
    CapTableEntry,
    HolderBreakdown,
    HolderGroup,
    Holding,
    IndexedEvent,
    InvestorPosition,
    NotIndexedYet,
    Position,
    ReadModel,
    ReadModelDiverged,
    ReadModelError,
    Register,
    RegisterPage,
    Security,
    SequencedEvent,
)

__all__ = [
    "DEFAULT_BATCH_BLOCKS",
    "DEFAULT_URL",
    "UNREGISTERED",
    "AuditEntry",
    "AuditPage",
    "Breakdown",
    "CapTable",
    "CapTableEntry",
    "HolderBreakdown",
    "HolderGroup",
    "Holding",
    "IndexedEvent",
    "Indexer",
    "InvestorPosition",
    "LogDecoder",
    "MarketReadModel",
    "NotIndexedYet",
    "Position",
    "ReadModel",
    "ReadModelDiverged",
    "ReadModelError",
    "ReadView",
    "Register",
    "RegisterPage",
    "Security",
    "SequencedEvent",
    "SyncReport",
]
