"""Assertions shared by the contract tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.errors import ContractReverted
from sandbox.rules import RULES_BY_NAME


def reverts(action: Callable[[], Any], error: str, **args: Any) -> ContractReverted:
    """Runs `action`, asserts it reverts with custom error `error` (and the given arguments)."""
    with pytest.raises(ContractReverted) as info:
        action()
    exc = info.value
    assert exc.error_name == error, f"expected {error}, got {exc}"
    for key, value in args.items():
        assert exc.args_by_name[key] == value, f"{key}: {exc.args_by_name[key]!r} != {value!r}"
    return exc


def refused(token: Any, sender: str, to: str, amount: int, rule: str, error: str, /, **args: Any) -> None:
    """The view pre-check names `rule`, and the transfer reverts with `error` carrying that rule's code."""
    code = RULES_BY_NAME[rule].code
    value = amount
    assert token.detect_transfer_restriction(sender, to, value) == code
    assert not token.can_transfer(sender, to, value)
    exc = reverts(lambda: token.transfer(to, value, sender=sender), error, **args)
    assert exc.rule_code == code
    assert exc.rule_name == rule
    assert exc.rule_message is not None and exc.rule_message.startswith(rule + ":")


def allowed(token: Any, sender: str, to: str, value: int, *, view: bool = True) -> None:
    """The transfer goes through (and, with `view`, the pre-check said so at the latest block; a
    transaction runs one second later, so time-boundary tests check the view separately)."""
    if view:
        assert token.detect_transfer_restriction(sender, to, value) == 0
        assert token.can_transfer(sender, to, value)
    before = token.balance_of(to)
    token.transfer(to, value, sender=sender)
    assert token.balance_of(to) == before + value
