"""A party on a sanctions list can neither pay nor be paid in the cash tokens (CASH_SENDER_SANCTIONED /
CASH_RECEIVER_SANCTIONED), and a DvP trade with it fails (on its security leg, the first: RECEIVER_SANCTIONED)
with nothing moved."""

from __future__ import annotations

import pytest

from sandbox.contracts import minor_units
from sandbox.contracts.cash_token import NO_LIMIT
from sandbox.contracts.settlement import Leg
from sandbox.errors import ContractReverted
from sandbox.rules import SanctionsRegime
from tests.markets.conftest import MarketsWorld


def test_a_designated_investor_neither_pays_nor_is_paid(markets: MarketsWorld) -> None:
    w = markets
    bob, carol = w.bob, w.carol
    w.gbp.mint(bob.wallet, minor_units("1000"), sender=w.admin)
    w.gbp.mint(carol.wallet, minor_units("1000"), sender=w.admin)
    w.registry.designate(SanctionsRegime.OFAC, carol.identity, sender=w.us_regulator)
    assert w.gbp.detect_transfer_restriction(bob.wallet, carol.wallet, 1) == 0x8A
    assert w.gbp.detect_transfer_restriction(carol.wallet, bob.wallet, 1) == 0x89
    for sender, to, error in (
        (bob.wallet, carol.wallet, "CashReceiverSanctioned"),
        (carol.wallet, bob.wallet, "CashSenderSanctioned"),
    ):
        with pytest.raises(ContractReverted) as info:
            w.gbp.transfer(to, 1, sender=sender)
        assert info.value.error_name == error and "OFAC" in (info.value.rule_message or "")
    # A trade in which carol buys fails; nothing moves.
    w.security.mint(bob.wallet, 10, sender=w.admin)
    w.security.approve(w.dvp.address, NO_LIMIT, sender=bob.wallet)
    w.gbp.approve(w.dvp.address, NO_LIMIT, sender=carol.wallet)
    trade_id = w.dvp.propose(
        seller=bob.wallet, buyer=carol.wallet, security=w.security.address, quantity=10,
        cash=w.gbp.address, cash_amount=minor_units("100"), deadline=w.chain.timestamp() + 600, sender=bob.wallet,
    ).trade_id  # fmt: skip
    w.dvp.affirm(trade_id, sender=carol.wallet)
    result = w.dvp.settle(trade_id, sender=bob.wallet).result
    assert not result.settled and (result.leg, result.code) == (Leg.SECURITY, 0x27)  # RECEIVER_SANCTIONED
    assert w.security.balance_of(carol.wallet) == 0 and w.gbp.balance_of(carol.wallet) == minor_units("1000")
