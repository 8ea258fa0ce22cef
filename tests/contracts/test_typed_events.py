"""Facades return typed events (`sandbox.contracts.events`) and typed results; `name`/`args` still work."""

from __future__ import annotations

from dataclasses import asdict, replace

from eth_utils import keccak

from sandbox.abi import Artifact
from sandbox.chain.base import Log
from sandbox.contracts import ContractEvent, GenericEvent, Terms, decode_event
from sandbox.contracts.base import _Abi
from sandbox.contracts.events import (
    EVENT_TYPES,
    CrossBorderTransferRequested,
    TermsSet,
    TokensFrozen,
    Transfer,
)
from sandbox.contracts.events import Terms as TermsStruct
from sandbox.contracts.security_token import CrossBorderStatus, CrossBorderTransfer, LockedTokens
from sandbox.rules import Jurisdiction as Jur
from tests.contracts.conftest import DAY, World

ZERO = "0x0000000000000000000000000000000000000000"


def test_mint_emits_typed_transfer_with_log_metadata(w: World) -> None:
    t, uk3 = w.token, w.w["uk3"]
    receipt = t.mint(uk3, 250, sender=w.issuer)
    (transfer,) = t.events(receipt, Transfer)
    assert isinstance(transfer, Transfer) and isinstance(transfer, ContractEvent)
    assert (transfer.from_, transfer.to, transfer.value) == (ZERO, uk3, 250)
    assert transfer.address == t.address and transfer.transaction_hash == receipt.transaction_hash
    assert transfer.block_number == receipt.block_number
    assert transfer.log_index in [log.log_index for log in receipt.logs]
    # the former untyped shape is still there
    assert transfer.name == "Transfer" and transfer.args == {"from": ZERO, "to": uk3, "value": 250}
    assert t.events(receipt, "Transfer") == [transfer]
    everything = t.events(receipt)
    assert transfer in everything and not any(isinstance(e, GenericEvent) for e in everything)
    assert all(type(e) in EVENT_TYPES for e in everything)
    assert t.events(receipt, TokensFrozen) == []


def test_terms_set_carries_the_struct(w: World) -> None:
    t = w.token
    strict = replace(t.terms(), max_holders=10, cross_border_window=60 * DAY)
    receipt = t.set_terms(strict, sender=w.issuer)
    (event,) = t.events(receipt, TermsSet)
    assert isinstance(event.terms, TermsStruct)
    assert event.terms.max_holders == 10 and event.actor == w.issuer
    assert Terms(**asdict(event.terms)) == strict == t.terms()  # the struct's fields are the facade's


def test_cross_border_request_is_typed_end_to_end(w: World) -> None:
    t, uk1, us = w.token, w.w["uk1"], w.w["us_acc"]
    w.set_terms(cross_border_threshold=500)
    receipt = t.request_cross_border_transfer(us, 600, sender=uk1)
    (event,) = t.events(receipt, CrossBorderTransferRequested)
    assert (event.from_, event.to, event.value) == (uk1, us, 600)
    assert (event.from_jurisdiction, event.to_jurisdiction) == (Jur.GB, Jur.US)
    state = t.cross_border_transfer(event.id)
    assert state == CrossBorderTransfer(
        from_=uk1,
        to=us,
        value=600,
        status=CrossBorderStatus.PENDING,
        deadline=event.deadline,
        from_approved=False,
        to_approved=False,
    )
    assert t.locked_tokens(uk1) == LockedTokens(locked=0, next_unlock_at=0)


def test_an_event_the_generated_module_lacks_decodes_generically() -> None:
    """Between a contract change and `python -m sandbox.codegen`, new events still decode (untyped)."""
    item = {
        "type": "event",
        "name": "RecordDateSet",
        "anonymous": False,
        "inputs": [
            {"name": "recordId", "type": "uint256", "indexed": True},
            {"name": "holder", "type": "address", "indexed": False},
        ],
    }
    abi = _Abi(Artifact("Future", [item], "0x", "0x", "0", "0"))
    topic = keccak(text="RecordDateSet(uint256,address)")
    holder = "0x" + "c3" * 20
    log = Log("0x" + "01" * 20, (topic, (7).to_bytes(32, "big")), bytes(12) + bytes.fromhex(holder[2:]), 5, "0x", 0)
    assert decode_event(log) is None
    event = abi.decode_log(log)
    assert isinstance(event, GenericEvent)
    assert event.name == "RecordDateSet" and event.args["recordId"] == 7
    assert event.args["holder"].lower() == holder and event.args["holder"] != holder  # checksummed
    assert abi.decode_log(replace(log, topics=(topic,))) is None  # wrong indexed layout: not this event
