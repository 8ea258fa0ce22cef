"""The GBP and USD cash tokens: reserves, eligibility, per-identity holding limits, freezes."""

from __future__ import annotations

import pytest

from sandbox.contracts import CashToken, HolderType, minor_units
from sandbox.contracts.cash_token import (
    GBP_BUSINESS_LIMIT,
    GBP_INDIVIDUAL_LIMIT,
    HoldingLimit,
    HoldingLimits,
)
from sandbox.errors import ContractReverted, SandboxError
from sandbox.rules import CASH_RULES, Jurisdiction
from tests.markets.conftest import MarketsWorld

INDIVIDUAL_ERROR = "CashIndividualHoldingLimitExceeded"
BUSINESS_ERROR = "CashBusinessHoldingLimitExceeded"


def test_amounts_are_exact_pence() -> None:
    assert minor_units("19999.99") == 1_999_999
    assert minor_units("20000") == GBP_INDIVIDUAL_LIMIT == 2_000_000
    assert minor_units("10000000") == GBP_BUSINESS_LIMIT
    with pytest.raises(SandboxError, match="more than 2 decimals"):
        minor_units("0.001")
    with pytest.raises(SandboxError, match="not an amount"):
        minor_units("ten")


def test_gbp_and_usd_terms(markets: MarketsWorld) -> None:
    gbp, usd = markets.gbp, markets.usd
    assert (gbp.symbol(), gbp.decimals(), gbp.home_jurisdiction()) == ("GBPS", 2, Jurisdiction.GB)
    assert (usd.symbol(), usd.decimals(), usd.home_jurisdiction()) == ("USDS", 2, Jurisdiction.US)
    assert gbp.holding_limits() == HoldingLimits(individual=2_000_000, business=1_000_000_000)
    assert usd.holding_limits() == HoldingLimits(None, None)
    assert gbp.identity_registry() == markets.registry.address


def test_rule_table_matches_the_contract(markets: MarketsWorld) -> None:
    for rule in CASH_RULES:
        assert 0x80 <= rule.code <= 0x9F
        assert markets.gbp.message_for_transfer_restriction(rule.code).startswith(rule.name + ": ")
    assert markets.gbp.message_for_transfer_restriction(0x10).startswith("UNKNOWN")
    assert "Bank of England" in markets.gbp.message_for_transfer_restriction(0x90)


def _refused(fn: object, error: str, code: int) -> ContractReverted:
    assert callable(fn)
    with pytest.raises(ContractReverted) as info:
        fn()
    assert info.value.error_name == error
    assert info.value.rule_code == code
    return info.value


def test_individual_cap_at_19999_99_then_20000_then_20000_01(markets: MarketsWorld) -> None:
    gbp, admin, alice = markets.gbp, markets.admin, markets.alice
    gbp.mint(alice.wallet, minor_units("19999.99"), sender=admin)
    assert gbp.identity_balance(alice.identity) == 1_999_999
    assert gbp.detect_transfer_restriction("0x" + "00" * 20, alice.wallet, 1) == 0
    gbp.mint(alice.wallet, minor_units("0.01"), sender=admin)
    assert gbp.balance_of(alice.wallet) == minor_units("20000")
    assert gbp.detect_transfer_restriction("0x" + "00" * 20, alice.wallet, 1) == 0x90
    exc = _refused(lambda: gbp.mint(alice.wallet, 1, sender=admin), INDIVIDUAL_ERROR, 0x90)
    assert exc.args_by_name == {"investor": alice.identity, "held": 2_000_000, "value": 1, "limit": 2_000_000}
    assert gbp.balance_of(alice.wallet) == 2_000_000
    assert gbp.total_supply() == 2_000_000
    # A transfer from another individual is refused alike, and nothing moves.
    gbp.mint(markets.dave.wallet, 500, sender=admin)
    _refused(lambda: gbp.transfer(alice.wallet, 1, sender=markets.dave.wallet), INDIVIDUAL_ERROR, 0x90)
    assert gbp.balance_of(markets.dave.wallet) == 500


def test_individual_cap_spans_an_investors_wallets(markets: MarketsWorld) -> None:
    gbp, admin, alice = markets.gbp, markets.admin, markets.alice
    first, second = alice.wallets
    gbp.mint(first, minor_units("15000"), sender=admin)
    gbp.mint(second, minor_units("4999.99"), sender=admin)
    gbp.mint(second, minor_units("0.01"), sender=admin)  # exactly 20,000 across both wallets
    assert gbp.identity_balance(alice.identity) == minor_units("20000")
    exc = _refused(lambda: gbp.mint(first, minor_units("0.01"), sender=admin), INDIVIDUAL_ERROR, 0x90)
    assert exc.args_by_name["held"] == minor_units("20000")
    # Moving between one's own wallets does not change what the investor holds: allowed at the cap.
    gbp.transfer(first, minor_units("4999.99"), sender=second)
    assert (gbp.balance_of(first), gbp.balance_of(second)) == (minor_units("19999.99"), 1)
    assert gbp.identity_balance(alice.identity) == minor_units("20000")
    # Spending from one wallet frees room for the other.
    gbp.redeem(minor_units("100"), sender=first)
    gbp.mint(second, minor_units("100"), sender=admin)
    assert gbp.identity_balance(alice.identity) == minor_units("20000")


def test_business_cap_at_ten_million(markets: MarketsWorld) -> None:
    gbp, admin, bob = markets.gbp, markets.admin, markets.bob
    assert gbp.holding_limit_of(bob.wallet) == HoldingLimit(HolderType.ENTITY, GBP_BUSINESS_LIMIT)
    gbp.mint(bob.wallets[0], minor_units("6000000"), sender=admin)
    gbp.mint(bob.wallets[1], minor_units("3999999.99"), sender=admin)
    gbp.mint(bob.wallets[1], minor_units("0.01"), sender=admin)
    assert gbp.identity_balance(bob.identity) == minor_units("10000000")
    exc = _refused(lambda: gbp.mint(bob.wallets[0], 1, sender=admin), BUSINESS_ERROR, 0x91)
    assert exc.args_by_name["limit"] == GBP_BUSINESS_LIMIT
    # The individual cap does not apply to a business: 10m is far above 20,000.
    assert gbp.balance_of(bob.wallets[0]) == minor_units("6000000")


def test_settlement_contract_is_exempt_from_limits_and_registry(markets: MarketsWorld) -> None:
    gbp, admin, bob, dvp = markets.gbp, markets.admin, markets.bob, markets.dvp
    assert gbp.is_settlement_contract(dvp.address)
    assert gbp.holding_limit_of(dvp.address) == HoldingLimit(HolderType.ENTITY, None)
    over = GBP_BUSINESS_LIMIT + 1
    assert gbp.detect_transfer_restriction(bob.wallet, dvp.address, over) == 0
    gbp.mint(bob.wallet, GBP_BUSINESS_LIMIT, sender=admin)
    gbp.transfer(dvp.address, GBP_BUSINESS_LIMIT, sender=bob.wallet)
    gbp.mint(dvp.address, minor_units("0.01"), sender=admin)  # above 10m, not a registered investor
    assert gbp.balance_of(dvp.address) == over
    assert gbp.identity_balance(bob.identity) == 0
    # A contract that is not registered as a settlement contract is just an ineligible holder.
    _refused(lambda: gbp.mint(markets.security.address, 1, sender=admin), "CashReceiverNotEligible", 0x84)
    with pytest.raises(ContractReverted) as info:
        gbp.set_settlement_contract(dvp.address, False, sender=admin)
    assert info.value.error_name == "CashSettlementContractHoldsBalance"
    with pytest.raises(ContractReverted) as info:
        gbp.set_settlement_contract(markets.outsider, True, sender=admin)
    assert info.value.error_name == "CashNotAContract"


def test_holder_type_is_the_registrys_and_only_the_home_regulator_exempts(markets: MarketsWorld) -> None:
    gbp, admin, carol, erin = markets.gbp, markets.admin, markets.carol, markets.erin
    # Registered without attributes: derived by the registry (US accredited: an entity).
    assert gbp.holding_limit_of(carol.wallet) == HoldingLimit(HolderType.ENTITY, GBP_BUSINESS_LIMIT)
    assert gbp.holding_limit_of(erin.wallet) == HoldingLimit(HolderType.NATURAL_PERSON, GBP_INDIVIDUAL_LIMIT)
    gbp.mint(carol.wallet, minor_units("50000"), sender=admin)
    # The registry records carol as a natural person: she keeps what she holds but cannot receive more.
    attributes = markets.registry.attributes_of(carol.identity)
    markets.registry.set_investor_attributes(
        carol.identity, attributes.overridden(holder_type=HolderType.NATURAL_PERSON), sender=admin
    )
    assert gbp.holding_limit_of(carol.wallet) == HoldingLimit(HolderType.NATURAL_PERSON, GBP_INDIVIDUAL_LIMIT)
    _refused(lambda: gbp.mint(carol.wallet, 1, sender=admin), INDIVIDUAL_ERROR, 0x90)
    # Exemptions are the Bank's: neither the issuer nor a US regulator may grant one on sterling.
    with pytest.raises(ContractReverted) as info:
        gbp.set_holding_limit_exemption(carol.identity, True, sender=admin)
    assert info.value.error_name == "CashNotRegulator"
    with pytest.raises(ContractReverted) as info:
        gbp.set_holding_limit_exemption(carol.identity, True, sender=markets.us_regulator)
    assert info.value.error_name == "CashRegulatorOutOfScope"
    assert not gbp.is_holding_limit_exempt(carol.identity)


def test_usd_has_no_limit_by_default_and_configurable_limits(markets: MarketsWorld) -> None:
    usd, admin, erin = markets.usd, markets.admin, markets.erin
    usd.mint(erin.wallet, minor_units("5000000"), sender=admin)
    assert usd.holding_limit_of(erin.wallet) == HoldingLimit(HolderType.NATURAL_PERSON, None)
    usd.set_holding_limits(minor_units("5000000"), None, sender=admin)
    assert usd.holding_limits() == HoldingLimits(minor_units("5000000"), None)
    _refused(lambda: usd.mint(erin.wallet, 1, sender=admin), INDIVIDUAL_ERROR, 0x90)
    with pytest.raises(SandboxError, match="negative"):
        usd.set_holding_limits(-1, None, sender=admin)


def test_mint_only_by_issuer_and_never_beyond_reserves(markets: MarketsWorld) -> None:
    gbp, admin, bob = markets.gbp, markets.admin, markets.bob
    receipt = gbp.attest_reserves(minor_units("1000"), b"\x02" * 32, sender=admin)
    (event,) = gbp.events(receipt, "ReservesAttested")
    assert event.args["reserves"] == 100_000
    assert gbp.mintable_amount() == 100_000
    gbp.mint(bob.wallet, 100_000, sender=admin)
    assert gbp.mintable_amount() == 0
    with pytest.raises(ContractReverted) as info:
        gbp.mint(bob.wallet, 1, sender=admin)
    assert info.value.error_name == "CashMintExceedsReserves"
    assert info.value.args_by_name == {"amount": 1, "reserves": 100_000, "supply": 100_000}
    with pytest.raises(ContractReverted) as info:
        gbp.mint(bob.wallet, 1, sender=bob.wallet)
    assert info.value.error_name == "AccessControlUnauthorizedAccount"
    # Redemption burns and frees reserves for new issuance.
    receipt = gbp.redeem(40_000, sender=bob.wallet)
    assert gbp.events(receipt, "Redeemed")[0].args["amount"] == 40_000
    assert (gbp.total_supply(), gbp.mintable_amount(), gbp.identity_balance(bob.identity)) == (60_000, 40_000, 60_000)
    gbp.burn(bob.wallet, 10_000, sender=admin)
    assert gbp.total_supply() == 50_000
    assert gbp.identity_balance(bob.identity) == 50_000


def test_only_registered_investors_hold(markets: MarketsWorld) -> None:
    gbp, admin, bob = markets.gbp, markets.admin, markets.bob
    _refused(lambda: gbp.mint(markets.outsider, 1, sender=admin), "CashReceiverNotEligible", 0x84)
    gbp.mint(bob.wallet, 1_000, sender=admin)
    _refused(lambda: gbp.transfer(markets.outsider, 1, sender=bob.wallet), "CashReceiverNotEligible", 0x84)
    markets.registry.suspend_investor(bob.identity, sender=markets.uk_regulator)
    _refused(lambda: gbp.transfer(markets.carol.wallet, 1, sender=bob.wallet), "CashSenderSuspended", 0x85)
    _refused(lambda: gbp.redeem(1, sender=bob.wallet), "CashSenderSuspended", 0x85)
    assert gbp.balance_of(bob.wallet) == 1_000


def test_regulator_freeze_powers(markets: MarketsWorld) -> None:
    gbp, usd, admin = markets.gbp, markets.usd, markets.admin
    uk, us = markets.uk_regulator, markets.us_regulator
    alice, carol = markets.alice, markets.carol
    gbp.mint(carol.wallet, 1_000, sender=admin)
    # The home regulator of sterling may freeze any wallet, a US investor's included.
    gbp.set_address_frozen(carol.wallet, True, sender=uk)
    assert gbp.frozen_by(carol.wallet) == Jurisdiction.GB
    _refused(lambda: gbp.transfer(alice.wallet, 1, sender=carol.wallet), "CashSenderFrozen", 0x81)
    _refused(lambda: gbp.mint(carol.wallet, 1, sender=admin), "CashReceiverFrozen", 0x82)
    # Only a regulator of the same jurisdiction lifts it: not the US regulator, not the issuer.
    for who in (us, admin):
        with pytest.raises(ContractReverted) as info:
            gbp.set_address_frozen(carol.wallet, False, sender=who)
        assert info.value.error_name == "CashFreezeImposedByRegulator"
    gbp.set_address_frozen(carol.wallet, False, sender=uk)
    gbp.transfer(alice.wallet, 1, sender=carol.wallet)
    # A foreign regulator reaches only its own investors: the US regulator on sterling.
    with pytest.raises(ContractReverted) as info:
        gbp.set_address_frozen(alice.wallet, True, sender=us)
    assert info.value.error_name == "CashRegulatorOutOfScope"
    assert info.value.args_by_name["targetJurisdiction"] == Jurisdiction.GB
    gbp.set_address_frozen(carol.wallet, True, sender=us)
    # ... and on the dollar token the US regulator is the home regulator.
    usd.set_address_frozen(alice.wallet, True, sender=us)
    assert usd.is_frozen(alice.wallet)
    with pytest.raises(ContractReverted) as info:
        gbp.set_address_frozen(alice.wallet, True, sender=carol.wallet)
    assert info.value.error_name == "CashNotIssuerOrRegulator"


def test_pause_by_home_regulator_only(markets: MarketsWorld) -> None:
    gbp, admin, bob = markets.gbp, markets.admin, markets.bob
    gbp.mint(bob.wallet, 100, sender=admin)
    with pytest.raises(ContractReverted) as info:
        gbp.pause(sender=markets.us_regulator)
    assert info.value.error_name == "CashRegulatorOutOfScope"
    gbp.pause(sender=markets.uk_regulator)
    _refused(lambda: gbp.transfer(markets.carol.wallet, 1, sender=bob.wallet), "CashTransferPaused", 0x80)
    gbp.unpause(sender=admin)
    gbp.transfer(markets.carol.wallet, 1, sender=bob.wallet)


def test_deploy_refuses_zero_registry(markets: MarketsWorld) -> None:
    with pytest.raises(ContractReverted) as info:
        CashToken.deploy_usd(markets.chain, registry="0x" + "00" * 20, admin=markets.admin, sender=markets.admin)
    assert info.value.error_name == "CashZeroAddress"
