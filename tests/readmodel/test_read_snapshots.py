"""A read of the read model is one snapshot: what the follower commits while a read runs is not half in it.

A page of positions is several queries (the indexed block, the total and count, the page, the frozen
wallets); if each saw the database as of its own moment, a commit landing between two of them would give
a count from one block and a page from the next, under a `block_number` that matches neither.
"""

from __future__ import annotations

from sqlalchemy import select, update

from sandbox.readmodel import ReadModel
from sandbox.readmodel._schema import Meta


def _probe(model: ReadModel) -> str | None:
    with model.session() as session:
        return session.scalar(select(Meta.value).where(Meta.key == "probe"))


def test_a_read_session_sees_one_snapshot_while_another_session_commits(model: ReadModel) -> None:
    with model.session() as session:
        session.add(Meta(key="probe", value="block 41"))
    with model.session() as reader:
        first = reader.scalar(select(Meta.value).where(Meta.key == "probe"))
        with model.session() as writer:  # the indexer commits the next block meanwhile (another connection)
            writer.execute(update(Meta).where(Meta.key == "probe").values(value="block 42"))
        assert _probe(model) == "block 42"  # committed: a new read sees it
        second = reader.scalar(select(Meta.value).where(Meta.key == "probe"))
    assert first == second == "block 41"  # the read that began before it does not
    assert _probe(model) == "block 42"
