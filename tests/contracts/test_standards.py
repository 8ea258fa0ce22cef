"""The ABI against the ERC-3643 and ERC-7943 function sets, ERC-165, and the rulebook table against the
contracts, code by code."""

from __future__ import annotations

import re
from functools import reduce
from pathlib import Path

from eth_utils import event_signature_to_log_topic, function_signature_to_4byte_selector

from sandbox.abi import canonical_signature, load_artifact
from sandbox.rules import RULES, RULES_BY_CODE
from tests.contracts.conftest import World

ERC3643_FUNCTIONS = """
setName(string) setSymbol(string) setOnchainID(address) onchainID() version()
setIdentityRegistry(address) identityRegistry() setCompliance(address) compliance()
pause() unpause() paused() setAddressFrozen(address,bool) isFrozen(address)
freezePartialTokens(address,uint256) unfreezePartialTokens(address,uint256) getFrozenTokens(address)
mint(address,uint256) burn(address,uint256) forcedTransfer(address,address,uint256)
recoveryAddress(address,address,address) batchTransfer(address[],uint256[])
batchForcedTransfer(address[],address[],uint256[]) batchMint(address[],uint256[])
batchBurn(address[],uint256[]) batchSetAddressFrozen(address[],bool[])
batchFreezePartialTokens(address[],uint256[]) batchUnfreezePartialTokens(address[],uint256[])
transfer(address,uint256) transferFrom(address,address,uint256) approve(address,uint256)
allowance(address,address) balanceOf(address) totalSupply() name() symbol() decimals()
""".split()  # noqa: SIM905 - reads like the standard's listing

ERC3643_EVENTS = [
    "UpdatedTokenInformation(string,string,uint8,string,address)",
    "IdentityRegistryAdded(address)",
    "ComplianceAdded(address)",
    "RecoverySuccess(address,address,address)",
    "AddressFrozen(address,bool,address)",
    "TokensFrozen(address,uint256)",
    "TokensUnfrozen(address,uint256)",
    "Paused(address)",
    "Unpaused(address)",
]

ERC7943_FUNCTIONS = [
    "forcedTransfer(address,address,uint256)",
    "setFrozenTokens(address,uint256)",
    "canSend(address)",
    "canReceive(address)",
    "getFrozenTokens(address)",
    "canTransfer(address,address,uint256)",
]
ERC7943_EVENTS = ["ForcedTransfer(address,address,uint256)", "Frozen(address,uint256)"]
ERC7943_ERRORS = [
    "ERC7943CannotSend(address)",
    "ERC7943CannotReceive(address)",
    "ERC7943CannotTransfer(address,address,uint256)",
    "ERC7943InsufficientUnfrozenBalance(address,uint256,uint256)",
]
ERC1404_FUNCTIONS = ["detectTransferRestriction(address,address,uint256)", "messageForTransferRestriction(uint8)"]


def _selectors(kind: str) -> set[bytes]:
    abi = load_artifact("SecurityToken").abi
    return {function_signature_to_4byte_selector(canonical_signature(i)) for i in abi if i.get("type") == kind}


def test_abi_has_every_erc3643_erc7943_erc1404_function_selector() -> None:
    have = _selectors("function")
    wanted = ERC3643_FUNCTIONS + ERC7943_FUNCTIONS + ERC1404_FUNCTIONS + ["supportsInterface(bytes4)"]
    missing = [s for s in wanted if function_signature_to_4byte_selector(s) not in have]
    assert missing == []


def test_abi_has_the_standards_events_and_errors() -> None:
    abi = load_artifact("SecurityToken").abi
    topics = {event_signature_to_log_topic(canonical_signature(i)) for i in abi if i.get("type") == "event"}
    missing = [e for e in ERC3643_EVENTS + ERC7943_EVENTS if event_signature_to_log_topic(e) not in topics]
    assert missing == []
    errors = _selectors("error")
    assert [e for e in ERC7943_ERRORS if function_signature_to_4byte_selector(e) not in errors] == []
    # indexed-ness matters for tooling: the ERC-3643 events index the same parameters
    by_name = {i["name"]: [p["indexed"] for p in i["inputs"]] for i in abi if i.get("type") == "event"}
    assert by_name["AddressFrozen"] == [True, True, True]
    assert by_name["UpdatedTokenInformation"] == [True, True, False, False, True]
    assert by_name["TokensFrozen"] == [True, False]


def test_erc165_reports_erc7943_fungible(w: World) -> None:
    interface_id = reduce(
        lambda a, b: bytes(x ^ y for x, y in zip(a, b, strict=True)),
        (function_signature_to_4byte_selector(s) for s in ERC7943_FUNCTIONS),
    )
    t = w.token
    assert t.supports_interface(interface_id)
    assert t.supports_interface(bytes.fromhex("01ffc9a7"))  # ERC-165
    assert t.supports_interface(bytes.fromhex("36372b07"))  # ERC-20
    assert not t.supports_interface(bytes.fromhex("ffffffff"))


def test_rule_table_matches_transfer_rules_code_by_code(w: World) -> None:
    source = (Path(__file__).parents[2] / "contracts/src/token/TransferRules.sol").read_text()
    on_chain = {
        int(value, 16): name
        for name, value in re.findall(r"uint8 internal constant (\w+) = (0x[0-9a-fA-F]+|0);", source)
        if name != "SUCCESS"
    }
    assert on_chain == {r.code: r.name for r in RULES}
    t = w.token
    # The offering rules are enforced by the security's `OfferingRegistry`.
    error_names = {
        i["name"]
        for artifact in ("SecurityToken", "OfferingRegistry")
        for i in load_artifact(artifact).abi
        if i.get("type") == "error"
    }
    for rule in RULES:
        message = t.message_for_transfer_restriction(rule.code)
        assert message.startswith(rule.name + ": "), message
        assert all(e in error_names for e in rule.errors)
        assert rule.erc1066 in (0x50, 0x52, 0x54, 0x55, 0x56, 0x57)
    assert t.message_for_transfer_restriction(0).startswith("SUCCESS")
    unknown = next(c for c in range(256) if c not in RULES_BY_CODE and c != 0)
    assert t.message_for_transfer_restriction(unknown).startswith("UNKNOWN")


def test_rule_sentences_cite_their_sources(w: World) -> None:
    t = w.token
    cites = {
        "LOCKUP_ACTIVE": "Rule 144(d)",
        "REG_S_DISTRIBUTION_COMPLIANCE": "Regulation S",
        "HOLDER_LIMIT": "12(g)",
        "NON_ACCREDITED_HOLDER_LIMIT": "12(g)(1)(A)",
        "NON_ACCREDITED_PURCHASER_LIMIT": "506(b)",
        "OFFERING_PURCHASER_NOT_ELIGIBLE": "506(c)",
        "CATEGORY_NOT_ADMITTED": "COBS 4.12A",
        "ISSUANCE_NOT_APPROVED": "Digital Securities Sandbox",
    }
    for name, source in cites.items():
        code = next(r.code for r in RULES if r.name == name)
        assert source in t.message_for_transfer_restriction(code)
