"""Positions, cap tables and the audit trail of the read model, checked against the chain itself.

Every test runs on SQLite and on a real PostgreSQL server (see conftest)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from readmodel_support import History

from sandbox.readmodel import (
    UNREGISTERED,
    Indexer,
    NotIndexedYet,
    ReadModel,
    ReadModelError,
)
from sandbox.rules import Jurisdiction

Indexed = tuple[ReadModel, Indexer]


def _as_dict(model: ReadModel, symbol: str, **as_of: int) -> dict[str, int]:
    positions = model.positions(symbol, **as_of)
    out = {p.wallet: p.balance for p in positions}
    assert len(out) == len(positions), "one position per wallet"
    return out


def test_positions_now_and_at_every_past_block_match_the_chain(
    history: History, indexed: Indexed, onchain: dict[int, dict[str, int]]
) -> None:
    model, _ = indexed
    assert model.last_indexed_block() == history.head
    assert _as_dict(model, history.symbol) == onchain[history.head]
    for block, expected in onchain.items():
        assert _as_dict(model, history.symbol, block=block) == expected, f"as of block {block}"
    # the history moved balances: the test would notice a read model that ignored transfers
    assert onchain[history.loaded_block] != onchain[history.head]


def test_positions_as_of_a_time_are_those_of_the_last_block_at_or_before_it(
    history: History, indexed: Indexed, onchain: dict[int, dict[str, int]]
) -> None:
    model, _ = indexed
    w3 = history.chain.w3
    times = {n: int(w3.eth.get_block(n)["timestamp"]) for n in range(history.head + 1)}
    for block, ts in times.items():
        assert _as_dict(model, history.symbol, at=ts) == onchain[block]
        assert model.block_at(ts) <= block
    # in the middle of the day without blocks, the state is that of the last block before the gap
    before_gap = max(range(history.head), key=lambda n: times[n + 1] - times[n])
    middle = times[before_gap] + 43_200
    assert times[before_gap] < middle < times[before_gap + 1]
    next_change = min(n for n in onchain if n > before_gap and onchain[n] != onchain[before_gap])
    assert _as_dict(model, history.symbol, at=middle) == onchain[before_gap]
    assert _as_dict(model, history.symbol, at=middle) != onchain[next_change]
    # before the chain existed there were no positions
    assert model.positions(history.symbol, at=times[0] - 1) == []


def test_an_investor_position_adds_up_its_wallets(history: History, indexed: Indexed) -> None:
    model, _ = indexed
    first = next(iter(history.holders.values()))
    wallets = {first, history.second_wallet}
    by_identity = model.investor_positions(first)
    by_second_wallet = model.investor_positions(history.second_wallet)
    assert by_identity == by_second_wallet
    [position] = [p for p in by_identity if p.symbol == history.symbol]
    assert position.investor == first
    assert {w.wallet for w in position.wallets} == wallets
    assert position.balance == sum(history.token.balance_of(w) for w in wallets)
    assert all(w.balance == history.token.balance_of(w.wallet) for w in position.wallets)
    # as of the block before the second wallet received anything, only the first wallet held
    before = history.receipts["to_second_wallet"].block_number - 1
    [earlier] = [p for p in model.investor_positions(first, block=before) if p.symbol == history.symbol]
    assert [w.wallet for w in earlier.wallets] == [first]
    assert earlier.balance == history.token.balance_of(first, block=before)


def test_the_cap_table_groups_wallets_by_investor_with_breakdowns(history: History, indexed: Indexed) -> None:
    model, _ = indexed
    registry = history.market.registry
    table = model.cap_table(history.symbol)
    assert table.block == history.head
    assert table.total == history.token.total_supply()
    expected_j: dict[str, int] = defaultdict(int)
    expected_c: dict[str, int] = defaultdict(int)
    for entry in table.holders:
        assert entry.investor is not None
        record = registry.investor(entry.investor)
        assert entry.jurisdiction == Jurisdiction(record.jurisdiction).name
        assert entry.category == record.category.name
        assert set(entry.wallets) <= set(registry.wallets_of(entry.investor))
        assert entry.balance == sum(history.token.balance_of(w) for w in entry.wallets)
        expected_j[entry.jurisdiction] += entry.balance
        expected_c[entry.category] += entry.balance
    first = next(iter(history.holders.values()))
    [first_entry] = [e for e in table.holders if e.investor == first]
    assert set(first_entry.wallets) == {first, history.second_wallet}
    assert {k: v.balance for k, v in table.by_jurisdiction.items()} == expected_j
    assert {k: v.balance for k, v in table.by_category.items()} == expected_c
    assert sum(b.holders for b in table.by_jurisdiction.values()) == len(table.holders)
    assert sum(b.share for b in table.by_category.values()) == pytest.approx(1.0)
    assert UNREGISTERED not in table.by_category


def test_the_cap_table_as_of_a_block_uses_the_investor_record_of_then(history: History, indexed: Indexed) -> None:
    model, _ = indexed
    change = history.receipts["recategorise"].block_number
    now = {e.investor: e.category for e in model.cap_table(history.symbol).holders}
    then = {e.investor: e.category for e in model.cap_table(history.symbol, block=change - 1).holders}
    assert now[history.recategorised] == history.category_after.name
    assert then[history.recategorised] == history.category_before.name
    assert history.market.registry.investor(history.recategorised).category == history.category_after
    before = model.cap_table(history.symbol, block=change - 1)
    assert before.by_category[history.category_before.name].balance >= history.token.balance_of(
        history.recategorised, block=change - 1
    )


def test_the_audit_trail_records_the_freeze_with_its_actor(history: History, indexed: Indexed) -> None:
    model, _ = indexed
    freeze = history.receipts["freeze"]
    page = model.audit_trail(events=["AddressFrozen"])
    [entry] = page.entries
    assert entry.actor == history.regulator
    assert entry.target == history.frozen_wallet
    assert entry.tx_hash == freeze.transaction_hash
    assert entry.block_number == freeze.block_number
    assert entry.timestamp == freeze.block_timestamp
    assert entry.contract == history.token.address
    assert entry.symbol == history.symbol
    assert entry.args["isFrozen"] is True
    frozen = {p.wallet: p.frozen for p in model.positions(history.symbol)}
    assert frozen[history.frozen_wallet] is True
    assert history.token.is_frozen(history.frozen_wallet)
    assert sum(frozen.values()) == 1
    before = {p.wallet: p.frozen for p in model.positions(history.symbol, block=freeze.block_number - 1)}
    assert before[history.frozen_wallet] is False


def test_the_audit_trail_holds_every_action_but_no_plain_transfer(history: History, indexed: Indexed) -> None:
    model, _ = indexed
    everything = model.audit_trail(limit=1000)
    assert everything.total == len(everything.entries)
    names = {e.event for e in everything.entries}
    assert {"InvestorRegistered", "WalletAdded", "InvestorUpdated", "AddressFrozen", "RegulatorSet"} <= names
    transfers = [e for e in everything.entries if e.event == "Transfer"]
    zero = "0x0000000000000000000000000000000000000000"
    assert transfers, "mints and burns are agent actions"
    assert all(zero in (e.args["from"], e.args["to"]) for e in transfers)
    burn = history.receipts["burn"]
    [burned] = [e for e in transfers if e.tx_hash == burn.transaction_hash]
    assert burned.actor == history.market.accounts[history.market.issuer_of[history.symbol]]
    assert burned.target == list(history.holders.values())[2]
    plain = history.receipts["first_to_second"].transaction_hash
    assert plain not in {e.tx_hash for e in everything.entries}
    # chronological, and every entry's actor is the sender of its transaction
    keys = [(e.block_number, e.log_index) for e in everything.entries]
    assert keys == sorted(keys)
    for e in everything.entries[:5]:
        assert (
            e.actor == history.chain.w3.eth.get_block(e.block_number, full_transactions=True)["transactions"][0]["from"]
        )


def test_the_audit_trail_filters_and_pages(history: History, indexed: Indexed) -> None:
    model, _ = indexed
    everything = model.audit_trail(limit=1000).entries
    pages = []
    offset: int | None = 0
    while offset is not None:
        page = model.audit_trail(offset=offset, limit=3)
        assert len(page.entries) <= 3
        pages.extend(page.entries)
        offset = page.next_offset
    assert tuple(pages) == everything
    newest = model.audit_trail(limit=2, newest_first=True).entries
    assert newest == tuple(reversed(everything[-2:]))
    operator = history.market.operator
    by_operator = model.audit_trail(actor=operator, limit=1000).entries
    assert by_operator and all(e.actor == operator for e in by_operator)
    assert len(by_operator) == sum(e.actor == operator for e in everything)
    of_token = model.audit_trail(security=history.symbol, limit=1000).entries
    assert of_token and all(e.contract == history.token.address for e in of_token)
    of_registry = model.audit_trail(security=history.market.registry.address, limit=1000).entries
    assert len(of_token) + len(of_registry) == len(everything) - sum(
        e.contract not in (history.token.address, history.market.registry.address) for e in everything
    )
    target = history.frozen_wallet
    about = model.audit_trail(target=target, limit=1000).entries
    assert about and all(e.target == target for e in about)
    freeze = history.receipts["freeze"]
    window = model.audit_trail(from_block=freeze.block_number, to_block=freeze.block_number).entries
    assert [e.event for e in window] == ["AddressFrozen"]
    timed = model.audit_trail(since=freeze.block_timestamp, until=freeze.block_timestamp).entries
    assert timed == window


def test_bad_queries_get_clear_errors(history: History, indexed: Indexed) -> None:
    model, _ = indexed
    with pytest.raises(ReadModelError, match="no security with symbol"):
        model.positions("NOSUCH")
    with pytest.raises(ReadModelError, match="not a token"):
        model.positions(history.market.registry.address)
    with pytest.raises(NotIndexedYet):
        model.positions(history.symbol, block=history.head + 1)
    with pytest.raises(NotIndexedYet):
        model.positions(history.symbol, at=history.chain.timestamp() + 1)
    with pytest.raises(ReadModelError, match="not both"):
        model.positions(history.symbol, block=1, at=1)
    with pytest.raises(ReadModelError, match="limit"):
        model.audit_trail(limit=0)
    with pytest.raises(ReadModelError, match="not an address"):
        model.audit_trail(actor="alice")
    with pytest.raises(ReadModelError, match="not an address"):
        model.investor_positions("0x1234")
