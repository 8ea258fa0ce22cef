"""The shared test-world builder (`sandbox.testing`): what it deploys is wired as the rules need, a world
built once hands each test the same state (snapshot and revert), and it runs on either in-process engine."""

from __future__ import annotations

import pytest

from sandbox.chain.factory import in_process_chain
from sandbox.errors import ContractReverted, SandboxError
from sandbox.rules import InvestorCategory, Jurisdiction
from sandbox.testing import RESERVES, TestWorld, isolated, made_up_identity

GB, US = Jurisdiction.GB, Jurisdiction.US


@pytest.fixture(scope="module")
def built() -> TestWorld:
    world = TestWorld(accounts=12)
    world.registry()
    world.investor("alice", GB, InvestorCategory.UK_PROFESSIONAL, wallets=2, identity=made_up_identity(0xA11CE))
    world.investor("carol", US, InvestorCategory.US_ACCREDITED)
    world.security("GLT30", holdings={"alice": 100})
    world.cash("GBP")
    world.settlement()
    world.cash("USD")  # after the DvP contract: registered with it as it is deployed
    return world


def test_the_world_is_deployed_in_order_by_the_funded_accounts(built: TestWorld) -> None:
    a = built.accounts
    assert (built.admin, built.regulators[GB], built.regulators[US]) == (a[0], a[1], a[2])
    assert built.investors["alice"].wallets == (a[3], a[4])
    assert built.wallet("carol") == a[5]
    assert built.outsider == a[-1]
    registry = built.the_registry
    assert registry.regulator_jurisdiction(a[1]) == GB
    assert registry.regulator_jurisdiction(a[2]) == US
    # alice's made-up identity owns both her wallets; carol's identity is her wallet
    assert registry.wallets_of(made_up_identity(0xA11CE)) == (a[3], a[4])
    assert registry.wallets_of(a[5]) == (a[5],)


def test_securities_cash_and_settlement_are_wired(built: TestWorld) -> None:
    token = built.securities["GLT30"]
    alice, carol = built.investors["alice"], built.wallet("carol")
    assert token.balance_of(alice.wallet) == 100
    assert token.total_supply() == 100
    dvp = built.settlement()
    for currency, cash in built.cash_tokens.items():
        assert cash.is_settlement_contract(dvp.address), currency
        assert cash.reserves() == RESERVES, currency
    # the rules run: a registered US investor may receive (no Reg S period is set); a wallet of nobody's
    # is refused.
    with built.isolated():
        token.transfer(carol, 10, sender=alice.wallet)
        assert token.balance_of(carol) == 10
        with pytest.raises(ContractReverted):
            token.transfer(built.outsider, 1, sender=alice.wallet)


def test_isolated_reverts_what_the_block_did(built: TestWorld) -> None:
    token, alice = built.securities["GLT30"], built.wallet("alice")
    head = built.chain.block_number()
    with built.isolated():
        token.mint(alice, 5, sender=built.admin)
        built.chain.time_travel(built.chain.timestamp() + 86_400)
        assert token.balance_of(alice) == 105
    assert token.balance_of(alice) == 100
    assert built.chain.block_number() == head
    with pytest.raises(RuntimeError), isolated(built.chain):
        token.mint(alice, 5, sender=built.admin)
        raise RuntimeError("the block failed")
    assert token.balance_of(alice) == 100  # reverted all the same


def test_the_builder_refuses_what_it_cannot_do() -> None:
    world = TestWorld(accounts=3)
    with pytest.raises(SandboxError, match="registry"):
        world.investor("alice", GB, InvestorCategory.UK_PROFESSIONAL)
    world.registry()  # takes all three accounts
    with pytest.raises(SandboxError, match="only 3 funded accounts"):
        world.account()
    with pytest.raises(SandboxError, match="GBP or USD"):
        world.cash("EUR")


@pytest.mark.parametrize("engine", ["embedded", "revm"])
def test_the_same_world_on_either_engine(engine: str) -> None:
    world = TestWorld(accounts=6, engine=engine)
    # the factory's class for the engine (under SANDBOX_ENGINE=revm tests/conftest.py makes both revm)
    assert type(world.chain) is type(in_process_chain(engine, num_accounts=1))
    world.registry()
    world.investor("bob", GB, InvestorCategory.UK_PROFESSIONAL)
    token = world.security("ENG", holdings={"bob": 7})
    assert token.balance_of(world.wallet("bob")) == 7
