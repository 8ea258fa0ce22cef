"""ERC-3643 batch, metadata and registry operations, and the ERC-7943 per-account views."""

from __future__ import annotations

from sandbox.rules import InvestorCategory as Cat
from sandbox.rules import Jurisdiction as Jur
from tests.contracts.conftest import World
from tests.contracts.helpers import reverts


def test_batches(w: World) -> None:
    t, uk1, uk2, uk3 = w.token, w.w["uk1"], w.w["uk2"], w.w["uk3"]
    t.batch_mint([uk3, uk2], [10, 20], sender=w.issuer)
    assert (t.balance_of(uk3), t.balance_of(uk2)) == (10, 1020)
    t.batch_transfer([uk2, uk3], [1, 2], sender=uk1)
    assert t.balance_of(uk1) == 997
    t.batch_forced_transfer([uk1, uk2], [uk3, uk3], [3, 4], sender=w.issuer)
    assert t.balance_of(uk3) == 19
    t.batch_burn([uk3], [19], sender=w.issuer)
    assert t.balance_of(uk3) == 0 and t.holder_counts().total == 3
    t.batch_set_address_frozen([uk1, uk2], [True, True], sender=w.issuer)
    assert t.is_frozen(uk1) and t.is_frozen(uk2)
    t.batch_freeze_partial_tokens([uk1, uk2], [5, 6], sender=w.issuer)
    t.batch_unfreeze_partial_tokens([uk1], [5], sender=w.issuer)
    assert (t.get_frozen_tokens(uk1), t.get_frozen_tokens(uk2)) == (0, 6)
    reverts(lambda: t.batch_mint([uk3], [1, 2], sender=w.issuer), "BatchLengthMismatch")
    # a batch is one transaction: one refusal undoes all of it, with the rule's error
    reverts(lambda: t.batch_mint([uk3, w.outsider], [1, 1], sender=w.issuer), "ReceiverNotRegistered")
    assert t.balance_of(uk3) == 0
    reverts(lambda: t.batch_mint([uk3], [1], sender=uk1), "AccessControlUnauthorizedAccount")
    reverts(lambda: t.batch_set_address_frozen([uk1], [False], sender=uk1), "NotAgentOrRegulator")


def test_metadata_and_links(w: World) -> None:
    t = w.token
    receipt = t._send("setName", "Thames 2029", sender=w.issuer)
    assert t.events(receipt, "UpdatedTokenInformation")
    t._send("setSymbol", "THAMES29", sender=w.issuer)
    t._send("setOnchainID", w.issuer, sender=w.issuer)
    assert (t.name(), t.symbol(), t._read("onchainID")) == ("Thames 2029", "THAMES29", w.issuer)
    assert t._read("version") == "sandbox-erc3643-1.0"
    # an ERC3643Compliance bound to the token (tests/contracts/test_erc3643_roles.py)
    assert t._read("compliance") != t.address
    reverts(lambda: t._send("setCompliance", w.issuer, sender=w.issuer), "ComplianceNotBoundToToken")
    assert t.events(t._send("setCompliance", t.address, sender=w.issuer), "ComplianceAdded")
    reverts(lambda: t._send("setName", "x", sender=w.fca), "AccessControlUnauthorizedAccount")
    assert t.events(t._send("setIdentityRegistry", w.registry.address, sender=w.issuer), "IdentityRegistryAdded")


def test_can_send_and_can_receive(w: World) -> None:
    t = w.token
    assert t.can_send(w.w["uk1"]) and t.can_receive(w.w["uk1"])
    assert not t.can_send(w.outsider) and not t.can_receive(w.outsider)
    t.set_address_frozen(w.w["uk1"], True, sender=w.issuer)
    assert not t.can_send(w.w["uk1"]) and not t.can_receive(w.w["uk1"])
    t.set_jurisdiction_admitted(Jur.US, False, sender=w.issuer)
    assert t.can_send(w.w["us_acc"]) and not t.can_receive(w.w["us_acc"])


def test_registry_batch_registration_and_wallet_count(w: World) -> None:
    r, now = w.registry, w.chain.timestamp()
    accounts = [a.address for a in w.chain.accounts]
    new = accounts[15:17]
    r.batch_register_investors(
        [(new[0], new[0], Jur.GB, Cat.UK_RETAIL, now + 10), (new[1], new[1], Jur.US, Cat.US_QIB, now + 10)],
        sender=w.operator,
    )
    assert r.wallet_record(new[1]).jurisdiction == 840
    reverts(
        lambda: r.batch_register_investors(
            [(accounts[17], accounts[17], Jur.US, Cat.UK_RETAIL, now)], sender=w.operator
        ),
        "RegistryInvalidCategory",
    )
    assert r.wallet_record(w.w["uk1"]).wallet_count == 2 and r.wallet_record(w.w["uk2"]).wallet_count == 1
