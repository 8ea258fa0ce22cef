"""Fixtures for the read-model tests: one demo market with a known history, and a fresh database per
test on each backend — a SQLite file, and a real PostgreSQL server that these fixtures install from
Debian packages if it is missing, start on 127.0.0.1 on a free port, and stop by its PID."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from readmodel_support import History

import seeds
from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import load_scenario
from sandbox.readmodel import Indexer, ReadModel
from sandbox.rules import CATEGORIES_BY_JURISDICTION, InvestorCategory, Jurisdiction
from sandbox.scenario import Scenario

# ---------------------------------------------------------------------------- the market and its history


@pytest.fixture(scope="session")
def history() -> History:
    scenario = Scenario.from_file(seeds.DEMO_SCENARIO)
    chain = EmbeddedChain(num_accounts=max(20, scenario.accounts_needed + 1))
    market = load_scenario(chain, scenario)
    spec = max(scenario.securities, key=lambda s: len(s.holdings))
    assert len(spec.holdings) >= 3, "the demo needs a security with three holders for these tests"
    token = market.security(spec.symbol)
    ranked = sorted(spec.holdings.items(), key=lambda kv: -kv[1])
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


def _postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


def _install_postgres() -> Path:
    bindir = _postgres_bindir()
    if bindir is not None:
        return bindir
    if os.geteuid() != 0:
        pytest.fail("PostgreSQL is not installed and these tests are not root: apt-get install -y postgresql")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.fail(f"could not install PostgreSQL from Debian packages:\n{done.stderr[-2000:]}")
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.fail("apt-get installed postgresql but no /usr/lib/postgresql/*/bin/postgres appeared")
    return bindir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bindir = _install_postgres()
    root = os.geteuid() == 0
    # PostgreSQL refuses to run as root: run it as the `postgres` account the package created.
    run_as: dict[str, Any] = {"user": "postgres", "group": "postgres"} if root else {}
    base = Path(tempfile.mkdtemp(prefix="readmodel-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    if root:
        entry = pwd.getpwnam("postgres")
        for path in (base, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    user = "postgres"
    subprocess.run(
        [bindir / "initdb", "-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        **run_as,
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            bindir / "postgres",
            "-D",
            data,
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-k",
            sockets,
            "-c",
            "fsync=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        **run_as,
    )
    info = PostgresServer("127.0.0.1", port, user)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                stderr = server.stderr.read().decode() if server.stderr else ""
                pytest.fail(f"postgres exited with {server.returncode}: {stderr[-2000:]}")
            try:
                psycopg.connect(host=info.host, port=port, user=user, dbname="postgres").close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    pytest.fail("postgres did not accept connections within 60 s")
                time.sleep(0.1)
        yield info
    finally:
        server.send_signal(signal.SIGINT)  # fast shutdown of this server, by its own PID
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------------------- a database per test

_counter = iter(range(1_000_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'readmodel.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres")
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
