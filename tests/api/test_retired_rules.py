"""A new security's rules may not name the token's retired terms (issue #11): Rule 144 and Regulation S
follow each lot's offering. The gateway answers 422 problem+json naming the parameter and pointing to
offerings, and sends nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sandbox.market import Market
from tests.api.conftest import bearer


@pytest.mark.parametrize(
    ("name", "value"), [("holding_period_days", 182), ("reg_s_days", 40), ("lock_all_acquisitions", True)]
)
def test_creating_a_security_with_a_retired_term_is_refused_and_sends_nothing(
    client: TestClient, market: Market, keys: dict[str, str], name: str, value: Any
) -> None:
    body = {
        "symbol": "OLDT1",
        "name": "Old Terms plc",
        "home": "US",
        "admitted": ["GB", "US"],
        "rules": {"cross_border_threshold": 100, name: value},
    }
    height = market.chain.block_number()
    response = client.post("/securities", json=body, headers=bearer(keys["hudson"]))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "VALIDATION_FAILED"
    assert name in problem["detail"] and "issue in an offering: " in problem["detail"]
    assert [e["location"] for e in problem["errors"]] == ["body.rules"]
    assert market.chain.block_number() == height
    assert "OLDT1" not in market.securities
    assert client.get("/securities/OLDT1", headers=bearer(keys["sec"])).status_code == 404
