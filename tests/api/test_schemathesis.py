"""Property-based tests of the whole API from its OpenAPI schema (schemathesis): for a bounded number of
generated requests per operation, sent with valid keys of a principal that may call it, there is no
server error and every response matches the schema (status code, content type, body)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sandbox.chain.embedded import EmbeddedChain
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


# A market of its own (schemathesis loads the schema at collection, before fixtures exist); generated
# requests change its state as they go, which is what a long-running sandbox sees too.
_SCENARIO = Scenario.from_file(DEMO_SCENARIO)
_APP = create_app(Settings(), market=load_scenario(EmbeddedChain(num_accounts=20), _SCENARIO))
# The live event stream (GET /events) never ends while it follows: tests/api/test_console.py covers it.
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP).exclude(operation_id="events-stream")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case: schemathesis.Case, keys: dict[str, str]) -> None:
    tag = (case.operation.definition.raw.get("tags") or ["health"])[0]
    case.call_and_validate(
        headers=bearer(keys[CALLER_BY_TAG[tag]]),
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
