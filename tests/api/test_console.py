"""The console over HTTP (no browser): sign-in sessions and CSRF, who-am-I, the event stream's scope and
resumption, the offline API docs, the pinned assets, the dated reports, and scope on the console's pages."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from sandbox.market import Market
from sandbox_gateway.app import create_app
from sandbox_gateway.console.store import ConsoleStore, Decision
from sandbox_gateway.settings import Settings
from tests.api.conftest import bearer

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "api/sandbox_gateway/console/static/ASSETS.lock"


@pytest.fixture
def browser(client: TestClient) -> Iterator[TestClient]:
    """A client of the same gateway with a cookie jar of its own (a browser)."""
    with TestClient(client.app, raise_server_exceptions=False) as fresh:
        yield fresh


def login_token(browser: TestClient) -> str:
    """The sign-in form's CSRF token (its page also sets it in the sign-in cookie)."""
    form = browser.get("/console/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert found is not None
    return found.group(1)


def post_login(browser: TestClient, key: str) -> httpx.Response:
    """The sign-in form posted as a browser does: its CSRF token in the form and in the sign-in cookie."""
    token = login_token(browser)
    return browser.post("/console/login", data={"api_key": key, "csrf_token": token}, follow_redirects=False)


def sign_in(browser: TestClient, key: str) -> str:
    """Signs in; returns the session's CSRF token (read from a page, as a browser's form would)."""
    answer = post_login(browser, key)
    assert answer.status_code == 303
    page = browser.get(answer.headers["location"])
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def kept_since(client: TestClient, after: int) -> list[Decision]:
    """Decisions the gateway kept after decision `after` (the session's gateway keeps those of earlier tests)."""
    store: ConsoleStore = client.app.state.console_store  # type: ignore[attr-defined]
    return [d for d in store.decisions() if d.id > after]


def last_kept(client: TestClient) -> int:
    kept = kept_since(client, 0)
    return kept[-1].id if kept else 0


def events(client: TestClient, key: str, after: int, **headers: str) -> list[tuple[int, str, str]]:
    answer = client.get(
        "/events", params={"follow": "false", "last_event_id": after}, headers={**bearer(key), **headers}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    found = re.findall(r"id: (\d+):\d+\nevent: (\w+)\ndata: (.*)\n", answer.text)
    return [(int(i), name, data) for i, name, data in found if name != "Refused"]


def test_me_names_the_principal(client: TestClient, keys: dict[str, str], market: Market) -> None:
    me = client.get("/me", headers=bearer(keys["fca"]))
    assert me.status_code == 200
    assert me.json() == {
        "key": "fca",
        "name": "Financial Conduct Authority",
        "role": "regulator",
        "jurisdiction": "GB",
        "account": market.accounts["fca"],
    }
    assert client.get("/me", headers=bearer("demo-fca-regulator-key-9999")).json()["code"] == "INVALID_API_KEY"


def test_api_docs_need_no_cdn(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert re.findall(r"(?:src|href)=\"(https?:)?//", docs.text) == []
    for asset in re.findall(r"(?:src|href)=\"(/console/static/[^\"]+)\"", docs.text):
        assert client.get(asset).status_code == 200, asset
    assert "swagger-ui-bundle.js" in docs.text


def test_vendored_assets_match_the_lock() -> None:
    files = re.findall(r"^  file (\S+) (\S+) sha256:([0-9a-f]{64})$", LOCK.read_text(), re.MULTILINE)
    assert {Path(path).name for _, path, _ in files} >= {
        "htmx-2.0.11.min.js",
        "swagger-ui-bundle.js",
        "axe-4.14.1.min.js",
    }
    for _, path, digest in files:
        assert hashlib.sha256((ROOT / path).read_bytes()).hexdigest() == digest, path


def test_sign_in_gives_an_httponly_strict_session_and_never_echoes_the_key(
    browser: TestClient, keys: dict[str, str]
) -> None:
    answer = post_login(browser, keys["fca"])
    assert answer.status_code == 303 and answer.headers["location"] == "/console/overview"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert keys["fca"] not in cookie
    page = browser.get("/console/overview")
    assert "Financial Conduct Authority" in page.text and "regulator · GB" in page.text
    assert keys["fca"] not in page.text


def test_a_wrong_key_does_not_sign_in(browser: TestClient) -> None:
    answer = post_login(browser, "demo-fca-regulator-key-9999")
    assert answer.status_code == 401
    assert "not known to this sandbox" in answer.text
    assert "sandbox_console=" not in answer.headers.get("set-cookie", "")  # no session (a fresh sign-in form only)
    assert browser.get("/console/overview", follow_redirects=False).headers["location"] == "/console/login"


def test_a_post_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    browser: TestClient, client: TestClient, keys: dict[str, str], market: Market
) -> None:
    csrf = sign_in(browser, keys["fca"])
    dan = market.wallets["dan"][0]
    for headers, data in [({}, {}), ({"X-CSRF-Token": "forged"}, {}), ({}, {"csrf_token": csrf[:-1] + "x"})]:
        refused = browser.post(
            "/console/securities/THAMES28/freezes", data={"wallet": dan, "action": "freeze", **data}, headers=headers
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == "CSRF_TOKEN_INVALID"
    assert client.get("/securities/THAMES28/frozen-wallets", headers=bearer(keys["fca"])).json()["items"] == []
    # With the token the same form freezes (and the chain records it).
    done = browser.post(
        "/console/securities/THAMES28/freezes",
        data={"wallet": dan, "action": "freeze"},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert done.status_code == 200
    frozen = client.get("/securities/THAMES28/frozen-wallets", headers=bearer(keys["fca"])).json()["items"]
    assert [(f["wallet"], f["frozen_by"]) for f in frozen] == [(dan, "GB")]


def test_sign_out_ends_the_session(browser: TestClient, keys: dict[str, str]) -> None:
    csrf = sign_in(browser, keys["sec"])
    session = browser.cookies.get("sandbox_console")
    assert browser.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    browser.cookies.set("sandbox_console", session or "")  # replaying the old cookie does not work either
    assert browser.get("/console/overview", follow_redirects=False).headers["location"] == "/console/login"


def test_the_event_stream_is_scoped_and_resumable(client: TestClient, keys: dict[str, str], market: Market) -> None:
    start = max([i for i, _, _ in events(client, keys["operator"], 0)], default=0)
    alice, bob, carol = (market.wallets[k][0] for k in ("alice", "bob", "carol"))
    held = client.post(
        "/securities/THAMES28/cross-border-transfers", json={"to": carol, "amount": 600}, headers=bearer(keys["alice"])
    )
    assert held.status_code == 201
    assert (
        client.post(
            "/securities/THAMES28/frozen-wallets", json={"wallet": bob}, headers=bearer(keys["fca"])
        ).status_code
        == 201
    )

    fca = events(client, keys["fca"], start)
    sec = events(client, keys["sec"], start)
    assert [name for _, name, _ in fca] == ["CrossBorderTransferRequested", "AddressFrozen"]
    assert [name for _, name, _ in sec] == ["CrossBorderTransferRequested"]  # Bob (GB) is not the SEC's
    assert bob not in sec[0][2] and alice in sec[0][2]
    assert [name for _, name, _ in events(client, keys["carol"], start)] == ["CrossBorderTransferRequested"]
    assert events(client, keys["dan"], start) == []
    # Resumed after the first event (as EventSource does with Last-Event-ID): only what came after it.
    resumed = events(client, keys["fca"], 0, **{"Last-Event-ID": str(fca[0][0])})
    assert [name for _, name, _ in resumed] == ["AddressFrozen"]


def test_console_pages_are_scoped_as_the_api(browser: TestClient, keys: dict[str, str], market: Market) -> None:
    alice, carol = market.wallets["alice"][0], market.wallets["carol"][0]
    sign_in(browser, keys["sec"])
    page = browser.get("/console/securities/THAMES28")
    assert page.status_code == 200
    assert carol in page.text and alice not in page.text
    browser.post("/console/logout", headers={"X-CSRF-Token": sign_in(browser, keys["hudson"])})
    sign_in(browser, keys["hudson"])
    other = browser.get("/console/securities/THAMES28", headers={"accept": "text/html"})
    assert other.status_code == 404 and "SECURITY_NOT_FOUND" in other.text


def test_holdings_report_is_named_and_dated(browser: TestClient, keys: dict[str, str], market: Market) -> None:
    alice = market.wallets["alice"][0]
    sign_in(browser, keys["fca"])
    csv_report = browser.get("/console/reports/holdings/THAMES28.csv", params={"as_of": "2026-01-01"})
    assert csv_report.headers["content-disposition"] == 'attachment; filename="THAMES28-holdings-as-of-2026-01-01.csv"'
    lines = csv_report.text.splitlines()
    assert lines[0] == "security,wallet,investor,name,jurisdiction,category,balance,frozen"
    assert f"THAMES28,{alice},{alice},Alice Holdings Ltd,GB,UK_PROFESSIONAL,5000,False" in lines
    json_report = browser.get("/console/reports/holdings/THAMES28.json", params={"as_of": "2026-01-01"})
    assert json_report.headers["content-disposition"].endswith('THAMES28-holdings-as-of-2026-01-01.json"')
    body = json_report.json()
    assert body["as_of_date"] == "2026-01-01" and body["prepared_for"] == "Financial Conduct Authority"
    assert sum(h["balance"] for h in body["holdings"]) == 11_000


def test_one_investors_holdings_across_securities_within_remit(
    browser: TestClient, keys: dict[str, str], market: Market
) -> None:
    bob = market.accounts["bob"]  # GB: THAMES28 (GB) and HUDS (US)
    sign_in(browser, keys["fca"])
    page = browser.get(f"/console/investors/{bob}")
    assert page.status_code == 200
    assert "Holdings of Bob Capital LLP" in page.text
    assert ">THAMES28<" in page.text and ">HUDS<" in page.text
    sign_in(browser, keys["sec"])  # Bob is not the SEC's investor: as the API, not found
    assert browser.get(f"/console/investors/{bob}", headers={"accept": "text/html"}).status_code == 404


def test_refusals_are_listed_by_rule_within_remit(
    browser: TestClient, client: TestClient, keys: dict[str, str], market: Market
) -> None:
    """Refusals are scoped as the API scopes what they were about: a refused transfer of a GB security from a GB
    investor to a US investor is the FCA's (home) and the SEC's (its investor); one between two GB investors is
    the FCA's only. (Before: scoped by the request's path alone, so the SEC saw neither.)"""
    alice, bob, carol = (market.wallets[k][0] for k in ("alice", "bob", "carol"))
    # The session's gateway keeps the refusals of earlier tests: count from here.
    sign_in(browser, keys["fca"])
    fca_before = refusal_count(browser.get("/console/refusals").text)
    sign_in(browser, keys["sec"])
    sec_before = refusal_count(browser.get("/console/refusals").text)
    assert (
        client.post(
            "/securities/THAMES28/frozen-wallets", json={"wallet": alice}, headers=bearer(keys["fca"])
        ).status_code
        == 201
    )
    to_carol = client.post(
        "/securities/THAMES28/transfers", json={"to": carol, "amount": 10}, headers=bearer(keys["alice"])
    )
    assert to_carol.status_code == 409 and to_carol.json()["code"] == "SENDER_FROZEN"
    to_bob = client.post("/securities/THAMES28/transfers", json={"to": bob, "amount": 7}, headers=bearer(keys["alice"]))
    assert to_bob.status_code == 409 and to_bob.json()["code"] == "SENDER_FROZEN"
    sign_in(browser, keys["fca"])
    page = browser.get("/console/refusals")
    assert "SENDER_FROZEN" in page.text and "Alice Holdings Ltd" in page.text
    assert "/securities/THAMES28/transfers" in page.text
    assert refusal_count(page.text) == fca_before + 2
    sign_in(browser, keys["sec"])
    sec = browser.get("/console/refusals").text
    assert refusal_count(sec) == sec_before + 1
    assert "SENDER_FROZEN" in sec
    sign_in(browser, keys["hudson"])  # an issuer of another security: neither
    assert browser.get("/console/refusals", headers={"accept": "text/html"}).status_code == 403


def refusal_count(page: str) -> int:
    found = re.search(r'data-testid="refusal-count">(\d+)<', page)
    assert found is not None
    return int(found.group(1))


def test_refusals_are_pushed_on_the_event_stream_in_remit(
    client: TestClient, keys: dict[str, str], market: Market
) -> None:
    """A refused request reaches the event stream as it is refused (`event: Refused`), scoped, resumable."""
    alice, bob, carol = (market.wallets[k][0] for k in ("alice", "bob", "carol"))
    head = client.get("/events", params={"follow": "false", "last_event_id": "0:0"}, headers=bearer(keys["operator"]))
    cursor = re.findall(r"id: (\d+:\d+)\n", head.text)
    start = cursor[-1] if cursor else "0:0"
    client.post("/securities/THAMES28/frozen-wallets", json={"wallet": alice}, headers=bearer(keys["fca"]))
    client.post("/securities/THAMES28/transfers", json={"to": carol, "amount": 10}, headers=bearer(keys["alice"]))
    client.post("/securities/THAMES28/transfers", json={"to": bob, "amount": 7}, headers=bearer(keys["alice"]))

    def refused(key: str, after: str) -> list[dict[str, object]]:
        answer = client.get("/events", params={"follow": "false", "last_event_id": after}, headers=bearer(key))
        return [json.loads(d) for d in re.findall(r"event: Refused\ndata: (.*)\n", answer.text)]

    fca, sec = refused(keys["fca"], start), refused(keys["sec"], start)
    assert [(r["code"], r["parties"]) for r in fca] == [
        ("SENDER_FROZEN", [carol, alice]),
        ("SENDER_FROZEN", [bob, alice]),
    ]
    assert [r["request"] for r in sec] == ["POST /securities/THAMES28/transfers"] and sec[0]["parties"] == [
        carol,
        alice,
    ]
    assert refused(keys["dan"], start) == []
    assert [r["code"] for r in refused(keys["alice"], start)] == ["SENDER_FROZEN", "SENDER_FROZEN"]  # its own
    # Resumed after the first refusal: only the second.
    first = client.get("/events", params={"follow": "false", "last_event_id": start}, headers=bearer(keys["fca"]))
    first_id = re.findall(r"id: (\d+:\d+)\nevent: Refused", first.text)[0]
    assert [r["parties"] for r in refused(keys["fca"], first_id)] == [[bob, alice]]


def test_refusals_and_reasons_survive_a_restart_with_a_data_directory(
    tmp_path: Path, keys: dict[str, str], market: Market
) -> None:
    """Nothing acknowledged is lost: a refusal and a decision's reason are kept in the data directory (before:
    in memory, gone with the process)."""
    alice, carol = market.wallets["alice"][0], market.wallets["carol"][0]
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings, market=market), raise_server_exceptions=False) as first:
        held = first.post(
            "/securities/THAMES28/cross-border-transfers",
            json={"to": carol, "amount": 600},
            headers=bearer(keys["alice"]),
        )
        transfer_id = held.json()["transfer"]["transfer_id"]
        csrf = sign_in(first, keys["fca"])
        decided = first.post(
            f"/console/inbox/THAMES28/{transfer_id}/approve",
            data={"reason": "Professional to accredited, within limits."},
            headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        )
        assert decided.status_code == 200 and "Done: approve" in decided.text
        first.post("/securities/THAMES28/frozen-wallets", json={"wallet": alice}, headers=bearer(keys["fca"]))
        assert (
            first.post(
                "/securities/THAMES28/transfers", json={"to": carol, "amount": 1}, headers=bearer(keys["alice"])
            ).json()["code"]
            == "SENDER_FROZEN"
        )
    assert (tmp_path / "gateway-console.sqlite").exists()
    with TestClient(create_app(settings, market=market), raise_server_exceptions=False) as second:
        sign_in(second, keys["sec"])
        inbox = second.get("/console/inbox").text
        assert "Financial Conduct Authority</strong> approved" in inbox
        assert "Professional to accredited, within limits." in inbox
        sign_in(second, keys["fca"])
        assert "SENDER_FROZEN" in second.get("/console/refusals").text


def test_freezes_and_refusals_over_a_period_are_named_and_dated(
    browser: TestClient, client: TestClient, keys: dict[str, str], market: Market
) -> None:
    bob = market.wallets["bob"][0]
    frozen = client.post("/securities/THAMES28/frozen-wallets", json={"wallet": bob}, headers=bearer(keys["fca"]))
    assert frozen.status_code == 201
    day = time.strftime("%Y-%m-%d", time.gmtime(frozen.json()["block_timestamp"]))
    sign_in(browser, keys["fca"])
    report = browser.get("/console/reports/freezes.csv", params={"since": day, "until": day})
    assert report.headers["content-disposition"] == f'attachment; filename="freezes-{day}-to-{day}.csv"'
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert [(r["security"], r["wallet"], r["holder"], r["frozen"], r["by"]) for r in rows] == [
        ("THAMES28", bob, "Bob Capital LLP", "True", "Financial Conduct Authority")
    ]
    # The day before: nothing.
    before = time.strftime("%Y-%m-%d", time.gmtime(frozen.json()["block_timestamp"] - 86_400))
    assert browser.get("/console/reports/freezes.json", params={"since": before, "until": before}).json()["items"] == []
    refusals = browser.get("/console/reports/refusals.json", params={"since": "2000-01-01", "until": "2100-12-31"})
    assert refusals.headers["content-disposition"].endswith('refusals-2000-01-01-to-2100-12-31.json"')


def test_sanctions_lists_show_the_regulators_own_list_first(
    browser: TestClient, client: TestClient, keys: dict[str, str], market: Market
) -> None:
    bob = market.accounts["bob"]
    designated = client.post("/sanctions/OFSI/designations", json={"party": bob}, headers=bearer(keys["fca"]))
    assert designated.status_code == 201, designated.text
    sign_in(browser, keys["fca"])
    page = browser.get("/console/sanctions").text
    assert page.index("OFSI") < page.index("OFAC")
    assert "Bob Capital LLP" in page.split('id="list-OFAC"')[0]


def test_the_inbox_shows_the_senders_window_total_and_keeps_the_reason(
    browser: TestClient, client: TestClient, keys: dict[str, str], market: Market
) -> None:
    """Alice (GB) sends 300 THAMES28 to Carol (US), under the 500 threshold; then asks to send 300 more: with the
    30-day window her total is 600, so the request is held. The inbox shows the total the threshold was held
    against, and the FCA's reason stays with its approval (before: neither)."""
    carol = market.wallets["carol"][0]
    sent = client.post(
        "/securities/THAMES28/transfers", json={"to": carol, "amount": 300}, headers=bearer(keys["alice"])
    )
    assert sent.status_code in (200, 201), sent.text
    held = client.post(
        "/securities/THAMES28/cross-border-transfers", json={"to": carol, "amount": 300}, headers=bearer(keys["alice"])
    )
    assert held.status_code == 201, held.text
    transfer_id = held.json()["transfer"]["transfer_id"]
    before = last_kept(browser)
    csrf = sign_in(browser, keys["fca"])
    inbox = browser.get("/console/inbox").text
    window = re.search(rf'data-testid="window-THAMES28-{transfer_id}">(.*?)</span>(.*?)</small>', inbox, re.DOTALL)
    assert window is not None
    assert window.group(1) == "600"
    assert window.group(2) == ": this request + 300 sent abroad in the last 30 days"
    assert "bringing the sender's 30 days total to 600, at or above the threshold of 500" in inbox

    decided = browser.post(
        f"/console/inbox/THAMES28/{transfer_id}/approve",
        data={"reason": "  Within the programme's limits.  "},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert decided.status_code == 200
    assert "kept by this gateway (not on chain)" in decided.text
    [kept] = kept_since(browser, before)
    assert (kept.actor, kept.subject, kept.decision, kept.reason, kept.state) == (
        "fca",
        str(transfer_id),
        "approve",
        "Within the programme's limits.",
        "done",
    )
    assert kept.tx_hash == decided.text.split('title="')[1].split('"')[0]
    # The audit trail shows the reason beside the chain's record of the approval.
    audit_page = browser.get("/console/audit", params={"kind": "CrossBorderTransferApproved"}).text
    assert "Within the programme&#39;s limits." in audit_page


def test_a_refused_decision_keeps_no_reason_and_is_listed_as_refused(
    browser: TestClient, client: TestClient, keys: dict[str, str], market: Market
) -> None:
    """The SEC cannot reject a GB-only transfer request that is not in its remit: refused, nothing kept."""
    carol = market.wallets["carol"][0]
    held = client.post(
        "/securities/THAMES28/cross-border-transfers", json={"to": carol, "amount": 600}, headers=bearer(keys["alice"])
    )
    transfer_id = held.json()["transfer"]["transfer_id"]
    assert (
        client.post(
            f"/securities/THAMES28/cross-border-transfers/{transfer_id}/approve", headers=bearer(keys["sec"])
        ).status_code
        == 200
    )
    before_twice = last_kept(browser)
    csrf = sign_in(browser, keys["sec"])
    twice = browser.post(
        f"/console/inbox/THAMES28/{transfer_id}/approve",
        data={"reason": "again"},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    before = before_twice
    assert twice.status_code == 409, twice.text
    assert [d for d in kept_since(browser, before) if d.actor == "sec"] == []
    assert "again" not in browser.get("/console/inbox").text


def test_issuance_awaiting_approval_is_listed_and_decided_in_place(
    browser: TestClient, client: TestClient, keys: dict[str, str], market: Market
) -> None:
    """A new GB security awaits the FCA's issuance approval: the inbox lists it with its terms and rules; a decline
    keeps its reason (the gateway's record: the chain has no refusal of issuance); an approval goes on chain."""
    created = client.post(
        "/securities",
        json={"symbol": "THAMES31", "name": "Thames 5% 2031", "home": "GB", "admitted": ["GB"], "rules": {}},
        headers=bearer(keys["thames"]),
    )
    assert created.status_code == 201, created.text
    before = last_kept(browser)
    csrf = sign_in(browser, keys["sec"])  # a US regulator: not its security
    assert 'data-testid="issuance-THAMES31"' not in browser.get("/console/inbox").text
    csrf = sign_in(browser, keys["fca"])
    inbox = browser.get("/console/inbox").text
    row = inbox.split('data-testid="issuance-THAMES31"')[1].split("</tr>")[0]
    assert "Thames Infrastructure plc" in row and "home GB; admitted GB" in row and "cross_border_threshold" in row
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    unexplained = browser.post("/console/issuance/THAMES31/decline", data={"reason": " "}, headers=headers)
    assert unexplained.status_code == 422 and "REASON_REQUIRED" in unexplained.text
    declined = browser.post(
        "/console/issuance/THAMES31/decline", data={"reason": "Prospectus not yet filed."}, headers=headers
    )
    assert declined.status_code == 200
    assert "Prospectus not yet filed." in declined.text and 'data-testid="issuance-THAMES31"' in declined.text
    assert client.get("/securities/THAMES31", headers=bearer(keys["fca"])).json()["issuance_approved"] is False
    approved = browser.post(
        "/console/issuance/THAMES31/approve", data={"limit": "1000000", "reason": "Filed."}, headers=headers
    )
    assert approved.status_code == 200, approved.text
    assert 'data-testid="issuance-THAMES31"' not in approved.text
    terms = client.get("/securities/THAMES31", headers=bearer(keys["fca"])).json()
    assert (terms["issuance_approved"], terms["issuance_limit"]) == (True, 1_000_000)
    kept = [d for d in kept_since(browser, before) if d.security == "THAMES31"]
    assert [(d.decision, d.reason, d.amount, d.tx_hash is None) for d in kept] == [
        ("decline", "Prospectus not yet filed.", None, True),
        ("approve", "Filed.", 1_000_000, False),
    ]


def test_the_freezes_page_says_who_froze_what_and_why(
    browser: TestClient, client: TestClient, keys: dict[str, str], market: Market
) -> None:
    """A whole-wallet freeze by the FCA (in the console, with a reason) and a partial freeze by the issuer (through
    the API, no reason): both listed with who imposed them, the amounts, and the reason where one was given."""
    bob, carol = market.wallets["bob"][0], market.wallets["carol"][0]
    csrf = sign_in(browser, keys["fca"])
    frozen = browser.post(
        "/console/securities/THAMES28/freezes",
        data={"wallet": bob, "action": "freeze", "reason": "Court order 2026/117.", "back": "freezes"},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert frozen.status_code == 200, frozen.text
    partial = client.post(
        "/securities/THAMES28/partial-freezes", json={"wallet": carol, "amount": 250}, headers=bearer(keys["thames"])
    )
    assert partial.status_code == 200, partial.text
    page = browser.get("/console/freezes").text
    whole = page.split(f'data-freeze="wallet-{bob}"')[1].split("</tr>")[0]
    assert "the whole wallet" in whole and "the GB regulator" in whole and "Financial Conduct Authority" in whole
    assert "Court order 2026/117." in whole
    amount = page.split(f'data-freeze="amount-{carol}"')[1].split("</tr>")[0]
    assert "250 units" in amount and "the issuer (250)" in amount and "Thames Infrastructure plc" in amount
    assert "no reason recorded" in amount
    # Released in the console, frozen again through the API (no reason): the old reason is not shown for it.
    released = browser.post(
        "/console/securities/THAMES28/freezes",
        data={"wallet": bob, "action": "release", "reason": "Order lifted.", "back": "freezes"},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert released.status_code == 200 and f'data-freeze="wallet-{bob}"' not in released.text
    again = client.post("/securities/THAMES28/frozen-wallets", json={"wallet": bob}, headers=bearer(keys["fca"]))
    assert again.status_code == 201
    refrozen = browser.get("/console/freezes").text.split(f'data-freeze="wallet-{bob}"')[1].split("</tr>")[0]
    assert "Court order" not in refrozen and "no reason recorded" in refrozen
    # The SEC sees Carol's (its investor's) partial freeze, not Bob's.
    sign_in(browser, keys["sec"])
    sec = browser.get("/console/freezes").text
    assert f'data-freeze="amount-{carol}"' in sec and f'data-freeze="wallet-{bob}"' not in sec


def test_the_issuer_pays_every_holder_of_record_in_runs(
    browser: TestClient, client: TestClient, keys: dict[str, str], market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pay pays every holder of record in runs of at most MAX_BATCH wallets (before: only the first run's). With
    runs of 3 THAMES28's 4 holders take two runs; every one of them is paid the 2026-07-01 coupon."""
    from sandbox_gateway.console import routes as console_routes

    monkeypatch.setattr(console_routes, "MAX_BATCH", 3)
    csrf = sign_in(browser, keys["thames"])
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    assert browser.post("/console/issuer/THAMES28/coupon", data={"period": "1"}, headers=headers).status_code == 200
    coupon = client.get("/securities/THAMES28/distributions/1", headers=bearer(keys["thames"])).json()
    operator = bearer(keys["operator"])
    now = client.post("/operator/time-travel", json={"seconds": 1}, headers=operator).json()["block_timestamp"]
    client.post("/operator/time-travel", json={"seconds": coupon["record_date"] + 1 - now}, headers=operator)
    funded = browser.post("/console/issuer/THAMES28/fund", data={"distribution_id": "1"}, headers=headers)
    assert funded.status_code == 200, funded.text
    now = client.post("/operator/time-travel", json={"seconds": 1}, headers=operator).json()["block_timestamp"]
    client.post("/operator/time-travel", json={"seconds": coupon["payment_date"] - now}, headers=operator)
    dan = market.wallets["dan"][0]  # frozen when paid: his payment is held for him to claim
    assert (
        client.post(
            "/securities/THAMES28/frozen-wallets", json={"wallet": dan}, headers=bearer(keys["sec"])
        ).status_code
        == 201
    )
    paid = browser.post("/console/issuer/THAMES28/pay", data={"distribution_id": "1"}, headers=headers)
    assert paid.status_code == 200, paid.text
    assert "2 payment runs, the last transaction" in paid.text

    def status(who: str) -> str:
        wallet = market.wallets[who][0]
        owed = client.get(f"/securities/THAMES28/distributions/1/payments/{wallet}", headers=bearer(keys["thames"]))
        return str(owed.json()["status"])

    assert [status(who) for who in ("alice", "bob", "carol", "dan")] == ["PAID", "PAID", "PAID", "HELD"]
    # Dan's holdings page offers the claim; while frozen the chain refuses it, once released it pays.
    csrf = sign_in(browser, keys["dan"])
    page = browser.get("/console/holdings").text
    assert 'data-claim="THAMES28-1"' in page and "held: " in page
    claim = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    refused = browser.post("/console/holdings/THAMES28/1/claim", data={"wallet": dan}, headers=claim)
    assert refused.status_code == 409 and "Refused" in refused.text
    assert client.delete(f"/securities/THAMES28/frozen-wallets/{dan}", headers=bearer(keys["sec"])).status_code == 200
    claimed = browser.post("/console/holdings/THAMES28/1/claim", data={"wallet": dan}, headers=claim)
    assert claimed.status_code == 200 and "Done: claim" in claimed.text, claimed.text
    assert status("dan") == "PAID"
    assert 'data-claim="THAMES28-1"' not in claimed.text


def test_event_ids_do_not_restart_after_a_chain_revert(
    client: TestClient, keys: dict[str, str], market: Market
) -> None:
    """A revert makes the read model rebuild (its sequence starts again from 1). The stream's ids keep growing: a
    client that saw an event the revert removed resumes with its id and still receives what happened after the
    revert (before: the new event got the reverted one's id, and the resumed stream skipped it)."""
    bob, carol = market.wallets["bob"][0], market.wallets["carol"][0]
    start = max([i for i, _, _ in events(client, keys["operator"], 0)], default=0)
    snapshot = market.chain.snapshot()
    client.post("/securities/THAMES28/frozen-wallets", json={"wallet": bob}, headers=bearer(keys["fca"]))
    [(seen, name, data)] = events(client, keys["fca"], start)
    assert name == "AddressFrozen" and bob in data
    market.chain.revert(snapshot)  # Bob's freeze is gone from the chain
    client.post("/securities/THAMES28/frozen-wallets", json={"wallet": carol}, headers=bearer(keys["fca"]))
    resumed = events(client, keys["fca"], 0, **{"Last-Event-ID": f"{seen}:0"})
    carols = [(i, data) for i, name, data in resumed if name == "AddressFrozen" and carol in data]
    assert len(carols) == 1 and carols[0][0] > seen
    assert all(i > seen for i, _, _ in resumed)
    assert [(i, n) for i, n, _ in events(client, keys["fca"], carols[0][0])] == []  # nothing after it, again


def test_the_sign_in_form_needs_its_csrf_token(browser: TestClient, keys: dict[str, str]) -> None:
    """A sign-in posted without the form's token (another site's form) is refused and opens no session."""
    for data in ({"api_key": keys["fca"]}, {"api_key": keys["fca"], "csrf_token": "forged"}):
        refused = browser.post("/console/login", data=data, follow_redirects=False)
        assert refused.status_code == 403 and refused.json()["code"] == "CSRF_TOKEN_INVALID"
        assert "sandbox_console=" not in refused.headers.get("set-cookie", "")
    token = login_token(browser)
    browser.cookies.delete("sandbox_console_login")  # the token without its cookie: refused too
    refused = browser.post("/console/login", data={"api_key": keys["fca"], "csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 403
    assert post_login(browser, keys["fca"]).status_code == 303


def test_cookies_are_secure_over_https_or_when_configured(
    client: TestClient, keys: dict[str, str], market: Market
) -> None:
    app = client.app
    with TestClient(app, base_url="https://testserver") as https:
        answer = post_login(https, keys["fca"])
        assert answer.status_code == 303
        assert "; Secure" in answer.headers["set-cookie"] and "HttpOnly" in answer.headers["set-cookie"]
    with TestClient(app, base_url="http://testserver") as plain:
        assert "Secure" not in post_login(plain, keys["fca"]).headers["set-cookie"]
    configured = create_app(Settings(cookie_secure=True), market=market)
    with TestClient(configured, base_url="http://testserver") as plain:
        form = plain.get("/console/login")
        assert "; Secure" in form.headers["set-cookie"]
        # (a Secure cookie is not sent back over http: the sign-in itself needs https, as it should)


def test_a_reason_undone_by_a_chain_revert_is_not_shown_against_a_new_transfer(
    browser: TestClient, client: TestClient, keys: dict[str, str], market: Market
) -> None:
    """Transfer ids restart after a development revert: a reason kept for the reverted approval of transfer N is
    not shown against the new transfer N (its decision is no longer on chain)."""
    carol = market.wallets["carol"][0]
    snapshot = market.chain.snapshot()
    first = client.post(
        "/securities/THAMES28/cross-border-transfers", json={"to": carol, "amount": 600}, headers=bearer(keys["alice"])
    ).json()["transfer"]["transfer_id"]
    csrf = sign_in(browser, keys["fca"])
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    approved = browser.post(
        f"/console/inbox/THAMES28/{first}/approve", data={"reason": "Reverted soon."}, headers=headers
    )
    assert approved.status_code == 200 and "Financial Conduct Authority</strong> approved" in approved.text
    market.chain.revert(snapshot)
    second = client.post(
        "/securities/THAMES28/cross-border-transfers", json={"to": carol, "amount": 600}, headers=bearer(keys["alice"])
    ).json()["transfer"]["transfer_id"]
    assert second == first
    inbox = browser.get("/console/inbox").text
    assert f'data-testid="pending-THAMES28-{second}"' in inbox
    assert "Reverted soon." not in inbox
