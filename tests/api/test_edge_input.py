"""What the edge takes (issue 10, low items): amounts are JSON integers and no more than their contract
field holds; a mixed-case address must be its EIP-55 checksum; every problem code is UPPER_SNAKE; every
405 says which methods the path allows."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sandbox.errors import ContractReverted
from sandbox.market import Market
from sandbox.rules import CASH_RULES_BY_CODE, RULES_BY_CODE
from sandbox_gateway.problems import CODE_PATTERN, problem_code
from sandbox_gateway.scope import not_found
from tests.api.conftest import bearer

S = "/securities/THAMES28"
API = Path(__file__).resolve().parents[2] / "api"
ARTIFACTS = Path(__file__).resolve().parents[2] / "sandbox" / "artifacts"


def _bad_checksum(address: str) -> str:
    i = next(i for i, c in enumerate(address[2:], start=2) if c.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1 :]


# ---------------------------------------------------------------- strict integers


@pytest.mark.parametrize("amount", [True, "7", "1_0", " 10 ", 7.0, 1e1], ids=repr)
def test_an_amount_is_a_json_integer_only(
    client: TestClient, market: Market, keys: dict[str, str], amount: object
) -> None:
    height = market.chain.block_number()
    before = market.securities["THAMES28"].balance_of(market.accounts["bob"])
    response = client.post(
        f"{S}/transfers", json={"to": market.accounts["bob"], "amount": amount}, headers=bearer(keys["alice"])
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_FAILED"
    assert "amount" in response.json()["detail"]
    assert market.chain.block_number() == height
    assert market.securities["THAMES28"].balance_of(market.accounts["bob"]) == before


@pytest.mark.parametrize("field", ["quantity", "cash_amount"])
@pytest.mark.parametrize("value", [True, "7", 7.0])
def test_trade_numbers_are_json_integers_only(
    client: TestClient, market: Market, keys: dict[str, str], field: str, value: object
) -> None:
    body = {
        "side": "sell",
        "counterparty": market.accounts["bob"],
        "security": "THAMES28",
        "quantity": 1,
        "cash": "GBPS",
        "cash_amount": 100,
        field: value,
    }
    height = market.chain.block_number()
    response = client.post("/settlements", json=body, headers=bearer(keys["alice"]))
    assert response.status_code == 422, response.text
    assert market.chain.block_number() == height


def test_rule_parameters_of_a_new_security_are_strict(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    rules = {"cross_border_threshold": True}
    body = {"symbol": "STRICT1", "name": "Strict plc", "home": "GB", "admitted": ["GB"], "rules": rules}
    height = market.chain.block_number()
    response = client.post("/securities", json=body, headers=bearer(keys["thames"]))
    assert response.status_code == 422, response.text
    assert market.chain.block_number() == height


# ---------------------------------------------------------------- bounded by the contracts


@pytest.mark.parametrize(
    ("path", "key", "field", "value", "most"),
    [
        (f"{S}/transfers", "alice", "amount", 2**96, 2**96 - 1),
        (f"{S}/partial-freezes", "thames", "amount", 2**200, 2**96 - 1),
        (f"{S}/mint", "thames", "amount", 2**256 - 1, 2**96 - 1),
        ("/cash/GBPS/mint", "albion", "amount", 2**248, 2**248 - 1),
        ("/settlements", "alice", "cash_amount", 2**256 - 1, 2**248 - 1),
        ("/settlements", "alice", "quantity", 2**96, 2**96 - 1),
        ("/securities/HUDS/dividends", "hudson", "amount_per_share", 2**32 + 1, 2**32),
        ("/securities/HUDS/dividends", "hudson", "amount_per_share", 2**256, 2**32),
    ],
)
def test_an_amount_past_its_contract_field_is_a_422_with_a_sentence(
    client: TestClient, market: Market, keys: dict[str, str], path: str, key: str, field: str, value: int, most: int
) -> None:
    bodies = {
        "transfers": {"to": market.accounts["bob"], "amount": 1},
        "partial-freezes": {"wallet": market.accounts["bob"], "amount": 1},
        "mint": {"to": market.accounts["alice"], "amount": 1},
        "settlements": {
            "side": "sell",
            "counterparty": market.accounts["bob"],
            "security": "THAMES28",
            "quantity": 1,
            "cash": "GBPS",
            "cash_amount": 100,
        },
        "dividends": {"amount_per_share": 1, "record_date": 1_900_000_000, "payment_date": 1_900_100_000},
    }
    body = {**bodies[path.rstrip("/").rsplit("/", 1)[-1]], field: value}
    height = market.chain.block_number()
    response = client.post(path, json=body, headers=bearer(keys[key]))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "AMOUNT_TOO_LARGE"
    assert f"must be at most {most}" in problem["detail"]
    assert market.chain.block_number() == height


def test_the_bound_itself_reaches_the_chain(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    """The largest value a field holds is valid at the edge; the chain judges it (here: more than alice has)."""
    response = client.post(
        f"{S}/transfers", json={"to": market.accounts["bob"], "amount": 2**96 - 1}, headers=bearer(keys["alice"])
    )
    assert response.status_code == 409, response.text


# ---------------------------------------------------------------- EIP-55


def test_a_mixed_case_address_must_be_its_checksum(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    carol = market.accounts["carol"]
    wrong = _bad_checksum(carol)
    assert wrong.lower() == carol.lower() and wrong != carol
    height = market.chain.block_number()
    body = client.post(f"{S}/frozen-wallets", json={"wallet": wrong}, headers=bearer(keys["sec"]))
    assert body.status_code == 422, body.text
    assert "EIP-55" in body.json()["detail"]
    path = client.get(f"/investors/{wrong}", headers=bearer(keys["operator"]))
    assert path.status_code == 422, path.text
    query = client.get("/audit/actions", params={"target": wrong}, headers=bearer(keys["operator"]))
    assert query.status_code == 422, query.text
    assert market.chain.block_number() == height


@pytest.mark.parametrize("spelling", ["lower", "upper", "checksum"])
def test_an_address_without_a_checksum_or_with_the_right_one_is_taken(
    client: TestClient, market: Market, keys: dict[str, str], spelling: str
) -> None:
    carol = market.accounts["carol"]
    written = {"lower": carol.lower(), "upper": "0x" + carol[2:].upper(), "checksum": carol}[spelling]
    response = client.post(f"{S}/frozen-wallets", json={"wallet": written}, headers=bearer(keys["sec"]))
    assert response.status_code == 201, response.text
    assert response.json()["wallet"] == carol


# ---------------------------------------------------------------- problem codes


def test_not_found_codes_are_upper_snake(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    cash = client.get("/cash/NOPE", headers=bearer(keys["alice"]))
    assert (cash.status_code, cash.json()["code"]) == (404, "CASH_TOKEN_NOT_FOUND")
    transfer = client.post(f"{S}/cross-border-transfers/999/approve", headers=bearer(keys["fca"]))
    assert (transfer.status_code, transfer.json()["code"]) == (404, "CROSS_BORDER_TRANSFER_NOT_FOUND")


#: Calls that make a problem, and the position of their code argument.
PROBLEM_CALLS = {"Problem": 1, "problem_response": 2, "_problem": 2, "problem_document": 1}


def _strings(node: ast.AST) -> list[str]:
    """The string literals an expression may evaluate to (a constant, either branch of an `if`, the values
    of a dict it looks a code up in); an f-string's fixed parts are not codes, so it is left out."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return []
    return [text for child in ast.iter_child_nodes(node) for text in _strings(child)]


def _literal_codes() -> list[tuple[str, str]]:
    """(where, code) of every problem code the gateway's source spells: the code argument of each
    Problem(...), problem_response(...), _problem(...), problem_document(...), the code not_found(what)
    gives, and the code of each (status, code, title, detail) refusal the request limits return."""
    found: list[tuple[str, str]] = []
    for source in sorted(API.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            where = f"{source.relative_to(API.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                first = node.args[0] if node.args else None
                if name == "not_found" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append((where, not_found(first.value, "x").code))
                elif name in PROBLEM_CALLS and len(node.args) > PROBLEM_CALLS[name]:
                    found.extend((where, code) for code in _strings(node.args[PROBLEM_CALLS[name]]))
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 4:
                status, code = node.value.elts[:2]
                if isinstance(status, ast.Constant) and isinstance(status.value, int):
                    found.extend((where, text) for text in _strings(code))
    return found


def test_every_code_the_gateway_spells_is_upper_snake() -> None:
    codes = _literal_codes()
    assert len(codes) >= 30, codes  # the walk found the gateway's problems
    bad = [(where, code) for where, code in codes if not CODE_PATTERN.fullmatch(code)]
    assert not bad


def test_every_code_the_chain_can_give_is_upper_snake() -> None:
    names = [rule.name for rule in RULES_BY_CODE.values()] + [rule.name for rule in CASH_RULES_BY_CODE.values()]
    errors = {
        item["name"]
        for artifact in ARTIFACTS.glob("*.json")
        for item in json.loads(artifact.read_text()).get("abi", [])
        if item.get("type") == "error"
    }
    assert len(errors) > 20
    codes = names + [ContractReverted(name, {}, b"").code for name in sorted(errors)]
    assert [c for c in codes if not CODE_PATTERN.fullmatch(c)] == []


@pytest.mark.parametrize(
    ("text", "code"),
    [("cash token not found", "CASH_TOKEN_NOT_FOUND"), ("cross-border transfer", "CROSS_BORDER_TRANSFER"), ("X", "X")],
)
def test_problem_code_makes_text_upper_snake(text: str, code: str) -> None:
    assert problem_code(text) == code
    assert problem_code(code) == code


# ---------------------------------------------------------------- 405


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/securities", "GET, POST"),
        ("PUT", "/health", "GET"),
        ("GET", f"{S}/pause", "POST"),
        ("GET", "/investors/{alice}/suspension", "POST, DELETE"),
        ("DELETE", "/investors/{alice}", "GET, PATCH"),
        ("PUT", "/settlements", "POST"),
    ],
)
def test_every_405_says_what_is_allowed(
    client: TestClient, market: Market, keys: dict[str, str], method: str, path: str, allow: str
) -> None:
    response = client.request(method, path.format(alice=market.accounts["alice"]), headers=bearer(keys["operator"]))
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
