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
    holds = live._holds

    def spy(target: int) -> bool:
        looked.set()  # the read has taken its target (the head) and compares it with the read model's
        return holds(target)

    monkeypatch.setattr(live, "_holds", spy)
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


def test_a_followed_read_waits_only_for_its_block_and_only_so_long_then_indexes_it_itself(tmp_path: Path) -> None:
    """With the follower running, a read that needs nothing newer answers at once as of what is indexed; a read
    that needs a newer block waits for the follower at most `wait_seconds`, then indexes that block itself."""
    market = load_scenario(EmbeddedChain(num_accounts=20), Scenario.from_file(DEMO_SCENARIO))
    live = MarketReadModel(market, ReadModel.sqlite(tmp_path / "readmodel.sqlite"), wait_seconds=0.5)
    live.catch_up()
    live.start()
    try:
        assert live.following
        indexed = live.indexed_block()
        token = market.security("THAMES28")
        alice, bob = market.accounts["alice"], market.accounts["bob"]
        with live._lock:  # the follower is stuck (as behind a long range); this thread may still index
            written = token.transfer(bob, 1, sender=alice).block_number
            assert live.reach(None) == indexed < written  # nothing asked for: the read model as it is
            assert live.reader(lambda: None).register("THAMES28").block == indexed
            view = live.reader(lambda: written)  # the writer's view: its block, whoever indexes it
            register = view.register("THAMES28")
            assert register.block >= written and view.block is not None and view.block >= written
        held = {h.wallet: h.balance for h in register.holdings}
        assert held[bob] == token.balance_of(bob)
    finally:
        live.stop()
    assert not live.following
