"""The gateway's OpenAPI document is one a client generator can use (issue 14): one `Problem` schema
referenced by every error response, the errors each operation can really give, `Idempotency-Key` on
every state-changing operation, a description and a listed tag on every operation; and a Python client
generated from it (openapi-python-client) compiles and drives a real call."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.market import Market
from sandbox.scenario import Scenario
from sandbox_gateway.app import create_app
from sandbox_gateway.rpc_server import ServerThread
from sandbox_gateway.settings import Settings
from tests.api.test_authorization_matrix import CASES

STATE_CHANGING = {"post", "put", "patch", "delete"}
PROBLEM_REF = "#/components/schemas/Problem"
#: Reads the chain answers with a refusal when asked too early (declared on the route itself).
READS_THAT_MAY_BE_TOO_EARLY = {"corporate-actions-payment"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_one_problem_schema_referenced_everywhere(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    problem = components["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["properties"])
    # No other copy of it: no schema anywhere else with the problem's own fields, inlined or named.
    copies = [
        node
        for node in _walk({"paths": schema["paths"], "others": {k: v for k, v in components.items() if k != "Problem"}})
        if isinstance(node.get("properties"), dict) and {"detail", "code", "instance"} <= set(node["properties"])
    ]
    assert copies == []
    assert "HTTPValidationError" not in components  # FastAPI's 422 body is not what this API answers
    error_responses = 0
    for method, path, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            error_responses += 1
            assert response["content"] == {"application/problem+json": {"schema": {"$ref": PROBLEM_REF}}}, (
                method,
                path,
                status,
            )
    assert error_responses > 100
    assert len(json.dumps(schema)) < 250_000  # was 528 KB with the problem inlined 318 times


def test_every_operation_has_a_description_a_summary_and_a_listed_tag(schema: dict[str, Any]) -> None:
    listed = [tag["name"] for tag in schema["tags"]]
    assert all(tag.get("description") for tag in schema["tags"])
    used = set()
    for method, path, operation in _operations(schema):
        assert operation.get("summary"), (method, path)
        assert len(operation.get("description", "")) >= 40, (method, path)
        assert operation.get("tags"), (method, path)
        assert set(operation["tags"]) <= set(listed), (method, path, operation["tags"])
        used.update(operation["tags"])
    assert used == set(listed)


def test_every_state_changing_operation_documents_idempotency_key(schema: dict[str, Any]) -> None:
    changing = 0
    for method, path, operation in _operations(schema):
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        if method in STATE_CHANGING:
            changing += 1
            [key] = [p for p in headers if p["name"] == "Idempotency-Key"]
            assert key["required"] is False
            assert key["schema"]["type"] == "string"
            assert "422" in operation["responses"]  # a key reused for another request
        else:
            assert not [p for p in headers if p["name"] == "Idempotency-Key"], (method, path)
    assert changing >= 35


def test_error_responses_are_those_an_operation_can_give(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        errors = {int(s) for s in operation["responses"] if int(s) >= 400}
        has_body = "requestBody" in operation
        if method == "get" and operation["operationId"] not in READS_THAT_MAY_BE_TOO_EARLY:
            assert 409 not in errors, path  # a read refuses nothing under a rule
        if not has_body:
            assert not errors & {400, 413, 415}, (method, path)
        if not operation.get("security"):
            assert 401 not in errors, (method, path)
        if "{" not in path and method == "get":
            assert 404 not in errors or operation["operationId"] == "audit-actions", path
    health = schema["paths"]["/health"]["get"]["responses"]
    assert [s for s in health if int(s) >= 400] == []


def test_every_status_of_the_authorization_matrix_is_documented(schema: dict[str, Any]) -> None:
    """The matrix (tests/api/test_authorization_matrix.py) asserts what every principal really gets from
    every route; each of those statuses is in that operation's documented responses."""
    operations = {operation["operationId"]: operation for _, _, operation in _operations(schema)}
    undocumented = []
    for case in CASES:
        op_id = max((o for o in operations if case.name == o or case.name.startswith(o + "-")), key=len)
        documented = operations[op_id]["responses"]
        undocumented += [
            (case.name, who, status) for who, status in case.expected.items() if str(status) not in documented
        ]
    assert undocumented == []


def test_a_generated_python_client_drives_a_real_call(market: Market, demo_scenario: Scenario, tmp_path: Path) -> None:
    """openapi-python-client generates a client from the served schema; it imports, and lists the
    securities from a live gateway (uvicorn on a free loopback port) with a demo key."""
    generator = Path(sys.executable).with_name("openapi-python-client")
    app = create_app(Settings(), market=market)
    (tmp_path / "openapi.json").write_text(json.dumps(app.openapi()))
    (tmp_path / "config.yaml").write_text("post_hooks: []\n")  # no formatter run: not needed to import it
    generated = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            "config.yaml",
            "--meta",
            "none",
            "--output-path",
            "sandbox_gateway_client",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout, generated.stdout
    models = tmp_path / "sandbox_gateway_client" / "models"
    problem_models = [f.stem for f in models.glob("*.py") if '"instance"' in f.read_text()]
    assert problem_models == ["problem"]  # one model for every error, not one per operation and status

    key = demo_scenario.regulators[0].api_key
    script = """
import json, sys
import httpx
from sandbox_gateway_client import AuthenticatedClient
from sandbox_gateway_client.api.securities import securities_list
from sandbox_gateway_client.models import Problem, SecurityPage

# httpx's default timeout is 5 s: the gateway's first read indexes its read model, slow on a busy machine
wait = httpx.Timeout(120.0)
client = AuthenticatedClient(base_url=sys.argv[1], token=sys.argv[2], raise_on_unexpected_status=True, timeout=wait)
page = securities_list.sync(client=client, limit=50)
assert isinstance(page, SecurityPage), page
stranger = AuthenticatedClient(base_url=sys.argv[1], token="not-a-key-0000000000", timeout=wait)
refused = securities_list.sync(client=stranger)
assert isinstance(refused, Problem), refused
print(json.dumps({"symbols": [s.symbol for s in page.items], "refused": refused.code}))
"""
    with ServerThread(app) as server:
        called = subprocess.run(
            [sys.executable, "-c", script, server.url, key],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert called.returncode == 0, called.stdout + called.stderr
    answer = json.loads(called.stdout)
    assert sorted(answer["symbols"]) == sorted(s.symbol for s in demo_scenario.securities)
    assert answer["refused"] == "INVALID_API_KEY"
