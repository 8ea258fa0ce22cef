"""Frozen units and their events (issue #12, token standards): ERC-7943's `Frozen(account, amount)`
wherever the frozen amount changes, before the `Transfer` of a forced transfer or burn that takes
frozen units; `setFrozenTokens` beyond the balance (ERC-7943) while ERC-3643's `freezePartialTokens`
keeps T-REX's bound; `recoveryAddress` announcing every freeze it moves, so that state rebuilt from
events (ours: the read model) equals the chain's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.contracts.security_token import SecurityToken
from sandbox.readmodel import Indexer, ReadModel
from sandbox.rules import Jurisdiction as Jur
from tests.contracts.conftest import World
from tests.contracts.helpers import reverts

UINT96_MAX = 2**96 - 1


def _names(t: SecurityToken, receipt: Any) -> list[str]:
    return [e.name for e in t.events(receipt)]


def _frozen_from_events(t: SecurityToken, receipts: list[Any]) -> dict[str, int]:
    """Frozen amounts rebuilt the T-REX way (TokensFrozen / TokensUnfrozen deltas) and checked
    against the ERC-7943 way (each `Frozen` gives the new absolute amount)."""
    deltas: dict[str, int] = {}
    absolute: dict[str, int] = {}
    for receipt in receipts:
        for e in t.events(receipt):
            if e.name == "TokensFrozen":
                deltas[e.args["userAddress"]] = deltas.get(e.args["userAddress"], 0) + e.args["amount"]
            elif e.name == "TokensUnfrozen":
                deltas[e.args["userAddress"]] = deltas.get(e.args["userAddress"], 0) - e.args["amount"]
            elif e.name == "Frozen":
                absolute[e.args["account"]] = e.args["amount"]
                assert deltas.get(e.args["account"], 0) == e.args["amount"], "Frozen disagrees with the deltas"
    return deltas


# ---------------------------------------------------------------------------- 1. Frozen before Transfer


def test_forced_transfer_taking_frozen_units_emits_frozen_before_transfer(w: World) -> None:
    t, us, uk1 = w.token, w.w["us_acc"], w.w["uk1"]
    t.freeze_partial_tokens(us, 300, sender=w.issuer)
    receipt = t.forced_transfer(us, uk1, 900, sender=w.issuer)
    events = t.events(receipt)
    assert [e.name for e in events] == ["TokensUnfrozen", "Frozen", "Transfer", "ForcedTransfer"]
    assert events[0].args["amount"] == 200
    assert events[1].args["account"] == us and events[1].args["amount"] == 100
    assert t.get_frozen_tokens(us) == 100
    # free units only: no freeze event at all
    t.unfreeze_partial_tokens(us, 100, sender=w.issuer)
    assert _names(t, t.forced_transfer(us, uk1, 50, sender=w.issuer)) == ["Transfer", "ForcedTransfer"]


def test_burn_and_batches_taking_frozen_units_emit_frozen_before_transfer(w: World) -> None:
    t, us, uk1, uk2 = w.token, w.w["us_acc"], w.w["uk1"], w.w["uk2"]
    t.freeze_partial_tokens(us, 1000, sender=w.issuer)
    burn = t.burn(us, 10, sender=w.issuer)
    assert _names(t, burn) == ["TokensUnfrozen", "Frozen", "Transfer"]
    assert t.events(burn, "Frozen")[0].args["amount"] == 990
    t.freeze_partial_tokens(uk1, 1000, sender=w.issuer)
    batch = t.batch_burn([us, uk1], [90, 100], sender=w.issuer)
    assert _names(t, batch) == ["TokensUnfrozen", "Frozen", "Transfer"] * 2
    assert [e.args["amount"] for e in t.events(batch, "Frozen")] == [900, 900]
    forced = t.batch_forced_transfer([us, uk1], [uk2, uk2], [100, 200], sender=w.issuer)
    assert _names(t, forced) == ["TokensUnfrozen", "Frozen", "Transfer", "ForcedTransfer"] * 2
    assert [e.args["amount"] for e in t.events(forced, "Frozen")] == [800, 700]
    assert (t.get_frozen_tokens(us), t.get_frozen_tokens(uk1)) == (800, 700)


def test_partial_freezes_emit_frozen_with_the_new_amount(w: World) -> None:
    t, us = w.token, w.w["us_acc"]
    (frozen,) = t.events(t.freeze_partial_tokens(us, 300, sender=w.sec), "Frozen")
    assert frozen.args["amount"] == 300
    (frozen,) = t.events(t.freeze_partial_tokens(us, 200, sender=w.issuer), "Frozen")
    assert frozen.args["amount"] == 500
    (frozen,) = t.events(t.unfreeze_partial_tokens(us, 50, sender=w.issuer), "Frozen")
    assert frozen.args["amount"] == 450


def test_split_announces_the_scaled_frozen_amount(w: World) -> None:
    t, us, uk1, uk2 = w.token, w.w["us_acc"], w.w["uk1"], w.w["uk2"]
    t.freeze_partial_tokens(us, 300, sender=w.issuer)
    t.start_split(2, sender=w.issuer)
    receipt = t.split_batch([us, uk1, uk2], sender=w.issuer)
    (tokens_frozen,) = t.events(receipt, "TokensFrozen")
    (frozen,) = t.events(receipt, "Frozen")
    assert tokens_frozen.args["userAddress"] == us and tokens_frozen.args["amount"] == 300
    assert frozen.args["account"] == us and frozen.args["amount"] == 600 == t.get_frozen_tokens(us)


# ---------------------------------------------------------------------------- 2. beyond the balance


def test_set_frozen_tokens_may_exceed_the_balance(w: World) -> None:
    t, us, uk1 = w.token, w.w["us_acc"], w.w["uk1"]
    receipt = t.set_frozen_tokens(us, 5000, sender=w.issuer)
    assert _names(t, receipt) == ["TokensFrozen", "Frozen"]
    assert t.get_frozen_tokens(us) == 5000 and t.balance_of(us) == 1000
    # the rulebook's unfrozen balance is 0, not an underflow
    assert not t.can_transfer(us, uk1, 1)
    reverts(lambda: t.transfer(uk1, 1, sender=us), "ERC7943InsufficientUnfrozenBalance", unfrozen=0)
    # ERC-3643's freezePartialTokens keeps T-REX's bound (frozen + amount <= balance), for agents and
    # regulators alike, refused by name rather than by an arithmetic panic
    reverts(lambda: t.freeze_partial_tokens(us, 1, sender=w.issuer), "FreezeExceedsBalance", freezable=0)
    reverts(lambda: t.freeze_partial_tokens(us, 1, sender=w.sec), "FreezeExceedsBalance", freezable=0)
    # a regulator may still add its own freeze through ERC-7943, and the agent cannot lift it
    t.set_frozen_tokens(us, 5100, sender=w.sec)
    assert t.regulator_frozen_tokens(us, Jur.US) == 100
    reverts(lambda: t.set_frozen_tokens(us, 0, sender=w.issuer), "UnfreezeExceedsOwnFreeze", unfreezable=5000)
    # units received later stay frozen; a forced transfer takes agent-frozen units
    t.mint(us, 100, sender=w.issuer)
    reverts(lambda: t.transfer(uk1, 1, sender=us), "ERC7943InsufficientUnfrozenBalance", unfrozen=0)
    forced = t.forced_transfer(us, uk1, 400, sender=w.issuer)
    assert [e.args["amount"] for e in t.events(forced, "Frozen")] == [4700]
    t.set_frozen_tokens(us, 100, sender=w.issuer)
    assert t.get_frozen_tokens(us) == 100
    t.transfer(uk1, 600, sender=us)
    assert t.balance_of(us) == 100
    reverts(lambda: t.set_frozen_tokens(us, UINT96_MAX + 1, sender=w.issuer), "AmountTooLarge")


def test_overfrozen_wallet_splits_without_wrapping(w: World) -> None:
    t, us, uk1, uk2 = w.token, w.w["us_acc"], w.w["uk1"], w.w["uk2"]
    t.set_frozen_tokens(us, UINT96_MAX // 2 + 1, sender=w.issuer)
    t.start_split(2, sender=w.issuer)
    t.split_batch([us, uk1, uk2], sender=w.issuer)
    assert t.balance_of(us) == 2000 and t.get_frozen_tokens(us) == UINT96_MAX


# ---------------------------------------------------------------------------- 3. recovery


def test_recovery_announces_the_freezes_it_moves(w: World) -> None:
    t, uk1, uk1b = w.token, w.w["uk1"], w.w["uk1b"]
    t.freeze_partial_tokens(uk1, 50, sender=w.fca)
    t.freeze_partial_tokens(uk1, 30, sender=w.issuer)
    t.set_address_frozen(uk1, True, sender=w.issuer)
    receipt = t.recovery_address(uk1, uk1b, uk1, sender=w.issuer)
    events = t.events(receipt)
    assert [e.name for e in events] == [
        "AddressFrozen",
        "TokensUnfrozen",
        "Frozen",
        "PartialFreezeByRegulator",
        "Transfer",
        "TokensFrozen",
        "Frozen",
        "PartialFreezeByRegulator",
        "AddressFrozen",
        "RecoverySuccess",
    ]
    assert (events[0].args["userAddress"], events[0].args["isFrozen"]) == (uk1, False)
    assert events[0].args["owner"] == w.issuer
    assert (events[1].args["userAddress"], events[1].args["amount"]) == (uk1, 80)
    assert (events[2].args["account"], events[2].args["amount"]) == (uk1, 0)
    assert events[3].args["wallet"] == uk1 and events[3].args["frozenAmount"] == 0
    assert (events[5].args["userAddress"], events[5].args["amount"]) == (uk1b, 80)
    assert (events[6].args["account"], events[6].args["amount"]) == (uk1b, 80)
    assert events[7].args["wallet"] == uk1b and events[7].args["frozenAmount"] == 50
    assert (events[8].args["userAddress"], events[8].args["isFrozen"]) == (uk1b, True)
    assert not t.is_frozen(uk1) and t.is_frozen(uk1b)
    assert t.get_frozen_tokens(uk1) == 0 and t.get_frozen_tokens(uk1b) == 80


def test_recovery_of_frozen_wallets_leaves_the_read_model_equal_to_the_chain(w: World, tmp_path: Path) -> None:
    """A partially frozen wallet and a wholly frozen one are recovered; the read model (fed only by
    events) then has the chain's whole-wallet freezes, and the freeze events fold to the chain's
    frozen amounts."""
    t, reg = w.token, w.registry
    uk1, uk1b, us, us_new = w.w["uk1"], w.w["uk1b"], w.w["us_acc"], w.chain.accounts[13].address
    reg.add_wallet(us, us_new, sender=w.operator)
    receipts = [
        t.freeze_partial_tokens(uk1, 40, sender=w.issuer),
        t.freeze_partial_tokens(uk1, 60, sender=w.fca),
        t.set_address_frozen(us, True, sender=w.sec),
        t.freeze_partial_tokens(us, 1000, sender=w.issuer),
        t.recovery_address(uk1, uk1b, uk1, sender=w.issuer),
        t.recovery_address(us, us_new, us, sender=w.issuer),
    ]
    wallets = (uk1, uk1b, us, us_new)
    folded = _frozen_from_events(t, receipts)
    assert {x: folded.get(x, 0) for x in wallets} == {x: t.get_frozen_tokens(x) for x in wallets}
    assert (t.get_frozen_tokens(uk1b), t.get_frozen_tokens(us_new)) == (100, 1000)
    # the lost wallet, still linked to its investor, receives units again: it must show as not frozen
    t.mint(us, 5, sender=w.issuer)
    with ReadModel.sqlite(tmp_path / "rm.sqlite") as model:
        Indexer(w.chain, model, [reg.address, t.address]).sync()
        frozen = {p.wallet: p.frozen for p in model.positions(t.address)}
    assert {us, us_new, uk1b} <= frozen.keys()
    assert frozen == {x: t.is_frozen(x) for x in frozen}
    assert frozen[us_new] is True and frozen[us] is False


def test_recovery_to_a_wallet_not_linked_to_the_investor_is_refused(w: World) -> None:
    """T-REX links the new wallet itself; here the investor registry lets only the investor's
    onboarding agent (or its admin) link wallets, and the token is neither, so recovery refuses a
    wallet not yet linked, and nothing changes: link it in the registry first."""
    t, uk1, fresh = w.token, w.w["uk1"], w.chain.accounts[16].address
    reverts(lambda: t.recovery_address(uk1, fresh, uk1, sender=w.issuer), "RecoveryNotPossible")
    assert t.balance_of(uk1) == 1000 and t.balance_of(fresh) == 0
    w.registry.add_wallet(uk1, fresh, sender=w.operator)
    t.recovery_address(uk1, fresh, uk1, sender=w.issuer)
    assert t.balance_of(fresh) == 1000
