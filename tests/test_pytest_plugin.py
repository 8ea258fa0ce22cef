"""The plugin as a participant's suite sees it: the README's example, run by pytest itself."""

from __future__ import annotations

import pytest

EXAMPLE = """
import pytest
from sandbox.errors import ContractReverted

def test_freeze_blocks_transfers(sandbox_market):
    token = sandbox_market.security("THAMES28")
    alice, carol = sandbox_market.accounts["alice"], sandbox_market.accounts["carol"]
    token.set_address_frozen(alice, True, sender=sandbox_market.accounts["fca"])
    with pytest.raises(ContractReverted) as refused:
        token.transfer(carol, 1, sender=alice)
    assert refused.value.error_name == "SenderFrozen"

def test_next_test_starts_clean(sandbox_market):
    token = sandbox_market.security("THAMES28")
    assert not token.is_frozen(sandbox_market.accounts["alice"])
    token.transfer(sandbox_market.accounts["carol"], 1, sender=sandbox_market.accounts["alice"])
"""


@pytest.mark.slow
def test_participant_suite_runs_with_isolation(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_participant=EXAMPLE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


@pytest.mark.slow
def test_a_missing_scenario_file_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(sandbox_market):\n    pass\n")
    result = pytester.runpytest_subprocess("--sandbox-scenario", "nope.yaml", "-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*nope.yaml*"])
