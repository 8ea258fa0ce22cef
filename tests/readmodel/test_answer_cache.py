"""The read model reuses a positions page or a holder breakdown only while the database state it was read
from is the same (`ReadModel.answers`): a new indexed range changes "now", a wallet linked after its
balances were indexed changes the past, a reset forgets everything; on SQLite and PostgreSQL."""

from __future__ import annotations

from eth_utils import to_checksum_address
from sqlalchemy import delete, insert, update

from sandbox.readmodel import Indexer, ReadModel
from sandbox.readmodel._schema import (
    BalancePeriod,
    BlockRow,
    ContractRow,
    EventRow,
    FreezeChange,
    InvestorRow,
    InvestorVersion,
    WalletRow,
)
from sandbox.rules import InvestorCategory, Jurisdiction
from tests.readmodel.readmodel_support import History

ALICE = str(to_checksum_address(f"0x{0xA11CE:040x}"))
BOB = str(to_checksum_address(f"0x{0xB0B:040x}"))
TOKEN = str(to_checksum_address(f"0x{0x70CE:040x}"))


def _synthetic(model: ReadModel, *, alice: int, bob: int, salt: int = 0) -> None:
    """Token SYN indexed to block 10: Alice (GB retail) and Bob (US accredited) hold from block 2."""
    with model.session() as session:
        contract = ContractRow(address=TOKEN, kind="token", symbol="SYN", name="Synthetic", decimals=0, indexed_to=10)
        session.add(contract)
        session.flush()
        contract_id = contract.id
        session.execute(
            insert(BlockRow),
            [{"number": n, "timestamp": 1_700_000_000 + n, "hash": f"0x{n + salt:064x}"} for n in range(11)],
        )
        for identity, jurisdiction, category in (
            (ALICE, Jurisdiction.GB, InvestorCategory.UK_RETAIL),
            (BOB, Jurisdiction.US, InvestorCategory.US_ACCREDITED),
        ):
            record = {
                "jurisdiction": int(jurisdiction),
                "category": int(category),
                "status": 1,
                "kyc_valid_until": 2**40,
            }
            session.execute(
                insert(InvestorRow),
                [{**record, "identity": identity, "registry_address": TOKEN, "registered_block": 1}],
            )
            session.execute(
                insert(InvestorVersion),
                [{**record, "identity": identity, "block_number": 1, "tx_index": 0, "log_index": 0}],
            )
            session.execute(insert(WalletRow), [{"wallet": identity, "identity": identity, "block_number": 1}])
        session.execute(
            insert(BalancePeriod),
            [
                {
                    "contract_id": contract_id,
                    "wallet": w,
                    "from_block": 2,
                    "to_block": None,
                    "balance": b,
                    "investor": w,
                }
                for w, b in ((ALICE, alice), (BOB, bob))
            ],
        )


def _balances(model: ReadModel, block: int | None = None) -> dict[str, int]:
    return {h.wallet: h.balance for h in model.register_page("SYN", block=block).holdings}


def test_a_now_answer_is_reused_until_the_next_indexed_range_then_reflects_it(model: ReadModel) -> None:
    _synthetic(model, alice=100, bob=50)
    first = model.register_page("SYN")
    assert {h.wallet: h.balance for h in first.holdings} == {ALICE: 100, BOB: 50}
    assert model.register_page("SYN") is first  # the same state: the same answer, reused
    groups = model.holder_breakdown("SYN", jurisdiction="GB")
    assert model.holder_breakdown("SYN", jurisdiction="GB") is groups
    assert [(g.jurisdiction, g.holders, g.balance) for g in groups.groups] == [("GB", 1, 100)]
    past = model.register_page("SYN", block=10)
    hits = model.answers.hits

    # The indexer's next range (block 11): Alice sends 30 to Bob, in one transaction with the cursor.
    with model.session() as session:
        contract_id = session.query(ContractRow.id).filter(ContractRow.symbol == "SYN").scalar()
        session.execute(insert(BlockRow), [{"number": 11, "timestamp": 1_700_000_011, "hash": f"0x{11:064x}"}])
        session.execute(update(BalancePeriod).where(BalancePeriod.to_block.is_(None)).values(to_block=11))
        session.execute(
            insert(BalancePeriod),
            [
                {
                    "contract_id": contract_id,
                    "wallet": w,
                    "from_block": 11,
                    "to_block": None,
                    "balance": b,
                    "investor": w,
                }
                for w, b in ((ALICE, 70), (BOB, 80))
            ],
        )
        session.execute(update(ContractRow).values(indexed_to=11))

    now = model.register_page("SYN")
    assert (now.block, now.timestamp) == (11, 1_700_000_011)
    assert [(h.wallet, h.balance) for h in now.holdings] == [(BOB, 80), (ALICE, 70)]
    assert [(g.jurisdiction, g.balance) for g in model.holder_breakdown("SYN", jurisdiction="GB").groups] == [
        ("GB", 70)
    ]
    # Block 10 has not changed: its answer is reused, and still right.
    assert model.register_page("SYN", block=10) is past
    assert _balances(model, 10) == {ALICE: 100, BOB: 50}
    assert model.answers.hits == hits + 2


def test_answers_equal_those_of_a_read_model_that_reuses_nothing(indexed: tuple[ReadModel, Indexer]) -> None:
    model, _ = indexed
    plain = ReadModel(model.url, answer_cache=0)
    try:
        head = model.last_indexed_block()
        assert head is not None
        for block in (None, head // 2, head - 1, head):
            for jurisdiction in (None, "GB", "US"):
                for _ in range(2):  # the second time from the cache
                    assert model.register_page(
                        "THAMES28", block=block, jurisdiction=jurisdiction, limit=3
                    ) == plain.register_page("THAMES28", block=block, jurisdiction=jurisdiction, limit=3)
                    assert model.holder_breakdown(
                        "THAMES28", block=block, jurisdiction=jurisdiction
                    ) == plain.holder_breakdown("THAMES28", block=block, jurisdiction=jurisdiction)
        assert model.answers.hits >= 24
        assert plain.answers.hits == plain.answers.misses == 0
    finally:
        plain.close()


def test_a_wallet_linked_after_its_balances_were_indexed_changes_the_past_answer(
    history: History, model: ReadModel
) -> None:
    """The token is indexed before the registry: its wallets are unregistered, as of every block, until
    the registry's `WalletAdded` events are indexed and fill in the investor of their earlier periods."""
    indexer = Indexer(history.chain, model, [history.token.address])
    indexer.sync()
    past = history.receipts["freeze"].block_number
    before = model.register_page(history.symbol, block=past)
    assert {h.investor for h in before.holdings} == {None}
    assert model.register_page(history.symbol, block=past) is before
    groups = model.holder_breakdown(history.symbol, block=past)
    assert [(g.jurisdiction, g.category) for g in groups.groups] == [(None, None)]

    indexer.add_contract(history.market.registry.address)
    # Not indexed for the registry yet: as of `past`, nothing is reused (what comes next may change it).
    assert model.register_page(history.symbol, block=past) == before
    indexer.sync()

    after = model.register_page(history.symbol, block=past)
    assert None not in {h.investor for h in after.holdings}
    assert {h.investor for h in after.holdings if h.wallet == history.second_wallet} == {
        next(iter(history.holders.values()))
    }
    assert None not in {g.jurisdiction for g in model.holder_breakdown(history.symbol, block=past).groups}


def test_a_reset_read_model_rebuilt_from_another_history_answers_from_it(model: ReadModel) -> None:
    _synthetic(model, alice=100, bob=50)
    assert _balances(model, 5) == {ALICE: 100, BOB: 50}
    assert _balances(model) == {ALICE: 100, BOB: 50}
    model.reset()  # as when the chain diverged from the read model (a dev revert)
    _synthetic(model, alice=7, bob=9, salt=1_000)  # the same block numbers, other blocks
    assert _balances(model, 5) == {ALICE: 7, BOB: 9}
    assert _balances(model) == {ALICE: 7, BOB: 9}


def test_a_read_model_that_reuses_nothing_keeps_nothing(model: ReadModel) -> None:
    plain = ReadModel(model.url, answer_cache=0)
    try:
        _synthetic(plain, alice=100, bob=50)
        assert plain.register_page("SYN", block=5) is not plain.register_page("SYN", block=5)
        assert plain.register_page("SYN", block=5) == model.register_page("SYN", block=5)
        assert (plain.answers.hits, plain.answers.misses) == (0, 0)
    finally:
        plain.close()


def test_a_reindex_that_fills_a_gap_is_seen_by_answers_reused_before_it(
    history: History, indexed: tuple[ReadModel, Indexer]
) -> None:
    """A damaged read model has lost the regulator's freeze (its event and its effect), below the cursors:
    `reindex` puts them back, and the page as of the freeze's block shows the wallet frozen again."""
    model, indexer = indexed
    frozen_at = history.receipts["freeze"].block_number

    def frozen() -> dict[str, bool]:
        page = model.register_page(history.symbol, block=frozen_at, limit=500)
        return {h.wallet: h.frozen for h in page.holdings}

    assert frozen()[history.frozen_wallet] is True
    with model.session() as session:
        session.execute(delete(FreezeChange))
        session.execute(delete(EventRow).where(EventRow.name == "AddressFrozen"))
    model.forget_answers()  # the damage itself moved no cursor either
    assert frozen()[history.frozen_wallet] is False
    assert frozen()[history.frozen_wallet] is False  # reused

    report = indexer.reindex(0, history.head)
    assert report.events >= 1
    assert frozen()[history.frozen_wallet] is True
