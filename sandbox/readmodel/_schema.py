"""The read model's tables (SQLAlchemy 2 typed ORM), portable between SQLite and PostgreSQL.

Balances are kept as *periods*: one row per (contract, wallet, block at which the balance changed),
valid from that block until the next change (`to_block`, exclusive; NULL while current). "As of block
N" is then a range query (`from_block <= N < to_block`), never a replay of history.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Bump when the tables change; a database written with another version is refused with a clear error.
SCHEMA_VERSION = 1

_UINT256_DIGITS = 78  # len(str(2**256 - 1))


class Uint256(TypeDecorator[int]):
    """A uint256 as an exact integer: NUMERIC(78, 0) on PostgreSQL; on SQLite (whose integers stop at
    64 bits) a zero-padded decimal string, so that comparison and ORDER BY stay numeric."""

    impl = String(_UINT256_DIGITS)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(_UINT256_DIGITS, 0))
        return dialect.type_descriptor(String(_UINT256_DIGITS))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not 0 <= value < 2**256:
            raise ValueError(f"{value} is not a uint256")
        if dialect.name == "postgresql":
            return Decimal(value)
        return f"{value:0{_UINT256_DIGITS}d}"

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """Key/value facts about the database itself (schema version, chain id)."""

    __tablename__ = "rm_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class ContractRow(Base):
    """A contract the indexer watches, and how far its logs have been indexed."""

    __tablename__ = "rm_contracts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(42), unique=True)
    #: "token" when it answers ERC-20 `symbol()`, else "contract" (the registry, for instance).
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    symbol: Mapped[str | None] = mapped_column(String(64), index=True)
    decimals: Mapped[int | None] = mapped_column(Integer)
    #: Highest block whose logs of this contract are all in the database (start block - 1 at first).
    indexed_to: Mapped[int] = mapped_column(BigInteger)


class BlockRow(Base):
    """Blocks the indexer has seen (those with logs, and the end of each indexed range)."""

    __tablename__ = "rm_blocks"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    timestamp: Mapped[int] = mapped_column(BigInteger, index=True)
    hash: Mapped[str] = mapped_column(String(66))


class EventRow(Base):
    """Every log of a watched contract, decoded; the audit trail is the rows with `audit` set."""

    __tablename__ = "rm_events"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", name="uq_rm_events_tx_log"),
        Index("ix_rm_events_block", "block_number", "tx_index", "log_index"),
        Index("ix_rm_events_audit", "audit", "block_number", "tx_index", "log_index"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("rm_contracts.id"), index=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    #: Position of the transaction in its block (log indices are per receipt on some nodes).
    tx_index: Mapped[int] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(66))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    #: Event name from the ABI, or "0x<topic0>" for a log no artifact declares.
    name: Mapped[str] = mapped_column(String(100), index=True)
    #: The transaction's sender.
    actor: Mapped[str] = mapped_column(String(42), index=True)
    target: Mapped[str | None] = mapped_column(String(42), index=True)
    audit: Mapped[bool] = mapped_column(Boolean)
    args: Mapped[dict[str, Any]] = mapped_column(JSON)


class BalancePeriod(Base):
    """Balance of `wallet` in token `contract_id` from `from_block` until `to_block` (exclusive).

    `investor` copies the wallet's identity from `rm_wallets` (a wallet never changes investor), so
    that the two covering indexes answer "positions now" and "positions as of N" without touching
    the table or joining: 10,000 holders in a few tens of milliseconds on SQLite.
    """

    __tablename__ = "rm_balance_periods"
    __table_args__ = (
        UniqueConstraint("contract_id", "wallet", "from_block", name="uq_rm_balance_period"),
        Index("ix_rm_balance_current", "contract_id", "to_block", "wallet", "balance", "investor"),
        Index("ix_rm_balance_asof", "contract_id", "from_block", "to_block", "wallet", "balance", "investor"),
        Index("ix_rm_balance_wallet", "wallet", "from_block"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("rm_contracts.id"))
    wallet: Mapped[str] = mapped_column(String(42))
    from_block: Mapped[int] = mapped_column(BigInteger)
    to_block: Mapped[int | None] = mapped_column(BigInteger)
    balance: Mapped[int] = mapped_column(Uint256)
    investor: Mapped[str | None] = mapped_column(String(42))


#: Positions in the order pages are served (largest first, then by wallet): a page of the register is
#: read from this index, without sorting every position (`ReadModel.register_page`).
Index(
    "ix_rm_balance_ranked",
    BalancePeriod.contract_id,
    BalancePeriod.to_block,
    BalancePeriod.balance.desc(),
    BalancePeriod.wallet,
    BalancePeriod.investor,
)
#: Positions now in the order of their investors: a cap table's or a jurisdiction's count joins them to
#: the investors' records in that order (`ix_rm_investor_record`), a sequential walk of both indexes
#: rather than 10,000 scattered seeks (SQLite; `ReadModel.holder_breakdown`).
Index(
    "ix_rm_balance_by_investor",
    BalancePeriod.contract_id,
    BalancePeriod.to_block,
    BalancePeriod.investor,
    BalancePeriod.wallet,
    BalancePeriod.balance,
)


class FreezeChange(Base):
    """An `AddressFrozen` event of a token: `wallet` frozen (or unfrozen) from `block_number` on."""

    __tablename__ = "rm_freeze_changes"
    __table_args__ = (Index("ix_rm_freeze", "contract_id", "wallet", "block_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("rm_contracts.id"))
    wallet: Mapped[str] = mapped_column(String(42))
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_index: Mapped[int] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(Integer)
    frozen: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(42))


class InvestorRow(Base):
    """An investor identity as the registry describes it now."""

    __tablename__ = "rm_investors"

    identity: Mapped[str] = mapped_column(String(42), primary_key=True)
    registry_address: Mapped[str] = mapped_column("registry", String(42))
    jurisdiction: Mapped[int] = mapped_column(Integer, index=True)
    category: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[int] = mapped_column(Integer)
    kyc_valid_until: Mapped[int] = mapped_column(BigInteger)
    registered_block: Mapped[int] = mapped_column(BigInteger)


#: An investor's jurisdiction and category by identity without touching the table (the join of every
#: position to its investor's record, `ReadModel.holder_breakdown` and `register_page`).
Index("ix_rm_investor_record", InvestorRow.identity, InvestorRow.jurisdiction, InvestorRow.category)


class InvestorVersion(Base):
    """The investor's record after each registry event, so breakdowns can be taken as of a block."""

    __tablename__ = "rm_investor_versions"
    __table_args__ = (
        Index("ix_rm_investor_version", "identity", "block_number"),
        # An investor's record as of a block, in one seek: its newest version at or before the block
        # (`ReadModel._record_at`).
        Index("ix_rm_investor_version_at", "identity", "block_number", "tx_index", "log_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(42))
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_index: Mapped[int] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(Integer)
    jurisdiction: Mapped[int] = mapped_column(Integer)
    category: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer)
    kyc_valid_until: Mapped[int] = mapped_column(BigInteger)


class WalletRow(Base):
    """wallet → investor identity, from the registry's `WalletAdded` (a wallet never changes owner)."""

    __tablename__ = "rm_wallets"

    wallet: Mapped[str] = mapped_column(String(42), primary_key=True)
    identity: Mapped[str] = mapped_column(String(42), index=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
