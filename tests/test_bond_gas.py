"""The demo's bond THAMES28 (record dates on, its paying agent wired) costs at most 1.5 times an
OpenZeppelin ERC-20 transfer per repeat transfer, before and after its first coupon's record instant
(issue 15, "the bond's transfer"). Gas is deterministic: asserted, not timed."""

from __future__ import annotations

from sandbox.contracts.base import ContractFacade
from sandbox.contracts.corporate_actions import BondPayingAgent
from sandbox.market import Market

TARGET_FACTOR = 1.5


class PlainERC20(ContractFacade):
    artifact_name = "PlainERC20"


def test_thames28_repeat_transfer_is_within_one_and_a_half_erc20_transfers_either_side_of_a_record_date(
    market: Market,
) -> None:
    """Main paid 53,757 gas before the record instant and 58,209 after it (1.57 and 1.70 times 34,311)."""
    chain = market.chain
    alice, bob = market.wallet("alice"), market.wallet("bob")
    plain = PlainERC20.deploy_contract(chain, [10**24], sender=market.operator)
    plain._send("transfer", alice, 10**6, sender=market.operator)
    plain._send("transfer", bob, 1, sender=alice)
    limit = int(TARGET_FACTOR * plain._send("transfer", bob, 1, sender=alice).gas_used)

    bond = market.security("THAMES28")
    agent = market.paying_agent("THAMES28")
    assert isinstance(agent, BondPayingAgent)
    bond.transfer(bob, 1, sender=alice)
    assert bond.transfer(bob, 1, sender=alice).gas_used <= limit
    agent.schedule_coupon(0, sender=market.accounts["thames"])
    _, _, record_key = agent.coupon_period(0)  # close of business on the record date (London)
    assert bond.transfer(bob, 1, sender=alice).gas_used <= limit
    before = bond.balance_of(alice), bond.balance_of(bob)
    assert hasattr(chain, "time_travel")
    chain.time_travel(record_key)  # the next block is stamped with the first second after close
    first = bond.transfer(bob, 1, sender=alice)
    assert chain.block_timestamp(first.block_number) == record_key + 1
    assert bond.transfer(bob, 1, sender=alice).gas_used <= limit < first.gas_used
    assert (bond.balance_of_at(alice, record_key), bond.balance_of_at(bob, record_key)) == before
