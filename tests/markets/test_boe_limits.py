"""Bank of England holding limits on the sterling token, by holder type (consultation on systemic sterling
stablecoins, 10 Nov 2025: £20,000 per individual, £10m per business; wholesale settlement in the Digital
Securities Sandbox exempt; the Bank may exempt businesses that need larger balances). The holder's type
is the registry's (natural person or entity), not its client category. Each story fails on the rule as
it was (limit picked from the category, only the DvP contract exempt)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.contracts import HolderType, InvestorAttributes, minor_units
from sandbox.contracts.cash_token import GBP_BUSINESS_LIMIT, GBP_INDIVIDUAL_LIMIT, NO_LIMIT, HoldingLimit
from sandbox.contracts.events import HoldingLimitExemptionSet
from sandbox.errors import ContractReverted
from sandbox.rules import InvestorCategory, Jurisdiction
from tests.markets.conftest import KYC_UNTIL, MarketsWorld, identity

INDIVIDUAL = ("CashIndividualHoldingLimitExceeded", 0x90)
BUSINESS = ("CashBusinessHoldingLimitExceeded", 0x91)


def _at(markets: MarketsWorld, when: str) -> None:
    """The story's next transaction runs on `when` (UTC)."""
    markets.chain.time_travel(int(datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp()))


def _onboard(markets: MarketsWorld, tag: int, wallet: int, category: InvestorCategory, holder_type: HolderType) -> str:
    who, address = identity(tag), markets.chain.accounts[wallet].address
    markets.registry.register_investor(
        who,
        address,
        Jurisdiction.GB,
        category,
        KYC_UNTIL,
        attributes=InvestorAttributes(holder_type, us_person=False),
        sender=markets.admin,
    )
    return address


def _refused(markets: MarketsWorld, to: str, amount: int, rule: tuple[str, int]) -> None:
    error, code = rule
    assert markets.gbp.detect_transfer_restriction("0x" + "00" * 20, to, amount) == code
    with pytest.raises(ContractReverted) as info:
        markets.gbp.mint(to, amount, sender=markets.admin)
    assert info.value.error_name == error


def test_a_professional_natural_person_is_capped_at_twenty_thousand_pounds(markets: MarketsWorld) -> None:
    # An elective professional client (COBS 3.5.3R) is still a natural person: the £20,000 limit, not £10m.
    _at(markets, "2027-01-04T09:00:00")
    trader = _onboard(markets, 0x7A1, 10, InvestorCategory.UK_PROFESSIONAL, HolderType.NATURAL_PERSON)
    assert markets.gbp.holding_limit_of(trader) == HoldingLimit(HolderType.NATURAL_PERSON, GBP_INDIVIDUAL_LIMIT)
    markets.gbp.mint(trader, minor_units("19999.99"), sender=markets.admin)
    markets.gbp.mint(trader, minor_units("0.01"), sender=markets.admin)  # exactly £20,000.00: at the limit
    _refused(markets, trader, minor_units("0.01"), INDIVIDUAL)
    assert markets.gbp.balance_of(trader) == GBP_INDIVIDUAL_LIMIT


def test_a_small_company_classed_retail_is_a_business(markets: MarketsWorld) -> None:
    # A small company is a retail client under COBS 3 but an entity: the £10m limit applies, not £20,000.
    _at(markets, "2027-01-04T09:00:00")
    bakery = _onboard(markets, 0xB4E, 11, InvestorCategory.UK_RETAIL, HolderType.ENTITY)
    assert markets.gbp.holding_limit_of(bakery) == HoldingLimit(HolderType.ENTITY, GBP_BUSINESS_LIMIT)
    markets.gbp.mint(bakery, minor_units("20000.01"), sender=markets.admin)
    markets.gbp.mint(bakery, GBP_BUSINESS_LIMIT - minor_units("20000.01"), sender=markets.admin)  # £10m exactly
    _refused(markets, bakery, minor_units("0.01"), BUSINESS)


def test_a_dss_settlement_pays_a_bank_above_ten_million(markets: MarketsWorld) -> None:
    # 2027-02-01: a bank holding £9.5m sells £1m of gilts through the DvP contract; the cash leg takes it to
    # £10.5m, wholesale settlement in the DSS, outside the limit. A direct payment of a penny is not.
    w = markets
    _at(w, "2027-02-01T10:00:00")
    bank = _onboard(w, 0xBA2C, 12, InvestorCategory.UK_ELIGIBLE_COUNTERPARTY, HolderType.ENTITY)
    buyer = w.bob.wallet  # a UK professional entity with £1m to spend
    w.gbp.mint(bank, minor_units("9500000"), sender=w.admin)
    w.gbp.mint(buyer, minor_units("1000000"), sender=w.admin)
    w.security.mint(bank, 10_000, sender=w.admin)
    w.security.approve(w.dvp.address, NO_LIMIT, sender=bank)
    w.gbp.approve(w.dvp.address, NO_LIMIT, sender=buyer)
    trade_id = w.dvp.propose(
        seller=bank,
        buyer=buyer,
        security=w.security.address,
        quantity=10_000,
        cash=w.gbp.address,
        cash_amount=minor_units("1000000"),
        deadline=w.chain.timestamp() + 3600,
        sender=bank,
    ).trade_id
    w.dvp.affirm(trade_id, sender=buyer)
    assert w.dvp.preview_settle(trade_id) == 0
    assert w.dvp.settle(trade_id, sender=bank).result.settled
    assert w.gbp.identity_balance(identity(0xBA2C)) == minor_units("10500000")
    _refused(w, bank, minor_units("0.01"), BUSINESS)
    with pytest.raises(ContractReverted) as info:
        w.gbp.transfer(bank, minor_units("0.01"), sender=buyer)
    assert info.value.error_name == BUSINESS[0]


def test_the_bank_of_england_exempts_a_business_and_withdraws_the_exemption(markets: MarketsWorld) -> None:
    w = markets
    _at(w, "2027-03-31T09:00:00")
    clearer = _onboard(w, 0xC1EA, 13, InvestorCategory.UK_ELIGIBLE_COUNTERPARTY, HolderType.ENTITY)
    w.gbp.mint(clearer, GBP_BUSINESS_LIMIT, sender=w.admin)
    _refused(w, clearer, minor_units("0.01"), BUSINESS)
    receipt = w.gbp.set_holding_limit_exemption(identity(0xC1EA), True, sender=w.uk_regulator)
    (event,) = w.gbp.events(receipt, HoldingLimitExemptionSet)
    assert (event.identity, event.exempt, event.regulator) == (identity(0xC1EA), True, w.uk_regulator)
    assert w.gbp.holding_limit_of(clearer) == HoldingLimit(HolderType.ENTITY, None)
    w.gbp.mint(clearer, minor_units("2000000"), sender=w.admin)  # £12m
    _at(w, "2027-04-01T09:00:00")
    w.gbp.set_holding_limit_exemption(identity(0xC1EA), False, sender=w.uk_regulator)
    # Withdrawn: nothing is taken away, but nothing more comes in.
    assert w.gbp.balance_of(clearer) == minor_units("12000000")
    _refused(w, clearer, minor_units("0.01"), BUSINESS)
