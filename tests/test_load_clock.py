"""The demo loaded on the wall clock (what `sandbox serve` does) is never ahead of the wall.

Loading mines one block per transaction, each at least a second after its parent. On main, loaded on the
wall clock, the demo's 51 blocks ended 50 s in the future, and every block mined in the next 50 s was
dated in the future too (a transfer sent right after start-up said it happened almost a minute later).
The loading now runs on the fixed clock from a genesis just before `now`, and never from before the
day's midnight.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.deployment import open_market
from sandbox.market import Market, load_embedded
from sandbox.scenario import DEMO_SCENARIO, Scenario


def _seeded_times(market: Market) -> list[datetime]:
    chain = market.chain
    return [datetime.fromtimestamp(chain.block_timestamp(n), UTC) for n in range(1, chain.block_number() + 1)]


@pytest.mark.parametrize("engine", ["revm", "embedded"])
def test_the_demo_loaded_on_the_wall_clock_ends_before_the_wall_and_then_follows_it(engine: str) -> None:
    demo = Scenario.from_file(DEMO_SCENARIO)
    started = int(time.time())
    market = load_embedded(demo, clock="wall", engine=engine)
    loaded = time.time()
    chain = market.chain
    assert chain.block_number() > 1
    assert chain.timestamp() <= loaded  # on main: 50 s ahead
    assert chain.block_timestamp(1) >= started - 2 * 86_400  # dated just before, not days before
    before = int(time.time())
    receipt = market.security("THAMES28").transfer(market.wallet("bob"), 1, sender=market.wallet("alice"))
    after = int(time.time())
    assert before <= receipt.block_timestamp <= after  # mined now, dated now


def test_loaded_at_the_last_second_before_a_leap_day_every_block_is_dated_the_28th_and_none_after() -> None:
    now = int(datetime(2028, 2, 28, 23, 59, 59, tzinfo=UTC).timestamp())
    market = load_embedded(Scenario.from_file(DEMO_SCENARIO), clock="wall", now=now, engine="revm")
    times = _seeded_times(market)
    assert times == sorted(times)
    assert times[-1] <= datetime(2028, 2, 28, 23, 59, 59, tzinfo=UTC)  # none after `now`: not ahead
    assert times[0].date() == datetime(2028, 2, 28, tzinfo=UTC).date()


def test_loaded_just_after_midnight_on_a_leap_day_no_block_is_dated_the_day_before() -> None:
    """30 s after midnight there is no room for the loading's blocks before `now` on the same day: they
    start at midnight (and end a few seconds after `now`) rather than on the 28th, where the day's
    dates (a calendar's day 0, KYC expiries) would move a day back."""
    now = int(datetime(2028, 2, 29, 0, 0, 30, tzinfo=UTC).timestamp())
    market = load_embedded(Scenario.from_file(DEMO_SCENARIO), clock="wall", now=now, engine="revm")
    times = _seeded_times(market)
    assert times[0] == datetime(2028, 2, 29, 0, 0, 1, tzinfo=UTC)  # the block after a genesis at midnight
    assert all(t.date() == datetime(2028, 2, 29, tzinfo=UTC).date() for t in times)
    assert market.chain.block_timestamp(0) == int(datetime(2028, 2, 29, tzinfo=UTC).timestamp())


@pytest.mark.parametrize("engine", ["revm", "embedded"])
def test_a_fresh_data_directory_loaded_on_the_wall_clock_ends_before_the_wall_and_restarts_on_it(
    engine: str, tmp_path: Path
) -> None:
    """`serve --data-dir` on a fresh directory: its chain's genesis is fixed (part of the directory's
    identity), so the loading moves to just before `now` and runs on the fixed clock. On main the demo's
    blocks were stamped on the wall clock, a second apart, and ended ~50 s in the future."""
    started = int(time.time())
    opened = open_market(tmp_path, Scenario.from_file(DEMO_SCENARIO), engine=engine)
    loaded = time.time()
    chain = opened.market.chain
    try:
        assert opened.seeded
        assert chain.block_number() > 1
        assert chain.timestamp() <= loaded  # on main: ~50 s ahead
        assert chain.block_timestamp(chain.block_number()) >= started - 2 * 86_400  # moved to today
        before = int(time.time())
        receipt = opened.market.security("THAMES28").transfer(
            opened.market.wallet("bob"), 1, sender=opened.market.wallet("alice")
        )
        assert before <= receipt.block_timestamp <= int(time.time())  # mined now, dated now
        head = chain.block_number()
    finally:
        chain.close()
    again = open_market(tmp_path, lambda: pytest.fail("a restored directory must not load the scenario"))
    try:
        assert again.chain.block_number() == head  # the moved-to block and the loading replayed as they were
        parent = again.chain.timestamp()
        before = int(time.time())
        receipt = again.market.security("THAMES28").transfer(
            again.market.wallet("bob"), 1, sender=again.market.wallet("alice")
        )
        # On the wall clock (a block is at least a second after its parent, which may be this very second).
        assert before <= receipt.block_timestamp <= max(int(time.time()), parent + 1)
    finally:
        again.chain.close()
