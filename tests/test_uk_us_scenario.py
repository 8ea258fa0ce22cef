"""The UK-US sandbox scenario (seeds/uk-us-sandbox.yaml): what it holds, that it loads the same way
twice, and that its history left the marks it says it did.

The scenario is loaded once for the module, on the default in-process engine (revm; ``SANDBOX_ENGINE``
chooses), and once more to compare; that py-evm runs the same history to the same outcomes and state is
tests/chain/test_revm_differential.py's. The positions it should end with are computed here, independently
of the chain, by applying the history's successful steps to the issued holdings."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from sandbox import calendars
from sandbox.chain.embedded import EmbeddedChain
from sandbox.chain.factory import in_process_chain
from sandbox.chain.revm_engine import RevmChain
from sandbox.contracts.corporate_actions import (
    BondPayingAgent,
    DistributionState,
    Payment,
    PaymentStatus,
    payment_code_name,
)
from sandbox.contracts.settlement import SettlementCode, TradeStatus
from sandbox.errors import SandboxError
from sandbox.market import Market, load_embedded, load_scenario
from sandbox.replay import ScenarioReplayError
from sandbox.rules import CASH_RULES, RULES_BY_NAME, InvestorCategory, Jurisdiction
from sandbox.scenario import (
    _CASH_RULE_NAMES,
    _DVP_CODE_NAMES,
    DEMO_SCENARIO,
    UK_US_SCENARIO,
    AdvanceTime,
    CrossBorderTransfer,
    DeclareCoupon,
    DeclareDividend,
    DvPBatch,
    DvPTrade,
    Freeze,
    Issue,
    PayCoupon,
    PayDividend,
    Scenario,
    Split,
    TradeTerms,
    Transfer,
    Unfreeze,
)

pytestmark = pytest.mark.slow

SANDBOX = Path(sys.executable).with_name("sandbox")


def _raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(UK_US_SCENARIO.read_text())
    return raw


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario.from_file(UK_US_SCENARIO)


def _load(scenario: Scenario) -> Market:
    return load_scenario(in_process_chain(num_accounts=scenario.accounts_needed), scenario)


#: What loading the module's market reported, step by step.
_progress: list[tuple[int, int, str]] = []


@pytest.fixture(scope="module")
def market(scenario: Scenario) -> Market:
    _progress.clear()
    return load_scenario(
        in_process_chain(num_accounts=scenario.accounts_needed), scenario, progress=lambda *step: _progress.append(step)
    )


def _block_hashes(market: Market) -> list[bytes]:
    w3 = market.chain.w3
    return [bytes(w3.eth.get_block(n)["hash"]) for n in range(market.chain.block_number() + 1)]


# ------------------------------------------------------------------------------------ the file


def test_the_scenario_has_the_participants_issue_5_asks_for(scenario: Scenario) -> None:
    assert {(r.key, r.jurisdiction) for r in scenario.regulators} == {("fca", "GB"), ("sec", "US")}
    assert len(scenario.investors) >= 40
    categories = Counter(i.category for i in scenario.investors)
    assert set(categories) == {c.name for c in InvestorCategory if c is not InvestorCategory.NONE}
    assert all(n >= 3 for n in categories.values()), categories
    assert {i.jurisdiction for i in scenario.investors} == {"GB", "US"}
    assert sum(1 for i in scenario.investors if i.extra_accounts) >= 3  # multi-wallet investors
    assert {c.currency for c in scenario.cash_tokens} == {"GBP", "USD"}
    by_symbol = {s.symbol: s for s in scenario.securities}
    gilt, reg_s, rule_144a = by_symbol["UKT31"], by_symbol["CASC31S"], by_symbol["CASC31A"]
    equity_uk, equity_us = by_symbol["PENN"], by_symbol["SIER"]
    assert gilt.home == "GB" and gilt.rules.uk_min_category == "UK_RETAIL"
    # One US corporate bond in two tranches: offshore (Reg S period) and 144A (sold to QIBs).
    assert reg_s.issuer == rule_144a.issuer and reg_s.home == rule_144a.home == "US"
    # Each tranche's status comes from its offering (issue 11): the Reg S period runs from the closing
    # (Rule 902(f)), not from when the token's terms were written; restricted periods follow each lot.
    assert [o.exemption for o in reg_s.offerings] == ["REG_S_CATEGORY_2"]
    assert [o.exemption for o in rule_144a.offerings] == ["RULE_144A"]
    assert equity_uk.home == "GB" and equity_uk.rules.uk_min_category == "UK_PROFESSIONAL"
    assert [o.exemption for o in equity_uk.offerings] == ["UK_PROFESSIONAL_PLACEMENT", "REG_D_506C"]
    assert equity_us.home == "US"
    assert [o.exemption for o in equity_us.offerings] == ["REG_D_506C", "REG_S_CATEGORY_3"]
    # The offering's exemption decides who may buy in it, the lot's holding period who may buy from a
    # holder: no seeded security keeps a token-wide US category minimum (506(c) and 144A govern the
    # offering, not resales after the holding period; tests/test_seeds_us_minimums.py).
    assert {s.symbol: s.rules.us_min_category for s in scenario.securities} == dict.fromkeys(
        ("UKT31", "CASC31S", "CASC31A", "PENN", "SIER"), None
    ) | {"HARB29": "US_NON_ACCREDITED"}
    assert all(s.offerings and not s.holdings for s in scenario.securities)
    kinds = Counter(a.kind for a in scenario.history)
    assert kinds["freeze"] == 1
    assert kinds["dvp_trade"] + kinds["dvp_batch"] >= 10 and kinds["transfer"] >= 5
    moments = [a.to for a in scenario.history if a.kind == "advance_time"]
    assert scenario.calendar_start is not None
    assert (moments[-1] - datetime.combine(scenario.calendar_start, datetime.min.time(), UTC)).days >= 21


def test_the_scenario_names_only_real_rules_and_codes() -> None:
    assert {r.name for r in CASH_RULES} == _CASH_RULE_NAMES
    assert {c.name for c in SettlementCode if c not in (SettlementCode.SUCCESS,)} == _DVP_CODE_NAMES


def test_check_scenario_accepts_it() -> None:
    result = subprocess.run(
        [str(SANDBOX), "check-scenario", str(UK_US_SCENARIO)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout and "74 investors" in result.stdout


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["securities"][0]["offerings"][0]["holdings"].update({"barclane-bank/2": 5}), "names none"),
        (lambda d: d["investors"][1].update(extra_accounts=[53]), "account of its own"),
        (lambda d: d["history"].append({"kind": "advance_time", "to": "2026-01-02T00:00:00Z"}), "is not after"),
        (lambda d: d["history"].append({"kind": "advance_time", "to": "2026-12-02T00:00:00"}), "needs a time zone"),
        (lambda d: d.pop("calendar_start"), "needs the scenario's calendar_start"),
        (
            lambda d: d["history"].append(
                {"kind": "transfer", "asset": "XYZ", "from": "emma-johnson", "to": "ava-davis", "amount": 1}
            ),
            "unknown security or cash token 'XYZ'",
        ),
        (
            lambda d: d["history"].append(
                {
                    "kind": "transfer",
                    "asset": "GBP",
                    "from": "emma-johnson",
                    "to": "ava-davis",
                    "amount": 1,
                    "expect_refusal": "LOCKUP_ACTIVE",
                }
            ),
            "not a rule of the cash rulebook",
        ),
        (
            lambda d: d["history"].append(
                {
                    "kind": "dvp_trade",
                    "security": "PENN",
                    "seller": "avon-asset-mgmt",
                    "buyer": "lune-endowment",
                    "quantity": 3,
                    "currency": "GBP",
                    "price": "4.333",
                }
            ),
            "not a whole number of pence",
        ),
        (
            lambda d: d["history"].append(
                {
                    "kind": "dvp_trade",
                    "security": "PENN",
                    "seller": "avon-asset-mgmt",
                    "buyer": "avon-asset-mgmt/1",
                    "quantity": 3,
                    "currency": "GBP",
                    "price": "4",
                }
            ),
            "seller and buyer are the same investor",
        ),
        (
            lambda d: d["history"].append(
                {"kind": "freeze", "by": "emma-johnson", "asset": "UKT31", "wallet": "fenland-capital"}
            ),
            "neither a regulator nor an issuer",
        ),
        (
            lambda d: d["history"].append(
                {
                    "kind": "cross_border_transfer",
                    "security": "UKT31",
                    "from": "exe-pension",
                    "to": "glen-insurance",
                    "amount": 9000,
                }
            ),
            "are both in GB",
        ),
        (
            lambda d: d["history"].append({"kind": "merger", "security": "PENN"}),
            "does not match any of the expected tags",
        ),
        (lambda d: d["history"].append({"kind": "split", "security": "PENN"}), "split.ratio\n  Field required"),
        (
            lambda d: d["history"].insert(0, {"kind": "pay_coupon", "security": "UKT31", "period": 1}),
            "coupon 1 of UKT31 is paid before it is declared",
        ),
        (
            lambda d: d["history"].append({"kind": "declare_coupon", "security": "PENN", "period": 1}),
            "'PENN' is not a bond of the scenario",
        ),
        (
            lambda d: d["history"].append({"kind": "declare_coupon", "security": "UKT31", "period": 13}),
            "bond UKT31 has 12 coupon dates",
        ),
        (
            lambda d: d["history"].append(
                {
                    "kind": "declare_dividend",
                    "security": "PENN",
                    "amount_per_share": 1,
                    "record_date": "2026-03-02T00:00:00Z",
                    "payment_date": "2026-03-01T00:00:00Z",
                }
            ),
            "the record date must come before the payment date",
        ),
        (lambda d: d["securities"][0]["bond"].update(maturity="2031-07-21"), "must be the last coupon date"),
        (lambda d: d["securities"][0]["bond"].update(isin="GB123"), "String should match pattern"),
        (
            lambda d: d["securities"][0]["bond"].update(day_count="ACT/ACT"),
            "'30/360 US' or 'ACT/ACT ICMA'",
        ),
        (lambda d: d["issuers"][0].pop("treasury_account"), "needs a treasury_account to fund payments"),
        (lambda d: d["securities"][3]["equity"].update(currency="EUR"), "Input should be 'GBP' or 'USD'"),
        (lambda d: d["history"].append({"kind": "transfer", "asset": "PENN", "to": "ava-davis", "amount": 1}), "from"),
    ],
)
def test_invalid_scenarios_are_refused_with_a_reason(mutate: Any, message: str) -> None:
    raw = _raw()
    mutate(raw)
    with pytest.raises(ValidationError, match=message):
        Scenario.model_validate(raw)


# --------------------------------------------------------------------------------------- loading


def test_loading_twice_gives_the_same_chain(market: Market, scenario: Scenario) -> None:
    again = _load(scenario)
    assert again.chain.block_number() == market.chain.block_number()
    assert _block_hashes(again) == _block_hashes(market)
    assert again.history == market.history


def test_loading_reports_every_step(market: Market, scenario: Scenario) -> None:
    assert [done for done, _, _ in _progress] == list(range(1, len(_progress) + 1))
    assert {total for _, total, _ in _progress} == {len(_progress)}
    assert len(_progress) > len(scenario.investors) + len(scenario.history)
    assert [what for _, _, what in _progress[-len(scenario.history) :]] == [e.summary for e in market.history]
    assert _progress[-1][2] == "time advanced to 2026-02-20 17:00 UTC (end of the recorded history)"


def test_the_clock_followed_the_calendar(market: Market, scenario: Scenario) -> None:
    assert market.calendar_offset == 0  # the embedded chain's genesis day is the calendar's day 0
    last_moment = [a.to for a in scenario.history if a.kind == "advance_time"][-1]
    assert market.chain.timestamp() == int(last_moment.timestamp())
    assert len(market.history) == len(scenario.history)
    stamps = [entry.timestamp for entry in market.history]
    assert stamps == sorted(stamps)


def _year_fraction(convention: str, start: date, end: date) -> Fraction:
    """The day-count fractions of the bonds, computed here from their textbook definitions."""
    if convention == "ACT/365":
        return Fraction((end - start).days, 365)
    if convention == "ACT/ACT ICMA":
        # Regular half-yearly periods only in this scenario: exactly half a year.
        assert calendars.add_months(start, 6) == end, (start, end)
        return Fraction(1, 2)
    if convention == "30/360 US":
        # SIFMA's rule differs from the bond basis only at the end of February (not in this scenario).
        assert not any(d.month == 2 and (d + timedelta(days=1)).month == 3 for d in (start, end)), (start, end)
    d1, d2 = min(start.day, 30), end.day
    if convention == "30E/360" or d1 == 30:
        d2 = min(d2, 30)
    return Fraction(360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1), 360)


@dataclass
class Expected:
    """What the history should leave: balances (asset → wallet reference → units or minor units) and
    payments held by paying agents ((symbol, what) → wallet reference → amount)."""

    balances: dict[str, dict[str, int]]
    held: dict[tuple[str, str], dict[str, int]]
    #: currency → cash the paying agents keep: held payments and each distribution's rounding dust
    agent_cash: dict[str, int]


def _expected(scenario: Scenario) -> Expected:
    """Applies the issued holdings and every step of the history not expected to be refused, in the
    scenario's own terms: trades and transfers move units and cash; a coupon or dividend pays each
    wallet floor(record-date units x amount per unit), except a wallet frozen on the security, whose
    payment is held, and takes floor(record-date supply x amount per unit) from the issuer's treasury;
    a split multiplies every balance."""
    balances: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    held: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    agent_cash: dict[str, int] = defaultdict(int)
    for security in scenario.securities:
        for wallet, amount in security.holdings.items():
            balances[security.symbol][wallet] += amount
        for offering in security.offerings:
            for wallet, amount in offering.holdings.items():
                balances[security.symbol][wallet] += amount
    for cash in scenario.cash_tokens:
        for wallet, amount in cash.holdings.items():
            balances[cash.currency][wallet] += amount
    specs = {s.symbol: s for s in scenario.securities}
    frozen: set[tuple[str, str]] = set()
    #: (symbol, what) → (record date, per-unit amount, record-date balances once the clock passes it)
    distributions: dict[tuple[str, str], tuple[datetime, Fraction, dict[str, int] | None]] = {}
    dividends: dict[str, int] = defaultdict(int)

    def move(asset: str, sender: str, receiver: str, amount: int) -> None:
        balances[asset][sender] -= amount
        balances[asset][receiver] += amount

    def trade(t: TradeTerms) -> None:
        if t.expect_failure is None:
            move(t.security, t.seller, t.buyer, t.quantity)
            move(t.currency, t.buyer, t.seller, t.cash_amount)

    def pay(symbol: str, what: str, currency: str) -> None:
        _, per_unit, at_record = distributions[(symbol, what)]
        assert at_record is not None, f"{what} of {symbol} paid before its record date passed"
        funded = math.floor(sum(at_record.values()) * per_unit)
        balances[currency][specs[symbol].issuer] -= funded  # the issuer's treasury
        agent_cash[currency] += funded
        for wallet, units in at_record.items():
            owed = math.floor(units * per_unit)
            if (symbol, wallet) in frozen:
                held[(symbol, what)][wallet] = owed
            elif owed:
                balances[currency][wallet] += owed
                agent_cash[currency] -= owed

    for action in scenario.history:
        match action:
            case AdvanceTime():
                for key, (record_date, per_unit, at_record) in distributions.items():
                    if at_record is None and record_date < action.to:
                        distributions[key] = (record_date, per_unit, {w: u for w, u in balances[key[0]].items() if u})
            case Transfer() if action.expect_refusal is None:
                move(action.asset, action.sender, action.receiver, action.amount)
            case CrossBorderTransfer():
                move(action.security, action.sender, action.receiver, action.amount)
            case Issue() if action.expect_refusal is None:
                balances[action.security][action.receiver] += action.amount
            case DvPTrade():
                trade(action)
            case DvPBatch():
                for t in action.trades:
                    trade(t)
            case Freeze():
                frozen.add((action.asset, action.wallet))
            case Unfreeze():
                frozen.discard((action.asset, action.wallet))
            case DeclareCoupon():
                bond = specs[action.security].bond
                assert bond is not None
                end = bond.coupon_dates[action.period - 1]
                start = bond.coupon_dates[action.period - 2] if action.period > 1 else bond.issue_date
                per_unit = (
                    bond.face_value * Fraction(bond.coupon_bps, 10_000) * _year_fraction(bond.day_count, start, end)
                )
                record_date = bond.record_instants()[action.period - 1]
                distributions[(action.security, f"coupon {action.period}")] = (record_date, per_unit, None)
            case PayCoupon():
                bond = specs[action.security].bond
                assert bond is not None
                pay(action.security, f"coupon {action.period}", bond.currency)
            case DeclareDividend():
                dividends[action.security] += 1
                key = (action.security, f"dividend {dividends[action.security]}")
                distributions[key] = (action.record_date, Fraction(action.amount_per_share), None)
            case PayDividend():
                equity = specs[action.security].equity
                assert equity is not None
                pay(action.security, f"dividend {dividends[action.security]}", equity.currency)
            case Split():
                for wallet in balances[action.security]:
                    balances[action.security][wallet] *= action.ratio
    return Expected(balances, held, agent_cash)


@pytest.fixture(scope="module")
def expected(scenario: Scenario) -> Expected:
    return _expected(scenario)


def test_positions_after_the_history_are_what_its_steps_imply(
    market: Market, scenario: Scenario, expected: Expected
) -> None:
    wallets = [f"{i.key}/{n}" if n else i.key for i in scenario.investors for n in range(len(i.all_accounts))]
    wallets += [i.key for i in scenario.issuers if i.treasury_account is not None]
    tokens = {
        **{s: market.security(s) for s in market.securities},
        "GBP": market.cash_token("GBP"),
        "USD": market.cash_token("USD"),
    }
    nonzero = 0
    for asset, token in tokens.items():
        for wallet in wallets:
            assert token.balance_of(market.wallet(wallet)) == expected.balances[asset].get(wallet, 0), (asset, wallet)
        issued = sum(expected.balances[asset].values())
        if asset in ("GBP", "USD"):
            agents = sum(token.balance_of(agent.address) for agent in market.paying_agents.values())
            assert agents == expected.agent_cash[asset], asset
            issued += agents
        assert token.total_supply() == issued, asset
        nonzero += sum(1 for amount in expected.balances[asset].values() if amount)
    assert nonzero > 120
    held = sum(sum(amounts.values()) for amounts in expected.held.values())
    assert 0 < held < expected.agent_cash["GBP"]
    # Spot checks a reader can follow in the YAML.
    assert market.security("CASC31S").balance_of(market.wallet("boston-mutual")) == 500  # after the Reg S period
    assert market.security("UKT31").balance_of(market.wallet("hudson-valley-bank")) == 6000  # cross-border
    assert market.security("CASC31A").balance_of(market.wallet("keystone-funds/2")) == 750  # own wallets
    assert market.security("SIER").balance_of(market.wallet("juniper-family-office")) == 50_000  # closing, split


def test_coupons_went_to_the_record_date_holders(market: Market, expected: Expected) -> None:
    agent = market.paying_agent("CASC31S")
    assert isinstance(agent, BondPayingAgent)
    distribution = agent.distribution(agent.coupon_distribution(0))
    assert distribution.state == DistributionState.FUNDED
    # Glen Mutual sold 500 notes to Boston Mutual on 11 February, after the record date (8 February):
    # Glen is paid on its 2,000 notes, Boston Mutual nothing.
    glen, boston = market.wallet("glen-insurance"), market.wallet("boston-mutual")
    assert agent.payment(distribution.distribution_id, glen) == Payment(PaymentStatus.PAID, 0, 2000 * 26_25)
    assert agent.payment(distribution.distribution_id, boston).status == PaymentStatus.UNPAID
    assert agent.entitlement(distribution.distribution_id, boston) == 0
    assert distribution.paid == 338_625_00


def test_the_frozen_holders_coupon_is_held(market: Market, expected: Expected) -> None:
    agent, fenland = market.paying_agent("UKT31"), market.wallet("fenland-capital")
    assert isinstance(agent, BondPayingAgent)
    coupon = agent.coupon_distribution(0)
    owed = expected.held[("UKT31", "coupon 1")]["fenland-capital"]
    # A gilt pays a fixed half-year's coupon (ACT/ACT ICMA): 2.125 pounds a unit, not 184/365 of 4.25.
    assert owed == 6000 * 10_000 * 425 // (10_000 * 2) > 0
    payment = agent.payment(coupon, fenland)
    assert payment.status == PaymentStatus.HELD and payment.amount == owed
    assert payment_code_name(payment.code) == "PAYMENT_SECURITY_WALLET_FROZEN"
    assert agent.held_amount(coupon, fenland) == owed
    assert agent.distribution(coupon).held == owed


def test_the_regulator_freeze_holds(market: Market) -> None:
    gilt, fenland = market.security("UKT31"), market.wallet("fenland-capital")
    assert gilt.is_frozen(fenland)
    assert gilt.frozen_by(fenland) == Jurisdiction.GB
    assert not market.security("PENN").is_frozen(fenland)
    assert gilt.balance_of(fenland) == 6000  # nothing left the frozen wallet
    refused = [e for e in market.history if e.kind == "transfer" and "SENDER_FROZEN" in e.summary]
    assert len(refused) == 1


def test_failed_settlements_record_the_refusing_rule(market: Market, scenario: Scenario) -> None:
    settlement = market.settlement
    assert settlement is not None
    expected = {**{n: r.code for n, r in RULES_BY_NAME.items()}, **{c.name: int(c) for c in SettlementCode}}
    expected |= {r.name: r.code for r in CASH_RULES}
    trades: list[TradeTerms] = []
    for action in scenario.history:
        if isinstance(action, DvPTrade):
            trades.append(action)
        elif isinstance(action, DvPBatch):
            trades.extend(action.trades)
    ids = [i for entry in market.history for i in entry.trade_ids]
    assert len(ids) == len(trades) == settlement.trade_count()
    for trade_id, terms in zip(ids, trades, strict=True):
        recorded = settlement.trade(trade_id)
        assert recorded.quantity == terms.quantity and recorded.cash_amount == terms.cash_amount
        if terms.expect_failure is None:
            assert recorded.status == TradeStatus.SETTLED
        else:
            assert recorded.status == TradeStatus.AFFIRMED
            assert recorded.failure_code == expected[terms.expect_failure], terms


def test_a_history_that_does_not_go_as_written_stops_loading() -> None:
    raw: dict[str, Any] = yaml.safe_load(DEMO_SCENARIO.read_text())
    raw["history"] = [
        {"kind": "transfer", "asset": "THAMES28", "from": "alice", "to": "bob", "amount": 10},
        {
            "kind": "transfer",
            "asset": "THAMES28",
            "from": "alice",
            "to": "bob",
            "amount": 10,
            "expect_refusal": "SENDER_FROZEN",
        },
    ]
    demo = Scenario.model_validate(raw)
    with pytest.raises(
        ScenarioReplayError, match=r"history step 2 \(transfer\).*expected to be refused by SENDER_FROZEN"
    ):
        load_scenario(in_process_chain(num_accounts=demo.accounts_needed), demo)
    raw["history"] = [{"kind": "freeze", "by": "sec", "asset": "THAMES28", "wallet": "alice"}]
    with pytest.raises(ScenarioReplayError, match=r"history step 1 \(freeze\) was refused: RegulatorOutOfScope"):
        load_scenario(in_process_chain(num_accounts=demo.accounts_needed), Scenario.model_validate(raw))


def test_a_chain_without_enough_accounts_is_refused(scenario: Scenario) -> None:
    with pytest.raises(SandboxError, match="needs 93 accounts; the chain has 20"):
        load_scenario(in_process_chain(num_accounts=20), scenario)


def test_the_gateway_serves_the_scenario(market: Market, scenario: Scenario) -> None:
    from fastapi.testclient import TestClient

    from sandbox_gateway.app import create_app
    from sandbox_gateway.settings import Settings

    fca = {"Authorization": f"Bearer {scenario.regulators[0].api_key}"}
    with TestClient(create_app(Settings(), market=market)) as client:
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["securities"] == len(scenario.securities)
        positions = client.get("/securities/UKT31/positions", headers=fca)
        assert positions.status_code == 200, positions.text
        assert market.wallet("fenland-capital").lower() in positions.text.lower()


def test_on_the_wall_clock_the_history_ends_before_today() -> None:
    raw: dict[str, Any] = yaml.safe_load(DEMO_SCENARIO.read_text())
    raw["calendar_start"] = "2026-01-01"
    raw["history"] = [
        {"kind": "advance_time", "to": "2026-01-03T09:00:00Z"},
        {"kind": "transfer", "asset": "THAMES28", "from": "alice", "to": "bob", "amount": 10},
    ]
    demo = Scenario.model_validate(raw)
    assert demo.history_days == 3
    # "Today" as the load saw it: read after the load, the day could have turned at midnight meanwhile.
    now = int(time.time())
    market = load_embedded(demo, clock="wall", now=now)
    chain = market.chain
    assert isinstance(chain, (EmbeddedChain, RevmChain)) and chain.clock == "wall"
    today = now // 86_400 * 86_400
    assert market.calendar_offset == today - 3 * 86_400 - int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    assert market.history[0].timestamp == today - 3 * 86_400 + 2 * 86_400 + 9 * 3600
    assert chain.timestamp() < time.time()
    market.security("THAMES28").transfer(market.wallet("bob"), 1, sender=market.wallet("alice"))
    assert abs(chain.timestamp() - time.time()) < 300  # the wall clock took over


# ------------------------------------------------------------------------------------ offerings (#11)


def test_harbour_notes_are_issued_in_offerings_with_their_own_periods(market: Market) -> None:
    """The story's Harbour Robotics notes: a Reg S tap with its own distribution compliance period, a
    506(b) offering that reaches its 35th non-accredited purchaser and refuses a 36th, and a Rule 144A
    resale to a QIB during the holding period (the replayed history checks each refusal's rule)."""
    offerings = market.offerings("HARB29")
    assert offerings is not None
    regd, regs, tap = offerings.offerings()
    assert (regd.exemption.name, regd.non_accredited_purchasers, regd.restricted) == ("REG_D_506B", 35, True)
    assert regs.period_ends_at == market.chain_time(datetime(2026, 2, 14, 17, tzinfo=UTC))
    assert tap.period_ends_at == market.chain_time(datetime(2026, 3, 31, 17, tzinfo=UTC))
    atlantic = market.wallet("atlantic-pension")
    (lot,) = offerings.lots_of(atlantic)
    assert (lot.offering_id, lot.amount, lot.restricted) == (1, 100, True)
    assert lot.unlock_at == offerings.add_months(lot.acquired_at, 12)
    refused = [e.summary for e in market.history if "refused by" in e.summary]
    assert any("NON_ACCREDITED_PURCHASER_LIMIT" in e for e in refused)
    assert sum("REG_S_DISTRIBUTION_COMPLIANCE" in e and "HARB29" in e for e in refused) == 2
    assert any("LOCKUP_ACTIVE" in e and "HARB29" in e for e in refused)


def test_a_security_with_offerings_issues_only_in_them(scenario: Scenario) -> None:
    raw = _raw()
    harbour = next(s for s in raw["securities"] if s["symbol"] == "HARB29")
    harbour["holdings"] = {"emma-johnson": 1}
    with pytest.raises(ValueError, match="issued in an offering"):
        Scenario.model_validate(raw)
    raw = _raw()
    raw["history"].insert(-1, {"kind": "issue", "security": "HARB29", "to": "emma-johnson", "amount": 1})
    with pytest.raises(ValueError, match="name it"):
        Scenario.model_validate(raw)


def test_every_seeded_security_issues_in_an_offering_whose_status_its_lots_carry(market: Market) -> None:
    """Issue 11: every seeded security is issued in offerings under the exemption its buyers need, and
    its lots carry that offering's status (on today's main only HARB29 did; the others minted outside
    any offering, with a token-wide Reg S period from the terms and a 182-day lock-up)."""
    start = market.chain_time(datetime(2026, 1, 1, tzinfo=UTC))
    for symbol in ("UKT31", "CASC31S", "CASC31A", "PENN", "SIER", "HARB29"):
        offerings = market.offerings(symbol)
        assert offerings is not None, symbol
        issued = sum(o.issued for o in offerings.offerings())
        assert issued > 0, symbol

    # The gilt: a UK public offer (no status) and a Rule 144A sale to US QIBs (restricted, Rule 144(a)(3)).
    gilt = market.offerings("UKT31")
    assert gilt is not None
    uk, us = gilt.offerings()
    assert (uk.exemption.name, uk.restricted, uk.period_ends_at) == ("UK_PUBLIC_OFFER", False, 0)
    assert (us.exemption.name, us.restricted) == ("RULE_144A", True)
    assert gilt.lots_of(market.wallet("tamar-investment-bank")) == []
    (lot,) = gilt.lots_of(market.wallet("boston-mutual"))
    assert (lot.offering_id, lot.amount, lot.restricted) == (2, 2500, True)
    assert lot.unlock_at == gilt.add_months(lot.acquired_at, 12)  # a non-reporting issuer: one year

    # Cascade's Reg S notes: 40 days from the closing, 2 January 09:00, to 11 February 09:00.
    regs = market.offerings("CASC31S")
    assert regs is not None
    (offering,) = regs.offerings()
    assert offering.period_ends_at == market.chain_time(datetime(2026, 2, 11, 9, tzinfo=UTC))
    assert not offering.restricted  # debt sold offshore: no Rule 144 restriction, only the period

    # Cascade's 144A notes: a reporting issuer (since 2012), six calendar months.
    rule_144a = market.offerings("CASC31A")
    assert rule_144a is not None
    (lot,) = rule_144a.lots_of(market.wallet("hudson-valley-bank"))
    assert lot.amount == 4000 - 750 and lot.acquired_at >= start  # it sold 750 to Keystone (a QIB)
    assert lot.unlock_at == rule_144a.add_months(lot.acquired_at, 6)
    # The 750 went with their lot to Keystone, then on to its custody wallet (Rule 144(d)(3) tacking).
    (moved,) = rule_144a.lots_of(market.wallet("keystone-funds/2"))
    assert (moved.amount, moved.acquired_at) == (750, lot.acquired_at)

    # Pennine's shares: a UK professional placing, and a 506(c) US tranche (restricted) for verified
    # accredited buyers.
    penn = market.offerings("PENN")
    assert penn is not None
    assert [(o.exemption.name, o.restricted) for o in penn.offerings()] == [
        ("UK_PROFESSIONAL_PLACEMENT", False),
        ("REG_D_506C", True),
    ]
    assert penn.lots_of(market.wallet("avon-asset-mgmt")) == []
    (lot,) = penn.lots_of(market.wallet("juniper-family-office"))
    assert (lot.offering_id, lot.amount) == (2, 40000)

    # Sierra's shares: 506(c) lots (two closings) doubled by the 2-for-1 split of 18 February, with
    # their acquisition dates kept (Rule 144(d)(3)(i)); Kennet's offshore lot is Category 3 equity.
    sier = market.offerings("SIER")
    assert sier is not None
    (lot,) = sier.lots_of(market.wallet("brooklyn-angels"))
    assert (lot.offering_id, lot.amount, lot.restricted) == (1, 70000, True)
    assert lot.acquired_at < market.chain_time(datetime(2026, 1, 2, tzinfo=UTC))
    assert lot.unlock_at == sier.add_months(lot.acquired_at, 12)
    (lot,) = sier.lots_of(market.wallet("irving-ira"))
    second_closing = market.chain_time(datetime(2026, 1, 19, 9, 30, tzinfo=UTC))
    assert second_closing <= lot.acquired_at < second_closing + 60 and lot.amount == 8000
    (lot,) = sier.lots_of(market.wallet("kennet-advisers"))
    assert (lot.offering_id, lot.amount, lot.restricted) == (2, 20000, True)
    assert lot.reg_s_until == sier.add_months(market.chain_time(datetime(2026, 1, 2, 9, tzinfo=UTC)), 12)
