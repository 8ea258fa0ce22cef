"""Fixtures for the read-model tests: one demo market with a known history, and a fresh database per
test on each backend — a SQLite file, and a real PostgreSQL server (installed by `make test`, see the
Makefile's `postgres-server`) that these fixtures start on 127.0.0.1 on a free port and stop by its PID.
The PostgreSQL cases carry the `postgres` marker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from readmodel_support import History

from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import load_scenario
from sandbox.readmodel import Indexer, ReadModel, pgserver
from sandbox.rules import CATEGORIES_BY_JURISDICTION, InvestorCategory, Jurisdiction
from sandbox.scenario import DEMO_SCENARIO, Scenario

# ---------------------------------------------------------------------------- the market and its history


@pytest.fixture(scope="session")
def history() -> History:
    scenario = Scenario.from_file(DEMO_SCENARIO)
    chain = EmbeddedChain(num_accounts=max(20, scenario.accounts_needed + 1))
    market = load_scenario(chain, scenario)
    spec = max(scenario.securities, key=lambda s: len(s.initial_holdings))
    assert len(spec.initial_holdings) >= 3, "the demo needs a security with three holders for these tests"
    token = market.security(spec.symbol)
    ranked = sorted(spec.initial_holdings.items(), key=lambda kv: -kv[1])
    holders = {key: market.accounts[key] for key, _ in ranked}
    keys = list(holders)
    first, second, third = keys[0], keys[1], keys[2]
    investors = {i.key: i for i in scenario.investors}
    operator = market.operator
    issuer = market.accounts[market.issuer_of[spec.symbol]]
    second_wallet = chain.accounts[scenario.accounts_needed].address
    h = History(chain, market, token, spec.symbol, holders, second_wallet, chain.block_number())

    r = h.receipts
    r["add_wallet"] = market.registry.add_wallet(holders[first], second_wallet, sender=operator)
    r["to_second_wallet"] = token.transfer(second_wallet, ranked[0][1] // 5, sender=holders[first])
    r["first_to_second"] = token.transfer(holders[second], 250, sender=holders[first])
    chain.time_travel(chain.timestamp() + 86_400)  # a gap in time: a day without blocks
    r["third_to_first"] = token.transfer(holders[first], 100, sender=holders[third])
    # a new category for the third holder, in its own jurisdiction
    jurisdiction = Jurisdiction[investors[third].jurisdiction]
    before = InvestorCategory[investors[third].category]
    after = sorted(CATEGORIES_BY_JURISDICTION[jurisdiction] - {before})[-1]
    r["recategorise"] = market.registry.update_investor(
        holders[third], after, chain.timestamp() + 365 * 86_400, sender=operator
    )
    h.recategorised, h.category_before, h.category_after = holders[third], before, after
    # a regulator of the second holder's jurisdiction freezes it
    regulator = next(
        market.accounts[reg.key] for reg in scenario.regulators if reg.jurisdiction == investors[second].jurisdiction
    )
    r["freeze"] = token.set_address_frozen(holders[second], True, sender=regulator)
    h.regulator, h.frozen_wallet = regulator, holders[second]
    chain.time_travel(chain.timestamp() + 7 * 86_400)
    r["from_second_wallet"] = token.transfer(holders[third], 30, sender=second_wallet)
    r["burn"] = token.burn(holders[third], 10, sender=issuer)
    return h


def chain_positions(h: History, block: int) -> dict[str, int]:
    """Non-zero balances of every account of the chain at `block`, read from the token itself."""
    out: dict[str, int] = {}
    if not h.chain.w3.eth.get_code(h.token.address, block):
        return out  # not deployed yet
    for account in h.chain.accounts:
        balance = h.token.balance_of(account.address, block=block)
        if balance:
            out[account.address] = balance
    return out


@pytest.fixture(scope="session")
def onchain(history: History) -> dict[int, dict[str, int]]:
    """block → on-chain balances, for every block of the history."""
    return {n: chain_positions(history, n) for n in range(history.head + 1)}


# ---------------------------------------------------------------------------- PostgreSQL, for real


def _require_postgres() -> None:
    """Fails (never skips) when PostgreSQL is not installed: `make test` installs it (`make postgres-server`)
    before the tests run; `make test-fast` deselects the tests marked `postgres` that need it."""
    if pgserver.bindir() is None:
        pytest.fail(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): run `make postgres-server` "
            "(apt-get install -y postgresql, as root) or `make test`; `make test-fast` runs without it"
        )


@pytest.fixture(scope="session")
def postgres() -> Iterator[pgserver.TemporaryPostgres]:
    """A real PostgreSQL server on 127.0.0.1, for the whole session; stopped by its PID at the end."""
    _require_postgres()
    server = pgserver.TemporaryPostgres()
    try:
        server.start()
    except pgserver.PostgresUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        pid = server.pid
        server.stop()
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # the server is gone


# ---------------------------------------------------------------------------- a database per test

_counter = iter(range(1_000_000))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'readmodel.sqlite'}"
    server: pgserver.TemporaryPostgres = request.getfixturevalue("postgres")
    return server.create_database(f"readmodel_{os.getpid()}_{next(_counter)}")


@pytest.fixture
def model(db_url: str) -> Iterator[ReadModel]:
    rm = ReadModel(db_url)
    try:
        yield rm
    finally:
        rm.close()


@pytest.fixture
def indexed(history: History, model: ReadModel) -> Iterator[tuple[ReadModel, Indexer]]:
    """The whole history, indexed."""
    indexer = Indexer(history.chain, model, history.contracts(), batch_blocks=7)
    indexer.sync()
    yield model, indexer
