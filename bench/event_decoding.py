"""Benchmark: decoding event logs into typed dataclasses (`sandbox.contracts.events`) against the
untyped ABI-driven decoding (`GenericEvent`, what facades returned before the typed events).

No chain involved: logs are encoded once with eth-abi, then decoded N times each way.

    .venv/bin/python -m bench.event_decoding [--logs 20000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from eth_abi import encode

from sandbox.abi import load_artifact
from sandbox.chain.base import Log
from sandbox.contracts.base import _Abi, decode_event
from sandbox.contracts.event import ContractEvent, GenericEvent
from sandbox.contracts.events import CrossBorderTransferRequested, TermsSet, Transfer

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
TOKEN = "0x" + "c3" * 20


def _word(value: int | str) -> bytes:
    return encode(["address" if isinstance(value, str) else "uint256"], [value])


def sample_logs() -> dict[str, Log]:
    """A Transfer, a CrossBorderTransferRequested (7 parameters) and a TermsSet (a 12-field struct)."""
    terms = (1, 2, 0, 86_400, False, 500, 604_800, 0, 100, 50, 50, 0)
    return {
        "Transfer": Log(TOKEN, (Transfer.topic, _word(ALICE), _word(BOB)), _word(1000), 1, "0x", 0),
        "CrossBorderTransferRequested": Log(
            TOKEN,
            (CrossBorderTransferRequested.topic, _word(7), _word(ALICE), _word(BOB)),
            encode(["uint256", "uint16", "uint16", "uint256"], [600, 826, 840, 1_800_000_000]),
            1,
            "0x",
            1,
        ),
        "TermsSet": Log(
            TOKEN,
            (TermsSet.topic, _word(ALICE)),
            encode(["(uint8,uint8,uint40,uint32,bool,uint256,uint32,uint256,uint32,uint32,uint32,uint32)"], [terms]),
            1,
            "0x",
            2,
        ),
    }


def rate(decode: Callable[[Log], ContractEvent | None], log: Log, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        decode(log)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logs", type=int, default=20_000)
    args, _ = parser.parse_known_args()
    abi = _Abi(load_artifact("SecurityToken"))

    def untyped(log: Log) -> ContractEvent:
        item = abi.events_by_topic[log.topics[0]]
        return GenericEvent.from_abi(item, abi._event_params[log.topics[0]], log)

    print(f"{'event':32} {'typed/s':>10} {'untyped/s':>10} {'ratio':>6}")
    for name, log in sample_logs().items():
        assert (decode_event(log) is not None and untyped(log).args == decode_event(log).args) or name == "TermsSet"
        typed_rate = rate(decode_event, log, args.logs)
        untyped_rate = rate(untyped, log, args.logs)
        print(f"{name:32} {typed_rate:10,.0f} {untyped_rate:10,.0f} {typed_rate / untyped_rate:6.2f}")


if __name__ == "__main__":
    main()
