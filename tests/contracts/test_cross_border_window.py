"""The cross-border approval threshold counts an investor's volume over a window, not each transfer alone:
with a 5,000-unit threshold and a 30-day window, 3,000 then 3,000 needs both regulators (it used to pass as
two transfers below the threshold). A transfer made at t counts through t + 30 days - 1 second; the window
runs on chain, per investor (all its wallets) and per security, and approved transfers count too."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.contracts.events import CrossBorderTransferRequested
from sandbox.contracts.security_token import Terms
from sandbox.rules import RULES_BY_NAME
from tests.contracts.conftest import DAY, World
from tests.contracts.helpers import allowed, refused, reverts

THRESHOLD = 5_000
CROSS_BORDER = RULES_BY_NAME["CROSS_BORDER_APPROVAL_REQUIRED"].code


def _ts(when: str) -> int:
    return int(datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp())


def _setup(w: World, window_days: int = 30) -> None:
    w.set_terms(cross_border_threshold=THRESHOLD, cross_border_window=window_days * DAY)
    w.token.mint(w.w["uk1"], 20_000, sender=w.issuer)


def test_two_transfers_of_3000_within_30_days_need_both_regulators(w: World) -> None:
    _setup(w)
    uk1, us = w.w["uk1"], w.w["us_acc"]
    w.at(_ts("2027-01-04T09:00:00"))
    allowed(w.token, uk1, us, 3_000, view=False)
    assert w.token.cross_border_volume(uk1) == (3_000, 30 * DAY)
    w.at(_ts("2027-01-20T09:00:00"))
    refused(
        w.token,
        uk1,
        us,
        3_000,
        "CROSS_BORDER_APPROVAL_REQUIRED",
        "CrossBorderApprovalRequired",
        value=3_000,
        threshold=THRESHOLD,
        windowVolume=3_000,
    )
    # Requested instead, approved by both regulators: it settles, and counts in the window too.
    receipt = w.token.request_cross_border_transfer(us, 3_000, sender=uk1)
    (request,) = w.token.events(receipt, CrossBorderTransferRequested)
    w.token.approve_cross_border_transfer(request.id, sender=w.fca)
    w.token.approve_cross_border_transfer(request.id, sender=w.sec)
    assert w.token.cross_border_volume(uk1)[0] == 6_000
    refused(w.token, uk1, us, 1, "CROSS_BORDER_APPROVAL_REQUIRED", "CrossBorderApprovalRequired", windowVolume=6_000)


def test_the_last_second_inside_the_window_and_the_first_after(w: World) -> None:
    # 3,000 sent at noon on 31 January 2027 count through 11:59:59 on 2 March (30 days; February has 28).
    _setup(w)
    uk1, us = w.w["uk1"], w.w["us_acc"]
    w.at(_ts("2027-01-31T12:00:00"))
    allowed(w.token, uk1, us, 3_000, view=False)
    w.at(_ts("2027-03-02T11:59:59"))
    refused(w.token, uk1, us, 2_000, "CROSS_BORDER_APPROVAL_REQUIRED", "CrossBorderApprovalRequired")
    w.at(_ts("2027-03-02T12:00:00"))
    allowed(w.token, uk1, us, 2_000, view=False)  # the first 3,000 left the window at 12:00:00
    assert w.token.cross_border_volume(uk1)[0] == 2_000


def test_the_window_across_a_leap_day(w: World) -> None:
    # Sent at 00:00 on 1 February 2028: 30 days run to 23:59:59 on 1 March (February 2028 has 29 days).
    _setup(w)
    uk1, us = w.w["uk1"], w.w["us_acc"]
    w.at(_ts("2028-02-01T00:00:00"))
    allowed(w.token, uk1, us, 4_000, view=False)
    w.at(_ts("2028-02-29T12:00:00"))
    refused(w.token, uk1, us, 1_000, "CROSS_BORDER_APPROVAL_REQUIRED", "CrossBorderApprovalRequired")
    w.at(_ts("2028-03-01T23:59:59"))
    refused(w.token, uk1, us, 1_000, "CROSS_BORDER_APPROVAL_REQUIRED", "CrossBorderApprovalRequired")
    w.at(_ts("2028-03-02T00:00:00"))
    allowed(w.token, uk1, us, 1_000, view=False)
    assert w.token.cross_border_volume(uk1)[0] == 1_000


def test_the_volume_is_the_investors_across_its_wallets_and_not_anothers(w: World) -> None:
    _setup(w)
    uk1, uk1b, uk2, us = w.w["uk1"], w.w["uk1b"], w.w["uk2"], w.w["us_acc"]
    w.token.transfer(uk1b, 5_000, sender=uk1)  # its own second wallet
    w.token.mint(uk2, 5_000, sender=w.issuer)
    w.at(_ts("2027-06-30T23:59:59"))
    allowed(w.token, uk1, us, 3_000, view=False)
    refused(w.token, uk1b, us, 2_000, "CROSS_BORDER_APPROVAL_REQUIRED", "CrossBorderApprovalRequired")
    allowed(w.token, uk2, us, 4_999)  # another investor: its own window
    allowed(w.token, uk1, uk2, 4_000)  # within the UK: not cross-border, not counted
    assert w.token.cross_border_volume(uk1)[0] == 3_000


def test_a_window_of_zero_counts_each_transfer_alone_and_cannot_loosen_an_approved_window(w: World) -> None:
    # Loosening the approved 30-day window to none is beyond what the home regulator approved.
    reverts(lambda: _setup(w, window_days=0), "TermsExceedApproval")
    # A token created with no window counts each transfer on its own.
    terms = Terms(uk_min_category=4, us_min_category=1, cross_border_threshold=THRESHOLD, cross_border_window=0)
    token = w.deploy_token(terms)
    token.approve_issuance(10**9, sender=w.fca)
    uk1, us = w.w["uk1"], w.w["us_acc"]
    token.mint(uk1, 20_000, sender=w.issuer)
    allowed(token, uk1, us, 3_000)
    allowed(token, uk1, us, 3_000)
    assert token.cross_border_volume(uk1) == (0, 0)
    assert token.detect_transfer_restriction(uk1, us, THRESHOLD) == CROSS_BORDER


def test_a_split_inside_the_window_scales_the_volume_already_counted(w: World) -> None:
    # Threshold 5,000, 30-day window. On 1 March 2027 the investor uk1 sends 2,000 abroad from one
    # wallet and, on 3 March, 1,000 from its other wallet: 3,000 in its window. On 10 March a 2-for-1
    # split doubles the threshold to 10,000 and every holding; the 3,000 already sent are 6,000 of
    # today's units. 4,000 more (2,000 pre-split units: 5,000 in all) need both regulators; before the
    # fix the window kept 3,000 old units beside new ones, 7,000 < 10,000, and the transfer passed.
    _setup(w)
    uk1, uk1b, us = w.w["uk1"], w.w["uk1b"], w.w["us_acc"]
    w.token.mint(uk1b, 2_000, sender=w.issuer)
    w.at(_ts("2027-03-01T09:00:00"))
    allowed(w.token, uk1, us, 2_000, view=False)
    w.at(_ts("2027-03-03T09:00:00"))
    allowed(w.token, uk1b, us, 1_000, view=False)
    assert w.token.cross_border_volume(uk1) == (3_000, 30 * DAY)

    w.at(_ts("2027-03-10T10:00:00"))
    w.token.start_split(2, sender=w.issuer)
    # uk1's two wallets are split one by one; its window (one per investor) doubles once.
    w.token.split_batch([uk1, uk1b], sender=w.issuer)
    w.token.split_batch([w.w["uk2"], us], sender=w.issuer)
    assert not w.token.split_in_progress().in_progress
    assert w.token.terms().cross_border_threshold == 2 * THRESHOLD
    assert w.token.cross_border_volume(uk1) == (6_000, 30 * DAY)

    w.at(_ts("2027-03-10T11:00:00"))
    refused(
        w.token,
        uk1,
        us,
        4_000,
        "CROSS_BORDER_APPROVAL_REQUIRED",
        "CrossBorderApprovalRequired",
        value=4_000,
        threshold=2 * THRESHOLD,
        windowVolume=6_000,
    )
    allowed(w.token, uk1, us, 3_999, view=False)  # 9,999 of today's units: below the threshold
    assert w.token.cross_border_volume(uk1)[0] == 9_999

    # The 2,000 of 1 March (4,000 today) count through 08:59:59 on 31 March, no longer at 09:00:00.
    w.at(_ts("2027-03-31T08:59:59"))
    refused(w.token, uk1, us, 1, "CROSS_BORDER_APPROVAL_REQUIRED", "CrossBorderApprovalRequired", windowVolume=9_999)
    w.at(_ts("2027-03-31T09:00:00"))
    allowed(w.token, uk1, us, 4_000, view=False)  # 5,999 + 4,000 = 9,999
    assert w.token.cross_border_volume(uk1)[0] == 9_999
    # The 1,000 of 3 March (2,000 today) leave at 09:00:00 on 2 April; the 3,999 of 10 March stay.
    w.at(_ts("2027-04-02T09:00:00"))  # views read the block before: 08:59:59
    assert w.token.cross_border_volume(uk1)[0] == 9_999
    w.at(_ts("2027-04-02T09:00:01"))  # views read 09:00:00
    assert w.token.cross_border_volume(uk1)[0] == 3_999 + 4_000
