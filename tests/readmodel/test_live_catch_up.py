"""A read of the live read model waits for the blocks mined before it began, never for later writes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import load_scenario
from sandbox.readmodel import MarketReadModel, ReadModel
from sandbox.scenario import DEMO_SCENARIO, Scenario


def test_a_read_indexes_up_to_the_head_it_began_at_not_the_writes_that_came_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    market = load_scenario(EmbeddedChain(num_accounts=20), Scenario.from_file(DEMO_SCENARIO))
    live = MarketReadModel(market, ReadModel.sqlite(tmp_path / "readmodel.sqlite"))
    live.catch_up()
    token = market.security("THAMES28")
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    token.transfer(bob, 1, sender=alice)  # acknowledged before the read begins: the read must see it
    began_at = market.chain.block_number()

    looked = threading.Event()
    last_indexed_block = live.model.last_indexed_block

    def spy() -> int | None:
        looked.set()  # the read has taken its target (the head) and compares it with the read model's
        return last_indexed_block()

    monkeypatch.setattr(live.model, "last_indexed_block", spy)
    answers: list[int] = []
    reader = threading.Thread(target=lambda: answers.append(live.catch_up()))
    with live._lock:  # as if the follower were indexing: the read waits for the lock
        reader.start()
        assert looked.wait(timeout=120)
        token.transfer(alice, 1, sender=bob)  # writes that began after the read
        token.transfer(bob, 1, sender=alice)
    reader.join(timeout=120)
    assert not reader.is_alive()

    assert answers == [began_at]  # its own target, not the head that moved meanwhile
    assert live.catch_up() == market.chain.block_number() == began_at + 2  # the next read sees the later ones
