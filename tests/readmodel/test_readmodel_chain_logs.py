"""The embedded chain reads logs from py-evm's receipts, block by block, instead of eth-tester's
hash lookups (whose cost grows with history); it must give exactly what the web3.py path gives."""

from __future__ import annotations

from readmodel_support import History

from sandbox.chain.web3chain import Web3Chain


def test_embedded_get_logs_matches_the_web3_path(history: History) -> None:
    chain = history.chain
    head = history.head
    ranges = [(0, head), (0, 0), (3, 9), (history.receipts["freeze"].block_number, head)]
    filters = [None, [history.token.address], [history.market.registry.address], history.contracts()]
    for start, end in ranges:
        for addresses in filters:
            ours = chain.get_logs(start, end, addresses)
            theirs = Web3Chain.get_logs(chain, start, end, addresses)
            assert ours == theirs, (start, end, addresses)
    everything = chain.get_logs(0, head)
    assert len(everything) > 20
    # a receipt returned when the transaction was sent names the same logs
    freeze = history.receipts["freeze"]
    assert [log for log in everything if log.transaction_hash == freeze.transaction_hash] == list(freeze.logs)
    assert chain.get_logs(head + 1, head + 10) == []
