"""Sanctions at the second of a designation and of its removal (issue #11).

The lists are state, not dated entries: a designation takes effect in the transaction that makes it, so
the boundary is the order of transactions. A transfer mined in the block before the designation goes
through; the first one after it is refused (SENDER_SANCTIONED / RECEIVER_SANCTIONED), and the same holds
around a removal. On the revm engine several transactions can share one block, stamped with one second:
there the boundary is the designation's place inside the block.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.errors import ContractReverted
from sandbox.rules import RULES_BY_NAME, SanctionsRegime
from tests.contracts.conftest import World
from tests.contracts.helpers import reverts

OFSI, OFAC = SanctionsRegime.OFSI, SanctionsRegime.OFAC


def t(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp())


def _moves(w: World, sender: str, to: str, amount: int) -> None:
    before = w.token.balance_of(to)
    receipt = w.token.transfer(to, amount, sender=sender)
    assert w.token.balance_of(to) == before + amount
    assert receipt.block_timestamp == w.chain.timestamp()


def _refused(w: World, sender: str, to: str, amount: int, rule: str, error: str) -> None:
    before = (w.token.balance_of(sender), w.token.balance_of(to))
    exc = reverts(lambda: w.token.transfer(to, amount, sender=sender), error)
    assert exc.rule_name == rule and exc.rule_code == RULES_BY_NAME[rule].code
    assert (w.token.balance_of(sender), w.token.balance_of(to)) == before


@pytest.mark.parametrize(
    ("regime", "party_key", "regulator"),
    [(OFSI, "uk2", "fca"), (OFAC, "uk1", "sec")],  # a wallet on OFSI's list; an investor (two wallets) on OFAC's
)
def test_a_designation_bars_the_first_transfer_after_it_and_a_removal_frees_the_first_after_it(
    w: World, regime: SanctionsRegime, party_key: str, regulator: str
) -> None:
    """Designation at 12:00:00 on Wednesday 30 June 2027: the party sends at 11:59:58 and receives at
    11:59:59; at 12:00:01 it can no longer receive, at 12:00:02 no longer send. The designation is
    removed at 09:00:00 on Monday 2 August 2027: a transfer at 08:59:59 is still refused, the one at
    09:00:01 goes through."""
    party = w.w[party_key]
    other = w.w["uk2"] if party_key == "uk1" else w.w["uk1"]
    by = getattr(w, regulator)
    w.at(t("2027-06-30T11:59:58"))
    _moves(w, party, other, 10)
    w.at(t("2027-06-30T11:59:59"))
    _moves(w, other, party, 10)
    w.at(t("2027-06-30T12:00:00"))
    assert w.registry.designate(regime, party, sender=by).block_timestamp == t("2027-06-30T12:00:00")
    w.at(t("2027-06-30T12:00:01"))
    _refused(w, other, party, 1, "RECEIVER_SANCTIONED", "ReceiverSanctioned")
    w.at(t("2027-06-30T12:00:02"))
    _refused(w, party, other, 1, "SENDER_SANCTIONED", "SenderSanctioned")
    if party_key == "uk1":  # an investor's designation reaches every wallet it has
        _refused(w, other, w.w["uk1b"], 1, "RECEIVER_SANCTIONED", "ReceiverSanctioned")
    w.at(t("2027-08-02T08:59:59"))
    _refused(w, party, other, 1, "SENDER_SANCTIONED", "SenderSanctioned")
    w.at(t("2027-08-02T09:00:00"))
    assert w.registry.remove_designation(regime, party, sender=by).block_timestamp == t("2027-08-02T09:00:00")
    w.at(t("2027-08-02T09:00:01"))
    _moves(w, party, other, 1)
    w.at(t("2027-08-02T09:00:02"))
    _moves(w, other, party, 1)


def test_inside_one_block_the_designation_splits_the_transfers_around_it(w: World) -> None:
    """One block stamped 12:00:00 on 30 June 2027 holds, in order: a transfer to the party (allowed), the
    FCA's designation on OFSI's list, a transfer to the party and one from it (both refused), and a
    transfer between two others (allowed). A later block at 09:00:00 on 2 August holds a transfer from
    the party (refused), the removal, and the same transfer again (allowed)."""
    transact_many = getattr(w.chain, "transact_many", None)
    if transact_many is None:
        pytest.skip("this engine mines one transaction a block; the previous test covers block order")
    uk1, uk2, uk3 = w.w["uk1"], w.w["uk2"], w.w["uk3"]
    token, registry = w.token, w.registry
    transfer = token._abi.encode_call
    before = {who: token.balance_of(who) for who in (uk1, uk2, uk3)}
    w.at(t("2027-06-30T12:00:00"))
    results = transact_many(
        [
            (uk1, token.address, transfer("transfer", (uk2, 10))),
            (w.fca, registry.address, registry._abi.encode_call("designate", (int(OFSI), uk2))),
            (uk1, token.address, transfer("transfer", (uk2, 7))),
            (uk2, token.address, transfer("transfer", (uk1, 3))),
            (uk1, token.address, transfer("transfer", (uk3, 5))),
        ]
    )
    first, designation, to_party, from_party, bystander = results
    for ok in (first, designation, bystander):
        assert not isinstance(ok, Exception), ok
    assert {ok.block_number for ok in (first, designation, bystander)} == {w.chain.block_number()}
    assert designation.block_timestamp == t("2027-06-30T12:00:00")
    assert isinstance(to_party, ContractReverted) and to_party.error_name == "ReceiverSanctioned"
    assert isinstance(from_party, ContractReverted) and from_party.error_name == "SenderSanctioned"
    # (the raw receipts carry the custom error; the facade's sentence lookup is not on this path)
    assert to_party.args_by_name["wallet"] == uk2 and from_party.args_by_name["wallet"] == uk2
    assert {who: token.balance_of(who) for who in (uk1, uk2, uk3)} == {
        uk1: before[uk1] - 15,
        uk2: before[uk2] + 10,
        uk3: before[uk3] + 5,
    }
    w.at(t("2027-08-02T09:00:00"))
    refused, removal, allowed = transact_many(
        [
            (uk2, token.address, transfer("transfer", (uk1, 4))),
            (w.fca, registry.address, registry._abi.encode_call("removeDesignation", (int(OFSI), uk2))),
            (uk2, token.address, transfer("transfer", (uk1, 4))),
        ]
    )
    assert isinstance(refused, ContractReverted) and refused.error_name == "SenderSanctioned"
    assert not isinstance(removal, Exception) and not isinstance(allowed, Exception)
    assert removal.block_number == allowed.block_number
    assert allowed.block_timestamp == t("2027-08-02T09:00:00")
    assert token.balance_of(uk2) == before[uk2] + 10 - 4
