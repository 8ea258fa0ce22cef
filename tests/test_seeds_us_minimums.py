"""The UK-US sandbox (seeds/uk-us-sandbox.yaml) without token-wide US category minimums (issue 11):
who may buy in an offering is the offering's exemption (Rule 506(c): verified accredited investors;
Rule 144A: QIBs; Regulation S: no US person), and who may buy from a holder is the lot's status (the
Rule 144(d) holding period, the Reg S distribution compliance period), which ends.

On the main branch before this change PENN admitted US_ACCREDITED holders only and UKT31, CASC31S and
CASC31A US_QIB holders only, token-wide and forever: a resale to a US investor who is not accredited
(or no QIB) was refused after the holding period too, the "506(c) applies forever" wrong answer (the
verification governs the offering, not later resales; Rule 144A governs resales to QIBs during the
holding period only). Each story is dated on the embedded chain's calendar, which starts on the scenario's
day 0, 1 January 2026; the seed is loaded without its history, so its offerings are still open (they
close on 2 January 2026 at 09:00 UTC) and every lot was bought minutes after midnight on 1 January."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from sandbox.chain.factory import in_process_chain
from sandbox.contracts.offerings import OfferingRegistry
from sandbox.errors import ContractReverted
from sandbox.market import Market, load_scenario
from sandbox.rules import RULES_BY_NAME
from sandbox.scenario import UK_US_SCENARIO, Scenario
from sandbox.testing import isolated

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def _seeded() -> Market:
    scenario = Scenario.from_file(UK_US_SCENARIO)
    issued = scenario.model_copy(update={"history": []})  # the offerings, before any trading
    return load_scenario(in_process_chain(num_accounts=scenario.accounts_needed), issued)


@pytest.fixture
def market(_seeded: Market) -> Iterator[Market]:
    with isolated(_seeded.chain):
        yield _seeded


def _utc(market: Market, timestamp: int) -> datetime:
    """The scenario-calendar moment of a chain time."""
    return datetime.fromtimestamp(timestamp - market.calendar_offset, UTC)


def _offerings(market: Market, symbol: str) -> OfferingRegistry:
    offerings = market.offerings(symbol)
    assert offerings is not None, symbol
    return offerings


def _issue_refused(market: Market, symbol: str, offering: str, to: str, rule: str, error: str) -> None:
    """The issuer's sale of 1 unit to `to` in `offering` is refused by the offering's buyer rule."""
    offerings = _offerings(market, symbol)
    number = market.scenario_security(symbol).offering_id(offering)
    issuer = market.accounts[market.issuer_of[symbol]]
    assert offerings.detect_issuance_restriction(number, market.wallet(to), 1) == RULES_BY_NAME[rule].code
    with pytest.raises(ContractReverted) as exc:
        offerings.issue(number, market.wallet(to), 1, sender=issuer)
    assert (exc.value.rule_name, exc.value.error_name) == (rule, error)


def _issued(market: Market, symbol: str, offering: str, to: str) -> None:
    offerings = _offerings(market, symbol)
    number = market.scenario_security(symbol).offering_id(offering)
    before = market.security(symbol).balance_of(market.wallet(to))
    offerings.issue(number, market.wallet(to), 1, sender=market.accounts[market.issuer_of[symbol]])
    assert market.security(symbol).balance_of(market.wallet(to)) == before + 1


def _boundary(market: Market, symbol: str, seller: str, buyer: str, frees_at: int, rule: str) -> None:
    """At the last second before `frees_at` the resale of 10 units is refused by `rule` (the transaction
    and the view agree, and nothing moves); at `frees_at` itself, the first free second, it goes through."""
    token, sender, receiver = market.security(symbol), market.wallet(seller), market.wallet(buyer)
    market.chain.time_travel(frees_at - 2)  # the next transaction is mined at frees_at - 1
    balances = token.balance_of(sender), token.balance_of(receiver)
    with pytest.raises(ContractReverted) as exc:
        token.transfer(receiver, 10, sender=sender)
    assert exc.value.rule_name == rule
    assert market.chain.timestamp() == frees_at - 1  # the refusal was judged at the last locked second
    assert market.chain.w3.eth.get_block("latest")["transactions"], "the refused transfer was mined"
    assert (token.balance_of(sender), token.balance_of(receiver)) == balances
    # Views read the newest block, stamped with the last locked second: they agree.
    assert token.detect_transfer_restriction(sender, receiver, 10) == RULES_BY_NAME[rule].code
    receipt = token.transfer(receiver, 10, sender=sender)
    assert receipt.block_timestamp == frees_at
    assert (token.balance_of(sender), token.balance_of(receiver)) == (balances[0] - 10, balances[1] + 10)


def test_penn_506c_sells_to_accredited_investors_and_a_year_on_they_resell_to_anyone(market: Market) -> None:
    # 1 January 2026: Pennine's US tranche is a Rule 506(c) offering. Emma Johnson, a US investor who
    # is not accredited, may not buy in it (Rule 506(c)(2)(ii)); Mason Family Trust, accredited, may.
    _issue_refused(
        market, "PENN", "us-506c", "emma-johnson", "OFFERING_PURCHASER_NOT_ELIGIBLE", "OfferingPurchaserNotAccredited"
    )
    _issued(market, "PENN", "us-506c", "mason-family-trust")
    # Chen Holdings bought 25,000 shares minutes after midnight on 1 January 2026. Pennine does not
    # report to the SEC: the shares are restricted for one year (Rule 144(d)(1)(ii)), to the same time of
    # day on 1 January 2027. At its last second the resale to Emma is refused (LOCKUP_ACTIVE); at the
    # first second after, it is allowed: Rule 506(c) governed the offering, not this resale.
    (lot,) = _offerings(market, "PENN").lots_of(market.wallet("chen-holdings"))
    bought = _utc(market, lot.acquired_at)
    assert bought.date() == date(2026, 1, 1) and lot.restricted
    assert _utc(market, lot.unlock_at) == bought.replace(year=2027)
    _boundary(market, "PENN", "chen-holdings", "emma-johnson", lot.unlock_at, "LOCKUP_ACTIVE")


def test_ukt31_144a_lots_reach_a_us_investor_who_is_no_qib_after_a_year(market: Market) -> None:
    # The gilt's US buyers are QIBs in its Rule 144A offering: Mason Family Trust, accredited but no
    # QIB, may not buy in it.
    _issue_refused(
        market, "UKT31", "us-144a", "mason-family-trust", "OFFERING_PURCHASER_NOT_ELIGIBLE", "OfferingPurchaserNotQib"
    )
    # Atlantic State Teachers' Pension bought 4,000 units in it on 1 January 2026: restricted securities
    # (Rule 144(a)(3)(ii)) of an issuer that does not report, so for a year. Until then it may resell to
    # a QIB (Rule 144A) but not to Emma Johnson, a US investor who is no QIB; from the first second of
    # the thirteenth month it may.
    (lot,) = _offerings(market, "UKT31").lots_of(market.wallet("atlantic-pension"))
    bought = _utc(market, lot.acquired_at)
    assert bought.date() == date(2026, 1, 1) and lot.amount == 4000
    assert _utc(market, lot.unlock_at) == bought.replace(year=2027)
    market.chain.time_travel(market.chain_time(datetime(2026, 12, 31, 12, tzinfo=UTC)))
    market.security("UKT31").transfer(market.wallet("boston-mutual"), 100, sender=market.wallet("atlantic-pension"))
    _boundary(market, "UKT31", "atlantic-pension", "emma-johnson", lot.unlock_at, "LOCKUP_ACTIVE")


def test_casc31a_144a_notes_of_a_reporting_issuer_resell_to_anyone_after_six_calendar_months(market: Market) -> None:
    _issue_refused(
        market, "CASC31A", "us-144a", "mason-family-trust", "OFFERING_PURCHASER_NOT_ELIGIBLE", "OfferingPurchaserNotQib"
    )
    # Cascade has reported to the SEC since 2012: its restricted notes are held six calendar months
    # (Rule 144(d)(1)(i)), from 1 January 2026 to the same time of day on 1 July 2026. Atlantic's resale
    # to Mason Family Trust (accredited, no QIB) is refused at the last second and allowed at the next.
    (lot,) = _offerings(market, "CASC31A").lots_of(market.wallet("atlantic-pension"))
    bought = _utc(market, lot.acquired_at)
    assert bought.date() == date(2026, 1, 1) and lot.amount == 5000
    assert _utc(market, lot.unlock_at) == bought.replace(month=7)
    _boundary(market, "CASC31A", "atlantic-pension", "mason-family-trust", lot.unlock_at, "LOCKUP_ACTIVE")
    # And on to a US investor who is not accredited either.
    market.security("CASC31A").transfer(market.wallet("emma-johnson"), 1, sender=market.wallet("mason-family-trust"))


def test_casc31s_reg_s_notes_reach_us_investors_who_are_no_qibs_when_the_40_days_end(market: Market) -> None:
    # Regulation S sells offshore: Mason Family Trust, a US person, may not buy in the offering (Rule
    # 903); Cotswold Wealth, a UK professional client and no QIB, may.
    _issue_refused(
        market,
        "CASC31S",
        "regs-2026",
        "mason-family-trust",
        "REG_S_DISTRIBUTION_COMPLIANCE",
        "OfferingPurchaserUsPerson",
    )
    _issued(market, "CASC31S", "regs-2026", "cotswold-wealth")
    # Category 2 debt: 40 days from the closing, 2 January 2026 09:00 UTC (Rule 902(f)), to 11 February
    # 09:00:00 UTC. At 08:59:59 Glen Mutual may not sell to Mason Family Trust (accredited, no QIB); at
    # 09:00:00 it may: debt sold under Regulation S is not a restricted security (Rule 905 covers
    # equity), and nothing makes the buyer need to be a QIB.
    (offering,) = _offerings(market, "CASC31S").offerings()
    ends = market.chain_time(datetime(2026, 2, 11, 9, tzinfo=UTC))
    assert offering.period_ends_at == ends and not offering.restricted
    _boundary(market, "CASC31S", "glen-insurance", "mason-family-trust", ends, "REG_S_DISTRIBUTION_COMPLIANCE")
    market.security("CASC31S").transfer(market.wallet("emma-johnson"), 1, sender=market.wallet("glen-insurance"))
