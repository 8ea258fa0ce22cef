"""Gas of the corporate actions (bond coupons and redemption, equity dividends) paid by the paying
agents, on the embedded chain (py-evm, Prague rules).

    python -m bench.gas_corporate_actions

Prints the gas per holder paid in a coupon (`payBatch` of 1, 10 and 50 wallets of one coupon), per
claim, per held payment and its later claim, per holder redeemed at maturity (units burned and
principal paid), and of declaring (a coupon, a dividend) and funding a distribution. The holders are
UK professional investors (businesses: no sterling holding limit applies) that already hold units and
sterling. Gas is deterministic: the figures are exact for this build of the contracts.
"""

from __future__ import annotations

import datetime as dt

from eth_utils import to_checksum_address

from sandbox.chain.embedded import DEFAULT_GENESIS_TIMESTAMP, EmbeddedChain
from sandbox.contracts import BondPayingAgent, BondTerms, DayCount, EquityPayingAgent, SecurityToken
from sandbox.rules import InvestorCategory, Jurisdiction
from sandbox.testing import TestWorld, made_up_identity

DAY = 86_400
KYC_UNTIL = DEFAULT_GENESIS_TIMESTAMP + 10 * 365 * DAY
BATCHES = (1, 10, 50)


def _ts(year: int, month: int, day: int) -> int:
    return int(dt.datetime(year, month, day, tzinfo=dt.UTC).timestamp())


def measure() -> list[tuple[str, int]]:
    """The rows this bench prints: (operation, gas used)."""
    world = TestWorld(EmbeddedChain(num_accounts=6))
    chain, a = world.chain, world.accounts
    admin, regulator, claimers = a[0], a[1], a[2:6]
    world.registry(admin=admin, regulators={Jurisdiction.GB: regulator})
    # Wallets that never sign (paid by the issuer's batches) and four that claim for themselves.
    silent = [to_checksum_address(f"0x{0xB0000 + n:040x}") for n in range(sum(BATCHES) + 10)]
    holders = [*claimers, *silent]
    for n, wallet in enumerate(holders, start=1):
        world.investor(
            f"holder{n}", Jurisdiction.GB, InvestorCategory.UK_PROFESSIONAL, wallets=[wallet],
            identity=made_up_identity(n), kyc_until=KYC_UNTIL,
        )  # fmt: skip
    gbp = world.cash("GBP", reserves=0)
    gbp.attest_reserves(10**15, sender=admin)  # without a report hash, as measured so far

    def security(name: str) -> SecurityToken:
        # each its own extension; the regulator approves 10**9 units
        return world.security(
            name[:4].upper(), name=name, admin=admin, admitted=[Jurisdiction.GB], shared_extension=False,
            issuance_limit=10**9,
        )  # fmt: skip

    issue = _ts(2026, 1, 31)
    dates = (_ts(2026, 7, 31), _ts(2027, 1, 31))
    bond_token = security("Bench Bond")
    terms = BondTerms(
        isin="GB00BENCH001", cash=gbp.address, face_value=100_00, coupon_rate_bps=475,
        day_count=DayCount.THIRTY_360_BOND_BASIS, issue_date=issue, coupon_dates=dates, maturity=dates[-1],
        issuance_limit=10**9, record_lag=7 * DAY,
    )  # fmt: skip
    bond = BondPayingAgent.deploy(chain, terms=terms, security=bond_token.address, issuer=admin, sender=admin)
    equity_token = security("Bench Equity")
    equity = EquityPayingAgent.deploy(
        chain, share_class="Ordinary", security=equity_token.address, cash=gbp.address, par_value=1,
        issuer=admin, sender=admin,
    )  # fmt: skip
    for wallet in holders:
        bond_token.mint(wallet, 1_000, sender=admin)
        equity_token.mint(wallet, 500, sender=admin)
        gbp.mint(wallet, 1, sender=admin)  # every holder already holds sterling

    rows: list[tuple[str, int]] = []
    declared = bond.schedule_coupon(0, sender=admin)
    rows.append(("bond scheduleCoupon (declare; record date scheduled on the token)", declared.receipt.gas_used))
    redemption = bond.schedule_redemption(sender=admin)
    bond.schedule_coupon(1, sender=admin)
    coupon = declared.distribution_id
    _, pay_date, record_date = bond.coupon_period(0)
    now = chain.timestamp()
    dividend = equity.declare_dividend(3, now + 10 * DAY, now + 12 * DAY, sender=admin)
    rows.append(("equity declareDividend (record date scheduled on the token)", dividend.receipt.gas_used))

    chain.time_travel(record_date + 1)
    gbp.mint(bond.address, bond.required_funding(coupon), sender=admin)  # the cash issuer mints to the agent
    rows.append(("fund (cash already minted to the agent)", bond.fund(coupon, sender=admin).gas_used))
    chain.time_travel(pay_date)

    start = 0
    for size in BATCHES:
        wallets = silent[start : start + size]
        start += size
        batch = bond.pay_batch(coupon, wallets, sender=admin)
        assert len(batch.paid) == size, batch
        rows.append((f"coupon payBatch of {size}, per holder", batch.receipt.gas_used // size))
        rows.append((f"coupon payBatch of {size}, whole transaction", batch.receipt.gas_used))

    rows.append(("coupon claim by a holder", bond.claim(coupon, sender=claimers[0]).gas_used))
    # A held payment: the holder is frozen on the security token, then unfrozen and claims.
    bond_token.set_address_frozen(claimers[1], True, sender=admin)
    held = bond.pay_batch(coupon, [claimers[1]], sender=admin)
    assert len(held.held) == 1
    rows.append(("coupon payBatch of 1 that holds the payment (frozen holder)", held.receipt.gas_used))
    bond_token.set_address_frozen(claimers[1], False, sender=admin)
    rows.append(("claim of a held payment", bond.claim(coupon, sender=claimers[1]).gas_used))

    # Redemption at maturity: units burned and principal paid, per holder of a batch of 10.
    maturity = dates[-1]
    chain.time_travel(maturity - 7 * DAY + 1)
    gbp.mint(bond.address, bond.required_funding(redemption.distribution_id), sender=admin)
    bond.fund(redemption.distribution_id, sender=admin)
    chain.time_travel(maturity)
    wallets = silent[start : start + 10]
    batch = bond.pay_batch(redemption.distribution_id, wallets, sender=admin)
    assert len(batch.paid) == 10 and len(batch.redeemed_units) == 10
    rows.append(("redemption payBatch of 10, per holder (burn + principal)", batch.receipt.gas_used // 10))

    return rows


def main() -> None:
    rows = measure()
    width = max(len(label) for label, _ in rows)
    for label, gas in rows:
        print(f"{label:<{width}}  {gas:>9,}")


if __name__ == "__main__":
    main()
