"""Scenarios: who takes part in a sandbox and what is issued to whom, validated by pydantic.

A scenario names participants by key and chain accounts by index into the chain's deterministic
accounts, so the same file gives the same market on every run and on every backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.rules import CATEGORIES_BY_JURISDICTION, InvestorCategory, Jurisdiction

JurisdictionCode = Literal["GB", "US"]
CategoryName = Literal[
    "US_NON_ACCREDITED", "US_ACCREDITED", "US_QIB", "UK_RETAIL", "UK_PROFESSIONAL", "UK_ELIGIBLE_COUNTERPARTY"
]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
AccountIndex = Annotated[int, Field(ge=0, le=999)]
ApiKey = Annotated[str, Field(min_length=16, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegulatorSpec(_Strict):
    key: Key
    name: str
    jurisdiction: JurisdictionCode
    account: AccountIndex
    api_key: ApiKey


class IssuerSpec(_Strict):
    key: Key
    name: str
    jurisdiction: JurisdictionCode
    account: AccountIndex
    api_key: ApiKey


class InvestorSpec(_Strict):
    key: Key
    name: str
    jurisdiction: JurisdictionCode
    category: CategoryName
    account: AccountIndex
    kyc_valid_days: Annotated[int, Field(ge=1, le=36_500)] = 365
    api_key: ApiKey | None = None

    @model_validator(mode="after")
    def _category_fits_jurisdiction(self) -> Self:
        if InvestorCategory[self.category] not in CATEGORIES_BY_JURISDICTION[Jurisdiction[self.jurisdiction]]:
            raise ValueError(f"investor {self.key}: category {self.category} is not a {self.jurisdiction} category")
        return self


class RulesSpec(_Strict):
    """A security's rule parameters (the rulebook's `Terms`), in a scenario's words. Periods are in days
    from the moment the scenario is loaded; 0 or absent switches a rule off."""

    us_min_category: CategoryName | None = Field(None, description="Lowest admitted US category (e.g. US_ACCREDITED).")
    uk_min_category: CategoryName | None = Field(None, description="Lowest admitted UK category.")
    reg_s_days: Annotated[int, Field(ge=0, le=3650)] = 0
    holding_period_days: Annotated[int, Field(ge=0, le=3650)] = 0
    lock_all_acquisitions: bool = False
    cross_border_threshold: Annotated[int, Field(ge=0, lt=2**96)] = 0
    approval_window_days: Annotated[int, Field(ge=1, le=365)] = 7
    max_investor_balance: Annotated[int, Field(ge=0, lt=2**80)] = 0
    max_holders: Annotated[int, Field(ge=0, lt=2**32)] = 0
    max_uk_holders: Annotated[int, Field(ge=0, lt=2**32)] = 0
    max_us_holders: Annotated[int, Field(ge=0, lt=2**32)] = 0
    max_us_non_accredited: Annotated[int, Field(ge=0, lt=2**32)] = 0


class SecuritySpec(_Strict):
    symbol: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,11}$")]
    name: str
    issuer: Key
    home: JurisdictionCode
    admitted: Annotated[list[JurisdictionCode], Field(min_length=1)]
    decimals: Annotated[int, Field(ge=0, le=18)] = 0
    rules: RulesSpec = RulesSpec()
    record_dates: bool = Field(
        False, description="Keep record-date balances (for coupons, dividends, redemptions); set before issuance."
    )
    holdings: dict[Key, Annotated[int, Field(gt=0, lt=2**96)]] = {}


class CashTokenSpec(_Strict):
    """A settlement token (stablecoin / tokenized deposit). GBP carries the Bank of England's proposed
    holding limits; USD none by default. Amounts are in minor units (pence, cents)."""

    currency: Literal["GBP", "USD"]
    issuer: Key
    reserves: Annotated[int, Field(ge=0, lt=2**128)] | None = Field(
        None, description="Attested reserves in minor units; defaults to what the holdings need."
    )
    holdings: dict[Key, Annotated[int, Field(gt=0, lt=2**128)]] = {}


class OperatorSpec(_Strict):
    account: AccountIndex = 0
    api_key: ApiKey


class Scenario(_Strict):
    """A whole sandbox set-up."""

    name: str
    description: str = ""
    operator: OperatorSpec
    regulators: list[RegulatorSpec]
    issuers: list[IssuerSpec]
    investors: list[InvestorSpec]
    securities: list[SecuritySpec]
    cash_tokens: list[CashTokenSpec] = []

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        people: list[RegulatorSpec | IssuerSpec | InvestorSpec] = [
            *self.regulators,
            *self.issuers,
            *self.investors,
        ]
        keys = [p.key for p in people]
        if len(set(keys)) != len(keys):
            raise ValueError("participant keys must be unique")
        accounts = [self.operator.account, *(p.account for p in people)]
        if len(set(accounts)) != len(accounts):
            raise ValueError("each participant needs an account of its own")
        api_keys = [self.operator.api_key, *(p.api_key for p in people if p.api_key)]
        if len(set(api_keys)) != len(api_keys):
            raise ValueError("API keys must be unique")
        issuers = {i.key for i in self.issuers}
        investors = {i.key: i for i in self.investors}
        symbols = [s.symbol for s in self.securities]
        if len(set(symbols)) != len(symbols):
            raise ValueError("security symbols must be unique")
        for security in self.securities:
            if security.issuer not in issuers:
                raise ValueError(f"security {security.symbol}: unknown issuer {security.issuer!r}")
            for holder in security.holdings:
                if holder not in investors:
                    raise ValueError(f"security {security.symbol}: unknown investor {holder!r}")
                if investors[holder].jurisdiction not in security.admitted:
                    raise ValueError(
                        f"security {security.symbol}: {holder} is in {investors[holder].jurisdiction}, "
                        "which the security does not admit"
                    )
        currencies = [c.currency for c in self.cash_tokens]
        if len(set(currencies)) != len(currencies):
            raise ValueError("one cash token per currency")
        for cash in self.cash_tokens:
            if cash.issuer not in issuers:
                raise ValueError(f"{cash.currency} cash token: unknown issuer {cash.issuer!r}")
            for holder in cash.holdings:
                if holder not in investors:
                    raise ValueError(f"{cash.currency} cash token: unknown investor {holder!r}")
            if cash.reserves is not None and cash.reserves < sum(cash.holdings.values()):
                raise ValueError(f"{cash.currency} cash token: reserves below the holdings to issue")
        return self

    @property
    def accounts_needed(self) -> int:
        accounts = [r.account for r in self.regulators] + [i.account for i in self.issuers]
        accounts += [i.account for i in self.investors]
        return 1 + max([self.operator.account, *accounts])

    @classmethod
    def from_file(cls, path: str | Path) -> Scenario:
        return cls.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
