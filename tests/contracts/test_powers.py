"""Every power: the right actor can, every wrong actor cannot (with the scoped error)."""

from __future__ import annotations

from dataclasses import replace

from sandbox.chain.factory import in_process_chain
from sandbox.contracts.security_token import CrossBorderStatus, IssuanceApproval
from sandbox.market import load_scenario
from sandbox.rules import InvestorCategory as Cat
from sandbox.rules import Jurisdiction as Jur
from sandbox.scenario import Scenario
from tests.contracts.conftest import DAY, World
from tests.contracts.helpers import reverts


def test_freeze_wallet_scope(w: World) -> None:
    t, uk1, us = w.token, w.w["uk1"], w.w["us_acc"]
    # the SEC supervises US holders; the FCA is the home regulator of this GB security
    reverts(
        lambda: t.set_address_frozen(uk1, True, sender=w.sec),
        "RegulatorOutOfScope",
        regulatorJurisdiction=840,
        targetJurisdiction=826,
    )
    reverts(lambda: t.set_address_frozen(uk1, True, sender=w.w["uk2"]), "NotAgentOrRegulator")
    t.set_address_frozen(us, True, sender=w.sec)
    assert t.frozen_by(us) == 840
    t.set_address_frozen(uk1, True, sender=w.fca)
    assert t.frozen_by(uk1) == 826
    t.set_address_frozen(w.w["uk2"], True, sender=w.issuer)
    assert t.frozen_by(w.w["uk2"]) == 65535


def test_regulator_freeze_only_lifted_by_same_jurisdiction(w: World) -> None:
    t, us = w.token, w.w["us_acc"]
    t.set_address_frozen(us, True, sender=w.sec)
    reverts(
        lambda: t.set_address_frozen(us, False, sender=w.issuer), "FreezeImposedByRegulator", regulatorJurisdiction=840
    )
    reverts(lambda: t.set_address_frozen(us, False, sender=w.fca), "FreezeImposedByRegulator")
    reverts(lambda: t.forced_transfer(us, w.w["uk1"], 1, sender=w.issuer), "RegulatorFrozenUnits")
    t.set_address_frozen(us, False, sender=w.sec)
    assert not t.is_frozen(us)
    # an agent's freeze may be lifted by the agent
    t.set_address_frozen(us, True, sender=w.issuer)
    t.set_address_frozen(us, False, sender=w.issuer)


def test_partial_freeze_attribution_and_forced_transfer(w: World) -> None:
    t, us, uk1 = (
        w.token,
        w.w["us_acc"],
        w.w["us_acc"],
    )
    uk1 = w.w["uk1"]
    t.freeze_partial_tokens(us, 300, sender=w.sec)
    t.freeze_partial_tokens(us, 200, sender=w.issuer)
    assert t.get_frozen_tokens(us) == 500 and t.regulator_frozen_tokens(us, Jur.US) == 300
    reverts(lambda: t.unfreeze_partial_tokens(us, 201, sender=w.issuer), "UnfreezeExceedsOwnFreeze", unfreezable=200)
    reverts(lambda: t.unfreeze_partial_tokens(uk1, 1, sender=w.sec), "RegulatorOutOfScope")
    reverts(lambda: t.freeze_partial_tokens(us, 1, sender=us), "NotAgentOrRegulator")
    reverts(lambda: t.freeze_partial_tokens(us, 501, sender=w.issuer), "FreezeExceedsBalance", freezable=500)
    # forced transfer takes free units, then agent-frozen ones, never regulator-frozen ones
    reverts(lambda: t.forced_transfer(us, uk1, 701, sender=w.issuer), "ERC7943InsufficientUnfrozenBalance")
    receipt = t.forced_transfer(us, uk1, 700, sender=w.issuer)
    assert [e.name for e in t.events(receipt)] == ["TokensUnfrozen", "Frozen", "Transfer", "ForcedTransfer"]
    assert t.balance_of(us) == 300 and t.get_frozen_tokens(us) == 300
    reverts(lambda: t.forced_transfer(us, uk1, 1, sender=w.fca), "AccessControlUnauthorizedAccount")
    t.unfreeze_partial_tokens(us, 300, sender=w.sec)
    t.set_frozen_tokens(us, 100, sender=w.issuer)  # ERC-7943 absolute amount
    assert t.get_frozen_tokens(us) == 100


def test_suspend_investor_scope(w: World) -> None:
    r = w.registry
    reverts(
        lambda: r.suspend_investor(w.w["uk1"], sender=w.sec),
        "RegulatorOutOfScope",
        regulatorJurisdiction=840,
        targetJurisdiction=826,
    )
    reverts(lambda: r.suspend_investor(w.w["uk1"], sender=w.operator), "RegistryNotRegulator")
    reverts(lambda: r.suspend_investor(w.w["uk1"], sender=w.issuer), "RegistryNotRegulator")
    r.suspend_investor(w.w["us_acc"], sender=w.sec)
    r.suspend_investor(w.w["uk1"], sender=w.fca)
    assert r.wallet_record(w.w["uk1b"]).status == 2  # every wallet of the investor


def test_pause_scope(w: World) -> None:
    t = w.token
    reverts(lambda: t.pause(sender=w.sec), "RegulatorOutOfScope", regulatorJurisdiction=840, targetJurisdiction=826)
    reverts(lambda: t.pause(sender=w.w["uk1"]), "NotAgentOrRegulator")
    t.pause(sender=w.fca)
    reverts(lambda: t.unpause(sender=w.issuer), "PauseImposedByRegulator", regulatorJurisdiction=826)
    t.unpause(sender=w.fca)
    t.pause(sender=w.issuer)
    t.unpause(sender=w.issuer)
    assert not t.paused()


def test_terms_after_approval_tighten_only_unless_home_regulator(w: World) -> None:
    t = w.token
    strict = replace(
        t.terms(),
        max_holders=10,
        cross_border_window=60 * DAY,
        max_investor_balance=5000,
        us_min_category=int(Cat.US_ACCREDITED),
    )
    receipt = t.set_terms(strict, sender=w.issuer)  # tightening: the issuer may
    assert t.events(receipt, "TermsSet")[0].args["actor"] == w.issuer
    for looser in (
        replace(strict, max_holders=11),
        replace(strict, max_holders=0),
        replace(strict, cross_border_window=60 * DAY - 1),
        replace(strict, us_min_category=int(Cat.US_NON_ACCREDITED)),
        replace(strict, max_investor_balance=0),
    ):
        reverts(lambda x=looser: t.set_terms(x, sender=w.issuer), "TermsExceedApproval")  # type: ignore[misc]
    t.set_terms(replace(strict, max_holders=0), sender=w.fca)  # the home regulator may loosen
    assert t.terms().max_holders == 0
    # before approval the issuer sets its terms freely
    fresh = w.deploy_token(replace(strict, max_holders=3))
    fresh.set_terms(replace(strict, max_holders=0), sender=w.issuer)


def test_issuance_approval_scope(w: World) -> None:
    token = w.deploy_token()
    reverts(lambda: token.approve_issuance(10, sender=w.sec), "RegulatorOutOfScope", targetJurisdiction=826)
    reverts(lambda: token.approve_issuance(10, sender=w.issuer), "NotRegulator")
    token.approve_issuance(10, sender=w.fca)
    assert token.issuance_approval() == IssuanceApproval(approved=True, limit=10)
    reverts(lambda: token.mint(w.w["uk1"], 1, sender=w.fca), "AccessControlUnauthorizedAccount")


def test_agent_operations_refuse_non_agents(w: World) -> None:
    t, uk1 = w.token, w.w["uk1"]
    for actor in (uk1, w.fca, w.operator):
        reverts(lambda a=actor: t.mint(uk1, 1, sender=a), "AccessControlUnauthorizedAccount")  # type: ignore[misc]
        reverts(lambda a=actor: t.burn(uk1, 1, sender=a), "AccessControlUnauthorizedAccount")  # type: ignore[misc]
        reverts(lambda a=actor: t.recovery_address(uk1, w.w["uk1b"], uk1, sender=a), "AccessControlUnauthorizedAccount")  # type: ignore[misc]
    reverts(lambda: t.set_terms(t.terms(), sender=uk1), "AccessControlUnauthorizedAccount")
    reverts(lambda: t.set_terms(t.terms(), sender=w.sec), "RegulatorOutOfScope", targetJurisdiction=826)
    t.burn(uk1, 10, sender=w.issuer)
    assert t.total_supply() == 2990


def test_recovery_moves_the_whole_position(w: World) -> None:
    t, uk1, uk1b = w.token, w.w["uk1"], w.w["uk1b"]
    t.freeze_partial_tokens(uk1, 50, sender=w.fca)
    reverts(lambda: t.recovery_address(uk1, w.w["uk2"], uk1, sender=w.issuer), "RecoveryNotPossible")
    receipt = t.recovery_address(uk1, uk1b, uk1, sender=w.issuer)
    assert "RecoverySuccess" in [e.name for e in t.events(receipt)]
    assert t.balance_of(uk1) == 0 and t.balance_of(uk1b) == 1000
    assert t.get_frozen_tokens(uk1b) == 50 and t.regulator_frozen_tokens(uk1b, Jur.GB) == 50
    assert t.holder_counts().total == 3


def test_cross_border_request_approve_settle(w: World) -> None:
    t, uk1, us = w.token, w.w["uk1"], w.w["us_acc"]
    w.set_terms(cross_border_threshold=500)
    receipt = t.request_cross_border_transfer(us, 600, sender=uk1)
    (event,) = t.events(receipt, "CrossBorderTransferRequested")
    tid = event.args["id"]
    assert t.escrowed_tokens(uk1) == 600
    reverts(lambda: t.transfer(w.w["uk2"], 401, sender=uk1), "ERC7943InsufficientUnfrozenBalance", unfrozen=400)
    reverts(lambda: t.approve_cross_border_transfer(tid, sender=w.issuer), "NotRegulator")
    t.approve_cross_border_transfer(tid, sender=w.fca)
    reverts(lambda: t.approve_cross_border_transfer(tid, sender=w.fca), "CrossBorderAlreadyApproved")
    assert t.balance_of(us) == 1000
    settle = t.approve_cross_border_transfer(tid, sender=w.sec)
    assert "CrossBorderTransferSettled" in [e.name for e in t.events(settle)]
    assert t.balance_of(us) == 1600 and t.balance_of(uk1) == 400 and t.escrowed_tokens(uk1) == 0
    assert t.cross_border_transfer(tid).status is CrossBorderStatus.SETTLED


def test_cross_border_settlement_rechecks_rules(w: World) -> None:
    t, uk1, us = w.token, w.w["uk1"], w.w["us_acc"]
    w.set_terms(cross_border_threshold=500)
    (event,) = t.events(t.request_cross_border_transfer(us, 600, sender=uk1), "CrossBorderTransferRequested")
    tid = event.args["id"]
    t.approve_cross_border_transfer(tid, sender=w.sec)
    t.set_address_frozen(us, True, sender=w.sec)
    exc = reverts(lambda: t.approve_cross_border_transfer(tid, sender=w.fca), "ReceiverFrozen")
    assert exc.rule_name == "RECEIVER_FROZEN"
    assert t.cross_border_transfer(tid).status is CrossBorderStatus.PENDING  # still pending


def test_cross_border_reject_and_expiry_return_units(w: World) -> None:
    t, uk1, us = w.token, w.w["uk1"], w.w["us_acc"]
    w.set_terms(cross_border_threshold=500, approval_window=DAY)
    reverts(lambda: t.request_cross_border_transfer(w.w["uk2"], 600, sender=uk1), "NotCrossBorder")
    (a,) = t.events(t.request_cross_border_transfer(us, 600, sender=uk1), "CrossBorderTransferRequested")
    reverts(lambda: t.reject_cross_border_transfer(a.args["id"], sender=uk1), "NotRegulator")
    t.reject_cross_border_transfer(a.args["id"], sender=w.sec)
    assert t.escrowed_tokens(uk1) == 0 and t.balance_of(uk1) == 1000
    (b,) = t.events(t.request_cross_border_transfer(us, 700, sender=uk1), "CrossBorderTransferRequested")
    deadline = b.args["deadline"]
    reverts(lambda: t.expire_cross_border_transfer(b.args["id"], sender=w.outsider), "CrossBorderTransferNotExpired")
    w.at(deadline + 1)
    reverts(lambda: t.approve_cross_border_transfer(b.args["id"], sender=w.fca), "CrossBorderTransferPastDeadline")
    t.expire_cross_border_transfer(b.args["id"], sender=w.outsider)
    assert t.escrowed_tokens(uk1) == 0 and t.balance_of(uk1) == 1000
    assert t.cross_border_transfer(b.args["id"]).status is CrossBorderStatus.EXPIRED


def test_load_scenario_approves_issuance_by_home_regulator() -> None:
    chain = in_process_chain(num_accounts=20)
    market = load_scenario(chain, Scenario.from_file("seeds/demo.yaml"))
    token = market.security("THAMES28")
    approval = token.issuance_approval()
    assert approval.approved and approval.limit >= token.total_supply() == 11_000
    assert token.balance_of(market.accounts["alice"]) == 5000
