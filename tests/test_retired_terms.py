"""The token's retired rule terms (issue #11): a Rule 144 holding period counted in days
(`holding_period_days`), one token-wide Regulation S period with no tranches (`reg_s_days`) and a lock
on every acquisition (`lock_all_acquisitions`). Rule 144 and Regulation S follow each lot's offering
now; a scenario that still names one of them fails validation, naming the parameter and saying to issue
in an offering instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from sandbox.scenario import RETIRED_RULES, SEEDS_DIR, RulesSpec, Scenario

RETIRED: list[tuple[str, Any]] = [("holding_period_days", 182), ("reg_s_days", 40), ("lock_all_acquisitions", True)]


def test_the_list_names_exactly_the_retired_terms() -> None:
    assert sorted(RETIRED_RULES) == sorted(name for name, _ in RETIRED)
    assert not set(RETIRED_RULES) & set(RulesSpec.model_fields)


@pytest.mark.parametrize(("name", "value"), RETIRED)
def test_a_rule_parameter_naming_a_retired_term_is_refused(name: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        RulesSpec.model_validate({"cross_border_threshold": 500, name: value})
    (error,) = info.value.errors()
    assert error["type"] == "value_error"
    assert name in error["msg"] and "issue in an offering: " in error["msg"]


@pytest.mark.parametrize(("name", "value"), RETIRED)
def test_a_scenario_file_naming_a_retired_term_fails_validation(tmp_path: Path, name: str, value: Any) -> None:
    """The demo scenario, with one security's rules naming a retired term: the file does not load, and
    the error says where (that security's rules), which parameter, and what to use instead."""
    data = yaml.safe_load((SEEDS_DIR / "demo.yaml").read_text(encoding="utf-8"))
    index = next(i for i, s in enumerate(data["securities"]) if s["symbol"] == "HUDS")
    data["securities"][index].setdefault("rules", {})[name] = value
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        Scenario.from_file(path)
    (error,) = info.value.errors()
    assert error["loc"] == ("securities", index, "rules")
    assert error["msg"].startswith(f"Value error, {name} is no longer a rule parameter: ")
    assert "issue in an offering: " in error["msg"] and "offering" in str(info.value)
