"""Offerings and the lots that carry their status, as dated stories (issue #11).

Each story runs on real calendar dates after the chain's genesis (the wall clock): the last second
before each boundary and the first second of it. Rule 144(d) periods run in calendar months from the
acquisition from the issuer (6 months for an issuer reporting for 90 days, else 1 year); Regulation S
periods start per tranche at the later of first offer and closing (Rule 902(f)); Rule 506(b)'s 35 counts
the issuer's non-accredited purchasers per offering (with 506(b) offerings within 90 days), not holders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from eth_account import Account

from sandbox.contracts.offerings import Exemption, OfferingRegistry, OfferingTerms
from sandbox.contracts.security_token import LockedTokens, SecurityToken, Terms
from sandbox.rules import RULES_BY_NAME, HolderType, InvestorAttributes
from sandbox.rules import InvestorCategory as Cat
from sandbox.rules import Jurisdiction as Jur
from tests.contracts.conftest import ISSUANCE_LIMIT, World
from tests.contracts.helpers import reverts

DAY = 86_400


def t(iso: str) -> int:
    """Unix time of an ISO date or date-time, UTC."""
    text = iso if "T" in iso else iso + "T00:00:00"
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


@dataclass
class OfferingWorld:
    w: World
    token: SecurityToken
    offerings: OfferingRegistry

    def open(self, exemption: Exemption, first_offer: str, closing: str, *, equity: bool = True) -> int:
        terms = OfferingTerms(exemption, t(first_offer), t(closing), equity)
        return self.offerings.open_offering(terms, sender=self.w.issuer)

    def issue(self, offering_id: int, to: str, amount: int) -> None:
        self.offerings.issue(offering_id, to, amount, sender=self.w.issuer)

    def refused(self, sender: str, to: str, amount: int, rule: str, error: str) -> None:
        before = (self.token.balance_of(sender), self.token.balance_of(to))
        exc = reverts(lambda: self.token.transfer(to, amount, sender=sender), error)
        assert exc.rule_name == rule
        assert exc.rule_message is not None and exc.rule_message.startswith(rule + ":")
        assert (self.token.balance_of(sender), self.token.balance_of(to)) == before

    def moves(self, sender: str, to: str, amount: int) -> None:
        before = self.token.balance_of(to)
        self.token.transfer(to, amount, sender=sender)
        assert self.token.balance_of(to) == before + amount

    def investor(
        self,
        jurisdiction: Jur,
        category: Cat,
        *,
        wallets: int = 1,
        sends: bool = True,
        attributes: InvestorAttributes | None = None,
    ) -> list[str]:
        """Registers a new investor with `wallets` wallets (the first is also its identity); with
        `sends`, the sandbox holds the wallets' keys and funds them for gas. Without `attributes` the
        registry derives them from the jurisdiction and category."""
        addresses: list[str] = []
        for _ in range(wallets):
            account = Account.create()
            addresses.append(account.address)
            if sends:
                self.w.chain.add_account(bytes(account.key))
                self.w.chain.transact(self.w.operator, account.address, b"", value=10**18)
        kyc = t("2036-01-01")
        self.w.registry.register_investor(
            addresses[0], addresses[0], jurisdiction, category, kyc, attributes=attributes, sender=self.w.operator
        )
        for extra in addresses[1:]:
            self.w.registry.add_wallet(addresses[0], extra, sender=self.w.operator)
        return addresses


def uk_bank_qib(ow: OfferingWorld) -> str:
    """A UK bank supervised by the FCA (an eligible counterparty under COBS 3) that is a QIB under
    Rule 144A(a)(1): QIB status does not depend on the supervising jurisdiction."""
    attributes = InvestorAttributes(HolderType.ENTITY, us_person=False, qib=True)
    (bank,) = ow.investor(Jur.GB, Cat.UK_ELIGIBLE_COUNTERPARTY, attributes=attributes)
    record = ow.w.registry.wallet_record(bank)
    assert record.jurisdiction == Jur.GB and record.qib and not record.us_person
    return bank


def uk_supervised_us_person(ow: OfferingWorld) -> str:
    """The US branch of a UK bank: supervised from the UK (a UK professional client) but a US person
    under Regulation S (Rule 902(k)(1)(v)), and not a QIB."""
    attributes = InvestorAttributes(HolderType.ENTITY, us_person=True, qib=False)
    (branch,) = ow.investor(Jur.GB, Cat.UK_PROFESSIONAL, attributes=attributes)
    record = ow.w.registry.wallet_record(branch)
    assert record.jurisdiction == Jur.GB and record.us_person and not record.qib
    return branch


@pytest.fixture
def ow(w: World) -> Iterator[OfferingWorld]:
    """A security admitting every category of both jurisdictions (the offerings decide who may buy),
    with its offering registry attached; a non-reporting issuer."""
    token = w.deploy_token(Terms(us_min_category=int(Cat.US_NON_ACCREDITED), uk_min_category=int(Cat.UK_RETAIL)))
    token.approve_issuance(ISSUANCE_LIMIT, sender=w.fca)
    offerings = OfferingRegistry.deploy(w.chain, token=token, registry=w.registry.address, sender=w.issuer)
    offerings.attach(admin=w.issuer)
    yield OfferingWorld(w, token, offerings)


# ---------------------------------------------------------------- calendar months (Rule 144(d))


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        ("2026-03-01", 6, "2026-09-01"),  # the regulatory-facts example: 184 days, not 182
        ("2027-03-01", 12, "2028-03-01"),  # 366 days across a leap day, not 365
        ("2026-08-31", 6, "2027-02-28"),  # month end clamps
        ("2027-08-31", 6, "2028-02-29"),  # ... to a leap day
        ("2028-02-29", 12, "2029-02-28"),  # a leap day a year on
        ("2027-01-31T17:45:09", 1, "2027-02-28T17:45:09"),  # time of day kept
        ("2027-12-15T00:00:01", 6, "2028-06-15T00:00:01"),
    ],
)
def test_holding_periods_run_in_calendar_months(ow: OfferingWorld, start: str, months: int, end: str) -> None:
    assert ow.offerings.add_months(t(start), months) == t(end)


def test_unlock_date_follows_the_issuers_reporting_status(ow: OfferingWorld) -> None:
    # Non-reporting: one year.
    assert ow.offerings.unlock_at(t("2027-03-01")) == t("2028-03-01")
    # Reporting since 2025-06-01 (more than 90 days before now): six months.
    ow.offerings.set_reporting_since(t("2025-06-01"), sender=ow.w.issuer)
    assert ow.offerings.unlock_at(t("2027-03-01")) == t("2027-09-01")
    # Reporting, but for less than 90 days at the time of the resale (Rule 144(d)(1)(i)): one year.
    ow.offerings.set_reporting_since(t("2025-10-04"), sender=ow.w.issuer)
    assert ow.w.chain.timestamp() < t("2026-01-02")
    assert ow.offerings.unlock_at(t("2027-03-01")) == t("2028-03-01")


# ---------------------------------------------------------------- lots carry their status


def test_rule_144_reporting_issuer_unlocks_six_calendar_months_on(ow: OfferingWorld) -> None:
    w = ow.w
    ow.offerings.set_reporting_since(t("2025-06-01"), sender=w.issuer)
    oid = ow.open(Exemption.REG_D_506C, "2026-03-01", "2026-03-31")
    w.at(t("2026-03-01"))
    ow.issue(oid, w.w["us_acc"], 100)
    (lot,) = ow.offerings.lots_of(w.w["us_acc"])
    assert (lot.acquired_at, lot.unlock_at, lot.offering_id, lot.restricted) == (
        t("2026-03-01"),
        t("2026-09-01"),
        oid,
        True,
    )
    # 182 days would have freed them on 2026-08-30; six months run to 2026-09-01.
    w.at(t("2026-08-31T23:59:59"))
    ow.refused(w.w["us_acc"], w.w["us_na1"], 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2026-09-01"))
    # 506(c) governs the offering only: after the holding period a non-accredited US investor may buy.
    ow.moves(w.w["us_acc"], w.w["us_na1"], 1)


def test_rule_144_non_reporting_issuer_waits_a_year_across_a_leap_day(ow: OfferingWorld) -> None:
    w = ow.w
    oid = ow.open(Exemption.REG_D_506C, "2027-03-01", "2027-03-31")
    w.at(t("2027-03-01"))
    ow.issue(oid, w.w["us_acc"], 100)
    # 365 days would have freed them on 2028-02-29.
    w.at(t("2028-02-29T23:59:59"))
    ow.refused(w.w["us_acc"], w.w["us_na1"], 100, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2028-03-01"))
    ow.moves(w.w["us_acc"], w.w["us_na1"], 100)
    assert ow.token.locked_tokens(w.w["us_na1"]).locked == 0


def test_own_wallet_transfer_keeps_the_lot_and_its_date(ow: OfferingWorld) -> None:
    w = ow.w
    a, a2 = ow.investor(Jur.US, Cat.US_ACCREDITED, wallets=2)
    oid = ow.open(Exemption.REG_D_506C, "2027-03-01", "2027-03-31")
    w.at(t("2027-03-01"))
    ow.issue(oid, a, 100)
    # Rule 144(d)(3): a transfer between one holder's own accounts is no sale; the lot moves.
    w.at(t("2027-04-01"))
    ow.moves(a, a2, 60)
    (moved,) = ow.offerings.lots_of(a2)
    assert (moved.amount, moved.acquired_at, moved.unlock_at) == (60, t("2027-03-01"), t("2028-03-01"))
    assert ow.offerings.lots_of(a)[0].amount == 40
    w.at(t("2028-02-29T23:59:59"))
    ow.refused(a2, w.w["us_na1"], 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2028-03-01"))
    ow.moves(a2, w.w["us_na1"], 60)


def test_free_units_moved_or_sold_start_no_new_lock(ow: OfferingWorld) -> None:
    w = ow.w
    a, a2 = ow.investor(Jur.US, Cat.US_ACCREDITED, wallets=2)
    oid = ow.open(Exemption.REG_D_506C, "2027-03-01", "2027-03-31")
    w.at(t("2027-03-01"))
    ow.issue(oid, a, 100)
    w.at(t("2028-03-01"))
    ow.moves(a, a2, 50)  # to an own wallet
    ow.moves(a, w.w["us_acc"], 50)  # sold
    # Both resell at once: no lot was made on acquisition.
    ow.moves(a2, w.w["us_na1"], 50)
    ow.moves(w.w["us_acc"], w.w["us_na2"], 50)
    assert ow.offerings.lots_of(w.w["us_na2"]) == []


def test_forced_transfer_of_locked_units_keeps_them_locked_at_the_receiver(ow: OfferingWorld) -> None:
    w = ow.w
    oid = ow.open(Exemption.REG_D_506C, "2027-03-01", "2027-03-31")
    w.at(t("2027-03-01"))
    ow.issue(oid, w.w["us_acc"], 100)
    w.at(t("2027-05-10"))
    ow.token.forced_transfer(w.w["us_acc"], w.w["us_na1"], 100, sender=w.issuer)
    # Rule 144(a)(3): restricted securities stay restricted in the receiver's hands.
    (lot,) = ow.offerings.lots_of(w.w["us_na1"])
    assert (lot.amount, lot.acquired_at, lot.unlock_at) == (100, t("2027-03-01"), t("2028-03-01"))
    w.at(t("2027-05-11"))
    ow.refused(w.w["us_na1"], w.w["us_na2"], 1, "LOCKUP_ACTIVE", "LockupActive")
    # The last locked second: a year from the acquisition from the issuer, not from the forced transfer.
    w.at(t("2028-02-29T23:59:59"))
    ow.refused(w.w["us_na1"], w.w["us_na2"], 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2028-03-01"))
    ow.moves(w.w["us_na1"], w.w["us_na2"], 100)


def test_144a_resale_to_a_qib_and_904_offshore_resale_during_the_holding_period(ow: OfferingWorld) -> None:
    w = ow.w
    oid = ow.open(Exemption.REG_D_506C, "2027-03-01", "2027-03-31")
    w.at(t("2027-03-01"))
    ow.issue(oid, w.w["us_acc"], 100)
    w.at(t("2027-04-01"))
    # The ERC-1404 pre-check asks the offering registry too: locked for a US non-QIB, free for a QIB.
    assert ow.token.detect_transfer_restriction(w.w["us_acc"], w.w["us_na1"], 10) == RULES_BY_NAME["LOCKUP_ACTIVE"].code
    assert ow.token.detect_transfer_restriction(w.w["us_acc"], w.w["us_qib"], 10) == 0
    assert ow.token.locked_tokens(w.w["us_acc"]).locked == 100
    ow.refused(w.w["us_acc"], w.w["us_na1"], 10, "LOCKUP_ACTIVE", "LockupActive")
    # Rule 144A: a resale to a QIB during the holding period; the QIB holds restricted units.
    receipt = ow.token.transfer(w.w["us_qib"], 40, sender=w.w["us_acc"])
    (moved,) = ow.offerings.events(receipt, "LotMoved")
    assert ow.offerings.lots_of(w.w["us_qib"])[0].acquired_at == t("2027-03-01")
    assert moved is not None
    ow.refused(w.w["us_qib"], w.w["us_na1"], 1, "LOCKUP_ACTIVE", "LockupActive")
    # Rule 904: an offshore resale to a non-US person.
    ow.moves(w.w["us_acc"], w.w["uk1"], 30)
    assert ow.offerings.lots_of(w.w["uk1"])[0].amount == 30
    # The QIB's units unlock with the seller's lot: still locked at its last second.
    w.at(t("2028-02-29T23:59:59"))
    ow.refused(w.w["us_qib"], w.w["us_na1"], 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2028-03-01"))
    ow.moves(w.w["us_qib"], w.w["us_na1"], 40)


def test_a_uk_bank_qib_takes_a_144a_resale_in_the_holding_period_and_a_uk_us_person_does_not(
    ow: OfferingWorld,
) -> None:
    """Rule 144A reads the QIB flag, not the jurisdiction: a GB-supervised bank that is a QIB takes
    locked units during the holding period; a GB-supervised US person that is no QIB may not (a non-US
    person could, offshore under Rule 904, whatever its supervisor)."""
    w = ow.w
    bank, branch = uk_bank_qib(ow), uk_supervised_us_person(ow)
    oid = ow.open(Exemption.REG_D_506C, "2027-03-01", "2027-03-31")
    w.at(t("2027-03-01"))
    ow.issue(oid, w.w["us_acc"], 100)
    w.at(t("2027-04-01"))
    lockup = RULES_BY_NAME["LOCKUP_ACTIVE"].code
    assert ow.token.detect_transfer_restriction(w.w["us_acc"], bank, 40) == 0
    assert ow.token.detect_transfer_restriction(w.w["us_acc"], branch, 1) == lockup
    ow.refused(w.w["us_acc"], branch, 1, "LOCKUP_ACTIVE", "LockupActive")
    ow.moves(w.w["us_acc"], bank, 40)
    (lot,) = ow.offerings.lots_of(bank)
    assert (lot.amount, lot.acquired_at, lot.unlock_at, lot.restricted) == (40, t("2027-03-01"), t("2028-03-01"), True)
    # The bank holds restricted units: it may not pass them to a non-QIB US person in the period.
    ow.refused(bank, branch, 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2028-02-29T23:59:59"))
    ow.refused(bank, branch, 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2028-03-01"))
    ow.moves(bank, branch, 40)
    ow.moves(w.w["us_acc"], branch, 60)


def test_recovery_and_burn_carry_the_lots(ow: OfferingWorld) -> None:
    w = ow.w
    a, a2 = ow.investor(Jur.US, Cat.US_ACCREDITED, wallets=2)
    oid = ow.open(Exemption.REG_D_506C, "2027-03-01", "2027-03-31")
    w.at(t("2027-03-01"))
    ow.issue(oid, a, 100)
    ow.token.recovery_address(a, a2, a, sender=w.issuer)
    assert [lot.amount for lot in ow.offerings.lots_of(a2)] == [100]
    assert ow.offerings.lots_of(a) == []
    ow.token.burn(a2, 30, sender=w.issuer)
    assert [lot.amount for lot in ow.offerings.lots_of(a2)] == [70]
    assert ow.token.locked_tokens(a2).locked == 70


def test_the_oldest_lot_unlocks_first_and_the_refusal_names_the_next_unlock(ow: OfferingWorld) -> None:
    """Two lots of one holder, issued a month apart by a reporting issuer (6 calendar months each):
    the older unlocks first (on the leap day, its month end clamped), part of it moves, and each
    refusal says how many units are free and when the next lot unlocks; the ERC-1404 view and
    `lockedTokens` agree. (Ported from the token's retired seconds-based holding period.)"""
    w = ow.w
    holder, buyer = w.w["us_acc"], w.w["us_na1"]
    ow.offerings.set_reporting_since(t("2025-06-01"), sender=w.issuer)
    oid = ow.open(Exemption.REG_D_506C, "2027-08-02", "2027-10-01")
    first, second = t("2028-02-29T15:00:00"), t("2028-03-30T15:00:00")
    w.at(t("2027-08-31T15:00:00"))
    ow.issue(oid, holder, 100)
    w.at(t("2027-09-30T15:00:00"))
    ow.issue(oid, holder, 100)
    assert [lot.unlock_at for lot in ow.offerings.lots_of(holder)] == [first, second]
    assert ow.token.locked_tokens(holder) == LockedTokens(locked=200, next_unlock_at=first)
    lockup = RULES_BY_NAME["LOCKUP_ACTIVE"].code
    w.at(first - 1)  # the last locked second of the older lot
    assert ow.token.detect_transfer_restriction(holder, buyer, 1) == lockup
    exc = reverts(
        lambda: ow.token.transfer(buyer, 1, sender=holder), "LockupActive", amount=1, unlocked=0, nextUnlockAt=first
    )
    assert exc.rule_name == "LOCKUP_ACTIVE"
    w.at(first)  # the older lot unlocks; 60 of it go, then the 41st unit beyond its 40 is refused
    ow.moves(holder, buyer, 60)
    assert ow.token.locked_tokens(holder) == LockedTokens(locked=100, next_unlock_at=second)
    assert ow.token.detect_transfer_restriction(holder, buyer, 41) == lockup
    reverts(
        lambda: ow.token.transfer(buyer, 41, sender=holder),
        "LockupActive",
        amount=41,
        unlocked=40,
        nextUnlockAt=second,
    )
    ow.moves(holder, buyer, 40)
    w.at(second - 1)
    reverts(lambda: ow.token.transfer(buyer, 1, sender=holder), "LockupActive", unlocked=0, nextUnlockAt=second)
    w.at(second)
    ow.moves(holder, buyer, 100)
    assert ow.token.locked_tokens(holder) == LockedTokens(0, 0)


# ---------------------------------------------------------------- issuance happens in an offering


def test_mint_outside_an_offering_is_refused(ow: OfferingWorld) -> None:
    exc = reverts(lambda: ow.token.mint(ow.w.w["uk1"], 1, sender=ow.w.issuer), "IssuanceOutsideOffering")
    assert exc.rule_name == "ISSUANCE_OUTSIDE_OFFERING"
    assert ow.token.total_supply() == 0


def test_issuer_sells_only_between_first_offer_and_closing(ow: OfferingWorld) -> None:
    w = ow.w
    oid = ow.open(Exemption.UK_PUBLIC_OFFER, "2027-02-01", "2027-02-28T17:00:00")
    w.at(t("2027-01-31T23:59:59"))
    reverts(lambda: ow.issue(oid, w.w["uk_retail"], 1), "OfferingNotOpen")
    w.at(t("2027-02-01"))
    ow.issue(oid, w.w["uk_retail"], 1)
    w.at(t("2027-02-28T17:00:00"))
    ow.issue(oid, w.w["uk_retail"], 1)
    w.at(t("2027-02-28T17:00:01"))
    exc = reverts(lambda: ow.issue(oid, w.w["uk_retail"], 1), "OfferingNotOpen")
    assert exc.rule_name == "OFFERING_NOT_OPEN"
    assert ow.token.balance_of(w.w["uk_retail"]) == 2
    # A UK public offer makes no lot: the units are free at once.
    assert ow.offerings.lots_of(w.w["uk_retail"]) == []


def test_who_may_buy_follows_the_offerings_exemption(ow: OfferingWorld) -> None:
    w = ow.w
    c = ow.open(Exemption.REG_D_506C, "2027-02-01", "2027-03-01")
    a = ow.open(Exemption.RULE_144A, "2027-02-01", "2027-03-01")
    p = ow.open(Exemption.UK_PROFESSIONAL_PLACEMENT, "2027-02-01", "2027-03-01")
    w.at(t("2027-02-02"))
    code = RULES_BY_NAME["OFFERING_PURCHASER_NOT_ELIGIBLE"].code
    assert ow.offerings.detect_issuance_restriction(c, w.w["us_na1"], 1) == code
    exc = reverts(lambda: ow.issue(c, w.w["us_na1"], 1), "OfferingPurchaserNotAccredited")
    assert exc.rule_code == code
    reverts(lambda: ow.issue(a, w.w["us_acc"], 1), "OfferingPurchaserNotQib")
    reverts(lambda: ow.issue(p, w.w["uk_retail"], 1), "OfferingPurchaserNotProfessional")
    ow.issue(c, w.w["us_acc"], 1)
    ow.issue(a, w.w["us_qib"], 1)
    ow.issue(p, w.w["uk1"], 1)
    assert ow.token.total_supply() == 3


def test_uk_professional_placement_sells_to_cobs_3_professional_clients_and_ecps_only(ow: OfferingWorld) -> None:
    """A UK professional-only placement (FCA COBS 4.12A) sells to investors the FCA's COBS 3 puts in
    its professional-client or eligible-counterparty categories, from first offer to closing; not to
    UK retail clients, and not to investors categorised only under US rules (a US accredited investor
    or QIB), whom no UK firm has categorised."""
    w = ow.w
    p = ow.open(Exemption.UK_PROFESSIONAL_PLACEMENT, "2027-03-01", "2027-03-31T17:00:00")
    code = RULES_BY_NAME["OFFERING_PURCHASER_NOT_ELIGIBLE"].code
    w.at(t("2027-03-01"))
    ow.issue(p, w.w["uk1"], 10)  # professional client (COBS 3.5), at the first second of the offering
    for outsider in ("us_acc", "us_qib", "uk_retail", "us_na1"):
        assert ow.offerings.detect_issuance_restriction(p, w.w[outsider], 1) == code
        exc = reverts(lambda who=outsider: ow.issue(p, w.w[who], 1), "OfferingPurchaserNotProfessional")
        assert exc.rule_name == "OFFERING_PURCHASER_NOT_ELIGIBLE"
        assert exc.rule_message is not None and "eligible counterparties" in exc.rule_message
    assert ow.offerings.detect_issuance_restriction(p, w.w["uk2"], 1) == 0
    w.at(t("2027-03-31T17:00:00"))
    ow.issue(p, w.w["uk2"], 10)  # eligible counterparty (COBS 3.6), at the last second of the offering
    assert ow.token.total_supply() == 20
    assert ow.offerings.offering(p).purchasers == 2


def test_a_uk_bank_qib_buys_in_a_144a_offering_and_a_uk_professional_does_not(ow: OfferingWorld) -> None:
    """A Rule 144A offering sells to QIBs of any jurisdiction: a GB-supervised bank that is a QIB buys
    on the offering's first second; a UK professional client that is no QIB is refused to its last."""
    w = ow.w
    bank = uk_bank_qib(ow)
    a = ow.open(Exemption.RULE_144A, "2027-02-01", "2027-03-01T17:00:00")
    code = RULES_BY_NAME["OFFERING_PURCHASER_NOT_ELIGIBLE"].code
    w.at(t("2027-02-01"))
    ow.issue(a, bank, 10)
    assert ow.offerings.detect_issuance_restriction(a, bank, 10) == 0
    assert ow.offerings.detect_issuance_restriction(a, w.w["uk1"], 1) == code
    w.at(t("2027-02-15"))
    exc = reverts(lambda: ow.issue(a, w.w["uk1"], 1), "OfferingPurchaserNotQib")
    assert exc.rule_name == "OFFERING_PURCHASER_NOT_ELIGIBLE" and exc.rule_code == code
    w.at(t("2027-03-01T16:59:59"))
    reverts(lambda: ow.issue(a, w.w["uk1"], 1), "OfferingPurchaserNotQib")
    w.at(t("2027-03-01T17:00:00"))
    ow.issue(a, bank, 5)
    assert (ow.token.balance_of(bank), ow.token.balance_of(w.w["uk1"])) == (15, 0)
    assert ow.offerings.offering(a).purchasers == 1


# ---------------------------------------------------------------- Regulation S


def test_reg_s_period_starts_at_the_later_of_first_offer_and_closing(ow: OfferingWorld) -> None:
    w = ow.w
    # Category 3 equity of a non-reporting issuer: one year from closing (2027-02-01), not from the
    # first offer (2027-01-04) nor from when the token's terms were written.
    oid = ow.open(Exemption.REG_S_CATEGORY_3, "2027-01-04", "2027-02-01")
    assert ow.offerings.offering(oid).period_ends_at == t("2028-02-01")
    w.at(t("2027-01-10"))
    ow.issue(oid, w.w["uk1"], 100)
    ow.moves(w.w["uk1"], w.w["uk2"], 10)  # offshore to a non-US person: allowed, the lot goes along
    assert ow.offerings.lots_of(w.w["uk2"])[0].reg_s_until == t("2028-02-01")
    w.at(t("2028-01-31T23:59:59"))
    ow.refused(w.w["uk1"], w.w["us_acc"], 1, "REG_S_DISTRIBUTION_COMPLIANCE", "RegSDistributionCompliancePeriod")
    w.at(t("2028-02-01"))
    ow.moves(w.w["uk1"], w.w["us_acc"], 90)


def test_reg_s_tap_gets_its_own_distribution_compliance_period(ow: OfferingWorld) -> None:
    w = ow.w
    first = ow.open(Exemption.REG_S_CATEGORY_2, "2027-01-04", "2027-01-04")
    tap = ow.open(Exemption.REG_S_CATEGORY_2, "2027-03-01", "2027-03-05")
    assert ow.offerings.offering(first).period_ends_at == t("2027-02-13")
    assert ow.offerings.offering(tap).period_ends_at == t("2027-04-14")
    w.at(t("2027-01-04"))
    ow.issue(first, w.w["uk1"], 100)
    w.at(t("2027-03-05"))
    ow.issue(tap, w.w["uk1"], 50)
    w.at(t("2027-03-10"))
    # The first tranche's period is over: its 100 units may go to a US person ...
    ow.moves(w.w["uk1"], w.w["us_acc"], 100)
    # ... the tap's 50 may not (flowback), until its own period ends.
    w.at(t("2027-04-13T23:59:59"))
    ow.refused(w.w["uk1"], w.w["us_acc"], 1, "REG_S_DISTRIBUTION_COMPLIANCE", "RegSDistributionCompliancePeriod")
    w.at(t("2027-04-14"))
    ow.moves(w.w["uk1"], w.w["us_acc"], 50)


def test_reg_s_refusal_names_the_end_of_the_lots_period(ow: OfferingWorld) -> None:
    """The refusal of a Regulation S lot to a US person carries its tranche's period end and the moment
    checked, to the last second of the period; the view pre-check agrees, and non-US persons are not
    affected. (Ported from the token's retired token-wide Reg S period.)"""
    w = ow.w
    oid = ow.open(Exemption.REG_S_CATEGORY_2, "2027-01-04", "2027-01-29")
    end = t("2027-03-10")  # 40 days from the closing, 2027-01-29
    assert ow.offerings.offering(oid).period_ends_at == end
    w.at(t("2027-01-28T12:00:00"))
    ow.issue(oid, w.w["uk1"], 100)
    regs = RULES_BY_NAME["REG_S_DISTRIBUTION_COMPLIANCE"].code
    ow.moves(w.w["uk1"], w.w["uk2"], 10)  # offshore, to a non-US person
    w.at(end - 1)
    assert ow.token.detect_transfer_restriction(w.w["uk1"], w.w["us_acc"], 1) == regs
    exc = reverts(
        lambda: ow.token.transfer(w.w["us_acc"], 1, sender=w.w["uk1"]),
        "RegSDistributionCompliancePeriod",
        wallet=w.w["us_acc"],
        periodEndsAt=end,
        checkedAt=end - 1,
    )
    assert exc.rule_code == regs
    w.at(end)
    ow.moves(w.w["uk1"], w.w["us_acc"], 90)
    assert ow.token.detect_transfer_restriction(w.w["uk2"], w.w["us_acc"], 10) == 0


def test_issuer_never_sells_reg_s_units_to_a_us_person(ow: OfferingWorld) -> None:
    w = ow.w
    oid = ow.open(Exemption.REG_S_CATEGORY_1, "2027-01-04", "2027-01-31")
    w.at(t("2027-01-05"))
    exc = reverts(lambda: ow.issue(oid, w.w["us_acc"], 1), "OfferingPurchaserUsPerson")
    assert exc.rule_name == "REG_S_DISTRIBUTION_COMPLIANCE"
    assert ow.token.balance_of(w.w["us_acc"]) == 0
    # Category 1 has no distribution compliance period: the offshore buyer resells to a US person.
    ow.issue(oid, w.w["uk1"], 5)
    ow.moves(w.w["uk1"], w.w["us_acc"], 5)


def test_reg_s_reads_us_person_status_not_the_supervising_jurisdiction(ow: OfferingWorld) -> None:
    """Regulation S (Rule 902(k)): a US person supervised from the UK may not buy in the offering nor
    take units in the distribution compliance period; a non-US person supervised in the US (a London
    resident, client of a US firm) is offshore and may do both."""
    w = ow.w
    branch = uk_supervised_us_person(ow)
    kyc = t("2036-01-01")
    offshore = InvestorAttributes(HolderType.NATURAL_PERSON, us_person=False, accredited_until=kyc)
    (londoner,) = ow.investor(Jur.US, Cat.US_ACCREDITED, attributes=offshore)
    record = w.registry.wallet_record(londoner)
    assert record.jurisdiction == Jur.US and not record.us_person
    # Category 3 equity of a non-reporting issuer: the period ends a year from closing, 2028-02-01.
    oid = ow.open(Exemption.REG_S_CATEGORY_3, "2027-01-04", "2027-02-01")
    assert ow.offerings.offering(oid).period_ends_at == t("2028-02-01")
    regs = RULES_BY_NAME["REG_S_DISTRIBUTION_COMPLIANCE"].code
    w.at(t("2027-01-10"))
    assert ow.offerings.detect_issuance_restriction(oid, branch, 1) == regs
    exc = reverts(lambda: ow.issue(oid, branch, 1), "OfferingPurchaserUsPerson")
    assert exc.rule_name == "REG_S_DISTRIBUTION_COMPLIANCE"
    assert ow.offerings.detect_issuance_restriction(oid, londoner, 10) == 0
    ow.issue(oid, londoner, 10)
    ow.issue(oid, w.w["uk1"], 100)
    assert ow.token.balance_of(branch) == 0
    # In the period: no resale to the UK-supervised US person; the US-supervised non-US person takes units.
    w.at(t("2027-06-01"))
    ow.moves(w.w["uk1"], londoner, 20)
    assert ow.token.detect_transfer_restriction(w.w["uk1"], branch, 1) == regs
    assert ow.token.detect_transfer_restriction(w.w["uk1"], londoner, 1) == 0
    w.at(t("2027-06-02"))
    ow.refused(londoner, branch, 1, "REG_S_DISTRIBUTION_COMPLIANCE", "RegSDistributionCompliancePeriod")
    w.at(t("2028-01-31T23:59:59"))
    ow.refused(w.w["uk1"], branch, 1, "REG_S_DISTRIBUTION_COMPLIANCE", "RegSDistributionCompliancePeriod")
    w.at(t("2028-02-01"))
    ow.moves(w.w["uk1"], branch, 80)
    ow.moves(londoner, branch, 30)


# ---------------------------------------------------------------- Rule 506(b)


def _fill_35(ow: OfferingWorld, oid: int) -> list[str]:
    buyers = [ow.investor(Jur.US, Cat.US_NON_ACCREDITED, sends=i < 3)[0] for i in range(35)]
    for buyer in buyers:
        ow.issue(oid, buyer, 10)
    return buyers


def test_506b_counts_non_accredited_purchasers_not_holders(ow: OfferingWorld) -> None:
    w = ow.w
    oid = ow.open(Exemption.REG_D_506B, "2027-01-04", "2028-06-30")
    w.at(t("2027-01-04"))
    buyers = _fill_35(ow, oid)
    assert ow.offerings.offering(oid).non_accredited_purchasers == 35
    # One purchaser resells to a QIB (Rule 144A): it is no longer a holder, but it was a purchaser.
    ow.moves(buyers[0], w.w["us_qib"], 10)
    assert ow.token.balance_of(buyers[0]) == 0
    newcomer = ow.investor(Jur.US, Cat.US_NON_ACCREDITED, sends=False)[0]
    exc = reverts(
        lambda: ow.issue(oid, newcomer, 1), "NonAccreditedPurchaserLimitReached", purchasersAfter=36, limit=35
    )
    assert exc.rule_name == "NON_ACCREDITED_PURCHASER_LIMIT"
    # A purchaser already counted buys again; accredited purchasers are not limited.
    ow.issue(oid, buyers[1], 5)
    ow.issue(oid, w.w["us_acc"], 5)
    assert ow.offerings.offering(oid).purchasers == 36
    # The cap limits the issuer's sales only: once the holding period is over (the 35 bought on
    # 2027-01-04, one transaction a second), a purchaser resells to a 36th non-accredited investor.
    w.at(t("2028-01-05"))
    ow.moves(buyers[2], newcomer, 10)


def test_506b_offerings_within_90_days_share_the_35(ow: OfferingWorld) -> None:
    w = ow.w
    first = ow.open(Exemption.REG_D_506B, "2027-01-04", "2027-12-31")
    w.at(t("2027-01-04"))
    _fill_35(ow, first)
    # Rule 152(b)(1): first offered 90 days after the first offering: integrated.
    within = ow.open(Exemption.REG_D_506B, "2027-04-04", "2027-12-31")
    # 90 days and one second after: a separate offering with its own 35.
    beyond = ow.open(Exemption.REG_D_506B, "2027-04-04T00:00:01", "2027-12-31")
    w.at(t("2027-04-05"))
    newcomer = ow.investor(Jur.US, Cat.US_NON_ACCREDITED, sends=False)[0]
    assert ow.offerings.non_accredited_purchasers_counted(within) == 35
    reverts(lambda: ow.issue(within, newcomer, 1), "NonAccreditedPurchaserLimitReached", purchasersAfter=36)
    assert ow.offerings.non_accredited_purchasers_counted(beyond) == 0
    ow.issue(beyond, newcomer, 1)


def test_506b_purchaser_in_two_integrated_offerings_counts_once(ow: OfferingWorld) -> None:
    """Rule 152(b)(1) integrates 506(b) offerings within 90 days for the 35 non-accredited purchasers
    of Rule 506(b)(2)(i): a person who buys in both is one purchaser, not two."""
    w = ow.w
    first = ow.open(Exemption.REG_D_506B, "2027-01-04", "2027-12-31")
    w.at(t("2027-01-04"))
    buyers = [ow.investor(Jur.US, Cat.US_NON_ACCREDITED, sends=False)[0] for _ in range(34)]
    for buyer in buyers:
        ow.issue(first, buyer, 10)
    # First offered 90 days after the first offering (2027-04-04 00:00:00): integrated with it.
    second = ow.open(Exemption.REG_D_506B, "2027-04-04", "2027-12-31")
    w.at(t("2027-04-04"))
    ow.issue(second, buyers[0], 5)  # already one of the 34
    assert ow.offerings.offering(second).non_accredited_purchasers == 1  # the offering's own ledger
    assert ow.offerings.non_accredited_purchasers_counted(second) == 34
    assert ow.offerings.non_accredited_purchasers_counted(first) == 34
    # So the 35th distinct purchaser may still buy, in either offering; a 36th may not.
    newcomer, extra = (ow.investor(Jur.US, Cat.US_NON_ACCREDITED, sends=False)[0] for _ in range(2))
    ow.issue(second, newcomer, 1)
    assert ow.offerings.non_accredited_purchasers_counted(first) == 35
    ow.issue(first, newcomer, 1)  # the same person again: still 35
    assert ow.offerings.non_accredited_purchasers_counted(second) == 35
    exc = reverts(
        lambda: ow.issue(second, extra, 1), "NonAccreditedPurchaserLimitReached", purchasersAfter=36, limit=35
    )
    assert exc.rule_name == "NON_ACCREDITED_PURCHASER_LIMIT"
    code = RULES_BY_NAME["NON_ACCREDITED_PURCHASER_LIMIT"].code
    assert ow.offerings.detect_issuance_restriction(first, extra, 1) == code
    assert ow.offerings.detect_issuance_restriction(second, buyers[1], 1) == 0
    # First offered one second later (2027-04-04 00:00:01): not integrated with the first offering,
    # only with the second, whose two non-accredited purchasers it counts.
    third = ow.open(Exemption.REG_D_506B, "2027-04-04T00:00:01", "2027-12-31")
    assert ow.offerings.non_accredited_purchasers_counted(third) == 2
    w.at(t("2027-04-05"))
    ow.issue(third, extra, 1)
    assert ow.offerings.non_accredited_purchasers_counted(third) == 3


def test_rule_905_reg_s_equity_of_a_domestic_issuer_is_restricted(ow: OfferingWorld) -> None:
    """17 CFR 230.905: equity securities of a domestic issuer sold under Regulation S are restricted
    securities (Rule 144 holding period), and stay restricted after an offshore resale under Rule 904.
    The sandbox takes a security whose home is the US to be a domestic issuer's; a UK issuer's Reg S
    equity is not restricted by Rule 905."""
    w = ow.w
    token = w.deploy_token(
        Terms(us_min_category=int(Cat.US_NON_ACCREDITED), uk_min_category=int(Cat.UK_RETAIL)), home=Jur.US
    )
    token.approve_issuance(ISSUANCE_LIMIT, sender=w.sec)
    us = OfferingRegistry.deploy(w.chain, token=token, registry=w.registry.address, sender=w.issuer)
    us.attach(admin=w.issuer)
    # A reporting issuer (since 2025-06-01): Category 3 equity's period is six months from closing.
    us.set_reporting_since(t("2025-06-01"), sender=w.issuer)
    ow.offerings.set_reporting_since(t("2025-06-01"), sender=w.issuer)
    terms = OfferingTerms(Exemption.REG_S_CATEGORY_3, t("2027-01-04"), t("2027-02-01"), True)
    domestic = us.open_offering(terms, sender=w.issuer)
    foreign = ow.open(Exemption.REG_S_CATEGORY_3, "2027-01-04", "2027-02-01")
    assert us.offering(domestic).restricted and not ow.offerings.offering(foreign).restricted
    assert us.offering(domestic).period_ends_at == t("2027-08-01")
    w.at(t("2027-01-04"))
    us.issue(domestic, w.w["uk1"], 100, sender=w.issuer)
    ow.issue(foreign, w.w["uk1"], 100)
    (lot,) = us.lots_of(w.w["uk1"])
    assert (lot.acquired_at, lot.unlock_at, lot.reg_s_until, lot.restricted) == (
        t("2027-01-04"),
        t("2027-07-04"),
        t("2027-08-01"),
        True,
    )
    assert ow.offerings.lots_of(w.w["uk1"])[0].unlock_at == 0
    # An offshore resale (Rule 904) to a non-US person: allowed; the units stay restricted there.
    w.at(t("2027-03-01"))
    token.transfer(w.w["uk2"], 40, sender=w.w["uk1"])
    (moved,) = us.lots_of(w.w["uk2"])
    assert (moved.amount, moved.acquired_at, moved.restricted) == (40, t("2027-01-04"), True)
    # The issuer stops reporting (Form 15): the holding period is a year again (Rule 144(d)(1)(ii)),
    # so after the distribution compliance period the units still may not go to a US person.
    us.set_reporting_since(0, sender=w.issuer)
    w.at(t("2027-08-01"))
    exc = reverts(lambda: token.transfer(w.w["us_na1"], 1, sender=w.w["uk2"]), "LockupActive")
    assert exc.rule_name == "LOCKUP_ACTIVE"
    token.transfer(w.w["us_qib"], 1, sender=w.w["uk2"])  # Rule 144A: to a QIB during the holding period
    w.at(t("2028-01-03T23:59:59"))
    reverts(lambda: token.transfer(w.w["us_na1"], 1, sender=w.w["uk2"]), "LockupActive")
    w.at(t("2028-01-04"))
    token.transfer(w.w["us_na1"], 39, sender=w.w["uk2"])
    assert token.balance_of(w.w["us_na1"]) == 39
    # The UK issuer's units, never restricted, go to a US person once their period ends.
    assert ow.offerings.offering(foreign).period_ends_at == t("2027-08-01")
    ow.moves(w.w["uk1"], w.w["us_na1"], 100)


def test_split_multiplies_the_lots_and_keeps_their_dates(ow: OfferingWorld) -> None:
    """A 3-for-1 split of a security issuing in offerings: each lot's units are multiplied and keep
    their acquisition date (Rule 144(d)(3)(i): securities acquired in a split are acquired when the
    split securities were), so exactly the split restricted units stay locked to the same day."""
    w = ow.w
    ow.offerings.set_reporting_since(t("2025-06-01"), sender=w.issuer)
    restricted = ow.open(Exemption.REG_D_506C, "2027-03-01", "2027-03-31")
    public = ow.open(Exemption.UK_PUBLIC_OFFER, "2027-03-01", "2027-03-31")
    w.at(t("2027-03-01"))
    ow.issue(restricted, w.w["us_acc"], 100)
    ow.issue(public, w.w["us_acc"], 50)  # free units
    w.at(t("2027-05-03"))
    ow.token.start_split(3, sender=w.issuer)
    (lot_split,) = ow.offerings.events(ow.token.split_batch([w.w["us_acc"]], sender=w.issuer), "LotSplit")
    assert lot_split.args == {"wallet": w.w["us_acc"], "offeringId": restricted, "before": 100, "after_": 300}
    assert not ow.token.split_in_progress().in_progress
    assert ow.token.balance_of(w.w["us_acc"]) == 450
    (lot,) = ow.offerings.lots_of(w.w["us_acc"])
    assert (lot.amount, lot.acquired_at, lot.unlock_at) == (300, t("2027-03-01"), t("2027-09-01"))
    # 150 free units may go; the 151st is one of the 300 restricted ones.
    w.at(t("2027-08-02"))
    ow.refused(w.w["us_acc"], w.w["us_na1"], 151, "LOCKUP_ACTIVE", "LockupActive")
    ow.moves(w.w["us_acc"], w.w["us_na1"], 150)
    w.at(t("2027-08-31T23:59:59"))
    ow.refused(w.w["us_acc"], w.w["us_na1"], 1, "LOCKUP_ACTIVE", "LockupActive")
    w.at(t("2027-09-01"))
    ow.moves(w.w["us_acc"], w.w["us_na1"], 300)


def test_506b_35_holds_per_group_of_offerings_within_90_days_of_each_other(ow: OfferingWorld) -> None:
    """Rule 152(b)(1) limits the non-accredited purchasers of 506(b) offerings within 90 days of each
    other: a middle offering is integrated with one 90 days before it and one 90 days after it, but
    those two, 180 days apart, are not integrated with each other, so each pair shares its own 35."""
    w = ow.w
    before = ow.open(Exemption.REG_D_506B, "2027-01-04", "2027-01-31")
    middle = ow.open(Exemption.REG_D_506B, "2027-04-04", "2027-12-31")
    after = ow.open(Exemption.REG_D_506B, "2027-07-03", "2027-07-31")
    w.at(t("2027-01-04"))
    for _ in range(20):
        ow.issue(before, ow.investor(Jur.US, Cat.US_NON_ACCREDITED, sends=False)[0], 1)
    w.at(t("2027-07-03"))
    for _ in range(20):
        ow.issue(after, ow.investor(Jur.US, Cat.US_NON_ACCREDITED, sends=False)[0], 1)
    assert ow.offerings.non_accredited_purchasers_counted(middle) == 20
    # Fifteen purchasers in the middle offering bring each pair to 35 ...
    for _ in range(15):
        ow.issue(middle, ow.investor(Jur.US, Cat.US_NON_ACCREDITED, sends=False)[0], 1)
    assert ow.offerings.non_accredited_purchasers_counted(middle) == 35
    assert ow.offerings.non_accredited_purchasers_counted(before) == 35
    assert ow.offerings.non_accredited_purchasers_counted(after) == 35
    # ... and a sixteenth would make 36 in both.
    newcomer = ow.investor(Jur.US, Cat.US_NON_ACCREDITED, sends=False)[0]
    reverts(lambda: ow.issue(middle, newcomer, 1), "NonAccreditedPurchaserLimitReached", purchasersAfter=36)
