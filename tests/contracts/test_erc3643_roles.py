"""ERC-3643's agent role and ERC-173 ownership on the token, and the identity registry and compliance
it answers (issue #12, token standards): what ERC-3643 tooling calls first."""

from __future__ import annotations

from eth_utils import event_signature_to_log_topic

from sandbox.contracts.registry import InvestorRegistry
from sandbox.contracts.security_token import ERC3643Compliance, ERC3643IdentityRegistry
from sandbox.rules import Jurisdiction as Jur
from tests.contracts.conftest import World
from tests.contracts.helpers import reverts

ZERO = "0x" + "00" * 20


def test_identity_registry_is_an_erc3643_identity_registry(w: World) -> None:
    t, uk1, uk1b, us = w.token, w.w["uk1"], w.w["uk1b"], w.w["us_acc"]
    address = t.identity_registry()
    assert address != w.registry.address
    ir = ERC3643IdentityRegistry(w.chain, address)
    assert ir.investor_registry() == w.registry.address
    assert ir.is_verified(uk1) and ir.is_verified(uk1b) and not ir.is_verified(w.outsider)
    assert ir.identity(uk1b) == uk1 and ir.identity(w.outsider) == ZERO
    assert ir.investor_country(us) == 840 and ir.investor_country(uk1b) == 826
    assert ir.contains(uk1b) and not ir.contains(w.outsider)
    # a suspended investor is still contained but no longer verified, and the token agrees
    w.registry.suspend_investor(us, sender=w.sec)
    assert ir.contains(us) and not ir.is_verified(us)
    assert not t.can_receive(us)
    reverts(lambda: ir._send("registerIdentity", w.outsider, uk1, 826, sender=w.operator), "UseInvestorRegistry")
    reverts(lambda: ir._send("deleteIdentity", uk1, sender=w.operator), "UseInvestorRegistry")


def test_set_identity_registry_takes_an_adapter_or_the_investor_registry(w: World) -> None:
    t, uk1, uk2 = w.token, w.w["uk1"], w.w["uk2"]
    adapter = t.identity_registry()
    other = InvestorRegistry.deploy(w.chain, admin=w.operator, sender=w.operator)
    reverts(lambda: t.set_identity_registry(other.address, sender=w.fca), "AccessControlUnauthorizedAccount")
    # pointing at an empty registry: everyone is unregistered, and identityRegistry() says which
    (event,) = t.events(t.set_identity_registry(other.address, sender=w.issuer), "IdentityRegistryAdded")
    assert event.args["identityRegistry"] == other.address == t.identity_registry()
    reverts(lambda: t.transfer(uk2, 1, sender=uk1), "SenderNotRegistered")
    t.set_identity_registry(adapter, sender=w.issuer)
    assert t.identity_registry() == adapter
    t.transfer(uk2, 1, sender=uk1)


def test_compliance_is_an_erc3643_compliance_bound_to_the_token(w: World) -> None:
    t, uk1, uk2, us = w.token, w.w["uk1"], w.w["uk2"], w.w["us_acc"]
    c = ERC3643Compliance(w.chain, t.compliance())
    assert c.address != t.address
    assert c.get_token_bound() == t.address and not c.is_module_bound(w.registry.address)
    assert c._read("getModules") == ()
    assert c.can_transfer(uk1, uk2, 10) and not c.can_transfer(uk1, w.outsider, 10)
    t.set_address_frozen(us, True, sender=w.sec)
    assert not c.can_transfer(us, uk1, 1)
    reverts(lambda: c._send("bindToken", w.outsider, sender=w.issuer), "ComplianceIsBuiltIn")
    reverts(lambda: c._send("transferred", uk1, uk2, 1, sender=w.issuer), "ComplianceIsBuiltIn")
    # another token's compliance, or an account, is refused; the token itself is accepted
    second = w.deploy_token()
    reverts(lambda: t.set_compliance(second.compliance(), sender=w.issuer), "ComplianceNotBoundToToken")
    reverts(lambda: t.set_compliance(w.outsider, sender=w.issuer), "ComplianceNotBoundToToken")
    t.set_compliance(t.address, sender=w.issuer)
    assert t.compliance() == t.address
    t.set_compliance(c.address, sender=w.issuer)
    assert t.compliance() == c.address


def test_agents_are_added_and_removed_by_the_owner(w: World) -> None:
    t, uk1, new_agent = w.token, w.w["uk1"], w.chain.accounts[14].address
    assert t.is_agent(w.issuer) and not t.is_agent(new_agent)
    reverts(lambda: t.mint(uk1, 1, sender=new_agent), "AccessControlUnauthorizedAccount")
    reverts(lambda: t.add_agent(new_agent, sender=new_agent), "AccessControlUnauthorizedAccount")
    reverts(lambda: t.add_agent(new_agent, sender=w.fca), "AccessControlUnauthorizedAccount")
    (added,) = t.events(t.add_agent(new_agent, sender=w.issuer), "AgentAdded")
    assert added.args["_agent"] == new_agent and t.is_agent(new_agent)
    reverts(lambda: t.add_agent(new_agent, sender=w.issuer), "AgentAlreadyAdded")
    reverts(lambda: t.add_agent(ZERO, sender=w.issuer), "AgentAlreadyAdded")
    t.mint(uk1, 1, sender=new_agent)
    (removed,) = t.events(t.remove_agent(new_agent, sender=w.issuer), "AgentRemoved")
    assert removed.args["_agent"] == new_agent and not t.is_agent(new_agent)
    reverts(lambda: t.remove_agent(new_agent, sender=w.issuer), "NotAnAgent")
    reverts(lambda: t.mint(uk1, 1, sender=new_agent), "AccessControlUnauthorizedAccount")


def test_ownership_moves_the_admin_role(w: World) -> None:
    t, new_owner = w.token, w.chain.accounts[15].address
    assert t.owner() == w.issuer
    topic = event_signature_to_log_topic("OwnershipTransferred(address,address)")
    logs = w.chain.w3.eth.get_logs({"address": t.address, "fromBlock": 0, "topics": [topic]})
    assert len(logs) == 1 and logs[0]["topics"][1][-20:] == bytes.fromhex("00" * 20)
    reverts(lambda: t.transfer_ownership(new_owner, sender=new_owner), "OwnableUnauthorizedAccount")
    reverts(lambda: t.transfer_ownership(ZERO, sender=w.issuer), "OwnableInvalidOwner")
    reverts(lambda: t._send("renounceOwnership", sender=w.issuer), "OwnableInvalidOwner")
    (moved,) = t.events(t.transfer_ownership(new_owner, sender=w.issuer), "OwnershipTransferred")
    assert (moved.args["previousOwner"], moved.args["newOwner"]) == (w.issuer, new_owner)
    assert t.owner() == new_owner
    t._send("setName", "Renamed", sender=new_owner)
    reverts(lambda: t._send("setName", "Back", sender=w.issuer), "AccessControlUnauthorizedAccount")
    reverts(lambda: t.add_agent(w.outsider, sender=w.issuer), "AccessControlUnauthorizedAccount")
    # the previous owner keeps the agent role until it is removed
    assert t.is_agent(w.issuer)
    t.remove_agent(w.issuer, sender=new_owner)
    assert not t.is_agent(w.issuer)


def test_owner_and_agents_never_hold_a_regulators_powers(w: World) -> None:
    t, us, uk1, new_owner = w.token, w.w["us_acc"], w.w["uk1"], w.chain.accounts[15].address
    t.transfer_ownership(new_owner, sender=w.issuer)
    t.add_agent(new_owner, sender=new_owner)
    t.set_address_frozen(us, True, sender=w.sec)
    t.freeze_partial_tokens(uk1, 100, sender=w.fca)
    t.pause(sender=w.fca)
    for who in (new_owner, w.issuer):
        reverts(lambda a=who: t.set_address_frozen(us, False, sender=a), "FreezeImposedByRegulator")  # type: ignore[misc]
        reverts(lambda a=who: t.unfreeze_partial_tokens(uk1, 1, sender=a), "UnfreezeExceedsOwnFreeze")  # type: ignore[misc]
        reverts(lambda a=who: t.set_frozen_tokens(uk1, 0, sender=a), "UnfreezeExceedsOwnFreeze")  # type: ignore[misc]
        reverts(lambda a=who: t.unpause(sender=a), "PauseImposedByRegulator")  # type: ignore[misc]
        reverts(lambda a=who: t.approve_issuance(1, sender=a), "NotRegulator")  # type: ignore[misc]
    reverts(lambda: t.forced_transfer(us, uk1, 1, sender=new_owner), "RegulatorFrozenUnits")
    assert t.regulator_frozen_tokens(uk1, Jur.GB) == 100 and t.is_frozen(us) and t.paused()
