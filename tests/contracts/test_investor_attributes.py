"""Investor attributes the rules read, independent of the supervising jurisdiction: holder type (natural
person / entity), US person under Regulation S (Rule 902(k)), QIB status (Rule 144A(a)(1)) and the end of
the accredited-investor verification (Rule 501(a), Rule 506(c)(2)(ii))."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.contracts.events import InvestorAttributesSet
from sandbox.contracts.registry import InvestorAttributes
from sandbox.rules import HolderType, InvestorStatus, Jurisdiction
from sandbox.rules import InvestorCategory as Cat
from tests.contracts.conftest import DAY, INVESTORS, World
from tests.contracts.helpers import reverts


def _ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def _fresh(w: World, index: int = 15) -> str:
    return w.chain.accounts[index].address


def test_a_uk_bank_can_be_a_qib(w: World) -> None:
    # A UK bank supervised by the FCA, an eligible counterparty under COBS 3, is a QIB under Rule 144A
    # (a bank with $100m in securities and $25m net worth): the registry used to tie QIB to the US category.
    bank = _fresh(w)
    kyc = w.chain.timestamp() + 365 * DAY
    qib = InvestorAttributes(HolderType.ENTITY, us_person=False, qib=True, accredited_until=kyc)
    w.registry.register_investor(
        bank, bank, Jurisdiction.GB, Cat.UK_ELIGIBLE_COUNTERPARTY, kyc, attributes=qib, sender=w.operator
    )
    assert w.registry.attributes_of(bank) == qib
    record = w.registry.wallet_record(bank)
    assert record.jurisdiction == Jurisdiction.GB and record.category is Cat.UK_ELIGIBLE_COUNTERPARTY
    assert record.qib and record.holder_type is HolderType.ENTITY and not record.us_person


def test_us_person_is_a_reg_s_status_not_the_jurisdiction(w: World) -> None:
    # The US branch of a UK bank is supervised from the UK but is a US person (Rule 902(k)(1)(v)); a US
    # firm's client resident in London who is not a US citizen is supervised in the US but is not one.
    branch, londoner = _fresh(w, 15), _fresh(w, 16)
    kyc = w.chain.timestamp() + 365 * DAY
    w.registry.register_investor(
        branch,
        branch,
        Jurisdiction.GB,
        Cat.UK_PROFESSIONAL,
        kyc,
        attributes=InvestorAttributes(HolderType.ENTITY, us_person=True),
        sender=w.operator,
    )
    w.registry.register_investor(
        londoner,
        londoner,
        Jurisdiction.US,
        Cat.US_ACCREDITED,
        kyc,
        attributes=InvestorAttributes(HolderType.NATURAL_PERSON, us_person=False, accredited_until=kyc),
        sender=w.operator,
    )
    assert w.registry.wallet_record(branch).us_person and w.registry.wallet_record(branch).jurisdiction == 826
    assert not w.registry.wallet_record(londoner).us_person and w.registry.wallet_record(londoner).jurisdiction == 840


def test_accreditation_holds_to_the_last_second_of_its_verification(w: World) -> None:
    # Verified on 2026-12-01 for 90 days: accredited through 2027-02-28 23:59:59 (not a leap year), not after.
    investor = _fresh(w)
    until = _ts("2027-02-28T23:59:59")
    w.registry.register_investor(
        investor,
        investor,
        Jurisdiction.US,
        Cat.US_ACCREDITED,
        until + 365 * DAY,
        attributes=InvestorAttributes(HolderType.NATURAL_PERSON, us_person=True, accredited_until=until),
        sender=w.operator,
    )
    assert w.registry.is_accredited_at(investor, _ts("2027-02-28T23:59:59"))
    assert not w.registry.is_accredited_at(investor, _ts("2027-03-01T00:00:00"))
    assert not w.registry.is_accredited_at(_fresh(w, 16), _ts("2026-12-01T00:00:00"))  # not registered


def test_a_natural_person_is_never_a_qib_and_nothing_changes(w: World) -> None:
    fresh = _fresh(w)
    kyc = w.chain.timestamp() + 365 * DAY
    person_qib = InvestorAttributes(HolderType.NATURAL_PERSON, us_person=True, qib=True)
    reverts(
        lambda: w.registry.register_investor(
            fresh, fresh, Jurisdiction.US, Cat.US_ACCREDITED, kyc, attributes=person_qib, sender=w.operator
        ),
        "RegistryQibMustBeEntity",
        identity=fresh,
    )
    assert w.registry.investor(fresh).status is InvestorStatus.NONE
    before = w.registry.attributes_of(w.w["us_na1"])
    reverts(
        lambda: w.registry.set_investor_attributes(w.w["us_na1"], person_qib, sender=w.operator),
        "RegistryQibMustBeEntity",
    )
    assert w.registry.attributes_of(w.w["us_na1"]) == before


def test_investors_registered_without_attributes_get_them_derived(w: World) -> None:
    # What every scenario written before the attributes existed gets (the world registers without them).
    for key, (jurisdiction, category) in INVESTORS.items():
        record = w.registry.investor(w.w[key])
        assert record.attributes == InvestorAttributes.default_for(jurisdiction, category, record.kyc_valid_until)
    assert w.registry.attributes_of(w.w["uk_retail"]).holder_type is HolderType.NATURAL_PERSON
    assert w.registry.attributes_of(w.w["uk1"]).holder_type is HolderType.ENTITY
    assert w.registry.attributes_of(w.w["us_qib"]).qib and not w.registry.attributes_of(w.w["uk2"]).qib
    assert w.registry.attributes_of(w.w["us_na1"]).us_person and not w.registry.attributes_of(w.w["uk1"]).us_person
    us_acc = w.registry.investor(w.w["us_acc"])
    assert us_acc.attributes.accredited_until == us_acc.kyc_valid_until
    assert w.registry.attributes_of(w.w["us_na1"]).accredited_until == 0


def test_attributes_change_on_every_wallet_by_the_onboarding_agent_only(w: World) -> None:
    other_agent = _fresh(w, 13)
    w.registry.grant_role("ONBOARDING_AGENT_ROLE", other_agent, sender=w.operator)
    qib = InvestorAttributes(HolderType.ENTITY, us_person=False, qib=True)
    reverts(
        lambda: w.registry.set_investor_attributes(w.w["uk1"], qib, sender=other_agent),
        "RegistryOutsideAgentRemit",
    )
    assert not w.registry.wallet_record(w.w["uk1b"]).qib
    receipt = w.registry.set_investor_attributes(w.w["uk1"], qib, sender=w.operator)
    assert w.registry.wallet_record(w.w["uk1"]).qib and w.registry.wallet_record(w.w["uk1b"]).qib
    (event,) = w.registry.events(receipt, InvestorAttributesSet)
    assert (event.identity, event.qib, event.agent) == (w.w["uk1"], True, w.operator)
