"""The same end-to-end scenario on the embedded chain and on anvil: the demo market, a compliant
transfer, a refused one, a regulator's freeze, snapshot/revert and time travel (KYC expiry)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.chain import DevChain, RpcChain
from sandbox.chain.anvil import AnvilNode
from sandbox.chain.embedded import EmbeddedChain
from sandbox.errors import ContractReverted
from sandbox.market import load_scenario
from sandbox.rules import RULES_BY_ERROR
from sandbox.scenario import Scenario

DAY = 86_400


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.node)])
def chain(request: pytest.FixtureRequest, demo: Scenario) -> Iterator[DevChain]:
    accounts = max(10, demo.accounts_needed)
    if request.param == "embedded":
        yield EmbeddedChain(num_accounts=accounts)
        return
    node: AnvilNode = request.getfixturevalue("anvil")
    rpc = RpcChain(node.url, num_accounts=accounts)
    start = rpc.snapshot()
    yield rpc
    rpc.revert(start)


def test_demo_scenario_end_to_end(chain: DevChain, demo: Scenario, stranger: str) -> None:
    assert isinstance(chain, DevChain)
    market = load_scenario(chain, demo)
    token = market.security("THAMES28")
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    fca = market.accounts["fca"]
    alice_0, bob_0 = token.balance_of(alice), token.balance_of(bob)
    assert (alice_0, bob_0) == (5000, 3000)

    # A compliant transfer between two UK investors.
    receipt = token.transfer(bob, 100, sender=alice)
    [event] = token.events(receipt, "Transfer")
    assert event.args == {"from": alice, "to": bob, "value": 100}
    assert (token.balance_of(alice), token.balance_of(bob)) == (alice_0 - 100, bob_0 + 100)

    # Refused: the receiver is no registered investor; the revert names the rule.
    assert token.detect_transfer_restriction(alice, stranger, 1) == 0x21
    with pytest.raises(ContractReverted) as refused:
        token.transfer(stranger, 1, sender=alice)
    assert refused.value.error_name == "ReceiverNotRegistered"
    assert refused.value.args_by_name == {"wallet": stranger}
    assert refused.value.rule_code == 0x21 == RULES_BY_ERROR["ReceiverNotRegistered"].code
    assert refused.value.rule_message is not None
    assert refused.value.rule_message.startswith("RECEIVER_NOT_REGISTERED")
    assert refused.value.tx_hash is not None
    assert token.balance_of(stranger) == 0

    # Snapshot, then the UK regulator freezes alice: her transfers fail with SenderFrozen.
    snapshot = chain.snapshot()
    token.set_address_frozen(alice, True, sender=fca)
    assert token.is_frozen(alice)
    with pytest.raises(ContractReverted) as frozen:
        token.transfer(bob, 10, sender=alice)
    assert frozen.value.error_name == "SenderFrozen"
    assert frozen.value.rule_code == 0x11
    assert token.balance_of(bob) == bob_0 + 100

    # Revert: the freeze never happened.
    chain.revert(snapshot)
    assert not token.is_frozen(alice)
    token.transfer(bob, 10, sender=alice)
    assert token.balance_of(bob) == bob_0 + 110

    # Time travel past the investors' one-year KYC: the sender's KYC is checked first.
    kyc_until = market.registry.wallet_record(alice).kyc_valid_until
    chain.time_travel(kyc_until + DAY)
    assert chain.timestamp() == kyc_until + DAY
    with pytest.raises(ContractReverted) as expired:
        token.transfer(bob, 1, sender=alice)
    assert expired.value.error_name == "SenderKycExpired"
    assert expired.value.rule_code == 0x24
