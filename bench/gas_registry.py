"""Gas of the investor registry's writes, on one EmbeddedChain run.

Run: `.venv/bin/python -m bench.gas_registry`. Prints exact gas (receipts' gas_used) of registering an
investor, linking a second wallet and updating an investor's category and KYC expiry, each by the
investor's onboarding agent (here the registry's admin), and of a refused update by another agent
(`RegistryOutsideAgentRemit`, mined as a failed transaction).
"""

from __future__ import annotations

from sandbox.chain.embedded import EmbeddedChain
from sandbox.errors import ContractReverted
from sandbox.rules import InvestorCategory as Cat
from sandbox.rules import Jurisdiction as Jur
from sandbox.testing import TestWorld

DAY = 86_400


def main() -> None:
    world = TestWorld(EmbeddedChain(num_accounts=12))
    chain, a = world.chain, world.accounts
    operator, fca, sec, agent = a[0], a[1], a[2], a[3]
    alice, alice_second, bob = a[4], a[5], a[6]
    # the registry's writes are what this bench measures: the investors are registered by hand below
    registry = world.registry(admin=operator, regulators={Jur.GB: fca, Jur.US: sec})
    kyc = chain.timestamp() + 365 * DAY
    rows: list[tuple[str, int | str]] = []
    first = registry.register_investor(alice, alice, Jur.GB, Cat.UK_PROFESSIONAL, kyc, sender=operator)
    rows.append(("registerInvestor (first investor)", first.gas_used))
    second = registry.register_investor(bob, bob, Jur.US, Cat.US_ACCREDITED, kyc, sender=operator)
    rows.append(("registerInvestor (another investor)", second.gas_used))
    rows.append(("addWallet (a second wallet)", registry.add_wallet(alice, alice_second, sender=operator).gas_used))
    update = registry.update_investor(alice, Cat.UK_ELIGIBLE_COUNTERPARTY, kyc + DAY, sender=operator)
    rows.append(("updateInvestor (category and KYC expiry)", update.gas_used))
    registry.grant_role("ONBOARDING_AGENT_ROLE", agent, sender=operator)
    try:
        registry.update_investor(alice, Cat.UK_PROFESSIONAL, kyc, sender=agent)
        rows.append(("updateInvestor by another agent", "NOT REFUSED"))
    except ContractReverted as refused:
        rows.append((f"updateInvestor by another agent: refused ({refused.error_name})", "-"))
    print("| investor registry | gas |\n| --- | ---: |")
    for what, gas in rows:
        print(f"| {what} | {gas if isinstance(gas, str) else f'{gas:,}'} |")


if __name__ == "__main__":
    main()
