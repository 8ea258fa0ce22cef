"""The one rules table (`sandbox.rules`): every custom error of every compiled contract has exactly one
entry, and every family's codes and sentences agree with the Solidity file that states them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sandbox.errors import ContractNotDeployed, ContractReverted, SandboxError
from sandbox.rules import (
    CUSTOM_ERRORS,
    RULEBOOK,
    RULEBOOK_BY_CODE,
    Family,
    Refusal,
    code_name,
    refusal_of,
    rules_of,
)

ROOT = Path(__file__).parents[1]
ARTIFACTS = ROOT / "sandbox" / "artifacts"


def _abi_errors() -> dict[str, set[str]]:
    """Every custom error of every artifact → the contracts that declare it."""
    found: dict[str, set[str]] = {}
    for artifact in sorted(ARTIFACTS.glob("*.json")):
        for item in json.loads(artifact.read_text()).get("abi", []):
            if item.get("type") == "error":
                found.setdefault(item["name"], set()).add(artifact.stem)
    return found


def test_every_custom_error_of_every_abi_has_exactly_one_entry() -> None:
    declared = _abi_errors()
    assert len(declared) > 100  # the artifacts were read
    missing = sorted(set(declared) - set(CUSTOM_ERRORS))
    assert missing == [], f"custom errors with no entry in sandbox/rules.py: {missing}"
    stale = sorted(set(CUSTOM_ERRORS) - set(declared))
    assert stale == [], f"entries in sandbox/rules.py for errors no contract declares: {stale}"
    # Exactly one entry: the errors a rule names are not listed again outside the rulebook.
    named_by_rules = [e for r in RULEBOOK for e in r.errors]
    assert len(named_by_rules) == len(set(named_by_rules))
    assert all(CUSTOM_ERRORS[e].rule is not None for e in named_by_rules)


def test_codes_do_not_overlap_across_families_and_sit_in_their_ranges() -> None:
    assert len(RULEBOOK_BY_CODE) == len(RULEBOOK)
    ranges = {
        Family.TOKEN: range(0x10, 0x80),
        Family.CASH: range(0x80, 0xA0),
        Family.SETTLEMENT: range(0xA0, 0xB0),
        Family.PAYMENT: range(0xB0, 0xC0),
    }
    assert [r.name for r in RULEBOOK if r.code not in ranges[r.family]] == []
    assert len({r.name for r in RULEBOOK}) == len(RULEBOOK)


@pytest.mark.parametrize("family", list(Family))
def test_each_family_matches_the_solidity_that_states_it(family: Family) -> None:
    source = (ROOT / family.value).read_text()
    constants = {
        int(value, 16): name
        for name, value in re.findall(r"uint8 internal constant (\w+) = (0x[0-9a-fA-F]+|0);", source)
        if name != "SUCCESS"
    }
    prefix = {Family.CASH: "CASH_", Family.PAYMENT: "PAYMENT_"}.get(family, "")
    assert {code: prefix + name for code, name in constants.items()} == {r.code: r.name for r in rules_of(family)}
    if family in (Family.SETTLEMENT, Family.PAYMENT):
        # No contract function states these sentences (internal libraries): the table carries them.
        on_chain = dict(re.findall(r'"(?:DVP_)?([A-Z_]+): ([^"]+)"', re.sub(r'"\s*\)\s*;', '");', source)))
        assert {r.name: r.sentence for r in rules_of(family)} == {r.name: on_chain[r.name] for r in rules_of(family)}
    else:
        assert all(r.sentence is None for r in rules_of(family))  # stated on chain


def test_code_names_cover_every_family() -> None:
    assert code_name(0) == "SUCCESS"
    assert code_name(0x11) == "SENDER_FROZEN"
    assert code_name(0x90) == "CASH_INDIVIDUAL_HOLDING_LIMIT"
    assert code_name(0xA2) == "SELLER_BALANCE"
    assert code_name(0xB1) == "PAYMENT_SECURITY_WALLET_FROZEN"
    assert code_name(0xFE) == "UNKNOWN_0xfe"


@pytest.mark.parametrize(
    ("error", "refusal", "status"),
    [
        ("NotRegulator", Refusal.FORBIDDEN, 403),
        ("RegistryOutsideAgentRemit", Refusal.FORBIDDEN, 403),
        ("DvPUnknownTrade", Refusal.NOT_FOUND, 404),
        ("LockupActive", Refusal.CONFLICT, 409),
        ("CashBusinessHoldingLimitExceeded", Refusal.CONFLICT, 409),
        ("DvPZeroAmount", Refusal.INVALID, 422),
        ("Error", Refusal.CONFLICT, 409),  # a string revert
        (None, Refusal.CONFLICT, 409),  # revert data matching no known error
    ],
)
def test_a_revert_carries_the_status_of_its_entry(error: str | None, refusal: Refusal, status: int) -> None:
    exc = ContractReverted(error, {}, b"")
    assert refusal_of(error) is refusal
    assert exc.refusal is refusal and exc.refusal.status == status


def test_library_errors_carry_code_title_and_status() -> None:
    plain = SandboxError("something")
    assert (plain.refusal.status, plain.code, plain.detail) == (409, "SANDBOX_ERROR", "something")
    absent = ContractNotDeployed("0x" + "00" * 20, 7)
    assert (absent.refusal.status, absent.code) == (404, "NOT_DEPLOYED_AT_BLOCK")
    reverted = ContractReverted("ReceiverNotRegistered", {"wallet": "0xabc", "big": 2**60}, b"", rule_name="X")
    assert reverted.code == "X"
    assert reverted.details()["arguments"] == {"wallet": "0xabc", "big": str(2**60)}
    assert ContractReverted("NotRegulator", {}, b"").code == "NOT_REGULATOR"
