"""`Market`'s writes that depend on chain state they read (issue #10, item 3): run side by side they do
not undo each other, and a refused one leaves nothing behind."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from sandbox.contracts.security_token import SecurityToken
from sandbox.errors import ContractReverted, SandboxError
from sandbox.market import MAX_ALLOWANCE, Market, SymbolTaken
from sandbox.rules import InvestorCategory


def test_partial_investor_updates_side_by_side_both_land(market: Market) -> None:
    """The registry takes category and KYC expiry together: each partial update reads the other field."""
    identity, agent = market.accounts["bob"], market.operator  # the demo's investors were onboarded by the operator
    base = market.registry.investor(identity).kyc_valid_until
    for round_ in range(1, 4):
        kyc = base + round_ * 86_400
        category = InvestorCategory.UK_PROFESSIONAL if round_ % 2 else InvestorCategory.UK_ELIGIBLE_COUNTERPARTY
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = [
                pool.submit(market.update_investor, identity, category=category, sender=agent),
                pool.submit(market.update_investor, identity, kyc_valid_until=kyc, sender=agent),
            ]
            for future in done:
                future.result()
        record = market.registry.investor(identity)
        assert (record.category, record.kyc_valid_until) == (category, kyc)


def test_an_allowance_raise_saturates_at_the_maximum(market: Market) -> None:
    assert market.settlement is not None
    carol, alice = market.accounts["carol"], market.accounts["alice"]
    market.cash["GBPS"].approve(market.settlement.address, MAX_ALLOWANCE - 5, sender=carol)
    market.propose_trade(
        proposer=carol,
        seller=alice,
        buyer=carol,
        security="THAMES28",
        quantity=1,
        cash="GBPS",
        cash_amount=100,
        deadline=market.chain.timestamp() + 86_400,
    )
    assert market.cash["GBPS"].allowance(carol, market.settlement.address) == MAX_ALLOWANCE


def test_a_failed_deployment_releases_its_symbol(market: Market) -> None:
    hudson = market.accounts["hudson"]

    def failing() -> SecurityToken:
        raise SandboxError("deployment refused")

    with pytest.raises(SandboxError, match="deployment refused"):
        market.create_security(symbol="HUDB27", issuer_key="hudson", deploy=failing)
    with pytest.raises(SymbolTaken):
        market.create_security(symbol="THAMES28", issuer_key="hudson", deploy=failing)

    token = market.create_security(
        symbol="HUDB27",
        issuer_key="hudson",
        deploy=lambda: SecurityToken.deploy(
            market.chain,
            name="Hudson Robotics 5% 2027",
            symbol="HUDB27",
            decimals=0,
            registry=market.registry.address,
            home_jurisdiction=840,
            admitted_jurisdictions=[840],
            admin=hudson,
            sender=hudson,
            extension=market.extension,
        ),
    )
    assert market.securities["HUDB27"] is token


def test_a_funding_refused_before_the_record_date_sends_nothing(market: Market) -> None:
    agent, treasury = market.paying_agent("HUDS"), market.treasuries["hudson"]
    now = market.chain.timestamp()
    dividend = agent.declare_dividend(5, now + 86_400, now + 2 * 86_400, sender=market.accounts["hudson"])
    nonce = market.chain.w3.eth.get_transaction_count(treasury)  # type: ignore[arg-type]

    with pytest.raises(ContractReverted) as refused:
        market.fund_distribution("HUDS", dividend.distribution_id, payer=treasury)

    assert refused.value.error_name == "PayingAgentRecordDateNotPassed"
    assert market.chain.w3.eth.get_transaction_count(treasury) == nonce  # type: ignore[arg-type]
    assert market.cash_token("USD").allowance(treasury, agent.address) == 0
