"""The registry's remit rules: an investor is changed only by the agent who onboarded it (or the admin),
and a regulator's account, an agent's account and an investor's account are three disjoint sets."""

from __future__ import annotations

from sandbox.rules import InvestorCategory as Cat
from sandbox.rules import InvestorStatus, Jurisdiction
from tests.contracts.conftest import DAY, World
from tests.contracts.helpers import reverts


def _agents(w: World) -> tuple[str, str, str]:
    """Two onboarding agents (a UK and a US firm) and an unused account."""
    a = [acc.address for acc in w.chain.accounts]
    uk_agent, us_agent = a[13], a[14]
    w.registry.grant_role("ONBOARDING_AGENT_ROLE", uk_agent, sender=w.operator)
    w.registry.grant_role("ONBOARDING_AGENT_ROLE", us_agent, sender=w.operator)
    return uk_agent, us_agent, a[15]


def test_the_onboarding_agent_is_recorded(w: World) -> None:
    uk_agent, _, fresh = _agents(w)
    assert w.registry.onboarding_agent_of(fresh) is None
    w.registry.register_investor(fresh, fresh, Jurisdiction.GB, Cat.UK_PROFESSIONAL, 10**9, sender=uk_agent)
    assert w.registry.onboarding_agent_of(fresh) == uk_agent
    assert w.registry.onboarding_agent_of(w.w["uk1"]) == w.operator


def test_another_agent_may_not_update_an_investor_or_link_its_wallets(w: World) -> None:
    uk_agent, us_agent, fresh = _agents(w)
    r = w.registry
    kyc = w.chain.timestamp() + 365 * DAY
    r.register_investor(fresh, fresh, Jurisdiction.GB, Cat.UK_PROFESSIONAL, kyc, sender=uk_agent)
    # The US firm expiring the UK firm's investor's KYC, or linking a wallet to it: refused, naming the rule.
    reverts(
        lambda: r.update_investor(fresh, Cat.UK_PROFESSIONAL, 0, sender=us_agent),
        "RegistryOutsideAgentRemit",
        agent=us_agent,
        identity=fresh,
        onboardingAgent=uk_agent,
    )
    spare = w.chain.accounts[16].address
    reverts(lambda: r.add_wallet(fresh, spare, sender=us_agent), "RegistryOutsideAgentRemit", agent=us_agent)
    assert r.investor(fresh).kyc_valid_until == kyc and r.wallets_of(fresh) == (fresh,)
    # Investors the admin onboarded are out of every other agent's remit too.
    reverts(lambda: r.update_investor(w.w["uk1"], Cat.UK_RETAIL, 0, sender=uk_agent), "RegistryOutsideAgentRemit")
    # The onboarding agent and the admin may.
    r.update_investor(fresh, Cat.UK_ELIGIBLE_COUNTERPARTY, kyc + 1, sender=uk_agent)
    r.update_investor(fresh, Cat.UK_PROFESSIONAL, kyc + 2, sender=w.operator)
    r.add_wallet(fresh, spare, sender=uk_agent)
    assert r.investor(fresh).kyc_valid_until == kyc + 2 and r.wallets_of(fresh) == (fresh, spare)


def test_a_regulators_or_agents_account_is_never_an_investors(w: World) -> None:
    uk_agent, us_agent, fresh = _agents(w)
    r = w.registry
    kyc = w.chain.timestamp() + 365 * DAY
    for account, error in [
        (w.fca, "RegistryAccountIsRegulator"),
        (w.sec, "RegistryAccountIsRegulator"),
        (us_agent, "RegistryAccountIsAgent"),
        (w.operator, "RegistryAccountIsAgent"),
    ]:
        # ... neither as a new investor's identity, nor as its wallet, nor linked to an existing investor
        reverts(
            lambda account=account: r.register_investor(
                account, account, Jurisdiction.GB, Cat.UK_PROFESSIONAL, kyc, sender=uk_agent
            ),
            error,
            account=account,
        )
        reverts(
            lambda account=account: r.register_investor(
                fresh, account, Jurisdiction.GB, Cat.UK_PROFESSIONAL, kyc, sender=uk_agent
            ),
            error,
            account=account,
        )
        reverts(lambda account=account: r.add_wallet(w.w["uk1"], account, sender=w.operator), error, account=account)
    assert r.wallet_record(w.fca).identity is None and r.investor(fresh).status is InvestorStatus.NONE
    assert r.wallets_of(w.w["uk1"]) == (w.w["uk1"], w.w["uk1b"])


def test_another_investors_account_is_never_linked_or_made_a_principal(w: World) -> None:
    uk_agent, _, fresh = _agents(w)
    r = w.registry
    kyc = w.chain.timestamp() + 365 * DAY
    # Another investor's wallet as a new identity, or its identity as a wallet.
    reverts(
        lambda: r.register_investor(w.w["uk1b"], fresh, Jurisdiction.GB, Cat.UK_PROFESSIONAL, kyc, sender=uk_agent),
        "RegistryAccountIsInvestor",
        account=w.w["uk1b"],
    )
    reverts(
        lambda: r.add_wallet(w.w["uk2"], w.w["uk1"], sender=w.operator),
        "RegistryWalletAlreadyLinked",
        identity=w.w["uk1"],
    )
    # An investor's account may become neither a regulator nor an agent.
    reverts(lambda: r.set_regulator(w.w["uk1b"], Jurisdiction.GB, sender=w.operator), "RegistryAccountIsInvestor")
    reverts(
        lambda: r.grant_role("ONBOARDING_AGENT_ROLE", w.w["us_acc"], sender=w.operator),
        "RegistryAccountIsInvestor",
        account=w.w["us_acc"],
    )
    # Nor a regulator an agent, or an agent a regulator.
    reverts(lambda: r.grant_role("ONBOARDING_AGENT_ROLE", w.fca, sender=w.operator), "RegistryAccountIsRegulator")
    reverts(lambda: r.set_regulator(uk_agent, Jurisdiction.GB, sender=w.operator), "RegistryAccountIsAgent")
    assert r.regulator_jurisdiction(w.w["uk1b"]) == 0 and r.regulator_jurisdiction(uk_agent) == 0
