"""The paying agents' amount bound (issue #10, item 5): a distribution pays at most MAX_AMOUNT_PER_UNIT
(2^32) cash units per unit of the security, so its total over the most units a token can hold (2^96 - 1)
always fits the 128 bits it is funded in. A larger amount is refused when declared, with a named error;
before, a dividend of 2^255 per share was accepted and its funding then reverted with a panic for good."""

from __future__ import annotations

import pytest

from sandbox.contracts import BondPayingAgent
from tests.contracts.corporate_world import CLAIM_PERIOD, DAY, CorporateWorld
from tests.contracts.helpers import reverts

MAX_PER_UNIT = 2**32


def test_the_bound_keeps_every_total_within_128_bits(cw: CorporateWorld) -> None:
    assert cw.equity.max_amount_per_unit() == cw.bond.max_amount_per_unit() == MAX_PER_UNIT
    assert MAX_PER_UNIT * (2**96 - 1) < 2**128


@pytest.mark.parametrize("per_share", [MAX_PER_UNIT + 1, 2**255, 2**256 - 1])
def test_a_dividend_above_the_bound_is_refused_when_declared(cw: CorporateWorld, per_share: int) -> None:
    count = cw.equity.distribution_count()
    now = cw.chain.timestamp()
    reverts(
        lambda: cw.equity.declare_dividend(per_share, now + 10 * DAY, now + 12 * DAY, sender=cw.admin),
        "PayingAgentAmountTooLarge",
        numerator=per_share,
        denominator=1,
        maxPerUnit=MAX_PER_UNIT,
    )
    assert cw.equity.distribution_count() == count


def test_a_dividend_at_the_bound_is_computed_exactly_and_refused_by_name_never_by_a_panic(cw: CorporateWorld) -> None:
    equity = cw.equity
    now = cw.chain.timestamp()
    record = now + 10 * DAY
    dividend = equity.declare_dividend(MAX_PER_UNIT, record, record + 2 * DAY, sender=cw.admin).distribution_id
    cw.after(record)

    required = equity.required_funding(dividend)
    assert required == cw.equity_token.total_supply() * MAX_PER_UNIT
    assert required > cw.gbp.balance_of(cw.treasury)  # the treasury cannot pay it: refused by name
    reverts(lambda: equity.fund(dividend, sender=cw.treasury), "PayingAgentFundingFailed", shortfall=required)
    assert equity.distribution(dividend).funded == 0


def test_a_bond_whose_redemption_exceeds_the_bound_is_refused_at_deployment(cw: CorporateWorld) -> None:
    token = cw.new_security("Huge Bond", "HUGE")
    reverts(
        lambda: BondPayingAgent.deploy(
            cw.chain,
            terms=cw.bond_terms(face_value=MAX_PER_UNIT + 1),
            security=token.address,
            issuer=cw.admin,
            sender=cw.admin,
            claim_period=CLAIM_PERIOD,
        ),
        "PayingAgentAmountTooLarge",
        numerator=MAX_PER_UNIT + 1,
        maxPerUnit=MAX_PER_UNIT,
    )
