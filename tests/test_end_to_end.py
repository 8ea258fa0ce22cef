"""One thin path through every layer: registry and token on the embedded chain via the facades, the
UK regulator's freeze through the HTTP gateway, and the refusal decoded back into the rule."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sandbox.contracts.offerings import Exemption, OfferingTerms
from sandbox.errors import ContractReverted
from sandbox.market import Market
from sandbox.rules import RULES_BY_CODE, InvestorCategory, Jurisdiction
from sandbox.scenario import Scenario
from sandbox_gateway.app import create_app
from sandbox_gateway.settings import Settings


def test_register_mint_transfer_refuse_freeze_refuse(market: Market, demo_scenario: Scenario) -> None:
    chain = market.chain
    token = market.security("THAMES28")
    issuer = market.accounts["thames"]
    uk_wallet, us_wallet, stranger = (chain.accounts[i].address for i in (10, 11, 12))
    kyc_until = chain.timestamp() + 365 * 86_400

    # Register a UK and a US investor.
    market.registry.register_investor(
        uk_wallet, uk_wallet, Jurisdiction.GB, InvestorCategory.UK_PROFESSIONAL, kyc_until, sender=market.operator
    )
    market.registry.register_investor(
        us_wallet, us_wallet, Jurisdiction.US, InvestorCategory.US_ACCREDITED, kyc_until, sender=market.operator
    )
    # Issue in an offering (the demo's units are issued only in offerings: issue 11), a UK
    # professional placing opened now, and a compliant transfer succeeds.
    now = chain.timestamp()
    offerings = market.offerings("THAMES28")
    assert offerings is not None
    terms = OfferingTerms(Exemption.UK_PROFESSIONAL_PLACEMENT, now, now + 30 * 86_400, False)
    placing = offerings.open_offering(terms, sender=issuer)
    offerings.issue(placing, uk_wallet, 1_000, sender=issuer)
    receipt = token.transfer(us_wallet, 250, sender=uk_wallet)
    [event] = token.events(receipt, "Transfer")
    assert event.args == {"from": uk_wallet, "to": us_wallet, "value": 250}
    assert (token.balance_of(uk_wallet), token.balance_of(us_wallet)) == (750, 250)

    # A transfer to an unregistered wallet reverts with the decoded custom error, and the rule's code
    # agrees with the ERC-1404 pre-check.
    code = token.detect_transfer_restriction(uk_wallet, stranger, 1)
    with pytest.raises(ContractReverted) as refused:
        token.transfer(stranger, 1, sender=uk_wallet)
    assert refused.value.error_name == "ReceiverNotRegistered"
    assert refused.value.args_by_name == {"wallet": stranger}
    assert refused.value.rule_code == code == 0x21
    assert RULES_BY_CODE[code].name == "RECEIVER_NOT_REGISTERED"
    assert refused.value.rule_message is not None and refused.value.rule_message.startswith("RECEIVER_NOT_REGISTERED")

    # The UK regulator freezes the UK wallet through the HTTP gateway...
    fca_key = demo_scenario.regulators[0].api_key
    with TestClient(create_app(Settings(), market=market)) as client:
        response = client.post(
            "/securities/THAMES28/frozen-wallets",
            json={"wallet": uk_wallet.lower()},
            headers={"Authorization": f"Bearer {fca_key}"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["wallet"] == uk_wallet
        positions = client.get("/securities/THAMES28/positions", headers={"Authorization": f"Bearer {fca_key}"})
        frozen = {p["wallet"]: p["frozen"] for p in positions.json()["items"]}
        assert frozen[uk_wallet] is True and frozen[us_wallet] is False

    # ...and a transfer from it then fails, on chain, naming the rule.
    assert token.detect_transfer_restriction(uk_wallet, us_wallet, 1) == 0x11
    with pytest.raises(ContractReverted) as frozen_out:
        token.transfer(us_wallet, 1, sender=uk_wallet)
    assert frozen_out.value.error_name == "SenderFrozen"
    assert frozen_out.value.rule_name == "SENDER_FROZEN"
    assert (token.balance_of(uk_wallet), token.balance_of(us_wallet)) == (750, 250)
