"""The indexer's life: resuming after a restart, idempotent re-indexing, contracts added later, a chain
that moves on or goes back. Every test runs on SQLite and on a real PostgreSQL server (see conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from readmodel_support import History
from sqlalchemy import func, select, update

from sandbox.readmodel import Indexer, ReadModel, ReadModelDiverged, ReadModelError
from sandbox.readmodel._schema import Base, BlockRow, ContractRow, EventRow, Meta


def dump(model: ReadModel) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, without surrogate ids, in a canonical order.

    Of `rm_blocks`, only the blocks that carry events and the newest block: the indexer also records the
    last block of each range it indexed (for divergence checks and "as of a time"), so which event-less
    blocks are stored depends on how the work was batched, not on what was indexed."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with model.engine.connect() as conn:
        with_events = set(conn.scalars(select(EventRow.block_number)).all())
        newest = conn.scalar(select(func.max(BlockRow.number)))
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in ("id", "contract_id")]
            query = select(*columns)
            if table.name == BlockRow.__tablename__:
                query = query.where(BlockRow.number.in_(with_events | {newest}))
            rows = conn.execute(query).all()
            out[table.name] = sorted((tuple(repr(v) for v in row) for row in rows), key=repr)
    return out


def balances(model: ReadModel, symbol: str, **as_of: int) -> dict[str, int]:
    return {p.wallet: p.balance for p in model.positions(symbol, **as_of)}


def test_a_new_indexer_on_the_same_database_resumes_from_the_last_block(
    history: History, db_url: str, tmp_path: Path, onchain: dict[int, dict[str, int]]
) -> None:
    stop = history.receipts["first_to_second"].block_number
    with ReadModel(db_url) as first:
        report = Indexer(history.chain, first, history.contracts(), batch_blocks=4).sync(to_block=stop)
        assert (report.from_block, report.to_block, report.skipped) == (0, stop, 0)
        assert first.last_indexed_block() == stop
        assert balances(first, history.symbol) == onchain[stop]

    with ReadModel(db_url) as second:  # a restart: new objects over the same database
        indexer = Indexer(history.chain, second, history.contracts(), batch_blocks=4)
        assert indexer.last_indexed_block == stop
        report = indexer.sync()
        assert (report.from_block, report.to_block, report.skipped) == (stop + 1, history.head, 0)
        assert report.events > 0
        assert balances(second, history.symbol) == onchain[history.head]
        assert balances(second, history.symbol, block=stop) == onchain[stop]
        resumed = dump(second)

    # the same as indexing everything in one go (into SQLite, whichever backend was resumed)
    with ReadModel.sqlite(tmp_path / "oneshot.sqlite") as oneshot:
        Indexer(history.chain, oneshot, history.contracts()).sync()
        assert dump(oneshot) == resumed


def test_indexing_again_changes_nothing(history: History, indexed: tuple[ReadModel, Indexer]) -> None:
    model, indexer = indexed
    before = dump(model)
    logs = len(history.chain.get_logs(0, history.head, history.contracts()))

    report = indexer.reindex(0, history.head)
    assert (report.events, report.skipped) == (0, logs)
    assert dump(model) == before

    assert indexer.sync().events == 0  # nothing new
    assert dump(model) == before

    # a cursor set back (as after a crash between two ranges) replays blocks whose events are stored
    with model.session() as session:
        session.execute(update(ContractRow).values(indexed_to=3))
    report = Indexer(history.chain, model, history.contracts(), batch_blocks=5).sync()
    assert report.events == 0 and report.skipped > 0
    assert dump(model) == before


def test_a_contract_added_later_gets_its_history(
    history: History, model: ReadModel, onchain: dict[int, dict[str, int]]
) -> None:
    indexer = Indexer(history.chain, model, [history.market.registry.address])
    indexer.sync()
    assert model.securities() == []
    assert indexer.add_contract(history.token.address) is True
    assert indexer.add_contract(history.token.address.lower()) is False
    assert model.last_indexed_block() == -1
    indexer.sync()
    assert model.last_indexed_block() == history.head
    [security] = model.securities()
    assert (security.address, security.symbol, security.decimals) == (
        history.token.address,
        history.symbol,
        history.token.decimals(),
    )
    assert security.name == history.token.name()
    assert balances(model, history.symbol) == onchain[history.head]
    middle = history.receipts["freeze"].block_number
    assert balances(model, history.symbol, block=middle) == onchain[middle]
    # the registry was indexed first, yet wallets map to investors in the later token's cap table
    assert all(e.investor is not None for e in model.cap_table(history.symbol).holders)
    assert indexer.contracts() == [history.market.registry.address, history.token.address]


def test_the_indexer_follows_new_blocks_and_notices_when_the_chain_went_back(
    history: History, model: ReadModel
) -> None:
    chain = history.chain
    indexer = Indexer(chain, model, history.contracts())
    holders = list(history.holders.values())
    snapshot = chain.snapshot()
    try:
        indexer.sync()
        receipt = history.token.transfer(holders[2], 7, sender=holders[0])
        report = indexer.sync()
        assert (report.from_block, report.to_block, report.events) == (
            receipt.block_number,
            receipt.block_number,
            1,
        )
        assert balances(model, history.symbol) == {
            p.wallet: history.token.balance_of(p.wallet) for p in model.positions(history.symbol)
        }
        assert balances(model, history.symbol)[holders[0]] == history.token.balance_of(holders[0])
    finally:
        chain.revert(snapshot)
    with pytest.raises(ReadModelDiverged, match="head"):
        indexer.sync()
    again = chain.snapshot()
    try:
        chain.mine(2)  # same height as the indexed block, different blocks
        with pytest.raises(ReadModelDiverged, match="in the read model"):
            indexer.sync()
    finally:
        chain.revert(again)


def test_confirmations_leave_the_newest_blocks_for_later(history: History, model: ReadModel) -> None:
    indexer = Indexer.for_market(history.market, model, confirmations=3)
    assert indexer.contracts() == history.contracts()
    report = indexer.sync()
    assert report.to_block == history.head - 3
    assert model.last_indexed_block() == history.head - 3


def test_bad_settings_and_foreign_databases_are_refused(history: History, model: ReadModel) -> None:
    with pytest.raises(ReadModelError, match="batch_blocks"):
        Indexer(history.chain, model, batch_blocks=0)
    with pytest.raises(ReadModelError, match="confirmations"):
        Indexer(history.chain, model, confirmations=-1)
    indexer = Indexer(history.chain, model, history.contracts())
    with pytest.raises(ReadModelError, match="not an address"):
        indexer.add_contract("registry")
    with pytest.raises(ReadModelError, match="re-index"):
        indexer.reindex(0, 5)  # nothing indexed yet
    assert model.last_indexed_block() == -1
    with model.session() as session:
        session.execute(update(Meta).where(Meta.key == "chain_id").values(value="1"))
    with pytest.raises(ReadModelDiverged, match="chain 1"):
        Indexer(history.chain, model, history.contracts())
    with model.session() as session:
        session.execute(update(Meta).where(Meta.key == "schema_version").values(value="999"))
    with pytest.raises(ReadModelError, match="schema version 999"):
        ReadModel(model.url)


def test_a_registry_added_after_its_tokens_still_maps_wallets_to_investors(history: History, model: ReadModel) -> None:
    indexer = Indexer(history.chain, model, [history.token.address])
    indexer.sync()
    first = next(iter(history.holders.values()))
    assert all(p.investor is None for p in model.positions(history.symbol))
    assert model.cap_table(history.symbol).by_category.keys() == {"UNREGISTERED"}
    indexer.add_contract(history.market.registry.address)
    indexer.sync()
    positions = model.positions(history.symbol)
    assert all(p.investor is not None for p in positions)
    assert {p.investor for p in positions if p.wallet == history.second_wallet} == {first}
    assert "UNREGISTERED" not in model.cap_table(history.symbol).by_category
    # and as of a past block too
    past = history.receipts["freeze"].block_number
    assert all(p.investor is not None for p in model.positions(history.symbol, block=past))
