"""Gas of every operation of the sandbox's contracts beside a plain OpenZeppelin ERC-20, in one run.

Run: `.venv/bin/python -m bench.gas`. Prints exact gas figures (receipts' gas_used; gas does not depend
on the machine or its load): plain ERC-20 transfer (new holder / repeat), our transfer with every rule
configured (new holder / repeat), mint, burn, freezes and unfreezes (whole and partial, agent and
regulator), forced transfer, recovery, pause and unpause, batches, a cross-border request and its two
approvals, and the cost each rule adds to the repeat transfer when switched on alone; then a security
issuing in offerings (lot-moving transfers), and, from the other gas benches run in the same process,
the demo bond THAMES28's transfers before and after a record date (`bench.gas_bond`), record dates and
share splits (`bench.gas_corporate`), DvP settlement and cross-border clearances (`bench.gas_markets`)
and coupon, dividend and redemption payments (`bench.gas_corporate_actions`). Each section measures its
own OpenZeppelin ERC-20 repeat transfer (34,311 gas wherever the parties' addresses cost the same
calldata). The first lines say when and where it ran, ready to paste.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bench import gas_bond, gas_corporate, gas_corporate_actions, gas_markets
from bench._machine import machine_block
from sandbox.chain.embedded import EmbeddedChain
from sandbox.contracts.base import ContractFacade
from sandbox.contracts.offerings import Exemption, OfferingRegistry, OfferingTerms
from sandbox.contracts.security_token import Terms
from sandbox.rules import InvestorCategory as Cat
from sandbox.rules import Jurisdiction as Jur
from sandbox.testing import TestWorld

DAY = 86_400
TARGET_FACTOR = 1.5


class PlainERC20(ContractFacade):
    artifact_name = "PlainERC20"


def plain_transfer(token: PlainERC20, to: str, value: int, sender: str) -> int:
    return token._send("transfer", to, value, sender=sender).gas_used


def main() -> None:
    world = TestWorld(EmbeddedChain(num_accounts=40))
    chain, a = world.chain, world.accounts
    operator, fca, sec, issuer = a[0], a[1], a[2], a[3]
    uk1, uk2, uk3, us1, us2 = a[4], a[5], a[6], a[7], a[8]
    rows: list[tuple[str, int]] = []

    plain = PlainERC20.deploy_contract(chain, [10**24], sender=operator)
    plain_transfer(plain, uk1, 10**6, operator)
    rows.append(("plain OZ ERC-20 transfer, new holder", plain_transfer(plain, uk2, 1, uk1)))
    plain_repeat = plain_transfer(plain, uk2, 1, uk1)
    rows.append(("plain OZ ERC-20 transfer, repeat", plain_repeat))

    # Every account is chosen (not taken in turn): the parties' addresses are part of the calldata.
    world.registry(admin=operator, regulators={Jur.GB: fca, Jur.US: sec})
    kyc = chain.timestamp() + 3650 * DAY
    for key, wallet, jurisdiction, category in (
        ("uk1", uk1, Jur.GB, Cat.UK_PROFESSIONAL),
        ("uk2", uk2, Jur.GB, Cat.UK_PROFESSIONAL),
        ("uk3", uk3, Jur.GB, Cat.UK_ELIGIBLE_COUNTERPARTY),
        ("us1", us1, Jur.US, Cat.US_ACCREDITED),
        ("us2", us2, Jur.US, Cat.US_QIB),
    ):
        world.investor(key, jurisdiction, category, wallets=[wallet], kyc_until=kyc)
    world.extension()  # the shared extension, before the terms read the chain's time
    every_rule = Terms(
        us_min_category=int(Cat.US_ACCREDITED),  # Reg D 506(c)
        uk_min_category=int(Cat.UK_PROFESSIONAL),  # COBS 4.12A
        cross_border_threshold=10**6,
        approval_window=7 * DAY,
        max_investor_balance=10**9,
        max_holders=2000,
        max_uk_holders=1000,
        max_us_holders=1000,
        max_us_non_accredited=35,
    )
    token = world.security("BENCH", name="Bench", admin=issuer, terms=every_rule)  # fca approves 10**12
    rows.append(("ours: mint (issuance, new holder)", token.mint(uk1, 10**6, sender=issuer).gas_used))
    rows.append(("ours: mint (existing holder)", token.mint(uk1, 10, sender=issuer).gas_used))
    token.transfer(uk2, 1, sender=uk1)  # uk2 becomes a holder
    rows.append(("ours: transfer to a new holder, every rule", token.transfer(uk3, 1, sender=uk1).gas_used))
    repeat = token.transfer(uk2, 1, sender=uk1).gas_used
    rows.append(("ours: repeat transfer, every rule", repeat))
    token.transfer(us2, 1, sender=uk1)
    rows.append(
        (
            "ours: repeat transfer UK -> US, below the cross-border threshold",
            token.transfer(us2, 1, sender=uk1).gas_used,
        )
    )
    rows.append(("ours: setAddressFrozen (agent)", token.set_address_frozen(uk3, True, sender=issuer).gas_used))
    rows.append(
        (
            "ours: setAddressFrozen (regulator, registry lookup)",
            token.set_address_frozen(us2, True, sender=sec).gas_used,
        )
    )
    rows.append(("ours: freezePartialTokens (agent)", token.freeze_partial_tokens(uk2, 1, sender=issuer).gas_used))
    rows.append(("ours: forcedTransfer (agent)", token.forced_transfer(uk1, uk2, 5, sender=issuer).gas_used))
    rows.append(("ours: unfreezePartialTokens (agent)", token.unfreeze_partial_tokens(uk2, 1, sender=issuer).gas_used))
    rows.append(("ours: setAddressFrozen false (agent)", token.set_address_frozen(uk3, False, sender=issuer).gas_used))
    rows.append(("ours: setAddressFrozen false (regulator)", token.set_address_frozen(us2, False, sender=sec).gas_used))
    rows.append(("ours: burn (agent)", token.burn(uk1, 1, sender=issuer).gas_used))
    rows.append(("ours: pause (agent)", token.pause(sender=issuer).gas_used))
    rows.append(("ours: unpause (agent)", token.unpause(sender=issuer).gas_used))
    rows.append(
        (
            "ours: batchTransfer of 3 (existing holders)",
            token.batch_transfer([uk2, uk3, us2], [1, 1, 1], sender=uk1).gas_used,
        )
    )
    rows.append(
        (
            "ours: batchMint of 3 (existing holders)",
            token.batch_mint([uk2, uk3, us2], [1, 1, 1], sender=issuer).gas_used,
        )
    )
    lost, new = a[9], a[10]
    world.investor("lost", Jur.GB, Cat.UK_PROFESSIONAL, wallets=[lost, new], kyc_until=kyc)
    token.transfer(lost, 10, sender=uk1)
    rows.append(
        (
            "ours: recoveryAddress (agent)",
            token.recovery_address(lost, new, lost, sender=issuer).gas_used,
        )
    )
    # A cross-border transfer above the threshold: requested (units escrowed), then both regulators.
    token.set_terms(replace(every_rule, cross_border_threshold=100), sender=fca)
    request = token.request_cross_border_transfer(us1, 100, sender=uk1)
    (opened,) = token.events(request, "CrossBorderTransferRequested")
    transfer_id = opened.args["id"]
    rows.append(("ours: requestCrossBorderTransfer (units escrowed)", request.gas_used))
    rows.append(
        (
            "ours: approveCrossBorderTransfer (first regulator)",
            token.approve_cross_border_transfer(transfer_id, sender=fca).gas_used,
        )
    )
    rows.append(
        (
            "ours: approveCrossBorderTransfer (second regulator: settles, new holder)",
            token.approve_cross_border_transfer(transfer_id, sender=sec).gas_used,
        )
    )
    token.set_terms(every_rule, sender=fca)

    print(machine_block("python -m bench.gas"))
    print("\n| operation | gas |\n| --- | ---: |")
    for label, gas in rows:
        print(f"| {label} | {gas:,} |")
    print(
        f"\nrepeat compliant transfer / plain repeat = {repeat / plain_repeat:.3f} "
        f"(target <= {TARGET_FACTOR}, i.e. <= {int(plain_repeat * TARGET_FACTOR):,} gas)"
    )

    # the cost each rule adds: same repeat transfer (uk1 -> uk2), rules switched on one at a time
    none = Terms(us_min_category=int(Cat.US_NON_ACCREDITED), uk_min_category=int(Cat.UK_RETAIL), approval_window=DAY)
    singles = {
        "no optional rule (pause, freeze, balance, registry, jurisdiction)": none,
        "+ category minimum (UK professional)": replace(none, uk_min_category=int(Cat.UK_PROFESSIONAL)),
        "+ cross-border threshold": replace(none, cross_border_threshold=10**6),
        "+ per-investor maximum balance": replace(none, max_investor_balance=10**9),
        "+ holder caps (total, per jurisdiction, non-accredited)": replace(
            none, max_holders=2000, max_uk_holders=1000, max_us_holders=1000, max_us_non_accredited=35
        ),
        "every rule": every_rule,
    }
    fresh = iter(a[16:])

    def new_holder() -> str:
        wallet = next(fresh)
        world.investor(wallet, Jur.GB, Cat.UK_PROFESSIONAL, wallets=[wallet], kyc_until=kyc)
        return wallet

    print(
        "\n| rules switched on | UK->UK repeat | added | UK->US repeat | added | UK->UK new holder | added |"
        "\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    base: tuple[int, int, int] | None = None
    for label, terms in singles.items():
        token.set_terms(terms, sender=fca)  # the home regulator may loosen as well as tighten
        token.transfer(uk2, 1, sender=uk1)
        same = token.transfer(uk2, 1, sender=uk1).gas_used
        token.transfer(us2, 1, sender=uk1)
        cross = token.transfer(us2, 1, sender=uk1).gas_used
        joining = token.transfer(new_holder(), 1, sender=uk1).gas_used
        base = base or (same, cross, joining)
        print(
            f"| {label} | {same:,} | {same - base[0]:+,} | {cross:,} | {cross - base[1]:+,} "
            f"| {joining:,} | {joining - base[2]:+,} |"
        )

    # an investor with two wallets: its position is an aggregate the token keeps
    token.set_terms(every_rule, sender=fca)
    second = next(fresh)
    world.add_wallet("uk2", second)
    first_use = token.transfer(second, 1, sender=uk1).gas_used
    again = token.transfer(second, 1, sender=uk1).gas_used
    print("\n| investor with two wallets (every rule) | gas |\n| --- | ---: |")
    print(f"| first transfer after its second wallet is linked (aggregate initialised) | {first_use:,} |")
    print(f"| repeat transfer to its second wallet (aggregate updated) | {again:,} |")

    offering_rows(world, every_rule, plain_repeat, issuer, kyc)
    other_benches()


def other_benches() -> None:
    """The other gas benches' figures, measured in this same run (each on its own chain)."""
    erc20, bond, record_key = gas_bond.measure()
    print(
        f"\n| the demo bond THAMES28 (record dates on, paying agent wired; record instant "
        f"{datetime.fromtimestamp(record_key + 1, UTC):%Y-%m-%d %H:%M:%S} UTC) | gas | / ERC-20 ({erc20:,}) |"
        "\n| --- | ---: | ---: |"
    )
    for label, gas in bond:
        print(f"| {label} | {gas:,} | {gas / erc20:.3f} |")
    print(f"\ntarget: <= {TARGET_FACTOR} x ERC-20 = {int(TARGET_FACTOR * erc20):,} gas")

    erc20, record_rows, split_rows = gas_corporate.measure()
    print(f"\n| record dates, every rule (bench.gas_corporate) | gas | / ERC-20 ({erc20:,}) |\n| --- | ---: | ---: |")
    for label, gas in record_rows:
        print(f"| {label} | {gas:,} | {gas / erc20:.3f} |")
    print("\n| share split, 2-for-1 | no record dates | record dates (date passed) |\n| --- | ---: | ---: |")
    for label, (without, with_rd) in split_rows.items():
        print(f"| {label} | {without:,} | {with_rd:,} |")

    print("\n| markets: DvP, cross-border clearance, cash token (bench.gas_markets) | gas |\n| --- | ---: |")
    for label, gas in gas_markets.measure():
        print(f"| {label} | {gas:,} |")

    print("\n| corporate actions: coupons, dividends, redemption (bench.gas_corporate_actions) | gas |\n| --- | ---: |")
    for label, gas in gas_corporate_actions.measure():
        print(f"| {label} | {gas:,} |")


def offering_rows(world: TestWorld, every_rule: Terms, plain_repeat: int, issuer: str, kyc: int) -> None:
    """A security that issues in offerings (`OfferingRegistry`): lots live in the registry, and the
    token consults it only for a sender still holding a lot within its period."""
    chain, a = world.chain, world.accounts
    uk_a, uk_b, us_acc, us_acc2, us_qib = a[30], a[31], a[32], a[33], a[34]
    for key, wallet, jurisdiction, category in (
        ("uk_a", uk_a, Jur.GB, Cat.UK_PROFESSIONAL),
        ("uk_b", uk_b, Jur.GB, Cat.UK_PROFESSIONAL),
        ("us_acc", us_acc, Jur.US, Cat.US_ACCREDITED),
        ("us_qib", us_qib, Jur.US, Cat.US_QIB),
    ):
        world.investor(key, jurisdiction, category, wallets=[wallet], kyc_until=kyc)
    world.add_wallet("us_acc", us_acc2)
    # its own extension (not the world's shared one), as a security deployed on its own gets
    token = world.security("OFFR", name="Offered", admin=issuer, terms=every_rule, shared_extension=False)
    registry_address = world.the_registry.address
    offerings = OfferingRegistry.deploy(chain, token=token, registry=registry_address, sender=issuer)
    offerings.attach(admin=issuer)
    now = chain.timestamp()
    public = offerings.open_offering(OfferingTerms(Exemption.UK_PUBLIC_OFFER, now, now + 30 * DAY), sender=issuer)
    reg_d = offerings.open_offering(OfferingTerms(Exemption.REG_D_506C, now, now + 30 * DAY), sender=issuer)
    rows: list[tuple[str, int]] = []
    rows.append(
        (
            "issue in a UK public offer (new holder, no lot)",
            offerings.issue(public, uk_a, 10**6, sender=issuer).gas_used,
        )
    )
    rows.append(
        (
            "issue in a 506(c) offering (new holder, restricted lot)",
            offerings.issue(reg_d, us_acc, 1000, sender=issuer).gas_used,
        )
    )
    rows.append(
        (
            "issue in a 506(c) offering (same purchaser, lot merged)",
            offerings.issue(reg_d, us_acc, 1000, sender=issuer).gas_used,
        )
    )
    token.transfer(uk_b, 1, sender=uk_a)
    repeat = token.transfer(uk_b, 1, sender=uk_a).gas_used
    rows.append(("repeat compliant transfer, every rule, sender holds no lot", repeat))
    token.transfer(us_acc, 5, sender=uk_a)  # us_acc now holds 5 free units beside its lot
    token.transfer(us_qib, 1, sender=us_acc)
    rows.append(
        (
            "repeat transfer of free units by a sender holding a lot (registry consulted)",
            token.transfer(us_qib, 1, sender=us_acc).gas_used,
        )
    )
    rows.append(
        (
            "transfer that moves a lot: 144A resale to a QIB in the holding period",
            token.transfer(us_qib, 100, sender=us_acc).gas_used,
        )
    )
    rows.append(
        (
            "transfer that moves a lot: again (receiver's lot merged)",
            token.transfer(us_qib, 100, sender=us_acc).gas_used,
        )
    )
    rows.append(
        (
            "transfer that moves a lot: to the investor's own other wallet",
            token.transfer(us_acc2, 100, sender=us_acc).gas_used,
        )
    )
    chain.time_travel(now + 367 * DAY)  # past the 506(c) lots' 12 calendar months (a non-reporting issuer)
    rows.append(
        (
            "first transfer after the sender's lots all unlocked (lot horizon cleared)",
            token.transfer(us_qib, 1, sender=us_acc).gas_used,
        )
    )
    rows.append(
        (
            "repeat transfer by that sender (registry no longer consulted)",
            token.transfer(us_qib, 1, sender=us_acc).gas_used,
        )
    )
    print("\n| security issuing in offerings (every rule; lots in OfferingRegistry) | gas |\n| --- | ---: |")
    for label, gas in rows:
        print(f"| {label} | {gas:,} |")
    print(
        f"\noffering security: repeat compliant transfer / plain repeat = {repeat / plain_repeat:.3f} "
        f"(target <= {TARGET_FACTOR}, i.e. <= {int(plain_repeat * TARGET_FACTOR):,} gas)"
    )


if __name__ == "__main__":
    main()
