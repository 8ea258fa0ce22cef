"""The follower, not a write's acknowledgement, copies SQLite's write-ahead log into the database file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import load_scenario
from sandbox.readmodel import MarketReadModel, ReadModel
from sandbox.readmodel import _live as live_module
from sandbox.scenario import DEMO_SCENARIO, Scenario


def test_the_follower_checkpoints_the_write_ahead_log_into_the_database_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    market = load_scenario(EmbeddedChain(num_accounts=20), Scenario.from_file(DEMO_SCENARIO))
    path = tmp_path / "readmodel.sqlite"
    live = MarketReadModel(market, ReadModel.sqlite(path))
    live.catch_up()  # the demo's history: well under the 10,000 pages past which a commit would checkpoint
    before = path.stat().st_size
    assert Path(f"{path}-wal").stat().st_size > before  # what was indexed is in the log, not the file yet

    monkeypatch.setattr(live_module, "CHECKPOINT_SECONDS", 0.0)
    live.start()
    try:
        deadline = time.monotonic() + 60
        while path.stat().st_size == before and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        live.stop()
    assert path.stat().st_size > before
    token = market.security("THAMES28")
    with ReadModel.sqlite(path) as reopened:
        held = {h.wallet: h.balance for h in reopened.register(token.address).holdings}
    assert held[market.accounts["alice"]] == token.balance_of(market.accounts["alice"])
