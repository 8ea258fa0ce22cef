"""The event-indexed read model: positions (now and as of any block or time), cap tables, audit trail.

model = ReadModel()                      # SQLite file; ReadModel("postgresql+psycopg://…") for PostgreSQL
indexer = Indexer(chain, model, [market.registry.address, *(t.address for t in market.securities.values())])
indexer.sync()
model.positions("THAMES28", at=some_unix_time)
"""

from sandbox.readmodel._decode import LogDecoder
from sandbox.readmodel._indexer import DEFAULT_BATCH_BLOCKS, Indexer, SyncReport
from sandbox.readmodel._model import (
    DEFAULT_URL,
    UNREGISTERED,
    AuditEntry,
    AuditPage,
    Breakdown,
    CapTable,
    CapTableEntry,
    InvestorPosition,
    NotIndexedYet,
    Position,
    ReadModel,
    ReadModelDiverged,
    ReadModelError,
    Security,
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
    "Indexer",
    "InvestorPosition",
    "LogDecoder",
    "NotIndexedYet",
    "Position",
    "ReadModel",
    "ReadModelDiverged",
    "ReadModelError",
    "Security",
    "SyncReport",
]
