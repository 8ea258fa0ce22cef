"""Sanctions screening on chain: a list per regime (OFSI's for the UK, OFAC's for the US) of designated
investors or wallets, kept by that regime's regulators only; a designated party can neither send nor
receive (SENDER_SANCTIONED / RECEIVER_SANCTIONED, sentences citing SAMLA 2018 and IEEPA / 31 CFR
Chapter V); every designation and removal is an event naming the regulator."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.contracts.events import SanctionsDesignationAdded, SanctionsDesignationRemoved
from sandbox.rules import InvestorStatus, SanctionsRegime
from tests.contracts.conftest import World
from tests.contracts.helpers import allowed, refused, reverts

OFSI, OFAC = SanctionsRegime.OFSI, SanctionsRegime.OFAC


def _at(w: World, when: str) -> None:
    w.at(int(datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp()))


def test_a_wallet_on_ofsis_list_can_neither_send_nor_receive(w: World) -> None:
    uk1, uk2 = w.w["uk1"], w.w["uk2"]
    _at(w, "2027-01-11T09:00:00")
    allowed(w.token, uk1, uk2, 10)
    _at(w, "2027-01-11T14:30:00")
    w.registry.designate(OFSI, uk2, sender=w.fca)
    assert w.registry.wallet_record(uk2).status is InvestorStatus.SANCTIONED
    assert w.registry.investor(uk2).status is InvestorStatus.ACTIVE  # the investor record is untouched
    refused(w.token, uk1, uk2, 10, "RECEIVER_SANCTIONED", "ReceiverSanctioned", wallet=uk2, investor=uk2)
    refused(w.token, uk2, uk1, 10, "SENDER_SANCTIONED", "SenderSanctioned", wallet=uk2, investor=uk2)
    message = w.token.message_for_transfer_restriction(0x27)
    assert "OFSI" in message and "Sanctions and Anti-Money Laundering Act 2018" in message and "OFAC" in message
    _at(w, "2027-02-01T09:00:00")
    w.registry.remove_designation(OFSI, uk2, sender=w.fca)
    assert w.registry.wallet_record(uk2).status is InvestorStatus.ACTIVE
    allowed(w.token, uk2, uk1, 10)


def test_an_investor_on_ofacs_list_is_barred_on_every_wallet_and_suspension_stays_apart(w: World) -> None:
    # OFAC designates a UK investor (the SDN list reaches any person): both its wallets are barred.
    uk1, uk1b, uk2 = w.w["uk1"], w.w["uk1b"], w.w["uk2"]
    w.registry.designate(OFAC, uk1, sender=w.sec)
    assert w.registry.is_sanctioned(uk1b) and w.registry.designations_of(uk1) == {OFAC}
    refused(w.token, uk2, uk1b, 1, "RECEIVER_SANCTIONED", "ReceiverSanctioned", wallet=uk1b, investor=uk1)
    # Meanwhile the FCA suspends it; lifting the designation leaves the suspension in force.
    w.registry.suspend_investor(uk1, sender=w.fca)
    refused(w.token, uk2, uk1, 1, "RECEIVER_SANCTIONED", "ReceiverSanctioned")
    w.registry.remove_designation(OFAC, uk1, sender=w.sec)
    refused(w.token, uk2, uk1, 1, "RECEIVER_SUSPENDED", "ReceiverSuspended")
    w.registry.reinstate_investor(uk1, sender=w.fca)
    allowed(w.token, uk2, uk1b, 1)


def test_a_wallet_designated_before_it_is_linked_is_barred_once_linked(w: World) -> None:
    stranger, uk2 = w.chain.accounts[16].address, w.w["uk2"]
    w.registry.designate(OFSI, stranger, sender=w.fca)
    assert w.registry.wallet_record(stranger).identity is None
    w.registry.add_wallet(uk2, stranger, sender=w.operator)
    assert w.registry.wallet_record(stranger).status is InvestorStatus.SANCTIONED
    assert w.registry.wallet_record(uk2).status is InvestorStatus.ACTIVE  # the investor's other wallet is not
    refused(w.token, w.w["uk1"], stranger, 1, "RECEIVER_SANCTIONED", "ReceiverSanctioned")
    allowed(w.token, w.w["uk1"], uk2, 1)


def test_issuance_and_forced_transfers_to_a_designated_party_are_refused(w: World) -> None:
    uk2 = w.w["uk2"]
    w.registry.designate(OFSI, uk2, sender=w.fca)
    reverts(lambda: w.token.mint(uk2, 1, sender=w.issuer), "ReceiverSanctioned", wallet=uk2)
    reverts(lambda: w.token.forced_transfer(w.w["uk1"], uk2, 1, sender=w.issuer), "ReceiverSanctioned")


def test_each_list_is_kept_by_its_own_regulators_only(w: World) -> None:
    uk2, us_acc = w.w["uk2"], w.w["us_acc"]
    reverts(
        lambda: w.registry.designate(OFSI, us_acc, sender=w.sec),
        "RegulatorOutOfScope",
        regulator=w.sec,
        regulatorJurisdiction=840,
        targetJurisdiction=826,
    )
    reverts(lambda: w.registry.designate(OFAC, us_acc, sender=w.fca), "RegulatorOutOfScope")
    for nobody in (w.issuer, w.operator, uk2):
        reverts(lambda nobody=nobody: w.registry.designate(OFSI, us_acc, sender=nobody), "RegistryNotRegulator")
    w.registry.designate(OFAC, us_acc, sender=w.sec)
    reverts(lambda: w.registry.designate(OFAC, us_acc, sender=w.sec), "RegistryAlreadyDesignated")
    reverts(lambda: w.registry.remove_designation(OFAC, us_acc, sender=w.fca), "RegulatorOutOfScope")
    reverts(lambda: w.registry.remove_designation(OFSI, us_acc, sender=w.fca), "RegistryNotDesignated")
    assert w.registry.designated_parties(OFAC) == (us_acc,) and w.registry.designated_parties(OFSI) == ()


def test_the_lists_history_names_who_designated_and_removed_when(w: World) -> None:
    uk2 = w.w["uk2"]
    _at(w, "2027-03-31T23:59:59")
    added = w.registry.designate(OFSI, uk2, sender=w.fca)
    _at(w, "2027-04-01T00:00:00")
    removed = w.registry.remove_designation(OFSI, uk2, sender=w.fca)
    (a,) = w.registry.events(added, SanctionsDesignationAdded)
    (r,) = w.registry.events(removed, SanctionsDesignationRemoved)
    assert (a.regime, a.party, a.regulator, added.block_timestamp) == (826, uk2, w.fca, 1806537599)
    assert (r.regime, r.party, r.regulator, removed.block_timestamp) == (826, uk2, w.fca, 1806537600)
