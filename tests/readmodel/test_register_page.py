"""`register_page` cuts in the database exactly the pages `register` would give, filtered by jurisdiction,
now and as of every block, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from eth_utils import to_checksum_address
from sqlalchemy import insert

from sandbox.readmodel import Holding, Indexer, ReadModel, ReadModelError
from sandbox.readmodel._schema import (
    BalancePeriod,
    BlockRow,
    ContractRow,
    FreezeChange,
    InvestorRow,
    InvestorVersion,
    WalletRow,
)
from sandbox.rules import InvestorCategory, Jurisdiction
from tests.readmodel.readmodel_support import History


def _expected(model: ReadModel, security: str, block: int | None, jurisdiction: str | None) -> list[Holding]:
    register = model.register(security, block=block)
    return [h for h in register.holdings if jurisdiction is None or h.jurisdiction == jurisdiction]


def _paged(
    model: ReadModel, security: str, block: int | None, jurisdiction: str | None, limit: int
) -> tuple[list[Holding], set[int], set[int]]:
    holdings: list[Holding] = []
    counts, totals = set(), set()
    offset = 0
    while True:
        page = model.register_page(security, block=block, jurisdiction=jurisdiction, offset=offset, limit=limit)
        counts.add(page.count)
        totals.add(page.total)
        holdings.extend(page.holdings)
        assert len(page.holdings) <= limit
        if len(page.holdings) < limit:
            return holdings, counts, totals
        offset += limit


def _check(model: ReadModel, security: str, block: int | None) -> None:
    register = model.register(security, block=block)
    for jurisdiction in (None, "GB", "US"):
        expected = _expected(model, security, block, jurisdiction)
        for limit in (4, 100):
            holdings, counts, totals = _paged(model, security, block, jurisdiction, limit)
            assert holdings == expected, (block, jurisdiction, limit)
            assert counts == {len(expected)}
            assert totals == {register.total}
        page = model.register_page(security, block=block, jurisdiction=jurisdiction, offset=len(expected) + 5)
        assert page.holdings == ()
        assert page.block == register.block
        breakdown = model.holder_breakdown(security, block=block, jurisdiction=jurisdiction)
        assert breakdown.total == register.total
        assert breakdown.block == register.block
        assert [(g.jurisdiction, g.category, g.holders, g.balance) for g in breakdown.groups] == _groups(expected)


def _groups(holdings: list[Holding]) -> list[tuple[str | None, str | None, int, int]]:
    """(jurisdiction, category, investors, balance) computed from the positions, sorted."""
    holders: dict[tuple[str | None, str | None], set[str]] = {}
    balances: dict[tuple[str | None, str | None], int] = {}
    for h in holdings:
        pair = (h.jurisdiction, h.category)
        holders.setdefault(pair, set()).add(h.investor or h.wallet)
        balances[pair] = balances.get(pair, 0) + h.balance
    return sorted(
        ((j, c, len(holders[(j, c)]), balances[(j, c)]) for j, c in holders), key=lambda g: (g[0] or "", g[1] or "")
    )


def test_pages_of_the_indexed_history(history: History, indexed: tuple[ReadModel, Indexer]) -> None:
    model, _ = indexed
    # every block where something in the history happened, and the blocks either side
    changes = sorted({r.block_number + d for r in history.receipts.values() for d in (-1, 0)} | {history.head})
    for block in [None, *changes]:
        _check(model, history.symbol, block)
    page = model.register_page(history.symbol)
    assert page.timestamp == history.chain.block_timestamp(page.block)


def _address(n: int) -> str:
    return str(to_checksum_address(f"0x{n:040x}"))


def test_pages_with_ties_unregistered_wallets_moves_and_freezes(model: ReadModel) -> None:
    """Synthetic rows: equal balances (the wallet breaks the tie), wallets the registry does not know,
    an investor who moves from GB to US at block 6, freezes and unfreezes."""
    token = _address(2)
    with model.session() as session:
        contract = ContractRow(address=token, kind="token", symbol="TIE", name="Ties", decimals=0, indexed_to=10)
        session.add(contract)
        session.flush()
        contract_id = contract.id
    with model.session() as session:
        session.execute(
            insert(BlockRow), [{"number": n, "timestamp": 1_000 + n, "hash": f"0x{n:064x}"} for n in range(11)]
        )
        investors, versions, wallets, periods, freezes = [], [], [], [], []
        for i in range(40):
            identity = _address(0x1000 + i)
            jurisdiction = Jurisdiction.GB if i % 3 else Jurisdiction.US
            category = InvestorCategory.UK_PROFESSIONAL if jurisdiction is Jurisdiction.GB else InvestorCategory.US_QIB
            investors.append(
                {
                    "identity": identity,
                    "registry_address": _address(1),
                    "jurisdiction": int(jurisdiction),
                    "category": int(category),
                    "status": 1,
                    "kyc_valid_until": 10**10,
                    "registered_block": 1,
                }
            )
            base = {"identity": identity, "status": 1, "kyc_valid_until": 10**10, "tx_index": 0, "log_index": i}
            versions.append({**base, "jurisdiction": int(jurisdiction), "category": int(category), "block_number": 1})
            wallets.append({"wallet": identity, "identity": identity, "block_number": 1})
        # investor 1 moves to the US at block 6 (its current record says US)
        investors[1]["jurisdiction"], investors[1]["category"] = int(Jurisdiction.US), int(InvestorCategory.US_QIB)
        versions.append(
            {
                "identity": _address(0x1001),
                "status": 1,
                "kyc_valid_until": 10**10,
                "tx_index": 0,
                "log_index": 0,
                "jurisdiction": int(Jurisdiction.US),
                "category": int(InvestorCategory.US_QIB),
                "block_number": 6,
            }
        )
        holders = [(_address(0x1000 + i), _address(0x1000 + i)) for i in range(40)]
        holders += [(_address(0x9000 + i), None) for i in range(5)]  # unregistered
        for n, (wallet, identity) in enumerate(holders):
            # balances 10, 20, 30 repeat: many ties; a change at block 4 for every fourth wallet; two
            # balances near 2**255, whose sum only an exact (not 64-bit) sum gets right
            first = 10 * (1 + n % 3) if n not in (10, 11) else 2**255 - n
            if n % 4 == 0:
                periods.append(_period(contract_id, wallet, identity, 2, 4, first))
                periods.append(_period(contract_id, wallet, identity, 4, None, first + 5))
            else:
                periods.append(_period(contract_id, wallet, identity, 2 + n % 2, None, first))
        for n, (block, frozen) in enumerate([(3, True), (7, False)]):
            freezes.append(
                {
                    "contract_id": contract_id,
                    "wallet": holders[5][0],
                    "block_number": block,
                    "tx_index": 0,
                    "log_index": n,
                    "frozen": frozen,
                    "actor": _address(7),
                }
            )
        freezes.append(
            {
                "contract_id": contract_id,
                "wallet": holders[8][0],
                "block_number": 5,
                "tx_index": 0,
                "log_index": 0,
                "frozen": True,
                "actor": _address(7),
            }
        )
        session.execute(insert(InvestorRow), investors)
        session.execute(insert(InvestorVersion), versions)
        session.execute(insert(WalletRow), wallets)
        session.execute(insert(BalancePeriod), periods)
        session.execute(insert(FreezeChange), freezes)
    for block in (None, 2, 3, 4, 6, 7):
        _check(model, "TIE", block)
    now = model.register_page("TIE", limit=200)
    assert len({h.balance for h in now.holdings}) < len(now.holdings)  # ties were there to break
    assert now.timestamp == 1_010
    with pytest.raises(ReadModelError):
        model.register_page("TIE", jurisdiction="FR")
    with pytest.raises(ReadModelError):
        model.register_page("TIE", limit=0)


def _period(
    contract_id: int, wallet: str, identity: str | None, start: int, end: int | None, balance: int
) -> dict[str, object]:
    return {
        "contract_id": contract_id,
        "wallet": wallet,
        "from_block": start,
        "to_block": end,
        "balance": balance,
        "investor": identity,
    }
