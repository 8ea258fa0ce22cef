"""A record-date security's transfer costs what the token's transfer costs without record dates: at
most 1.5 times OpenZeppelin's ERC-20 transfer, before and after a record date (issue 15, "the bond's
transfer"), while balances of record stay exact. Gas is deterministic: the figures are asserted, not
timed. Dated stories: close of business on a month end, on a leap day, and a record date scheduled
after a holder's last change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.contracts.base import ContractFacade
from sandbox.contracts.security_token import SecurityToken, Terms
from sandbox.rules import InvestorCategory as Cat
from tests.contracts.conftest import DAY, ISSUANCE_LIMIT, World
from tests.contracts.helpers import reverts

TARGET_FACTOR = 1.5


class PlainERC20(ContractFacade):
    artifact_name = "PlainERC20"


def _utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


#: Every rule a repeat transfer between two UK professionals checks (as `bench.gas`'s "every rule").
EVERY_RULE = Terms(
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


def _erc20_repeat(w: World, sender: str, receiver: str) -> int:
    """OpenZeppelin's ERC-20 repeat transfer between the same two wallets (the same calldata cost)."""
    plain = PlainERC20.deploy_contract(w.chain, [10**24], sender=w.operator)
    plain._send("transfer", sender, 10**6, sender=w.operator)
    plain._send("transfer", receiver, 1, sender=sender)
    return plain._send("transfer", receiver, 1, sender=sender).gas_used


@pytest.fixture
def bond(w: World) -> SecurityToken:
    """A record-date security with every rule, 1,000 units each to uk1 (an investor with two wallets),
    uk2 and uk3."""
    token = w.deploy_token(EVERY_RULE, record_dates=True)
    token.approve_issuance(ISSUANCE_LIMIT, sender=w.fca)
    for key in ("uk1", "uk2", "uk3"):
        token.mint(w.w[key], 1000, sender=w.issuer)
    return token


def test_a_record_date_security_s_repeat_transfer_is_within_one_and_a_half_erc20_transfers(
    w: World, bond: SecurityToken
) -> None:
    """Main paid 53,757 gas before a record date (one more storage read for the record-date state) and
    58,209 after one (and one per party for its history): 1.57 and 1.70 times the ERC-20's 34,311.
    Between two single-wallet investors (uk2 and uk3), as the demo bond's holders."""
    uk2, uk3 = w.w["uk2"], w.w["uk3"]
    limit = int(TARGET_FACTOR * _erc20_repeat(w, uk2, uk3))
    plain = w.deploy_token(EVERY_RULE)
    plain.approve_issuance(ISSUANCE_LIMIT, sender=w.fca)
    plain.mint(uk2, 1000, sender=w.issuer)
    plain.mint(uk3, 1000, sender=w.issuer)
    plain.transfer(uk3, 1, sender=uk2)
    assert plain.transfer(uk3, 1, sender=uk2).gas_used <= limit

    bond.transfer(uk3, 1, sender=uk2)
    assert bond.transfer(uk3, 1, sender=uk2).gas_used <= limit  # nothing scheduled
    record = _utc(2026, 6, 30, 16)  # close of business, 17:00 London (BST), on a month end
    bond.schedule_record_date(record, sender=w.issuer)
    assert bond.transfer(uk3, 1, sender=uk2).gas_used <= limit  # a record date ahead
    w.at(record + 1)  # the first second after close
    first = bond.transfer(uk3, 1, sender=uk2).gas_used  # records both parties' balances
    repeat = bond.transfer(uk3, 1, sender=uk2).gas_used
    assert repeat <= limit < first
    # the balances of record are those before the first transfer after close
    assert (bond.balance_of_at(uk2, record), bond.balance_of_at(uk3, record)) == (997, 1003)
    assert bond.total_supply_at(record) == 3000
    assert (bond.balance_of(uk2), bond.balance_of(uk3)) == (995, 1005)


def test_a_holder_dormant_across_record_dates_is_recorded_as_it_stood_at_each(w: World, bond: SecurityToken) -> None:
    """uk1 does not move from the last second of 28 February 2028 until after three record dates:
    28 February (a month end in a leap year), 29 February (the leap day) and 31 March, the last one
    scheduled only after the first two had passed. Meanwhile others' transfers move the token's
    record-date state forward. uk1's first transfer after all three records its balance once, and it
    answers for every one of them."""
    uk1, uk2, uk3 = w.w["uk1"], w.w["uk2"], w.w["uk3"]
    feb28, feb29 = _utc(2028, 2, 28, 17), _utc(2028, 2, 29, 17)  # close of business, GMT
    mar31 = _utc(2028, 3, 31, 16)  # close of business, BST (clocks went forward on 26 March)
    bond.schedule_record_date(feb29, sender=w.issuer)
    bond.schedule_record_date(feb28, sender=w.issuer)
    w.at(feb28)  # the last second before close still counts
    bond.transfer(uk2, 100, sender=uk1)  # uk1 900, uk2 1,100
    w.at(feb28 + 1)
    bond.transfer(uk3, 50, sender=uk2)  # the first second after close: uk2 recorded at 1,100, uk3 at 1,000
    w.at(feb29 + 1)
    bond.transfer(uk2, 10, sender=uk3)  # uk3 recorded at 1,050, uk2 at 1,050 under the leap day
    bond.schedule_record_date(mar31, sender=w.issuer)
    w.at(mar31 + 1)
    bond.transfer(uk2, 1, sender=uk1)  # uk1's first change since 28 February
    assert [bond.balance_of_at(uk1, d) for d in (feb28, feb29, mar31)] == [900, 900, 900]
    assert [bond.balance_of_at(uk2, d) for d in (feb28, feb29, mar31)] == [1100, 1050, 1060]
    assert [bond.balance_of_at(uk3, d) for d in (feb28, feb29, mar31)] == [1000, 1050, 1040]
    assert [bond.total_supply_at(d) for d in (feb28, feb29, mar31)] == [3000, 3000, 3000]
    assert (bond.balance_of(uk1), bond.balance_of(uk2), bond.balance_of(uk3)) == (899, 1061, 1040)


def test_a_frozen_wallet_and_its_freezer_survive_the_record_date_bookkeeping(w: World, bond: SecurityToken) -> None:
    """Who froze a wallet no longer lives in the wallet's word (the record-date mark does): a
    regulator's freeze still names its jurisdiction, refuses the agent, and moves with a recovery."""
    uk1, uk1b, uk2 = w.w["uk1"], w.w["uk1b"], w.w["uk2"]
    record = _utc(2026, 12, 31, 17)  # close of business on New Year's Eve (GMT)
    bond.schedule_record_date(record, sender=w.issuer)
    bond.set_address_frozen(uk1, True, sender=w.fca)
    assert bond.is_frozen(uk1) and bond.frozen_by(uk1) == 826
    reverts(lambda: bond.set_address_frozen(uk1, False, sender=w.issuer), "FreezeImposedByRegulator")
    reverts(lambda: bond.transfer(uk2, 1, sender=uk1), "SenderFrozen")
    w.at(record + 1)
    bond.forced_transfer(uk2, uk1, 5, sender=w.issuer)  # the receiver's freeze does not stop an agent
    bond.recovery_address(uk1, uk1b, uk1, sender=w.issuer)
    assert not bond.is_frozen(uk1) and bond.frozen_by(uk1) == 0
    assert bond.is_frozen(uk1b) and bond.frozen_by(uk1b) == 826
    assert (bond.balance_of_at(uk1, record), bond.balance_of_at(uk1b, record)) == (1000, 0)
    assert bond.balance_of_at(uk2, record) == 1000 and bond.balance_of(uk1b) == 1005
    bond.set_address_frozen(uk1b, False, sender=w.fca)
    bond.set_address_frozen(uk1b, True, sender=w.issuer)
    assert bond.frozen_by(uk1b) == 65535
