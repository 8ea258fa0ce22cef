"""debug_traceTransaction with the callTracer (issue 12): the call tree of a transfer, and for a refused
one the refusing rule's custom error decoded (name, arguments, the rule and the token's own sentence),
on the revm engine (the default; re-executed with py-evm on its world at the parent block), on the
embedded chain (re-executed with py-evm) and on anvil (its own tracer), with the same tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak, to_checksum_address

from sandbox.chain import NodeChain, RpcChain
from sandbox.chain.anvil import AnvilNode
from sandbox.chain.base import Chain
from sandbox.chain.embedded import DEFAULT_ACCOUNT_BALANCE, DEFAULT_GENESIS_TIMESTAMP, GENESIS_GAS_LIMIT, EmbeddedChain
from sandbox.chain.revm_engine import RevmChain
from sandbox.chain.web3chain import Web3Chain
from sandbox.errors import ContractReverted
from sandbox.market import Market, load_scenario
from sandbox.rules import RULES_BY_NAME
from sandbox.scenario import Scenario
from sandbox_gateway.rpc_server import RpcHandler

STRANGER = to_checksum_address(keccak(b"a wallet no registry knows")[-20:])


def _trace(chain: NodeChain, tx_hash: str, options: Any = None) -> dict[str, Any]:
    params: list[Any] = [tx_hash, {"tracer": "callTracer"} if options is None else options]
    reply = RpcHandler(chain).handle_one(
        {"jsonrpc": "2.0", "id": 1, "method": "debug_traceTransaction", "params": params}
    )
    assert reply is not None
    return reply


def _refused_transfer(market: Market) -> str:
    with pytest.raises(ContractReverted) as refused:
        market.security("THAMES28").transfer(STRANGER, 1, sender=market.accounts["alice"])
    assert refused.value.tx_hash is not None
    return refused.value.tx_hash


def _receipt_gas(chain: Chain, tx_hash: str) -> int:
    return int(chain.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])  # type: ignore[arg-type]


ENGINES = pytest.mark.parametrize("engine", [RevmChain, EmbeddedChain], ids=["revm", "py-evm"])


@ENGINES
def test_a_refused_transfer_is_traced_with_its_rule(demo: Scenario, engine: type[Web3Chain]) -> None:
    chain = engine(num_accounts=20)  # type: ignore[call-arg]
    market = load_scenario(chain, demo)
    token = market.security("THAMES28")
    alice = market.accounts["alice"]
    tx_hash = _refused_transfer(market)

    trace = _trace(chain, tx_hash)["result"]
    rule = RULES_BY_NAME["RECEIVER_NOT_REGISTERED"]
    selector = keccak(text="ReceiverNotRegistered(address)")[:4]
    assert trace["type"] == "CALL"
    assert (trace["from"], trace["to"], trace["value"]) == (alice, token.address, "0x0")
    assert (
        trace["input"]
        == "0x"
        + (keccak(text="transfer(address,uint256)")[:4] + bytes(12)).hex()
        + STRANGER[2:].lower()
        + (1).to_bytes(32, "big").hex()
    )
    assert trace["error"] == "execution reverted"
    assert trace["output"] == "0x" + (selector + bytes(12)).hex() + STRANGER[2:].lower()
    assert int(trace["gasUsed"], 16) == _receipt_gas(chain, tx_hash)
    assert trace["revertError"] == {
        "name": "ReceiverNotRegistered",
        "args": {"wallet": STRANGER},
        "rule": {"code": rule.code, "name": rule.name, "message": token.rule_message(rule.code)},
    }
    # The token asked the registry (a static call) before refusing.
    assert [(c["type"], c["to"]) for c in trace["calls"]] == [("STATICCALL", market.registry.address)]
    assert "error" not in trace["calls"][0] and int(trace["calls"][0]["gasUsed"], 16) > 0

    top_only = _trace(chain, tx_hash, {"tracer": "callTracer", "tracerConfig": {"onlyTopCall": True}})["result"]
    assert "calls" not in top_only and top_only["revertError"] == trace["revertError"]


@ENGINES
def test_a_transfer_that_went_through_and_bad_requests(demo: Scenario, engine: type[Web3Chain]) -> None:
    chain = engine(num_accounts=20)  # type: ignore[call-arg]
    market = load_scenario(chain, demo)
    receipt = market.security("THAMES28").transfer(market.accounts["bob"], 4, sender=market.accounts["alice"])
    trace = _trace(chain, receipt.transaction_hash)["result"]
    assert "error" not in trace and "revertError" not in trace
    assert int(trace["gasUsed"], 16) == receipt.gas_used
    assert trace["output"] == "0x" + (1).to_bytes(32, "big").hex()  # transfer returned true
    assert trace["calls"] and all("error" not in c for c in trace["calls"])

    assert _trace(chain, "0x" + "12" * 32)["error"] == {"code": -32000, "message": "transaction not found"}
    unsupported = _trace(chain, receipt.transaction_hash, {})["error"]
    assert unsupported["code"] == -32602 and "callTracer" in unsupported["message"]


def _shape(frame: dict[str, Any], *, top: bool = True) -> dict[str, Any]:
    """A frame as both chains must trace it: addresses in lower case (anvil's spelling), without the
    transaction's gas limit (each sender estimated its own) and without what inner calls return (the
    registry's answer carries KYC expiry times, which follow each chain's clock)."""
    dropped = {"gas", "calls", "revertError"} | (set() if top else {"output"})
    out: dict[str, Any] = {
        k: (v.lower() if isinstance(v, str) and v.startswith("0x") else v) for k, v in frame.items() if k not in dropped
    }
    out["calls"] = [_shape(c, top=False) for c in frame.get("calls", [])]
    return out


@pytest.mark.node
@ENGINES
def test_the_tree_is_the_one_anvil_traces(demo: Scenario, node_tools: Path, engine: type[Web3Chain]) -> None:
    embedded = engine(num_accounts=20)  # type: ignore[call-arg]
    args = ("--gas-limit", str(GENESIS_GAS_LIMIT), "--timestamp", str(DEFAULT_GENESIS_TIMESTAMP))
    args += ("--balance", str(DEFAULT_ACCOUNT_BALANCE // 10**18))
    with AnvilNode(accounts=20, chain_id=embedded.chain_id, extra_args=args) as node:
        anvil = RpcChain(node.url, num_accounts=20)
        traces = []
        for chain in (embedded, anvil):
            market = load_scenario(chain, demo)
            refused = _refused_transfer(market)
            went = market.security("THAMES28").transfer(market.accounts["bob"], 4, sender=market.accounts["alice"])
            traces.append((_trace(chain, refused)["result"], _trace(chain, went.transaction_hash)["result"]))
        (ours_refused, ours_went), (anvils_refused, anvils_went) = traces
        assert _shape(ours_refused) == _shape(anvils_refused)
        assert _shape(ours_went) == _shape(anvils_went)
        # Through the endpoint, anvil's tree gets the same decoded rule as ours.
        assert anvils_refused["revertError"] == ours_refused["revertError"]
        assert int(anvils_refused["gasUsed"], 16) == _receipt_gas(anvil, refused)
