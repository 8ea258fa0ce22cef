"""Investor attributes in scenarios: stated ones reach the registry, the rest are derived as the registry
derives them for investors registered without any (so scenarios written before them load unchanged)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from sandbox.chain.factory import in_process_chain
from sandbox.contracts.registry import InvestorAttributes
from sandbox.market import SECONDS_PER_DAY, load_scenario
from sandbox.rules import HolderType, InvestorCategory, Jurisdiction
from sandbox.scenario import Scenario

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def _demo() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((SEEDS / "demo.yaml").read_text())
    return raw


def test_stated_attributes_reach_the_registry_and_the_rest_are_derived() -> None:
    raw = _demo()
    bob = next(i for i in raw["investors"] if i["key"] == "bob")
    bob.update(qib=True)  # a UK eligible counterparty that is a QIB: no US category needed
    carol = next(i for i in raw["investors"] if i["key"] == "carol")
    carol.pop("qib", None)  # the demo's Carol is a QIB (an entity); here she is a natural person
    carol.update(holder_type="NATURAL_PERSON", us_person=False, accreditation_valid_days=90)
    scenario = Scenario.model_validate(raw)
    chain = in_process_chain(num_accounts=max(scenario.accounts_needed, 10))
    market = load_scenario(chain, scenario)
    registry = market.registry
    bob_attrs = registry.attributes_of(market.accounts["bob"])
    assert bob_attrs.qib and bob_attrs.holder_type is HolderType.ENTITY and not bob_attrs.us_person
    carol_record = registry.investor(market.accounts["carol"])
    loaded_at = carol_record.kyc_valid_until - carol["kyc_valid_days"] * SECONDS_PER_DAY
    assert carol_record.attributes == InvestorAttributes(
        HolderType.NATURAL_PERSON, us_person=False, qib=False, accredited_until=loaded_at + 90 * SECONDS_PER_DAY
    )
    alice = registry.investor(market.accounts["alice"])  # nothing stated: derived
    assert alice.attributes == InvestorAttributes.default_for(
        Jurisdiction.GB, InvestorCategory.UK_PROFESSIONAL, alice.kyc_valid_until
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"holder_type": "NATURAL_PERSON", "qib": True}, "a QIB is an entity"),
        ({"category": "US_QIB", "holder_type": "NATURAL_PERSON"}, "a QIB is an entity"),
        ({"holder_type": "INDIVIDUAL"}, "NATURAL_PERSON"),
        ({"accreditation_valid_days": -1}, "greater than or equal to 0"),
    ],
)
def test_inconsistent_attributes_are_refused_before_any_chain(change: dict[str, Any], message: str) -> None:
    raw = _demo()
    dan = next(i for i in raw["investors"] if i["key"] == "dan")
    dan.update(change)
    with pytest.raises(ValidationError, match=message):
        Scenario.model_validate(raw)
