"""eth_getLogs from the log index (issue 12): each block is read from the chain once per process, a
whole-chain query re-reads nothing, and a dev revert takes the reverted logs out of the answers."""

from __future__ import annotations

from typing import Any

from sandbox.chain.base import Log
from sandbox.chain.embedded import EmbeddedChain
from sandbox.market import load_scenario
from sandbox.scenario import Scenario
from sandbox_gateway.rpc_server import RpcHandler, to_wire


class CountingChain(EmbeddedChain):
    """The embedded chain, recording every block range `get_logs` was asked for."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reads: list[tuple[int, int]] = []

    def get_logs(self, from_block: int, to_block: int, addresses: Any = None) -> list[Log]:
        self.reads.append((from_block, to_block))
        return super().get_logs(from_block, to_block, addresses)


def _get_logs(handler: RpcHandler, spec: dict[str, Any]) -> Any:
    reply = handler.handle_one({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [spec]})
    assert reply is not None
    return reply.get("result", reply.get("error"))


def _tester_logs(chain: EmbeddedChain, spec: Any) -> list[dict[str, Any]]:
    with chain._read_guard():
        logs = chain.w3.eth.get_logs(spec)
    return [{k: v for k, v in to_wire(dict(log)).items() if k != "type"} | {"removed": False} for log in logs]


def test_whole_chain_get_logs_reads_each_block_once(demo: Scenario) -> None:
    """Before: every whole-chain eth_getLogs scanned every block again under the chain's lock (23-90 s
    on a long chain). Now the second query reads no block, and the third only the block mined since."""
    chain = CountingChain(num_accounts=20)
    market = load_scenario(chain, demo)
    head = chain.block_number()
    handler = RpcHandler(chain)
    everything = {"fromBlock": "earliest", "toBlock": "latest"}

    first = _get_logs(handler, everything)
    assert first == _tester_logs(chain, {"fromBlock": 0, "toBlock": head})
    assert len(first) > 50
    assert chain.reads and chain.reads[0][0] == 0 and chain.reads[-1][1] == head
    chain.reads.clear()

    assert _get_logs(handler, everything) == first
    assert chain.reads == []  # answered from the index alone

    receipt = market.security("THAMES28").transfer(market.accounts["bob"], 3, sender=market.accounts["alice"])
    third = _get_logs(handler, everything)
    assert chain.reads == [(head + 1, receipt.block_number)]
    assert third[: len(first)] == first
    assert [log["transactionHash"] for log in third[len(first) :]] == [receipt.transaction_hash]
    assert third == _tester_logs(chain, {"fromBlock": 0, "toBlock": receipt.block_number})


def test_a_dev_revert_takes_its_logs_out_of_the_index(demo: Scenario) -> None:
    chain = EmbeddedChain(num_accounts=20)
    market = load_scenario(chain, demo)
    token = market.security("THAMES28")
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    handler = RpcHandler(chain)
    snapshot = chain.snapshot()
    head = chain.block_number()
    undone = token.transfer(bob, 5, sender=alice)
    spec = {"fromBlock": hex(head + 1), "toBlock": hex(head + 1), "address": token.address}
    assert [log["transactionHash"] for log in _get_logs(handler, spec)] == [undone.transaction_hash]

    chain.revert(snapshot)
    assert _get_logs(handler, spec) == []
    kept = token.transfer(bob, 7, sender=alice)
    assert kept.block_number == undone.block_number  # the same height, another block
    found = _get_logs(handler, spec)
    assert [log["transactionHash"] for log in found] == [kept.transaction_hash]
    assert found == _tester_logs(chain, {"fromBlock": head + 1, "toBlock": kept.block_number, "address": token.address})
