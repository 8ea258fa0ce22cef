"""A bond's coupon schedule through the gateway: each period's unadjusted coupon date, its payment date
rolled to the following business day, and the record instant at close of business in the bond's time
zone, in ISO 8601 (the demo's THAMES28: 17:00 Europe/London, GBP bank holidays, ACT/ACT ICMA)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import bearer


def test_the_schedule_shows_rolled_payment_days_and_record_instants(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/securities/THAMES28/coupons", headers=bearer(keys["alice"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["day_count"], body["close_of_business"]) == ("ACT/ACT ICMA", "17:00 Europe/London")
    rows = [
        (i["accrual_end"], i["payment_day"], i["rolled"], i["record_instant"], i["day_count_fraction"])
        for i in body["items"]
    ]
    assert rows == [
        # Record date Wednesday 24 June 2026, British Summer Time: 17:00 in London is 16:00 UTC.
        ("2026-07-01", "2026-07-01", False, "2026-06-24T17:00:00+01:00", "1/2"),
        # 1 January 2027 is a bank holiday (a Friday): paid Monday 4 January; the record date is
        # Christmas Day, in GMT.
        ("2027-01-01", "2027-01-04", True, "2026-12-25T17:00:00+00:00", "1/2"),
        ("2027-07-01", "2027-07-01", False, "2027-06-24T17:00:00+01:00", "1/2"),
        # 1 January 2028 is a Saturday and Monday 3 January the bank holiday: paid Tuesday 4 January.
        ("2028-01-01", "2028-01-04", True, "2027-12-25T17:00:00+00:00", "1/2"),
    ]
    # A gilt's fixed half-year: 4.25% of 100 pounds / 2 = 212.5 pence a unit, every period.
    assert {i["amount_per_unit"] for i in body["items"]} == {"425/2"}
    assert [i["distribution_id"] for i in body["items"]] == [0, 0, 0, 0]


def test_a_scheduled_coupon_shows_its_record_instant_and_payment_day(client: TestClient, keys: dict[str, str]) -> None:
    declared = client.post("/securities/THAMES28/coupons", json={"period": 2}, headers=bearer(keys["thames"]))
    assert declared.status_code == 201, declared.text
    coupon = declared.json()["distribution"]
    assert (coupon["record_instant"], coupon["payment_day"]) == ("2026-12-25T17:00:00+00:00", "2027-01-04")
    assert coupon["record_date"] + 1 == 1798218000  # 2026-12-25T17:00:00Z
    listed = client.get("/securities/THAMES28/distributions", headers=bearer(keys["fca"])).json()["items"]
    assert [(d["period"], d["payment_day"]) for d in listed] == [(2, "2027-01-04")]
    schedule = client.get("/securities/THAMES28/coupons", headers=bearer(keys["fca"])).json()["items"]
    assert schedule[1]["distribution_id"] == coupon["distribution_id"]


def test_a_share_class_has_no_coupon_schedule(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/securities/HUDS/coupons", headers=bearer(keys["alice"]))
    assert response.status_code == 409 and response.json()["code"] == "NOT_A_BOND"
    assert response.headers["content-type"].startswith("application/problem+json")
