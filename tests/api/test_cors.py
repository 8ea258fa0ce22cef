"""CORS (issue 12): a browser app on an origin listed in ``SANDBOX_CORS_ORIGINS`` may call the API and
``/rpc``; its preflight is answered without a key, the requests themselves still need one, and the
request limits' refusals carry the CORS headers too (CORS is the outermost layer, the limits just inside).
With the setting empty (the default) no answer carries CORS headers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from sandbox.market import Market
from sandbox_gateway.app import create_app
from sandbox_gateway.rpc_server import mount_rpc
from sandbox_gateway.settings import Settings

APP_ORIGIN = "https://dapp.example"
OTHER_ORIGIN = "https://elsewhere.example"
RPC_BODY = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}


def _gateway(market: Market, settings: Settings) -> TestClient:
    gateway = create_app(settings, market=market)
    mount_rpc(gateway, market.chain, "/rpc", authenticate=gateway.state.principals.authenticate)  # as serve does
    return TestClient(gateway, raise_server_exceptions=False)


@pytest.fixture
def cors(_sandbox_market_loaded: Market) -> Iterator[TestClient]:
    settings = Settings(cors_origins=f"{APP_ORIGIN}, http://localhost:5173")
    with _gateway(_sandbox_market_loaded, settings) as client:
        yield client


def _preflight(client: TestClient, path: str, origin: str, method: str = "POST") -> dict[str, str]:
    response = client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    return {"status": str(response.status_code), **{k.lower(): v for k, v in response.headers.items()}}


def test_settings_read_the_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_CORS_ORIGINS", "https://a.example,https://b.example")
    assert Settings().cors_origin_list == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("SANDBOX_CORS_ORIGINS", "")
    assert Settings().cors_origin_list == []


@pytest.mark.parametrize("path", ["/rpc", "/cash"])
def test_preflight_is_answered_without_a_key_for_listed_origins(cors: TestClient, path: str) -> None:
    answer = _preflight(cors, path, APP_ORIGIN)
    assert answer["status"] == "200"
    assert answer["access-control-allow-origin"] == APP_ORIGIN
    assert {h.strip().lower() for h in answer["access-control-allow-headers"].split(",")} >= {
        "authorization",
        "content-type",
        "idempotency-key",
    }
    assert "POST" in answer["access-control-allow-methods"]
    refused = _preflight(cors, path, OTHER_ORIGIN)
    assert refused["status"] == "400"
    assert "access-control-allow-origin" not in refused


def test_requests_still_need_the_key_and_carry_cors_headers(cors: TestClient, keys: dict[str, str]) -> None:
    origin = {"Origin": APP_ORIGIN}
    no_key = cors.post("/rpc", json=RPC_BODY, headers=origin)
    assert no_key.status_code == 401  # readable by the browser app: it says why
    assert no_key.headers["access-control-allow-origin"] == APP_ORIGIN
    keyed = cors.post("/rpc", json=RPC_BODY, headers={**origin, "Authorization": f"Bearer {keys['alice']}"})
    assert keyed.status_code == 200 and "result" in keyed.json()
    assert keyed.headers["access-control-allow-origin"] == APP_ORIGIN
    api = cors.get("/cash", headers={**origin, "Authorization": f"Bearer {keys['alice']}"})
    assert api.status_code == 200
    assert api.headers["access-control-allow-origin"] == APP_ORIGIN
    assert cors.get("/cash", headers=origin).status_code == 401
    other = cors.get("/cash", headers={"Origin": OTHER_ORIGIN, "Authorization": f"Bearer {keys['alice']}"})
    assert "access-control-allow-origin" not in other.headers


def test_the_limits_refusals_carry_cors_headers(cors: TestClient, keys: dict[str, str]) -> None:
    headers = {"Origin": APP_ORIGIN, "Authorization": f"Bearer {keys['alice']}", "Content-Type": "application/json"}
    deep = cors.post("/rpc", content=b"[" * 5000 + b"]" * 5000, headers=headers)
    assert deep.status_code == 400 and deep.json()["code"] == "BODY_TOO_DEEP"
    assert deep.headers["access-control-allow-origin"] == APP_ORIGIN
    big = cors.post("/rpc", content=b" " * (Settings().max_body_bytes + 1), headers=headers)
    assert big.status_code == 413
    assert big.headers["access-control-allow-origin"] == APP_ORIGIN


def test_no_cors_by_default(_sandbox_market_loaded: Market, keys: dict[str, str]) -> None:
    with _gateway(_sandbox_market_loaded, Settings(cors_origins="")) as client:
        answer = _preflight(client, "/rpc", APP_ORIGIN)
        assert "access-control-allow-origin" not in answer
        assert answer["status"] != "200"
        keyed = client.post(
            "/rpc", json=RPC_BODY, headers={"Origin": APP_ORIGIN, "Authorization": f"Bearer {keys['alice']}"}
        )
        assert keyed.status_code == 200
        assert "access-control-allow-origin" not in keyed.headers
