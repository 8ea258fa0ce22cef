"""A dev revert followed by as many new blocks is noticed by the next read, which rebuilds the read model:
the live read model remembers its newest block's hash and compares it with the chain's at every read."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.chain.factory import in_process_chain
from sandbox.market import load_scenario
from sandbox.readmodel import MarketReadModel, ReadModel
from sandbox.scenario import DEMO_SCENARIO, Scenario


@pytest.mark.parametrize("engine", ["revm", "embedded"])
def test_a_revert_followed_by_as_many_blocks_is_noticed_and_the_read_model_rebuilt(tmp_path: Path, engine: str) -> None:
    market = load_scenario(in_process_chain(engine, num_accounts=20), Scenario.from_file(DEMO_SCENARIO))
    live = MarketReadModel(market, ReadModel.sqlite(tmp_path / "readmodel.sqlite"))
    token = market.security("THAMES28")
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    live.catch_up()
    before = token.balance_of(bob)
    snapshot = market.snapshot()

    undone = token.transfer(bob, 5, sender=alice).block_number
    assert live.catch_up() == undone
    assert _held(live, bob) == before + 5  # indexed: the read model now has block `undone`

    market.revert(snapshot)
    again = token.transfer(bob, 1, sender=alice).block_number
    assert again == undone  # the same height, another block

    assert live.catch_up() == again
    assert live.rebuilds == 1
    assert _held(live, bob) == before + 1 == token.balance_of(bob)


def _held(live: MarketReadModel, wallet: str) -> int:
    register = live.register("THAMES28")
    return next(h.balance for h in register.holdings if h.wallet == wallet)
