"""Every rule of the rulebook at its boundary: the decoded custom error, its numbers and the ERC-1404
code of the view pre-check (second before/after a period; N-1, N, N+1 holders; cap -1, exact, +1).
Rule 144 holding periods and Regulation S periods are not token terms: they follow each lot's offering,
and their stories are in test_offerings.py."""

from __future__ import annotations

from datetime import UTC, datetime

from eth_account import Account

from sandbox.contracts.security_token import HolderCounts
from sandbox.rules import RULES_BY_NAME, HolderType, InvestorAttributes
from sandbox.rules import InvestorCategory as Cat
from sandbox.rules import Jurisdiction as Jur
from tests.contracts.conftest import DAY, World
from tests.contracts.helpers import allowed, refused, reverts


def code(name: str) -> int:
    return RULES_BY_NAME[name].code


def test_paused_refuses_transfers_until_unpaused(w: World) -> None:
    t, uk1, uk2 = w.token, w.w["uk1"], w.w["uk2"]
    t.pause(sender=w.issuer)
    refused(t, uk1, uk2, 1, "PAUSED", "TransferPaused")
    assert t.detect_transfer_restriction("0x" + "00" * 20, uk2, 1) == code("PAUSED")
    t.unpause(sender=w.issuer)
    allowed(t, uk1, uk2, 1)


def test_frozen_sender_and_receiver(w: World) -> None:
    t, uk1, uk2 = w.token, w.w["uk1"], w.w["uk2"]
    t.set_address_frozen(uk1, True, sender=w.issuer)
    refused(t, uk1, uk2, 1, "SENDER_FROZEN", "SenderFrozen", wallet=uk1)
    refused(t, uk2, uk1, 1, "RECEIVER_FROZEN", "ReceiverFrozen", wallet=uk1)
    t.set_address_frozen(uk1, False, sender=w.issuer)
    allowed(t, uk1, uk2, 1)


def test_unfrozen_balance_cap_minus_one_exact_plus_one(w: World) -> None:
    t, uk1, uk2 = w.token, w.w["uk1"], w.w["uk2"]
    t.freeze_partial_tokens(uk1, 100, sender=w.issuer)
    refused(
        t,
        uk1,
        uk2,
        901,
        "INSUFFICIENT_UNFROZEN_BALANCE",
        "ERC7943InsufficientUnfrozenBalance",
        account=uk1,
        amount=901,
        unfrozen=900,
    )
    allowed(t, uk1, uk2, 899)
    allowed(t, uk1, uk2, 1)  # exactly the unfrozen balance in all
    refused(t, uk1, uk2, 1, "INSUFFICIENT_UNFROZEN_BALANCE", "ERC7943InsufficientUnfrozenBalance", unfrozen=0)
    assert t.balance_of(uk1) == 100 and t.get_frozen_tokens(uk1) == 100


def test_registration_suspension(w: World) -> None:
    t, uk1, uk2 = w.token, w.w["uk1"], w.w["uk2"]
    refused(t, uk1, w.outsider, 1, "RECEIVER_NOT_REGISTERED", "ReceiverNotRegistered", wallet=w.outsider)
    w.registry.suspend_investor(uk2, sender=w.fca)
    refused(t, uk1, uk2, 1, "RECEIVER_SUSPENDED", "ReceiverSuspended", wallet=uk2, investor=uk2)
    refused(t, uk2, uk1, 1, "SENDER_SUSPENDED", "SenderSuspended", wallet=uk2)
    w.registry.reinstate_investor(uk2, sender=w.fca)
    allowed(t, uk1, uk2, 1)


def test_kyc_expiry_second_before_and_after(w: World) -> None:
    t, uk1, uk2 = w.token, w.w["uk1"], w.w["uk2"]
    expiry = w.chain.timestamp() + 1000
    w.registry.update_investor(uk2, Cat.UK_ELIGIBLE_COUNTERPARTY, expiry, sender=w.operator)
    w.chain.time_travel(expiry - 1)
    assert t.detect_transfer_restriction(uk1, uk2, 1) == 0
    allowed(t, uk1, uk2, 1, view=False)  # mined at the last valid second
    assert w.chain.timestamp() == expiry
    w.at(expiry + 1)  # the first expired second
    exc = reverts(lambda: t.transfer(uk2, 1, sender=uk1), "ReceiverKycExpired", kycValidUntil=expiry)
    assert exc.args_by_name["checkedAt"] == expiry + 1
    assert exc.rule_code == code("RECEIVER_KYC_EXPIRED")
    assert t.detect_transfer_restriction(uk1, uk2, 1) == code("RECEIVER_KYC_EXPIRED")
    assert t.detect_transfer_restriction(uk2, uk1, 1) == code("SENDER_KYC_EXPIRED")
    reverts(lambda: t.transfer(uk1, 1, sender=uk2), "SenderKycExpired", wallet=uk2)


def test_jurisdiction_admission(w: World) -> None:
    t = w.token
    t.set_jurisdiction_admitted(Jur.US, False, sender=w.issuer)
    refused(t, w.w["uk1"], w.w["us_qib"], 1, "JURISDICTION_NOT_ADMITTED", "JurisdictionNotAdmitted", jurisdiction=840)
    # admitting again loosens the approved terms: the home regulator's call, not the issuer's
    reverts(lambda: t.set_jurisdiction_admitted(Jur.US, True, sender=w.issuer), "TermsExceedApproval")
    t.set_jurisdiction_admitted(Jur.US, True, sender=w.fca)
    allowed(t, w.w["uk1"], w.w["us_qib"], 1)


def test_category_minimum_per_jurisdiction(w: World) -> None:
    t, uk1 = w.token, w.w["uk1"]
    w.set_terms(us_min_category=int(Cat.US_ACCREDITED), uk_min_category=int(Cat.UK_PROFESSIONAL))
    refused(t, uk1, w.w["us_na1"], 1, "CATEGORY_NOT_ADMITTED", "CategoryNotAdmitted", category=1, minimumCategory=2)
    refused(t, uk1, w.w["uk_retail"], 1, "CATEGORY_NOT_ADMITTED", "CategoryNotAdmitted", category=4, minimumCategory=5)
    allowed(t, uk1, w.w["us_acc"], 1)
    allowed(t, uk1, w.w["uk3"], 1)
    w.set_terms(us_min_category=int(Cat.US_QIB))  # a 144A security: QIBs only
    refused(t, uk1, w.w["us_acc"], 1, "CATEGORY_NOT_ADMITTED", "CategoryNotAdmitted", category=2, minimumCategory=3)
    allowed(t, uk1, w.w["us_qib"], 1)


def test_total_holder_cap_n_minus_one_n_n_plus_one(w: World) -> None:
    t, uk1 = w.token, w.w["uk1"]
    assert t.holder_counts().total == 3
    w.set_terms(max_holders=5)
    allowed(t, uk1, w.w["uk3"], 1)  # 4 = N-1
    allowed(t, uk1, w.w["us_qib"], 1)  # 5 = N
    refused(t, uk1, w.w["uk_retail"], 1, "HOLDER_LIMIT", "HolderLimitReached", holdersAfter=6, limit=5)  # N+1
    allowed(t, uk1, w.w["uk3"], 1)  # an existing holder may still receive
    # a holder leaving frees its place in the same transfer
    allowed(t, w.w["us_qib"], w.w["us_acc"], 1)
    allowed(t, uk1, w.w["uk_retail"], 1)
    assert t.holder_counts().total == 5


def test_jurisdiction_holder_cap(w: World) -> None:
    t, uk1 = w.token, w.w["uk1"]
    w.set_terms(max_us_holders=2)
    allowed(t, uk1, w.w["us_qib"], 1)
    refused(
        t,
        uk1,
        w.w["us_na1"],
        1,
        "JURISDICTION_HOLDER_LIMIT",
        "JurisdictionHolderLimitReached",
        jurisdiction=840,
        holdersAfter=3,
        limit=2,
    )
    allowed(t, uk1, w.w["uk3"], 1)  # the UK side is not capped


def test_12g_counts_non_accredited_holders_of_any_residence(w: World) -> None:
    """Exchange Act 12(g)(1)(A) counts holders of record "who are not accredited investors", whatever
    their residence: a UK retail investor (never accredited under Rule 501(a) in the registry) counts
    toward the 500 as a US non-accredited one does. The holders at the start are uk1 (UK professional)
    and uk2 (eligible counterparty), neither recorded as accredited, and us_acc."""
    t, uk1 = w.token, w.w["uk1"]
    assert t.holder_counts() == HolderCounts(total=3, uk=2, us=1, non_accredited=2)
    w.set_terms(max_us_non_accredited=3)
    allowed(t, uk1, w.w["us_na1"], 1)
    refused(
        t,
        uk1,
        w.w["uk_retail"],
        1,
        "NON_ACCREDITED_HOLDER_LIMIT",
        "NonAccreditedHolderLimitReached",
        holdersAfter=4,
        limit=3,
    )
    allowed(t, uk1, w.w["us_qib"], 1)  # a QIB is accredited: not counted
    assert t.holder_counts() == HolderCounts(total=5, uk=2, us=3, non_accredited=3)
    # A non-accredited holder leaving frees a place for the UK retail investor.
    allowed(t, w.w["us_na1"], uk1, 1)
    allowed(t, uk1, w.w["uk_retail"], 1)
    assert t.holder_counts() == HolderCounts(total=5, uk=3, us=2, non_accredited=3)


def test_12g_accreditation_is_read_when_the_holder_joins(w: World) -> None:
    """A UK investor accredited (Rule 501(a)) until 2027-06-30 23:59:59 UTC joins at that second as
    an accredited holder; another, accredited until the same second, joining one second later counts
    as a non-accredited holder of record."""
    t, uk1 = w.token, w.w["uk1"]
    w.set_terms(max_us_non_accredited=2)  # uk1 and uk2 already count
    until = int(datetime(2027, 6, 30, 23, 59, 59, tzinfo=UTC).timestamp())
    wealthy = InvestorAttributes(HolderType.NATURAL_PERSON, us_person=False, accredited_until=until)
    late, early = Account.create().address, Account.create().address
    for who in (early, late):
        w.registry.register_investor(
            who, who, Jur.GB, Cat.UK_PROFESSIONAL, until + 365 * DAY, attributes=wealthy, sender=w.operator
        )
    w.at(until)
    allowed(t, uk1, early, 1, view=False)
    assert t.holder_counts().non_accredited == 2
    w.at(until + 1)
    reverts(lambda: t.transfer(late, 1, sender=uk1), "NonAccreditedHolderLimitReached", holdersAfter=3, limit=2)
    assert t.balance_of(late) == 0 and t.holder_counts() == HolderCounts(total=4, uk=3, us=1, non_accredited=2)


def test_holder_counts_are_per_investor_across_wallets(w: World) -> None:
    t, uk1, uk1b, uk2 = w.token, w.w["uk1"], w.w["uk1b"], w.w["uk2"]
    assert t.holder_counts().total == 3
    w.set_terms(max_holders=3)
    allowed(t, uk1, uk1b, 400)  # a second wallet of the same investor: still 3 holders
    assert t.holder_counts().total == 3
    assert t.investor_balance(uk1) == 1000
    allowed(t, uk1, uk2, 600)  # uk1's first wallet empties but the investor still holds
    assert t.holder_counts().total == 3
    allowed(t, uk1b, uk2, 400)  # now the investor has left
    assert t.holder_counts().total == 2 and t.investor_balance(uk1) == 0


def test_investor_balance_cap_minus_one_exact_plus_one_across_wallets(w: World) -> None:
    t, uk1, uk1b, uk2 = w.token, w.w["uk1"], w.w["uk1b"], w.w["uk2"]
    w.set_terms(max_investor_balance=1500)
    allowed(t, uk2, uk1b, 499)  # uk1 holds 1499 across two wallets
    allowed(t, uk2, uk1b, 1)  # exactly 1500
    refused(
        t,
        uk2,
        uk1,
        1,
        "INVESTOR_BALANCE_LIMIT",
        "InvestorBalanceLimitExceeded",
        investor=uk1,
        balanceAfter=1501,
        limit=1500,
    )
    refused(t, uk2, uk1b, 1, "INVESTOR_BALANCE_LIMIT", "InvestorBalanceLimitExceeded", balanceAfter=1501)
    allowed(t, uk1, uk1b, 10)  # moving between its own wallets is not an increase


def test_cross_border_threshold_minus_one_exact(w: World) -> None:
    t, uk1, us = w.token, w.w["uk1"], w.w["us_acc"]
    w.set_terms(cross_border_threshold=500)
    allowed(t, uk1, us, 499)
    refused(
        t,
        uk1,
        us,
        500,
        "CROSS_BORDER_APPROVAL_REQUIRED",
        "CrossBorderApprovalRequired",
        fromJurisdiction=826,
        toJurisdiction=840,
        value=500,
        threshold=500,
    )
    allowed(t, uk1, w.w["uk2"], 500)  # same jurisdiction: no approval needed


def test_issuance_gate_and_limit(w: World) -> None:
    token = w.deploy_token()
    uk1 = w.w["uk1"]
    zero = "0x" + "00" * 20
    assert token.detect_transfer_restriction(zero, uk1, 1) == code("ISSUANCE_NOT_APPROVED")
    exc = reverts(lambda: token.mint(uk1, 1, sender=w.issuer), "IssuanceNotApproved")
    assert exc.rule_code == code("ISSUANCE_NOT_APPROVED")
    token.approve_issuance(1000, sender=w.fca)
    token.mint(uk1, 999, sender=w.issuer)  # limit - 1
    token.mint(uk1, 1, sender=w.issuer)  # exactly the limit
    assert token.detect_transfer_restriction(zero, uk1, 1) == code("ISSUANCE_LIMIT_EXCEEDED")
    reverts(lambda: token.mint(uk1, 1, sender=w.issuer), "IssuanceLimitExceeded", supplyAfter=1001, limit=1000)
    token.burn(uk1, 10, sender=w.issuer)
    token.mint(uk1, 10, sender=w.issuer)  # the limit is on units outstanding


def test_mint_applies_receiver_rules(w: World) -> None:
    t = w.token
    reverts(lambda: t.mint(w.outsider, 1, sender=w.issuer), "ReceiverNotRegistered")
    w.set_terms(us_min_category=int(Cat.US_ACCREDITED))
    exc = reverts(lambda: t.mint(w.w["us_na1"], 1, sender=w.issuer), "CategoryNotAdmitted")
    assert exc.rule_code == code("CATEGORY_NOT_ADMITTED")


def test_second_wallet_linked_after_holding_keeps_the_position(w: World) -> None:
    t, uk2, uk1 = w.token, w.w["uk2"], w.w["uk1"]
    w.set_terms(max_investor_balance=1500, max_holders=4)
    spare = w.chain.accounts[18].address
    w.registry.add_wallet(uk2, spare, sender=w.operator)  # uk2 already holds 1000 in its first wallet
    assert t.investor_balance(uk2) == 1000
    allowed(t, uk1, spare, 500)  # the aggregate starts from the first wallet's 1000
    refused(t, uk1, spare, 1, "INVESTOR_BALANCE_LIMIT", "InvestorBalanceLimitExceeded", balanceAfter=1501)
    allowed(t, uk2, spare, 1000)
    assert t.holder_counts().total == 3 and t.investor_balance(uk2) == 1500 and t.balance_of(uk2) == 0
    allowed(t, spare, w.w["uk3"], 1000)
    assert t.holder_counts().total == 4  # uk3 joined; uk2 still holds 500
    allowed(t, spare, w.w["uk3"], 500)  # the investor leaves only when both wallets are empty
    assert t.holder_counts().total == 3 and t.investor_balance(uk2) == 0


def test_self_transfer_moves_nothing(w: World) -> None:
    """Found by the stateful test: a transfer to oneself once credited the units without debiting them
    (the sender's and receiver's packed wallet slots are one slot). It must leave balances and supply
    as they were, and still pass the rulebook first."""
    t, uk1 = w.token, w.w["uk1"]
    balance, supply, positions = t.balance_of(uk1), t.total_supply(), t.holder_counts()
    receipt = t.transfer(uk1, balance, sender=uk1)
    assert [e.args for e in t.events(receipt, "Transfer")] == [{"from": uk1, "to": uk1, "value": balance}]
    assert (t.balance_of(uk1), t.total_supply(), t.holder_counts()) == (balance, supply, positions)
    t.forced_transfer(uk1, uk1, 1, sender=w.issuer)
    assert (t.balance_of(uk1), t.total_supply()) == (balance, supply)
    t.set_address_frozen(uk1, True, sender=w.issuer)
    refused(t, uk1, uk1, 1, "SENDER_FROZEN", "SenderFrozen", wallet=uk1)
