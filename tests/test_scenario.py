"""Scenario files are validated before anything touches a chain."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from sandbox.scenario import DEMO_SCENARIO, Scenario


def _demo() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(DEMO_SCENARIO.read_text())
    return raw


def test_demo_scenario_is_valid() -> None:
    scenario = Scenario.model_validate(_demo())
    assert {r.jurisdiction for r in scenario.regulators} == {"GB", "US"}
    assert {i.jurisdiction for i in scenario.investors} == {"GB", "US"}
    assert len(scenario.securities) >= 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["investors"][0].update(category="US_QIB"), "is not a GB category"),
        (lambda d: d["investors"][1].update(account=d["investors"][0]["account"]), "account of its own"),
        (lambda d: d["securities"][0].update(issuer="nobody"), "unknown issuer"),
        (lambda d: d["securities"][0]["offerings"][0]["holdings"].update(zed=1), "unknown investor"),
        (lambda d: d["securities"][0].update(admitted=["GB"]), "does not admit"),
        (lambda d: d["regulators"][0].update(jurisdiction="FR"), "Input should be 'GB' or 'US'"),
        (lambda d: d["securities"][0]["offerings"][0]["holdings"].update(alice=-5), "greater than 0"),
    ],
)
def test_invalid_scenarios_are_refused_with_a_reason(mutate: Any, message: str) -> None:
    raw = _demo()
    mutate(raw)
    with pytest.raises(ValidationError, match=message):
        Scenario.model_validate(raw)
