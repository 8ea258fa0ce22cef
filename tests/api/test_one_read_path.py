"""One read path: every list the gateway serves is read from the read model's indexed events, caught up
to the chain's head first (a write the gateway acknowledged is in the next answer), and no request scans
the chain's logs from block 0."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sandbox.chain.base import Log
from sandbox.market import Market
from tests.api.conftest import bearer

SYMBOL = "THAMES28"


class _LogScans:
    """Counts the chain's `get_logs` calls (`eth_getLogs` on a node), passing each through."""

    def __init__(self, market: Market, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ranges: list[tuple[int, int]] = []
        real = market.chain.get_logs

        def counting(from_block: int, to_block: int, addresses: Sequence[str] | None = None) -> list[Log]:
            self.ranges.append((from_block, to_block))
            return real(from_block, to_block, addresses)

        monkeypatch.setattr(market.chain, "get_logs", counting)


def _lists(market: Market, keys: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    alice = market.registry.wallet_record(market.accounts["alice"]).identity
    operator, fca, sec, investor = (bearer(keys[k]) for k in ("operator", "fca", "sec", "alice"))
    return [
        (f"/securities/{SYMBOL}/frozen-wallets", fca),
        ("/cross-border-transfers", operator),
        ("/cross-border-transfers", fca),
        ("/investors", operator),
        ("/investors", fca),
        (f"/investors/{alice}/positions", investor),
        (f"/securities/{SYMBOL}/positions", operator),
        (f"/securities/{SYMBOL}/positions?block={market.security(SYMBOL).deployed_in_block}", sec),
        (f"/securities/{SYMBOL}/cap-table", sec),
        (f"/securities/{SYMBOL}/cap-table?format=csv", operator),
    ]


def test_lists_scan_no_logs_and_see_the_gateways_own_writes(
    client: TestClient, market: Market, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = market.accounts["bob"]
    frozen = client.post(f"/securities/{SYMBOL}/frozen-wallets", json={"wallet": bob}, headers=bearer(keys["fca"]))
    assert frozen.status_code == 201, frozen.text
    scans = _LogScans(market, monkeypatch)
    # Read-your-writes: the freeze just acknowledged is listed by the very next request.
    listed = client.get(f"/securities/{SYMBOL}/frozen-wallets", headers=bearer(keys["fca"]))
    assert listed.status_code == 200, listed.text
    assert bob in [item["wallet"] for item in listed.json()["items"]]
    # Catching up indexes only what is new (the freeze's block), never from block 0.
    assert [r for r in scans.ranges if r[0] == 0] == []
    answers: dict[str, Any] = {}
    for path, headers in _lists(market, keys):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        answers[path] = response
    # As of a block before the security existed: refused as the chain would (no contract then).
    early = market.security(SYMBOL).deployed_in_block
    assert early
    before = client.get(f"/securities/{SYMBOL}/positions?block={early - 1}", headers=bearer(keys["sec"]))
    assert before.status_code == 404 and before.json()["code"] == "NOT_DEPLOYED_AT_BLOCK", before.text
    scans.ranges.clear()
    for path, headers in _lists(market, keys):
        again = client.get(path, headers=headers)
        assert again.status_code == 200, (path, again.text)
        # Nothing was mined in between: not one eth_getLogs, from block 0 or any other.
        assert scans.ranges == [], (path, scans.ranges)
