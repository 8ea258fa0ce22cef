"""Gas of the security token's corporate actions: record-date balances and the N-for-1 share split.

Run: `.venv/bin/python -m bench.gas_corporate`. Exact figures (receipts' gas_used) on one EmbeddedChain:
the repeat compliant transfer of a token without record dates (against the 1.5x plain ERC-20 target),
the same transfer on a record-date token with and without a record date passed since the parties'
last change (a party's first checkpoint writes its history slot; the second also opens its
`Checkpoints` trace; later ones append to it), scheduling a record date, and the split (start, and
per wallet in a batch).
"""

from __future__ import annotations

from sandbox.chain.embedded import EmbeddedChain
from sandbox.contracts.base import ContractFacade
from sandbox.contracts.security_token import SecurityToken, Terms
from sandbox.rules import InvestorCategory as Cat
from sandbox.rules import Jurisdiction as Jur
from sandbox.testing import TestWorld

DAY = 86_400
TARGET_FACTOR = 1.5
SPLIT_WALLETS = 20


class PlainERC20(ContractFacade):
    artifact_name = "PlainERC20"


def measure() -> tuple[int, list[tuple[str, int]], dict[str, list[int]]]:
    """The plain ERC-20 repeat transfer, the record-date rows, and the split rows (without, with record
    dates)."""
    world = TestWorld(EmbeddedChain(num_accounts=12 + 2 * SPLIT_WALLETS))
    chain, a = world.chain, world.accounts
    operator, fca, issuer = a[0], a[1], a[3]
    uk1, uk2, uk3, uk4 = a[4], a[5], a[6], a[7]
    holders = a[12 : 12 + SPLIT_WALLETS]
    holders_rd = a[12 + SPLIT_WALLETS : 12 + 2 * SPLIT_WALLETS]
    rows: list[tuple[str, int]] = []

    plain = PlainERC20.deploy_contract(chain, [10**24], sender=operator)
    plain._send("transfer", uk1, 10**6, sender=operator)
    plain._send("transfer", uk2, 1, sender=uk1)
    plain_repeat = plain._send("transfer", uk2, 1, sender=uk1).gas_used

    # Every account is chosen (not taken in turn): the parties' addresses are part of the calldata.
    world.registry(admin=operator, regulators={Jur.GB: fca})
    kyc = chain.timestamp() + 3650 * DAY
    for wallet in (uk1, uk2, uk3, uk4, *holders, *holders_rd):
        world.investor(wallet, Jur.GB, Cat.UK_PROFESSIONAL, wallets=[wallet], kyc_until=kyc)
    world.extension()  # the shared extension, before the terms read the chain's time
    every_rule = Terms(
        us_min_category=int(Cat.US_ACCREDITED),
        uk_min_category=int(Cat.UK_PROFESSIONAL),
        cross_border_threshold=10**6,
        approval_window=7 * DAY,
        max_investor_balance=10**9,
        max_holders=2000,
        max_uk_holders=1000,
        max_us_holders=1000,
        max_us_non_accredited=35,
    )

    def deploy(symbol: str, record_dates: bool) -> SecurityToken:
        # the shared extension; the home regulator (fca) approves 10**12 units
        return world.security(symbol, admin=issuer, terms=every_rule, record_dates=record_dates)

    base = deploy("BASE", record_dates=False)
    rd = deploy("RD", record_dates=True)
    for token, wallets in ((base, holders), (rd, holders_rd)):
        for wallet in (uk1, uk3, *wallets):
            token.mint(wallet, 10**6 if wallet in (uk1, uk3) else 100, sender=issuer)
    for token in (base, rd):
        for sender, to in ((uk1, uk2), (uk3, uk4)):
            token.transfer(to, 1, sender=sender)
            token.transfer(to, 1, sender=sender)

    repeat = base.transfer(uk2, 1, sender=uk1).gas_used
    rows.append(("no record dates: repeat transfer, every rule", repeat))
    rows.append(("record dates on, none scheduled yet: repeat transfer", rd.transfer(uk2, 1, sender=uk1).gas_used))
    first_date = chain.timestamp() + 10
    rows.append(("scheduleRecordDate (first date)", rd.schedule_record_date(first_date, sender=issuer).gas_used))
    rows.append(
        (
            "scheduleRecordDate (second date, later)",
            rd.schedule_record_date(first_date + 1000, sender=issuer).gas_used,
        )
    )
    rows.append(("record date scheduled, not passed: repeat transfer", rd.transfer(uk2, 1, sender=uk1).gas_used))
    chain.time_travel(first_date + 5)
    rows.append(
        (
            "date passed since both parties' last change, first ever checkpoints + roll: transfer",
            rd.transfer(uk2, 1, sender=uk1).gas_used,
        )
    )
    rows.append(
        (
            "date passed since both parties' last change, first ever checkpoints (rolled): transfer",
            rd.transfer(uk4, 1, sender=uk3).gas_used,
        )
    )
    rows.append(
        (
            "no date passed since the parties' last change (date passed before): repeat transfer",
            rd.transfer(uk2, 1, sender=uk1).gas_used,
        )
    )
    chain.time_travel(first_date + 1010)
    rd.transfer(uk4, 1, sender=uk3)  # rolls the state past the second date
    rows.append(
        (
            "date passed since both parties' last change, second checkpoints: transfer",
            rd.transfer(uk2, 1, sender=uk1).gas_used,
        )
    )

    third_date = chain.timestamp() + 10
    rd.schedule_record_date(third_date, sender=issuer)
    chain.time_travel(third_date + 5)
    rd.transfer(uk4, 1, sender=uk3)  # rolls the state past the third date
    rows.append(
        (
            "date passed since both parties' last change, third checkpoints: transfer",
            rd.transfer(uk2, 1, sender=uk1).gas_used,
        )
    )

    # the split: per wallet in a batch (each wallet holds units issued before any record date, its lot
    # unlocked; with record dates, one has passed since: the split writes each wallet's first checkpoint)
    split_rows: dict[str, list[int]] = {}
    for token, wallets in ((base, holders), (rd, holders_rd)):
        if token is rd:
            date = chain.timestamp() + 5
            token.schedule_record_date(date, sender=issuer)
            chain.time_travel(date + 1)
        split_rows.setdefault("startSplit", []).append(token.start_split(2, sender=issuer).gas_used)
        one = token.split_batch(wallets[:1], sender=issuer).gas_used
        batch = token.split_batch(wallets[1:], sender=issuer).gas_used
        split_rows.setdefault("splitBatch of 1 wallet", []).append(one)
        split_rows.setdefault(f"splitBatch of {len(wallets) - 1} wallets", []).append(batch)
        split_rows.setdefault("  per wallet in that batch", []).append(round(batch / (len(wallets) - 1)))
        rest = [uk1, uk2, uk3, uk4]
        completion = token.split_batch(rest, sender=issuer)
        assert token.events(completion, "SplitCompleted")
    return plain_repeat, rows, split_rows


def main() -> None:
    plain_repeat, rows, split_rows = measure()
    repeat = rows[0][1]
    print("| operation | gas |\n| --- | ---: |")
    for label, gas in rows:
        print(f"| {label} | {gas:,} |")
    print(
        f"\nrepeat compliant transfer (no record dates) / plain OZ ERC-20 repeat ({plain_repeat:,}) = "
        f"{repeat / plain_repeat:.3f} (target <= {TARGET_FACTOR}, i.e. <= {int(plain_repeat * TARGET_FACTOR):,} gas)"
    )
    print("\n| share split, 2-for-1 | no record dates | record dates (date passed) |\n| --- | ---: | ---: |")
    for label, (without, with_rd) in split_rows.items():
        print(f"| {label} | {without:,} | {with_rd:,} |")


if __name__ == "__main__":
    main()
