"""Hostile bodies on every route that takes one, from every kind of key (issue 10, Done when).

The routes and their body schemas are walked from the OpenAPI document, so a new route is covered (or
this suite fails until it has a base body here). Each body field gets hostile values of its kind: numbers
at and past the contract bound and past uint256, negative, booleans, numeric strings, floats; addresses
with a wrong EIP-55 checksum, too short, not hex; strings empty, huge, with NULs; arrays empty, huge,
nested. Whole bodies are hostile too: 100,000 nested brackets, bodies past the size cap, not UTF-8, not
an object. Each is sent with the key of every principal that gets past authentication and role checks
to body validation (found with a probe body the models refuse), so values reach validation and, where
valid, the chain.

For every answer: no 5xx; an error is problem+json with an UPPER_SNAKE code; a lax number (true, "7",
7.0, …) or a wrong checksum is never accepted; and a refusal leaves the chain as it was: either nothing
was sent (no new block) or, where the chain refused, positions, freezes, allowances, supplies and the
registry are what they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sandbox.market import Market
from tests.api.conftest import bearer

PRINCIPALS = ("operator", "fca", "sec", "thames", "hudson", "albion", "liberty", "alice", "carol")
CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
S = "/securities/THAMES28"
UINT256_MAX = 2**256 - 1

#: A body each route accepts in shape (not necessarily allowed to everyone): the base the hostile
#: values are put into, one field at a time.
BASE_BODIES: dict[str, Callable[[Market], dict[str, Any]]] = {
    "securities-create": lambda m: {"symbol": "ABUSE1", "name": "Abuse plc", "home": "GB", "admitted": ["GB"]},
    "securities-approve-issuance": lambda m: {"limit": 1_000},
    "securities-mint": lambda m: {"to": m.accounts["alice"], "amount": 1},
    "offerings-create": lambda m: {
        "exemption": "UK_PUBLIC_OFFER",
        "first_offer_at": m.chain.timestamp(),
        "closing_at": 2_000_000_000,
    },
    "offerings-issue": lambda m: {"to": m.accounts["alice"], "amount": 1},
    "investors-create": lambda m: {
        "wallet": m.chain.accounts[12].address,
        "jurisdiction": "GB",
        "category": "UK_PROFESSIONAL",
        "kyc_valid_until": 1_900_000_000,
    },
    "investors-update": lambda m: {"kyc_valid_until": 1_900_000_000},
    "investors-add-wallet": lambda m: {"wallet": m.chain.accounts[13].address},
    "transfers-precheck": lambda m: {"from": m.accounts["alice"], "to": m.accounts["bob"], "amount": 1},
    "transfers-create": lambda m: {"to": m.accounts["bob"], "amount": 1},
    "cross-border-request": lambda m: {"to": m.accounts["carol"], "amount": 1},
    "freezes-create": lambda m: {"wallet": m.accounts["bob"]},
    "freezes-freeze-amount": lambda m: {"wallet": m.accounts["bob"], "amount": 1},
    "freezes-release-amount": lambda m: {"wallet": m.accounts["bob"], "amount": 1},
    "cash-attest-reserves": lambda m: {"reserves": 100_000_000},
    "cash-mint": lambda m: {"to": m.accounts["alice"], "amount": 1},
    "cash-burn": lambda m: {"from": m.accounts["alice"], "amount": 1},
    "sanctions-designate": lambda m: {"party": m.accounts["bob"]},
    "settlements-propose": lambda m: {
        "side": "sell",
        "counterparty": m.accounts["bob"],
        "security": "THAMES28",
        "quantity": 1,
        "cash": "GBPS",
        "cash_amount": 1,
    },
    "settlements-batch": lambda m: {"trade_ids": [1]},
    "corporate-actions-schedule-coupon": lambda m: {"period": 1},
    "corporate-actions-declare-dividend": lambda m: {
        "amount_per_share": 1,
        "record_date": 1_900_000_000,
        "payment_date": 1_900_100_000,
    },
    "corporate-actions-pay": lambda m: {"holders": [m.accounts["alice"]]},
    "corporate-actions-claim": lambda m: {"wallet": m.accounts["alice"]},
    "operator-time-travel": lambda m: {"seconds": 60},
}

#: Numbers a strict integer field must refuse whatever its bounds (pydantic's lax mode takes them all).
LAX_NUMBERS: list[Any] = [True, False, "7", "1_0", " 10 ", 7.0, 1e3]
#: Integers at and past what a contract field can hold, and below zero.
EDGE_NUMBERS: list[Any] = [UINT256_MAX, 2**256, 2**128, 2**96, -1, -(2**255), 0]
JUNK_NUMBERS: list[Any] = [None, [], {}, "", 1e308, "0x10"]
JUNK_STRINGS: list[Any] = ["", " ", "x" * 200_000, "\x00", "THAMES28 ", "\u00fc" * 1000, "[" * 1000, 7, True, None]
JUNK_ARRAYS: list[Any] = [[], "x", {"a": 1}, [None] * 5000, json.loads("[" * 20 + "1" + "]" * 20)]
#: Kinds of value every principal that reaches validation sends (the rest, plain junk, one sends): values
#: validation must refuse whoever sends them, and values that may pass it and reach the chain.
FOR_EVERY_PRINCIPAL = ("lax", "past", "checksum", "edge")

#: What a body that is no request may get: refused as malformed or invalid, or for want of authority first.
NOT_A_BODY = (400, 401, 403, 422)


def _bad_checksum(address: str) -> str:
    """`address` with the case of its first letter flipped: still mixed case, no longer its checksum."""
    i = next(i for i, c in enumerate(address[2:], start=2) if c.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1 :]


def _addresses(market: Market) -> list[tuple[str, Any]]:
    alice = market.accounts["alice"]
    edge = [alice.lower(), "0x" + alice[2:].upper(), "0x" + "0" * 40, "0x" + "f" * 40]
    junk = [alice[:-1], alice + "0", "0x" + "g" * 40, alice[2:], int(alice, 16), None, True]
    return [("checksum", _bad_checksum(alice))] + [("edge", v) for v in edge] + [("junk", v) for v in junk]


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Follows a $ref and drops the null branch of an optional."""
    if "$ref" in schema:
        return _resolve(components[schema["$ref"].rsplit("/", 1)[1]], components)
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if len(options) == 1:
        return _resolve(options[0], components)
    return schema


def _hostile(prop: dict[str, Any], market: Market) -> list[tuple[str, Any]]:
    """(kind, value): the values to try in a field of this schema."""
    kind = prop.get("type")
    if kind == "integer":
        out = [("lax", v) for v in LAX_NUMBERS] + [("edge", v) for v in EDGE_NUMBERS]
        out += [("junk", v) for v in JUNK_NUMBERS]
        if "maximum" in prop:
            top = int(prop["maximum"])
            out += [("edge", top - 1), ("edge", top), ("past", top + 1), ("past", top + 2**64)]
        return out
    if kind == "string" and prop.get("pattern", "").startswith("^0x"):
        return _addresses(market)
    if kind == "string":
        return [("junk", v) for v in JUNK_STRINGS]
    if kind == "array":
        return [("junk", v) for v in JUNK_ARRAYS]
    if kind == "boolean":
        return [("junk", v) for v in ("true", 1, 0, None, "false")]
    return [("junk", v) for v in (None, 7, "x", [])]


def _mutations(
    body: dict[str, Any], schema: dict[str, Any], components: dict[str, Any], market: Market
) -> Iterator[tuple[str, str, Any]]:
    """(field path, kind, body) for each hostile value of each field, nested models included."""
    for name, raw in schema.get("properties", {}).items():
        prop = _resolve(raw, components)
        if prop.get("type") == "object" and "properties" in prop:
            for path, kind, inner in _mutations(dict(body.get(name) or {}), prop, components, market):
                yield f"{name}.{path}", kind, {**body, name: inner}
            continue
        for kind, value in _hostile(prop, market):
            yield name, kind, {**body, name: value}


def _path(template: str, market: Market) -> str:
    cash = template.startswith("/cash/")
    return (
        template.replace("{symbol}", "GBPS" if cash else "THAMES28")
        .replace("{identity}", market.accounts["alice"])
        .replace("{wallet}", market.accounts["alice"])
        .replace("{trade_id}", "1")
        .replace("{transfer_id}", "1")
        .replace("{distribution_id}", "1")
    )


def _operations(client: TestClient) -> dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """operationId → (method, path template, body schema, components) of every route taking a JSON body."""
    document = client.get("/openapi.json").json()
    components = document["components"]["schemas"]
    found = {}
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = _resolve(content["application/json"]["schema"], components)
                found[operation["operationId"]] = (method.upper(), template, schema, components)
    return found


def _state(market: Market) -> tuple[Any, ...]:
    """What a refusal must leave as it was: positions, freezes (whole and partial), supplies, pauses,
    allowances to the settlement contract, cash balances and freezes, and the registry's records."""
    wallets = [*market.accounts.values(), market.chain.accounts[12].address, market.chain.accounts[13].address]
    spender = market.settlement.address if market.settlement is not None else None
    out: list[Any] = []
    for symbol, token in sorted(market.securities.items()):
        out.append((symbol, token.total_supply(), token.paused()))
        out.extend((token.balance_of(w), token.frozen_by(w), token.get_frozen_tokens(w)) for w in wallets)
        if spender is not None:
            out.extend(token.allowance(w, spender) for w in wallets)
    for symbol, cash in sorted(market.cash.items()):
        out.append((symbol, cash.total_supply(), cash.reserves(), cash.paused()))
        out.extend((cash.balance_of(w), cash.frozen_by(w)) for w in wallets)
        if spender is not None:
            out.extend(cash.allowance(w, spender) for w in wallets)
    out.extend(market.registry.wallet_record(w) for w in wallets)
    if market.settlement is not None:
        out.append(market.settlement.trade_count())
    return tuple(out)


class Watch:
    """Sends requests and checks each answer. A refusal that moved the chain (the gateway sent a
    transaction and the chain refused it) must have left no event: every change these contracts make to
    positions, freezes, allowances, supplies and the registry emits one, and a reverted transaction emits
    none. (`_state` compares the values themselves where a test can afford it: it costs about a second.)"""

    def __init__(self, client: TestClient, market: Market) -> None:
        self.client = client
        self.market = market
        self.height = market.chain.block_number()
        self.sent = 0
        self.accepted = 0

    def send(self, method: str, path: str, key: str, *, body: Any = None, content: bytes | None = None) -> int:
        headers = {**bearer(key), "Content-Type": "application/json"}
        if content is None:
            content = json.dumps(body).encode()
        response = self.client.request(method, path, content=content, headers=headers)
        self.sent += 1
        status = response.status_code
        what = f"{method} {path} as {key} with {content[:200]!r}"
        assert status < 500, f"{what}: {status} {response.text[:500]}"
        height = self.market.chain.block_number()
        if status >= 400:
            assert response.headers["content-type"].startswith("application/problem+json"), what
            assert CODE.fullmatch(response.json()["code"]), f"{what}: code {response.json()['code']!r}"
            if height != self.height:
                changes = self.market.chain.get_logs(self.height + 1, height)
                assert not changes, f"{what} was refused ({status}) but changed state: {changes}"
        else:
            self.accepted += 1
        self.height = height
        return status


@pytest.fixture(scope="module")
def operations(_gateway: TestClient) -> dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]]:
    return _operations(_gateway)


def test_every_route_with_a_body_has_a_base_body(
    operations: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]],
) -> None:
    assert set(operations) == set(BASE_BODIES), "routes without a base body here, or base bodies of no route"


@pytest.mark.slow
@pytest.mark.parametrize("operation", sorted(BASE_BODIES))
def test_hostile_fields(
    client: TestClient,
    market: Market,
    keys: dict[str, str],
    operations: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]],
    operation: str,
) -> None:
    method, template, schema, components = operations[operation]
    path = _path(template, market)
    watch = Watch(client, market)
    # Who gets as far as body validation: a field no model has is refused there (422), and only there.
    probe = {**BASE_BODIES[operation](market), "not_a_field": 1}
    validating = [p for p in PRINCIPALS if watch.send(method, path, keys[p], body=probe) == 422]
    assert validating, f"{operation}: no principal reaches body validation"
    for field_path, kind, body in _mutations(BASE_BODIES[operation](market), schema, components, market):
        for principal in validating if kind in FOR_EVERY_PRINCIPAL else validating[:1]:
            status = watch.send(method, path, keys[principal], body=body)
            if kind in ("lax", "checksum", "past"):
                assert status == 422, f"{operation} {field_path}={body!r:.200} ({kind}) as {principal}: {status}"
    assert watch.sent > len(validating)


@pytest.mark.slow
def test_hostile_bodies(
    client: TestClient,
    market: Market,
    keys: dict[str, str],
    operations: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]],
) -> None:
    """Bodies that are no request, on every route, from every principal: all refused, nothing sent, the
    state as it was."""
    watch = Watch(client, market)
    before = _state(market)
    not_a_request = [b"", b"null", b"[]", b"{", b'{"a": 1, "a": 2}']
    for i, operation in enumerate(sorted(BASE_BODIES)):
        method, template, _, _ = operations[operation]
        path = _path(template, market)
        base = json.dumps(BASE_BODIES[operation](market))
        # Refused by the request limits before anyone reads the key: one principal per route (in turn).
        principal = PRINCIPALS[i % len(PRINCIPALS)]
        for content, expected in [
            (b"[" * 100_000, 400),
            (b'{"a":' * 100_000, 400),
            (b'{"a": ' + b"[" * 33 + b"]" * 33 + b"}", 400),
            (b" " * (1024 * 1024 + 1), 413),
            (b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}', 413),
            (base.encode("utf-16"), 400),
        ]:
            status = watch.send(method, path, keys[principal], content=content)
            assert status == expected, f"{operation} as {principal} with {content[:40]!r}: {status}"
        for principal in PRINCIPALS:
            for content in not_a_request:
                status = watch.send(method, path, keys[principal], content=content)
                assert status in NOT_A_BODY, f"{operation} as {principal} with {content!r}: {status}"
    assert watch.accepted == 0
    assert market.chain.block_number() == watch.height
    assert _state(market) == before


def test_two_authorization_headers_are_refused_and_change_nothing(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """Two valid keys in one request: refused before anyone acts as either (the idempotency layer stored a
    request under one principal while the route ran as the other)."""
    height, before = market.chain.block_number(), _state(market)
    body = {"wallet": market.accounts["alice"]}
    for first, second in [("fca", "sec"), ("sec", "fca"), ("alice", "fca"), ("fca", "fca")]:
        headers = [
            ("Authorization", f"Bearer {keys[first]}"),
            ("Authorization", f"Bearer {keys[second]}"),
            ("Idempotency-Key", f"abuse-{first}-{second}"),
        ]
        response = client.post(f"{S}/frozen-wallets", json=body, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "AMBIGUOUS_CREDENTIALS"
    assert market.chain.block_number() == height
    assert _state(market) == before
    # The key was not used up: the same request with one key runs, once.
    headers = {**bearer(keys["fca"]), "Idempotency-Key": "abuse-fca-sec"}
    assert client.post(f"{S}/frozen-wallets", json=body, headers=headers).status_code == 201
    assert client.post(f"{S}/frozen-wallets", json=body, headers=headers).status_code == 201
    assert market.securities["THAMES28"].frozen_by(market.accounts["alice"]) != 0
