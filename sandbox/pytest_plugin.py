"""pytest plugin for participants' integration suites (registered under the ``pytest11`` entry point).

Fixtures:
- ``sandbox_chain``: a session-wide embedded chain (deterministic accounts and clock).
- ``sandbox_market``: the scenario deployed once per session on that chain, handed to each test in the
  state it had after loading: every test runs between a snapshot and a revert, so tests cannot see
  each other's transactions, at the cost of one snapshot and one revert instead of a redeploy.

Options: ``--sandbox-scenario PATH`` (default: the demo in ``seeds/demo.yaml``) and
``--sandbox-accounts N`` (funded accounts, default 20).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.chain.factory import InProcessChain, in_process_chain
from sandbox.market import Market, load_scenario
from sandbox.scenario import DEMO_SCENARIO, Scenario


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sandbox", "UK-US digital-securities sandbox")
    group.addoption("--sandbox-scenario", default=str(DEMO_SCENARIO), help="scenario file deployed by sandbox_market")
    group.addoption("--sandbox-accounts", type=int, default=20, help="funded accounts on the embedded chain")


@pytest.fixture(scope="session")
def sandbox_scenario(pytestconfig: pytest.Config) -> Scenario:
    """The scenario named by ``--sandbox-scenario``."""
    return Scenario.from_file(Path(str(pytestconfig.getoption("sandbox_scenario"))))


@pytest.fixture(scope="session")
def sandbox_chain(pytestconfig: pytest.Config, sandbox_scenario: Scenario) -> InProcessChain:
    """One embedded chain for the whole session."""
    accounts = max(int(pytestconfig.getoption("sandbox_accounts")), sandbox_scenario.accounts_needed)
    return in_process_chain(num_accounts=accounts)


@pytest.fixture(scope="session")
def _sandbox_market_loaded(sandbox_chain: InProcessChain, sandbox_scenario: Scenario) -> Market:
    return load_scenario(sandbox_chain, sandbox_scenario)


@pytest.fixture
def sandbox_market(_sandbox_market_loaded: Market, sandbox_chain: InProcessChain) -> Iterator[Market]:
    """The deployed scenario, as just loaded, for this test alone (snapshot before, revert after)."""
    snapshot = _sandbox_market_loaded.snapshot()
    try:
        yield _sandbox_market_loaded
    finally:
        _sandbox_market_loaded.revert(snapshot)
