"""The demo (seeds/demo.yaml) issues every unit in an offering under the exemption its buyers need
(issue 11), and resales follow each lot's offering: a dated story on the embedded chain, whose clock
starts on the demo's day 0, 1 January 2026.

On the main branch before this change the demo minted outside any offering: THAMES28 carried no
status at all (a QIB could resell the US tranche to a non-QIB the day after it bought), and HUDS
locked every unit for 182 days whoever the buyer (a Rule 144A resale to a QIB during the holding
period, which the law allows, was refused; a 506(c) issuer that does not report holds 1 year, not 6
months); and token-wide US_ACCREDITED minimums refused any resale to a non-accredited US investor
forever, though Regulation D governs the offering, not later resales."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sandbox.chain.embedded import EmbeddedChain
from sandbox.errors import ContractReverted
from sandbox.market import Market, load_scenario
from sandbox.rules import RULES_BY_NAME, InvestorCategory, Jurisdiction
from sandbox.scenario import DEMO_SCENARIO, Scenario
from sandbox.testing import isolated

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def _demo_market() -> Market:
    scenario = Scenario.from_file(DEMO_SCENARIO)
    return load_scenario(EmbeddedChain(num_accounts=scenario.accounts_needed + 1), scenario)  # one spare


@pytest.fixture
def demo(_demo_market: Market) -> Iterator[Market]:
    with isolated(_demo_market.chain):
        yield _demo_market


def _at(market: Market, when: datetime) -> None:
    """The next transaction runs in the block stamped `when` (views read the block before)."""
    market.chain.time_travel(market.chain_time(when) - 1)


def _refused(market: Market, symbol: str, sender: str, to: str, amount: int, rule: str) -> None:
    token = market.security(symbol)
    assert token.detect_transfer_restriction(market.wallet(sender), market.wallet(to), amount) == (
        RULES_BY_NAME[rule].code
    )
    with pytest.raises(ContractReverted) as exc:
        token.transfer(market.wallet(to), amount, sender=market.wallet(sender))
    assert exc.value.rule_name == rule


def test_every_demo_security_issues_in_offerings_whose_status_its_lots_carry(demo: Market) -> None:
    scenario = demo.scenario
    assert all(s.offerings and not s.holdings for s in scenario.securities)
    bond = demo.offerings("THAMES28")
    assert bond is not None
    placing, us = bond.offerings()
    assert (placing.exemption.name, placing.restricted, placing.issued) == ("UK_PROFESSIONAL_PLACEMENT", False, 8000)
    assert (us.exemption.name, us.restricted, us.issued) == ("REG_D_506B", True, 3000)
    assert bond.lots_of(demo.wallet("alice")) == []  # a UK placing leaves no status
    (lot,) = bond.lots_of(demo.wallet("dan"))
    assert (lot.offering_id, lot.amount, lot.restricted) == (2, 1000, True)
    assert lot.unlock_at == bond.add_months(lot.acquired_at, 12)  # Rule 144(d)(1)(ii): a non-reporting issuer

    shares = demo.offerings("HUDS")
    assert shares is not None
    regd, regs = shares.offerings()
    assert (regd.exemption.name, regs.exemption.name) == ("REG_D_506C", "REG_S_CATEGORY_3")
    (lot,) = shares.lots_of(demo.wallet("bob"))
    # Category 3 equity of a US issuer: restricted (Rule 905), and a one-year distribution compliance
    # period from the closing, 2 January 2026 17:00 UTC (Rule 903(b)(3)(iii)).
    assert lot.restricted and lot.reg_s_until == demo.chain_time(datetime(2027, 1, 2, 17, tzinfo=UTC))


def _erin(demo: Market) -> str:
    """Registers Erin, a non-accredited US investor (no QIB), on the spare account. (The demo's own
    investors need no renewal to trade past the holding period: their KYC runs three years.)"""
    registry, operator = demo.registry, demo.operator
    erin = demo.chain.accounts[demo.scenario.accounts_needed].address  # the spare account
    assert registry.wallet_record(erin).identity is None
    far = demo.chain_time(datetime(2030, 1, 1, tzinfo=UTC))
    registry.register_investor(erin, erin, Jurisdiction.US, InvestorCategory.US_NON_ACCREDITED, far, sender=operator)
    return erin


def test_resales_in_the_holding_period_follow_the_lot(demo: Market) -> None:
    # 2 March 2026: Carol's and Dan's notes are restricted. Dan may resell to Carol, a QIB (Rule 144A),
    # and the lot goes with the units; neither may resell to Erin, who is no QIB.
    erin = _erin(demo)
    _at(demo, datetime(2026, 3, 2, 10, tzinfo=UTC))
    bond = demo.security("THAMES28")
    bond.transfer(demo.wallet("carol"), 100, sender=demo.wallet("dan"))
    lots = demo.offerings("THAMES28")
    assert lots is not None
    assert sum(lot.amount for lot in lots.lots_of(demo.wallet("carol"))) == 2100
    assert bond.detect_transfer_restriction(demo.wallet("dan"), erin, 10) == RULES_BY_NAME["LOCKUP_ACTIVE"].code
    with pytest.raises(ContractReverted) as exc:
        bond.transfer(erin, 10, sender=demo.wallet("carol"))
    assert exc.value.rule_name == "LOCKUP_ACTIVE"
    # An offshore resale (Rule 904) to a UK professional is open during the holding period.
    bond.transfer(demo.wallet("alice"), 50, sender=demo.wallet("dan"))
    # HUDS: the same 144A path for the shares (the old 182-day token lock refused it).
    demo.security("HUDS").transfer(demo.wallet("dan"), 200, sender=demo.wallet("carol"))
    # Bob's Regulation S shares may not reach a US person in their distribution compliance period.
    _refused(demo, "HUDS", "bob", "carol", 10, "REG_S_DISTRIBUTION_COMPLIANCE")


def test_the_holding_period_ends_after_twelve_calendar_months(demo: Market) -> None:
    # Dan's 506(b) notes were bought on 1 January 2026 (the load, seconds after midnight): at 23:59:59
    # on 31 December 2026 they are still restricted; twelve calendar months after the purchase, to the
    # second, the lot no longer restricts anything, and Dan resells to Erin.
    erin = _erin(demo)
    bond = demo.offerings("THAMES28")
    assert bond is not None
    (lot,) = bond.lots_of(demo.wallet("dan"))
    assert lot.unlock_at == demo.chain_time(datetime(2026, 1, 1, tzinfo=UTC)) + (lot.acquired_at % 86_400) + (
        365 * 86_400
    )
    _at(demo, datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
    with pytest.raises(ContractReverted) as exc:
        demo.security("THAMES28").transfer(erin, 100, sender=demo.wallet("dan"))
    assert exc.value.rule_name == "LOCKUP_ACTIVE"
    demo.chain.time_travel(lot.unlock_at - 1)  # views read the last second before the unlock
    assert bond.locked_tokens(demo.wallet("dan")).locked == 1000
    demo.chain.time_travel(lot.unlock_at)  # and the first second of it
    assert bond.lots_of(demo.wallet("dan")) == [] and bond.locked_tokens(demo.wallet("dan")).locked == 0
    demo.security("THAMES28").transfer(erin, 100, sender=demo.wallet("dan"))
    assert demo.security("THAMES28").balance_of(erin) == 100


def test_506c_governs_the_offering_not_resales_after_the_holding_period(demo: Market) -> None:
    # Erin, a non-accredited US investor, could never buy in the 506(c) offering, but Rule 506(c)
    # does not follow the shares: once Carol's year has run (Rule 144(d)(1)(ii)), she may sell to Erin.
    # (Before, a token-wide US_ACCREDITED minimum refused that resale forever.)
    erin = _erin(demo)
    carol = demo.wallet("carol")
    shares = demo.offerings("HUDS")
    assert shares is not None
    (lot,) = shares.lots_of(carol)
    huds = demo.security("HUDS")
    _at(demo, datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert huds.detect_transfer_restriction(carol, erin, 100) == RULES_BY_NAME["LOCKUP_ACTIVE"].code
    demo.chain.time_travel(lot.unlock_at - 1)  # the next transaction: the first second the lot is free
    huds.transfer(erin, 100, sender=carol)
    assert huds.balance_of(erin) == 100


def test_the_demos_kyc_does_not_expire_when_the_holding_period_ends(demo: Market) -> None:
    # With a year's KYC from the load the demo's investors' KYC ran out on 1 January 2027 seconds
    # before their restricted lots unlocked, so the resales the holding period allows were refused
    # (SENDER_KYC_EXPIRED) unless a test renewed it. Their KYC now runs three years, to 1 January 2029.
    erin = _erin(demo)
    for key in ("alice", "bob", "carol", "dan"):
        until = demo.registry.investor(demo.wallet(key)).kyc_valid_until
        assert datetime.fromtimestamp(until - demo.calendar_offset, UTC).date() == datetime(2029, 1, 1).date(), key
    # 2 January 2027, 10:00 UTC, the day after the year ends: Dan's 506(b) notes and Carol's 506(c)
    # shares go to Erin, who is neither accredited nor a QIB, and Carol sells shares to Alice in London.
    _at(demo, datetime(2027, 1, 2, 10, tzinfo=UTC))
    demo.security("THAMES28").transfer(erin, 100, sender=demo.wallet("dan"))
    demo.security("HUDS").transfer(erin, 100, sender=demo.wallet("carol"))
    demo.security("HUDS").transfer(demo.wallet("alice"), 50, sender=demo.wallet("carol"))
    assert demo.security("THAMES28").balance_of(erin) == demo.security("HUDS").balance_of(erin) == 100
    # Bob's Regulation S shares (Category 3 equity: one year from the closing, 2 January 2026 17:00 UTC)
    # are still in their period at 16:59:59 and reach Carol, a US person, from 17:00:00.
    _at(demo, datetime(2027, 1, 2, 16, 59, 59, tzinfo=UTC))
    _refused(demo, "HUDS", "bob", "carol", 10, "REG_S_DISTRIBUTION_COMPLIANCE")
    demo.security("HUDS").transfer(demo.wallet("carol"), 10, sender=demo.wallet("bob"))
    assert demo.chain.timestamp() == demo.chain_time(datetime(2027, 1, 2, 17, tzinfo=UTC))
