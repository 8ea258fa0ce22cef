"""The gateway skeleton: authentication, roles, scope, problem+json, and nothing changed on refusal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sandbox.market import Market
from tests.api.conftest import bearer

SYMBOL = "THAMES28"
PROBLEM = "application/problem+json"


def _chain_state(market: Market) -> tuple[int, tuple[bool, ...]]:
    token = market.security(SYMBOL)
    return market.chain.block_number(), tuple(token.is_frozen(a) for a in market.accounts.values())


def _assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["detail"]
    assert "Traceback" not in response.text
    return body


def test_health_needs_no_key(client: TestClient, market: Market) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["chain_id"] == market.chain.chain_id
    assert response.json()["securities"] == len(market.securities)


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "AUTHENTICATION_REQUIRED"), (bearer("not-a-key-of-this-sandbox"), "INVALID_API_KEY")],
)
def test_no_or_unknown_key_is_401_and_changes_nothing(
    client: TestClient, market: Market, headers: dict[str, str], code: str
) -> None:
    before = _chain_state(market)
    wallet = market.accounts["alice"]
    response = client.post(f"/securities/{SYMBOL}/frozen-wallets", json={"wallet": wallet}, headers=headers)
    _assert_problem(response, 401, code)
    assert response.headers["www-authenticate"] == "Bearer"
    _assert_problem(client.get(f"/securities/{SYMBOL}/positions", headers=headers), 401, code)
    assert _chain_state(market) == before


@pytest.mark.parametrize("who", ["alice", "hudson", "operator"])
def test_wrong_role_cannot_freeze(client: TestClient, market: Market, keys: dict[str, str], who: str) -> None:
    before = _chain_state(market)
    response = client.post(
        f"/securities/{SYMBOL}/frozen-wallets", json={"wallet": market.accounts["bob"]}, headers=bearer(keys[who])
    )
    _assert_problem(response, 403, "OUT_OF_SCOPE" if who == "hudson" else "ROLE_NOT_ALLOWED")
    assert _chain_state(market) == before


def test_investor_cannot_read_positions(client: TestClient, keys: dict[str, str]) -> None:
    _assert_problem(
        client.get(f"/securities/{SYMBOL}/positions", headers=bearer(keys["alice"])), 403, "ROLE_NOT_ALLOWED"
    )


@pytest.mark.parametrize(
    "body",
    [{"wallet": "0x123"}, {"wallet": "0xZZ" + "0" * 38}, {"wallet": 42}, {}, {"wallet": "0x" + "1" * 40, "extra": 1}],
)
def test_malformed_input_is_422_and_changes_nothing(
    client: TestClient, market: Market, keys: dict[str, str], body: dict[str, Any]
) -> None:
    before = _chain_state(market)
    response = client.post(f"/securities/{SYMBOL}/frozen-wallets", json=body, headers=bearer(keys["fca"]))
    _assert_problem(response, 422, "VALIDATION_FAILED")
    assert _chain_state(market) == before


def test_bad_wallet_in_path_is_422(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    before = _chain_state(market)
    response = client.delete(f"/securities/{SYMBOL}/frozen-wallets/0xnotanaddress", headers=bearer(keys["fca"]))
    _assert_problem(response, 422, "VALIDATION_FAILED")
    assert _chain_state(market) == before


def test_unknown_security_is_404(client: TestClient, keys: dict[str, str]) -> None:
    _assert_problem(client.get("/securities/NOPE1/positions", headers=bearer(keys["fca"])), 404, "SECURITY_NOT_FOUND")


def test_home_regulator_and_issuer_see_every_position(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    for who in ("fca", "thames"):
        response = client.get(f"/securities/{SYMBOL}/positions", headers=bearer(keys[who]))
        assert response.status_code == 200, response.text
        body = response.json()
        held = {p["wallet"]: p["balance"] for p in body["items"]}
        assert held == {
            market.accounts[k]: v for k, v in {"alice": 5000, "bob": 3000, "carol": 2000, "dan": 1000}.items()
        }
        assert body["total_supply"] == 11_000


def test_foreign_regulator_sees_only_its_own_investors(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    response = client.get(f"/securities/{SYMBOL}/positions", headers=bearer(keys["sec"]))
    assert response.status_code == 200
    positions = response.json()["items"]
    assert {p["wallet"] for p in positions} == {market.accounts["carol"], market.accounts["dan"]}
    assert {p["jurisdiction"] for p in positions} == {"US"}


def test_regulator_freeze_in_scope_then_lift(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    token = market.security(SYMBOL)
    carol = market.accounts["carol"]
    response = client.post(f"/securities/{SYMBOL}/frozen-wallets", json={"wallet": carol}, headers=bearer(keys["sec"]))
    assert response.status_code == 201, response.text
    assert response.json()["frozen"] is True
    assert response.json()["frozen_by"] == "US"
    assert token.is_frozen(carol)
    lifted = client.delete(f"/securities/{SYMBOL}/frozen-wallets/{carol}", headers=bearer(keys["sec"]))
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["frozen"] is False
    assert not token.is_frozen(carol)


def test_out_of_scope_regulator_is_refused_on_chain(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    token = market.security(SYMBOL)
    alice = market.accounts["alice"]  # a UK investor in a UK security: out of the SEC's scope
    response = client.post(f"/securities/{SYMBOL}/frozen-wallets", json={"wallet": alice}, headers=bearer(keys["sec"]))
    body = _assert_problem(response, 403, "REGULATOR_OUT_OF_SCOPE")
    assert body["error"] == "RegulatorOutOfScope"
    assert body["arguments"]["regulatorJurisdiction"] == 840
    assert not token.is_frozen(alice)


def test_a_regulators_freeze_cannot_be_lifted_by_the_other_regulator(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    token = market.security(SYMBOL)
    carol = market.accounts["carol"]  # US investor in a UK security: both regulators are in scope
    assert (
        client.post(
            f"/securities/{SYMBOL}/frozen-wallets", json={"wallet": carol}, headers=bearer(keys["fca"])
        ).status_code
        == 201
    )
    response = client.delete(f"/securities/{SYMBOL}/frozen-wallets/{carol}", headers=bearer(keys["sec"]))
    _assert_problem(response, 403, "FREEZE_IMPOSED_BY_REGULATOR")
    assert token.is_frozen(carol)


def test_openapi_names_operations_by_tag(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    ids = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert all(re.fullmatch(r"[a-z]+-[a-z-]+", i) for i in ids)
    tags = {op["tags"][0] for path in schema["paths"].values() for op in path.values()}
    assert all(i.startswith(tag + "-") for tag in tags for i in ids if i.split("-")[0] == tag)
    assert schema["openapi"].startswith("3.1")
    assert client.get("/docs").status_code == 200
