"""Property-based tests of the whole API from its OpenAPI schema (schemathesis): for a bounded number of
generated requests per operation, sent with valid keys of a principal that may call it, there is no
server error and every response matches the schema (status code, content type, body)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sandbox.chain.factory import in_process_chain
from sandbox.market import load_scenario
from sandbox.scenario import DEMO_SCENARIO, Scenario
from sandbox_gateway.app import create_app
from sandbox_gateway.settings import Settings
from tests.api.conftest import bearer

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("SANDBOX_SCHEMATHESIS_EXAMPLES", "12"))

#: Who calls each tag's operations (a principal allowed to, so requests get past authorization).
CALLER_BY_TAG = {
    "health": "operator",
    "securities": "thames",
    "investors": "operator",
    "transfers": "alice",
    "positions": "fca",
    "freezes": "fca",
    "audit": "operator",
    "operator": "operator",
    "cash": "albion",
    "settlements": "alice",
    "cross-border": "fca",
    "corporate-actions": "thames",
    "me": "fca",
    "sanctions": "fca",
    "offerings": "thames",
}


# schemathesis reads the schema at collection, before fixtures exist, and every pytest-xdist worker
# collects this module (`make test-fast` too, which then deselects it): the schema comes from a gateway
# with no market (it does not depend on one; nothing is deployed until the app starts), and the requests
# go to `app`, built when the first test runs.
# The live event stream (GET /events) never ends while it follows: tests/api/test_console.py covers it.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi()).exclude(operation_id="events-stream")


@pytest.fixture(scope="module")
def app() -> FastAPI:
    """The gateway over a market of its own, on the default in-process engine (revm; the contracts'
    behaviour is the same on py-evm, tests/chain/test_revm_differential.py): generated requests change its
    state as they go, which is what a long-running sandbox sees too."""
    return create_app(
        Settings(), market=load_scenario(in_process_chain(num_accounts=20), Scenario.from_file(DEMO_SCENARIO))
    )


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case: schemathesis.Case, keys: dict[str, str], app: FastAPI) -> None:
    tag = (case.operation.definition.raw.get("tags") or ["health"])[0]
    case.call_and_validate(
        app=app,
        headers=bearer(keys[CALLER_BY_TAG[tag]]),
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
