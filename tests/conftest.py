"""Our own suite uses the sandbox's pytest plugin (sandbox/pytest_plugin.py), as participants do."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from sandbox.chain.factory import InProcessChain
from sandbox.market import Market
from sandbox.scenario import Scenario

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def demo_scenario(sandbox_scenario: Scenario) -> Scenario:
    return sandbox_scenario


@pytest.fixture
def market(sandbox_market: Market) -> Market:
    """The demo market for this test alone."""
    return sandbox_market


@pytest.fixture
def chain(market: Market) -> InProcessChain:
    """The market's in-process chain, of the engine `sandbox.chain.connect()` gives (``SANDBOX_ENGINE``)."""
    from sandbox.chain.embedded import EmbeddedChain
    from sandbox.chain.revm_engine import RevmChain

    assert isinstance(market.chain, EmbeddedChain | RevmChain)
    return market.chain


#: Fixtures that need what `make test` installs and `make test-fast` does not: the marker each requires.
NEEDS_MARKER = {"postgres": "postgres", "node_tools": "node", "anvil": "node", "trex_abis": "node"}


def _unique_schemathesis_ids(items: list[pytest.Item]) -> None:
    """schemathesis 4 names each operation's item ``test[GET /path]`` but gives them all the function's
    node id; pytest-xdist schedules by node id, so under `make test` only one operation of the API's
    conformance test ran. Give each item its name as its node id."""
    from _pytest.nodeid import coerce_node_id  # pytest 9.2 (pinned) keeps a node's id structured

    for item in items:
        if type(item).__name__ == "SchemathesisFunction" and not item.nodeid.endswith("]"):
            label = re.sub(r"[^A-Za-z0-9_{}.-]+", "-", item.name.partition("[")[2].rstrip("]"))
            item._id = coerce_node_id(f"{item.nodeid}[{label}]")


@pytest.hookimpl(trylast=True)  # after schemathesis has named its items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _unique_schemathesis_ids(items)
    # pytest-xdist schedules by node id: two items with one id would silently run as one.
    twice = sorted(nodeid for nodeid, n in Counter(item.nodeid for item in items).items() if n > 1)
    if twice:
        raise pytest.UsageError(
            "tests that share a node id (only one of each would run in parallel):\n" + "\n".join(twice)
        )
    _require_markers(items)
    _slow_modules_first(items)


def _require_markers(items: list[pytest.Item]) -> None:
    """A test that uses a PostgreSQL or Node fixture without its marker is an error: `make test-fast`
    would run it without the server or tools it needs. (Parametrised fixtures that reach them through
    `request.getfixturevalue` mark their parameter instead: `pytest.param(..., marks=...)`.)"""
    unmarked = [
        f"{item.nodeid} uses {fixture} but is not marked {marker}"
        for item in items
        for fixture, marker in NEEDS_MARKER.items()
        if fixture in getattr(item, "fixturenames", ()) and item.get_closest_marker(marker) is None
    ]
    if unmarked:
        raise pytest.UsageError("tests without the marker their fixtures need:\n" + "\n".join(unmarked))


def _slow_modules_first(items: list[pytest.Item]) -> None:
    """Runs the modules with tests marked `slow` first, then those with tests that start servers or
    tools (`node`, `postgres`, `browser`), then the rest, otherwise in collection order. `make test` hands
    whole files to its workers in this order (`--dist loadfile --no-loadscope-reorder`: without the latter,
    pytest-xdist 3 reorders the files by number of tests, most first), so the longest files start first and
    the short ones fill in at the end, instead of a long file collected last (the top-level subprocess
    tests) running alone on one worker while the other idles."""
    rank: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        if item.get_closest_marker("slow") is not None:
            rank[module] = 0
        elif any(item.get_closest_marker(marker) is not None for marker in ("node", "postgres", "browser")):
            rank[module] = min(rank.get(module, 1), 1)
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], 2))  # stable: files stay whole
