"""One read path: every list the gateway serves is read from the read model's indexed events, caught up
to the chain's head first (a write the gateway acknowledged is in the next answer), and no request scans
the chain's logs from block 0."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import pytest
from eth_utils import keccak, to_checksum_address
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
    # The same for an investor just onboarded and a cross-border request just made.
    wallet = _new_wallet(200)
    body = {
        "wallet": wallet,
        "jurisdiction": "GB",
        "category": "UK_PROFESSIONAL",
        "kyc_valid_until": market.chain.timestamp() + 365 * 86_400,
    }
    assert client.post("/investors", json=body, headers=bearer(keys["thames"])).status_code == 201
    onboarded = client.get("/investors?limit=100", headers=bearer(keys["thames"])).json()["items"]
    assert wallet in [i["identity"] for i in onboarded]
    request = {"to": market.accounts["carol"], "amount": 600}
    held = client.post(f"/securities/{SYMBOL}/cross-border-transfers", json=request, headers=bearer(keys["alice"]))
    assert held.status_code == 201, held.text
    pending = client.get("/cross-border-transfers?status=PENDING", headers=bearer(keys["sec"])).json()["items"]
    assert held.json()["transfer"]["transfer_id"] in [t["transfer_id"] for t in pending]
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


class _ChainReads:
    """Counts the chain's `call`s (`eth_call` on a node: every facade read), passing each through."""

    def __init__(self, market: Market, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = market.chain.call

        def counting(to: str, data: bytes, *, sender: str | None = None, block: int | str = "latest") -> bytes:
            self.count += 1
            return real(to, data, sender=sender, block=block)

        monkeypatch.setattr(market.chain, "call", counting)


def _new_wallet(n: int) -> str:
    """A wallet no participant of the demo holds (no key needed: nobody signs for it here)."""
    return to_checksum_address(keccak(text=f"one-read-path-{n}")[-20:])


def _add_items(client: TestClient, market: Market, keys: dict[str, str], first: int, count: int) -> None:
    """`count` more investors (onboarded by THAMES28's issuer), as many wallets frozen by the FCA, and as
    many cross-border requests of alice (GB) to carol (US), each at the threshold, so held."""
    for n in range(first, first + count):
        wallet = _new_wallet(n)
        body = {
            "wallet": wallet,
            "jurisdiction": "GB",
            "category": "UK_PROFESSIONAL",
            "kyc_valid_until": market.chain.timestamp() + 365 * 86_400,
        }
        assert client.post("/investors", json=body, headers=bearer(keys["thames"])).status_code == 201
        freeze = {"wallet": wallet}
        frozen = client.post(f"/securities/{SYMBOL}/frozen-wallets", json=freeze, headers=bearer(keys["fca"]))
        assert frozen.status_code == 201, frozen.text
        request = {"to": market.accounts["carol"], "amount": 600}
        held = client.post(f"/securities/{SYMBOL}/cross-border-transfers", json=request, headers=bearer(keys["alice"]))
        assert held.status_code == 201, held.text


def test_a_list_reads_the_chain_as_often_for_2n_items_as_for_n(
    client: TestClient, market: Market, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today's main reads the chain per listed item (three calls per investor, one per frozen wallet, three
    per cross-border request): the lists now come from indexed events, and what no event carries (the
    sender's cross-border volume) is read once per sender shown."""
    lists = [
        ("/investors", bearer(keys["operator"])),
        ("/investors", bearer(keys["fca"])),
        (f"/securities/{SYMBOL}/frozen-wallets", bearer(keys["fca"])),
        ("/cross-border-transfers", bearer(keys["operator"])),
        ("/cross-border-transfers", bearer(keys["fca"])),
        ("/cross-border-transfers?status=PENDING", bearer(keys["alice"])),
    ]

    def measure() -> tuple[list[int], list[int]]:
        reads, sizes = [], []
        for path, headers in lists:
            assert client.get(path, headers=headers).status_code == 200  # catches the read model up
            calls = _ChainReads(market, monkeypatch)
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            reads.append(calls.count)
            sizes.append(len(response.json()["items"]))
            monkeypatch.undo()
        return reads, sizes

    n = 2
    _add_items(client, market, keys, 0, n)
    reads_n, sizes_n = measure()
    _add_items(client, market, keys, n, n)
    reads_2n, sizes_2n = measure()
    assert [after - before for before, after in zip(sizes_n, sizes_2n, strict=True)] == [n, n, n, n, n, n]
    assert reads_2n == reads_n, list(zip(lists, reads_n, reads_2n, strict=True))


def test_listed_freezes_investors_and_requests_are_what_the_chain_holds(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    """The lists are folded from events; each must match the contracts' own views item by item. The
    freeze's author is the subtle one: the token records the caller's standing when it froze (an agent
    freezes as the issuer, a regulator as its jurisdiction), and a recovery carries a regulator's freeze,
    with its author, to the new wallet although the issuer sends it."""
    token = market.security(SYMBOL)
    issuer = market.accounts[market.issuer_of[SYMBOL]]
    registry = market.registry
    bob, carol, dan = (market.accounts[k] for k in ("bob", "carol", "dan"))
    bob_identity = registry.wallet_record(bob).identity
    assert bob_identity is not None
    # Two cross-border requests of alice to carol; the FCA approves the first, the SEC rejects the second.
    decide = f"/securities/{SYMBOL}/cross-border-transfers"
    ids = []
    for _ in range(2):
        held = client.post(decide, json={"to": carol, "amount": 600}, headers=bearer(keys["alice"]))
        assert held.status_code == 201, held.text
        ids.append(held.json()["transfer"]["transfer_id"])
    first, second = ids
    assert client.post(f"{decide}/{first}/approve", headers=bearer(keys["fca"])).status_code == 200
    assert client.post(f"{decide}/{second}/reject", headers=bearer(keys["sec"])).status_code == 200
    # The FCA freezes bob (a regulator's freeze); the issuer freezes carol (an agent's).
    for wallet, key in ((bob, "fca"), (carol, "thames")):
        body = {"wallet": wallet}
        response = client.post(f"/securities/{SYMBOL}/frozen-wallets", json=body, headers=bearer(keys[key]))
        assert response.status_code == 201, response.text
    # An agent added later (the operator's account) freezes dan and loses the role: the freeze stays
    # an agent's, the issuer's.
    token.add_agent(market.operator, sender=issuer)
    token.set_address_frozen(dan, True, sender=market.operator)
    token.remove_agent(market.operator, sender=issuer)
    # bob's units are recovered to a new wallet of his: the FCA's freeze moves with them.
    recovered = _new_wallet(101)
    link = {"wallet": recovered}
    linked = client.post(f"/investors/{bob_identity}/wallets", json=link, headers=bearer(keys["operator"]))
    assert linked.status_code == 201, linked.text
    token.recovery_address(bob, recovered, bob_identity, sender=issuer)
    assert token.frozen_by(recovered) == 826 and token.frozen_by(bob) == 0

    listed = client.get(f"/securities/{SYMBOL}/frozen-wallets", headers=bearer(keys["operator"]))
    assert listed.status_code == 200, listed.text
    frozen = {item["wallet"]: item["frozen_by"] for item in listed.json()["items"]}
    assert frozen == {carol: "issuer", dan: "issuer", recovered: "GB"}
    investors = client.get("/investors?limit=100", headers=bearer(keys["operator"])).json()["items"]
    for investor in investors:  # every investor as the registry's own views give it
        assert investor == client.get(f"/investors/{investor['identity']}", headers=bearer(keys["operator"])).json()
        for wallet in investor["wallets"]:
            by = token.frozen_by(wallet)
            assert frozen.get(wallet) == (None if by == 0 else "issuer" if by == 65535 else "GB"), wallet
    assert recovered in next(i for i in investors if i["identity"] == bob_identity)["wallets"]
    requests = client.get("/cross-border-transfers", headers=bearer(keys["operator"])).json()["items"]
    assert {r["transfer_id"] for r in requests} >= {first, second}
    for item in requests:
        state = market.security(item["security"]).cross_border_transfer(item["transfer_id"])
        assert (item["sender"], item["receiver"], item["amount"], item["status"], item["deadline"]) == (
            state.from_,
            state.to,
            state.value,
            state.status.name,
            state.deadline,
        )
        assert (item["sender_regulator_approved"], item["receiver_regulator_approved"]) == (
            state.from_approved,
            state.to_approved,
        )
    statuses = {r["transfer_id"]: (r["status"], r["sender_regulator_approved"]) for r in requests}
    assert statuses[first] == ("PENDING", True) and statuses[second] == ("REJECTED", False)


def test_one_cap_table_the_csv_rows_add_up_to_the_json_figures(client: TestClient, keys: dict[str, str]) -> None:
    """The cap table is computed once, by the read model's database; its CSV lists the positions it is
    made of. For every reader's scope (operator, home regulator, another jurisdiction's regulator,
    issuer) the rows add up to the figures."""
    for key in ("operator", "fca", "sec", "thames"):
        table = client.get(f"/securities/{SYMBOL}/cap-table", headers=bearer(keys[key]))
        rows = client.get(f"/securities/{SYMBOL}/cap-table?format=csv", headers=bearer(keys[key]))
        assert table.status_code == rows.status_code == 200, (key, table.text, rows.text)
        figures = table.json()
        by_jurisdiction: dict[str, int] = {}
        by_category: dict[str, int] = {}
        holders: set[str] = set()
        for row in csv.DictReader(io.StringIO(rows.text)):
            balance = int(row["balance"])
            j, c = row["jurisdiction"] or "UNREGISTERED", row["category"] or "UNREGISTERED"
            by_jurisdiction[j] = by_jurisdiction.get(j, 0) + balance
            by_category[c] = by_category.get(c, 0) + balance
            holders.add(row["investor"] or row["wallet"])
        assert holders, key
        assert (figures["by_jurisdiction"], figures["by_category"], figures["holders"]) == (
            by_jurisdiction,
            by_category,
            len(holders),
        ), key
