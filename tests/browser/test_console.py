"""The console's stories in a real browser (issue #13's "Done when"), in order on one gateway: the FCA
approves a held UK-US transfer and watches it leave the inbox and the positions change, live; the SEC does
not see what is out of its remit; an issuer schedules, funds and pays a coupon; a wrong key is refused; a
form without the session's CSRF token is refused and changes nothing. Each main page is checked with
axe-core (WCAG 2 A/AA) and photographed at 1280x800 (`make screens`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Gateway, axe_violations, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def wallet(gateway: Gateway, who: str) -> str:
    return gateway.market.wallets[who][0]


def travel_to(gateway: Gateway, moment: int) -> None:
    """Mines a block stamped `moment` (the chain's clock is then there)."""
    with gateway.api("operator") as api:
        now = api.post("/operator/time-travel", json={"seconds": 1}).json()["block_timestamp"]
        if moment > now:
            api.post("/operator/time-travel", json={"seconds": moment - now}).raise_for_status()


def row_units(page: Any, address: str) -> str:
    return str(page.locator(f"#positions tr[data-wallet='{address}'] td.num").inner_text())


def test_fca_approves_a_held_uk_us_transfer_and_watches_the_console_update_live(gateway: Gateway, page: Any) -> None:
    alice, carol = wallet(gateway, "alice"), wallet(gateway, "carol")
    sign_in(page, gateway, "fca")
    assert page.get_by_test_id("whoami").inner_text().startswith("Financial Conduct Authority")
    assert "regulator · GB" in page.get_by_test_id("whoami").inner_text()
    page.wait_for_selector("#live-status:has-text('live')")
    # What awaited the FCA before (whatever the tests before this one left in its inbox).
    awaiting = int(page.get_by_test_id("awaiting-count").inner_text())

    # Alice (GB) sends 600 THAMES28 to Carol (US): at or above the 500 threshold, held for both regulators.
    with gateway.api("alice") as api:
        held = api.post("/securities/THAMES28/cross-border-transfers", json={"to": carol, "amount": 600})
    assert held.status_code == 201, held.text
    transfer_id = held.json()["transfer"]["transfer_id"]
    # The overview counts it by itself (the event stream).
    page.wait_for_function(f"document.querySelector('[data-testid=awaiting-count]').innerText === '{awaiting + 1}'")
    assert axe_violations(page) == []
    screenshot(page, "overview")

    # The cap table by jurisdiction, in a second tab left open.
    positions = page.context.new_page()
    positions.goto(f"{gateway.url}/console/securities/THAMES28")
    by_jurisdiction = positions.locator("#by-jurisdiction").inner_text()
    assert re.search(r"GB\s+8,000", by_jurisdiction), by_jurisdiction  # Alice 5,000 (600 of them held) + Bob 3,000
    assert re.search(r"US\s+3,000", by_jurisdiction), by_jurisdiction
    assert row_units(positions, carol) == "2,000"
    positions.wait_for_selector("#live-status:has-text('live')")
    positions.evaluate("window.__notReloaded = true")
    assert axe_violations(positions) == []
    screenshot(positions, "cap-table")

    page.goto(f"{gateway.url}/console/inbox")
    pending = page.get_by_test_id(f"pending-THAMES28-{transfer_id}")
    assert "Alice Holdings Ltd" in pending.inner_text()
    assert "Carol Partners LP" in pending.inner_text()
    assert "UK_PROFESSIONAL" in pending.inner_text()
    page.wait_for_selector("#live-status:has-text('live')")
    page.evaluate("window.__notReloaded = true")
    assert axe_violations(page) == []
    screenshot(page, "inbox")

    # The SEC approves through the API: the FCA's inbox shows it without a reload.
    with gateway.api("sec") as api:
        assert api.post(f"/securities/THAMES28/cross-border-transfers/{transfer_id}/approve").status_code == 200
    pending.get_by_text("US: approved").wait_for()

    pending.get_by_label("Reason").fill("Professional to accredited; within the programme's limits.")
    pending.get_by_role("button", name="Approve").click()
    pending.wait_for(state="detached")  # settled: it left the inbox (whatever else earlier tests left there)
    if awaiting == 0:  # as `make test` runs it (first in its file): nothing else awaited the FCA, so it empties
        page.get_by_test_id("inbox-empty").wait_for()
    page.locator("#outcome", has_text="Done: approve").wait_for()
    assert page.evaluate("window.__notReloaded") is True

    # The other tab's positions move by themselves (the event stream), Carol's 600 units arrived.
    positions.wait_for_function(
        f"document.querySelector(\"#positions tr[data-wallet='{carol}'] td.num\").innerText === '2,600'"
    )
    assert row_units(positions, alice) == "4,400"
    assert positions.evaluate("window.__notReloaded") is True
    with gateway.api("fca") as api:
        settled = api.get("/cross-border-transfers", params={"status": "SETTLED"}).json()["items"]
    assert [t["transfer_id"] for t in settled] == [transfer_id]


def test_sec_sees_only_its_remit(gateway: Gateway, page: Any) -> None:
    alice, bob, carol = wallet(gateway, "alice"), wallet(gateway, "bob"), wallet(gateway, "carol")
    sign_in(page, gateway, "sec")
    assert "regulator · US" in page.get_by_test_id("whoami").inner_text()
    page.goto(f"{gateway.url}/console/securities/THAMES28")  # a GB security: only its US holders are in remit
    shown = page.locator("#positions").inner_html()
    assert carol in shown
    assert alice not in shown and bob not in shown
    assert "GB" not in page.locator("#by-jurisdiction").inner_text()
    # The audit trail: THAMES28's actions that name a US wallet (Alice's transfer to Carol), none that name
    # GB wallets alone (Bob's issuance).
    page.goto(f"{gateway.url}/console/audit?security=THAMES28")
    assert carol in page.content()
    assert bob not in page.content()
    # Approving on the FCA's behalf is not the SEC's to do: out-of-remit pages are refused.
    page.goto(f"{gateway.url}/console/issuer")
    assert "ROLE_NOT_ALLOWED" in page.content()


def test_issuer_schedules_funds_and_pays_a_coupon(gateway: Gateway, page: Any) -> None:
    sign_in(page, gateway, "thames")
    assert page.url.endswith("/console/issuer")
    section = page.locator("section[data-security=THAMES28]")
    section.get_by_label("Schedule coupon").select_option("1")  # paid 2026-07-01, record date a week before
    section.get_by_role("button", name="Schedule", exact=True).click()
    row = page.locator("section[data-security=THAMES28] tr[data-distribution='1']")
    row.locator("td.state", has_text="DECLARED").wait_for()
    assert axe_violations(page) == []
    screenshot(page, "issuer")

    with gateway.api("thames") as api:
        terms = api.get("/securities/THAMES28/distributions/1").json()
    travel_to(gateway, terms["record_date"] + 1)  # 2026-06-24 00:00:01 UTC: the register is fixed
    page.reload()
    page.get_by_role("button", name="Fund coupon 1").click()
    row.locator("td.state", has_text="FUNDED").wait_for()
    # Before the payment date the chain refuses to pay, and the console says why.
    page.get_by_role("button", name="Pay coupon 1").click()
    page.locator("#outcome .notice.refused", has_text="PAYING_AGENT_BEFORE_PAYMENT_DATE").wait_for()
    travel_to(gateway, terms["payment_date"])  # 2026-07-01 00:00:00 UTC
    page.reload()
    page.get_by_role("button", name="Pay coupon 1").click()
    page.locator("#outcome .notice.done", has_text="Done: pay").wait_for()
    paid = row.locator("td.paid").inner_text()
    assert re.fullmatch(r"[1-9][\d,]*\.\d\d GBPS", paid), paid  # pence shown as pounds of the GBP token
    with gateway.api("thames") as api:
        coupon = api.get("/securities/THAMES28/distributions/1").json()
    assert coupon["paid"] > 0 and coupon["held"] == 0  # every holder of record paid (rounding dust stays funded)


def test_sign_in_with_a_wrong_key_fails(gateway: Gateway, page: Any) -> None:
    page.goto(f"{gateway.url}/console/login")
    page.get_by_label("API key").fill("demo-fca-regulator-key-9999")
    page.get_by_role("button", name="Sign in").click()
    assert "not known to this sandbox" in page.locator("#login-error").inner_text()
    assert page.get_by_test_id("whoami").count() == 0
    assert axe_violations(page) == []
    screenshot(page, "sign-in")
    page.goto(f"{gateway.url}/console/overview")
    assert page.url.endswith("/console/login")


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(gateway: Gateway, page: Any) -> None:
    dan = wallet(gateway, "dan")
    sign_in(page, gateway, "fca")
    page.goto(f"{gateway.url}/console/securities/THAMES28")
    # The console's own freeze form, posted as a plain form without its token.
    page.evaluate(
        """(wallet) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = '/console/securities/THAMES28/freezes';
            for (const [name, value] of [['wallet', wallet], ['action', 'freeze']]) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value; form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""",
        dan,
    )
    page.wait_for_url("**/freezes")
    assert "CSRF_TOKEN_INVALID" in page.content()
    with gateway.api("fca") as api:
        frozen = api.get("/securities/THAMES28/frozen-wallets").json()["items"]
    assert frozen == []


def test_audit_and_reports_pages(gateway: Gateway, page: Any) -> None:
    # A cross-border approval of its own for the trail to show (not one an earlier test happened to make): Alice's
    # 500 THAMES28 to Carol, held, and approved by the SEC (the FCA has not decided: it stays in its inbox).
    with gateway.api("alice") as api:
        held = api.post(
            "/securities/THAMES28/cross-border-transfers", json={"to": wallet(gateway, "carol"), "amount": 500}
        )
    assert held.status_code == 201, held.text
    with gateway.api("sec") as api:
        approved = api.post(
            f"/securities/THAMES28/cross-border-transfers/{held.json()['transfer']['transfer_id']}/approve"
        )
    assert approved.status_code == 200, approved.text
    sign_in(page, gateway, "fca")
    page.goto(f"{gateway.url}/console/audit")
    assert "CrossBorderTransferApproved" in page.content()
    assert axe_violations(page) == []
    screenshot(page, "audit")
    page.goto(f"{gateway.url}/console/reports")
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.locator("form[data-report=THAMES28]").get_by_role("button", name="CSV").click()
    assert re.fullmatch(r"THAMES28-holdings-as-of-\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
    screenshot(page, "reports")

    # A transfer the chain refuses (the receiver is no registered investor) shows on the refusals page.
    with gateway.api("alice") as api:
        refused = api.post(
            "/securities/THAMES28/transfers", json={"to": gateway.market.accounts["hudson"], "amount": 1}
        )
    assert refused.status_code in (403, 409), refused.text
    page.goto(f"{gateway.url}/console/refusals")
    page.locator("#refusals").get_by_text(refused.json()["code"]).first.wait_for()
    assert axe_violations(page) == []
    screenshot(page, "refusals")


def test_refusals_arrive_on_the_page_without_polling_or_reload(gateway: Gateway, page: Any) -> None:
    """A refused transfer of a GB security to a US investor reaches the SEC's refusals page by the event stream
    (the page no longer polls), in remit because the receiver is its investor."""
    carol = wallet(gateway, "carol")
    sign_in(page, gateway, "sec")
    page.goto(f"{gateway.url}/console/refusals")
    page.wait_for_selector("#live-status:has-text('live')")
    before = int(page.get_by_test_id("refusal-count").inner_text())
    page.evaluate("window.__notReloaded = true")
    assert "every" not in (page.locator("#refusals").get_attribute("hx-trigger") or "")
    with gateway.api("alice") as api:  # at or above the threshold, sent as a plain transfer: refused on chain
        refused = api.post("/securities/THAMES28/transfers", json={"to": carol, "amount": 700})
    assert refused.status_code in (403, 409, 422), refused.text
    page.wait_for_function(f"Number(document.querySelector('[data-testid=refusal-count]').innerText) === {before + 1}")
    assert page.evaluate("window.__notReloaded") is True
    page.locator("#refusals").get_by_text(refused.json()["code"]).first.wait_for()


def test_freezes_page_says_who_and_why(gateway: Gateway, page: Any) -> None:
    """The SEC freezes 100 of Dan's HUDS shares in the console with a reason; the freezes page lists it with who
    imposed it and why; it passes axe."""
    dan = wallet(gateway, "dan")
    sign_in(page, gateway, "sec")
    page.goto(f"{gateway.url}/console/securities/HUDS")
    page.get_by_label("Freeze the wallet").select_option(dan)
    page.get_by_label("What").select_option("freeze-amount")
    page.get_by_label("Units").fill("100")
    page.get_by_label("Reason").fill("Suspicious activity report SAR-2026-0042.")
    page.get_by_role("button", name="Freeze", exact=True).click()
    page.locator("#outcome .notice.done", has_text="Done: freeze-amount").wait_for()
    page.goto(f"{gateway.url}/console/freezes")
    row = page.locator(f"tr[data-freeze='amount-{dan}']")
    assert "100 units" in row.inner_text()
    assert "the US regulator (100)" in row.inner_text()
    assert "Securities and Exchange Commission" in row.inner_text()
    assert "SAR-2026-0042" in row.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "freezes")


def test_sanctions_investor_and_holdings_pages_pass_axe(gateway: Gateway, page: Any) -> None:
    """The pages the first axe run did not cover: sanctions lists, one investor's holdings, an investor's own."""
    sign_in(page, gateway, "fca")
    page.goto(f"{gateway.url}/console/sanctions")
    page.locator("#list-OFSI").wait_for()
    assert axe_violations(page) == []
    screenshot(page, "sanctions")
    bob = gateway.market.accounts["bob"]
    page.goto(f"{gateway.url}/console/investors/{bob}")
    assert "Holdings of Bob Capital LLP" in page.content()
    assert axe_violations(page) == []
    screenshot(page, "investor")
    sign_in(page, gateway, "carol")
    assert page.url.endswith("/console/holdings")
    assert "Payments owed to you" in page.content()
    assert axe_violations(page) == []
    screenshot(page, "holdings")


def test_fca_approves_issuance_in_place_with_a_reason(gateway: Gateway, page: Any) -> None:
    """A new GB security awaits the FCA's issuance approval; the inbox shows it with the sender's window total of
    a held transfer beside it; the FCA approves issuance in place with a reason, which stays beside it."""
    with gateway.api("thames") as api:
        created = api.post(
            "/securities",
            json={"symbol": "THAMES33", "name": "Thames Green 3.5% 2033", "home": "GB", "admitted": ["GB", "US"]},
        )
    assert created.status_code == 201, created.text
    with gateway.api("alice") as api:
        held = api.post(
            "/securities/THAMES28/cross-border-transfers", json={"to": wallet(gateway, "carol"), "amount": 500}
        )
    assert held.status_code == 201, held.text
    transfer_id = held.json()["transfer"]["transfer_id"]
    sign_in(page, gateway, "fca")
    page.goto(f"{gateway.url}/console/inbox")
    page.wait_for_selector("#live-status:has-text('live')")
    row = page.get_by_test_id("issuance-THAMES33")
    assert "Thames Infrastructure plc" in row.inner_text()
    window = page.get_by_test_id(f"window-THAMES28-{transfer_id}").inner_text()
    assert window.replace(",", "").isdigit() and int(window.replace(",", "")) >= 500
    pending = page.get_by_test_id(f"pending-THAMES28-{transfer_id}")
    pending.get_by_label("Reason").fill("Within the programme's limits.")
    pending.get_by_role("button", name="Approve").click()
    page.locator("#outcome", has_text="Done: approve").wait_for()
    pending.get_by_text("Within the programme's limits.").wait_for()  # kept beside it (the SEC has not decided)
    assert axe_violations(page) == []
    screenshot(page, "inbox")
    row.get_by_label("Most units ever issued").fill("250000")
    row.get_by_label("Reason").fill("Prospectus approved 2026-06-30.")
    # An event in the FCA's remit arrives while it is filling in the form: the live refresh waits (and says so)
    # rather than wiping what the FCA typed.
    with gateway.api("alice") as api:
        again = api.post(
            "/securities/THAMES28/cross-border-transfers", json={"to": wallet(gateway, "carol"), "amount": 500}
        )
    assert again.status_code == 201, again.text
    page.get_by_test_id("stale-note").wait_for()
    assert row.get_by_label("Most units ever issued").input_value() == "250000"
    assert row.get_by_label("Reason").input_value() == "Prospectus approved 2026-06-30."
    row.get_by_role("button", name="Approve issuance").click()
    page.get_by_test_id("issuance-empty").wait_for()
    # The answer re-renders the inbox, the deferred event's request included.
    page.get_by_test_id(f"pending-THAMES28-{again.json()['transfer']['transfer_id']}").wait_for()
    assert page.get_by_test_id("stale-note").count() == 0
    with gateway.api("fca") as api:
        terms = api.get("/securities/THAMES33").json()
    assert (terms["issuance_approved"], terms["issuance_limit"]) == (True, 250_000)
