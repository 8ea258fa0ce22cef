"""Scenarios: who takes part in a sandbox, what is issued to whom, and what happened next, validated
by pydantic.

A scenario names participants by key and chain accounts by index into the chain's deterministic
accounts, so the same file gives the same market on every run and on every backend. An investor's
further wallets (linked to the same identity) are named ``key/1``, ``key/2``, … ; ``key`` alone is its
first wallet.

Dates (a history's ``advance_time`` steps) are in the scenario's own calendar, which starts at
``calendar_start`` (midnight UTC). Loading anchors that calendar at the chain's day when loading
begins: on the embedded chain's fixed clock (genesis 2026-01-01) a calendar starting 2026-01-01 runs
on the very dates written; loaded later, every date moves by the same number of whole days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.calendars import PaymentCalendar, close_of_business, following_business_day
from sandbox.errors import SandboxError
from sandbox.rules import (
    CATEGORIES_BY_JURISDICTION,
    RULES_BY_NAME,
    Family,
    HolderType,
    InvestorAttributes,
    InvestorCategory,
    Jurisdiction,
    rules_of,
)

#: The scenarios the sandbox ships (`seeds/*.yaml`): in a clone they are read from the repository's
#: `seeds/` folder; a built wheel carries them inside the package as `sandbox/seeds/`.
SEEDS_DIR = (
    Path(__file__).resolve().parent / "seeds"
    if (Path(__file__).resolve().parent / "seeds").is_dir()
    else Path(__file__).resolve().parents[1] / "seeds"
)
#: The demo the sandbox starts with by default.
DEMO_SCENARIO = SEEDS_DIR / "demo.yaml"
#: The UK-US sandbox: 44 investors, five securities, seven weeks of history.
UK_US_SCENARIO = SEEDS_DIR / "uk-us-sandbox.yaml"

JurisdictionCode = Literal["GB", "US"]
CategoryName = Literal[
    "US_NON_ACCREDITED", "US_ACCREDITED", "US_QIB", "UK_RETAIL", "UK_PROFESSIONAL", "UK_ELIGIBLE_COUNTERPARTY"
]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
#: An investor's wallet: ``key`` (its first wallet) or ``key/N`` (its N-th further wallet).
WalletRef = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,39}(/[1-9])?$")]
Symbol = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,11}$")]
Currency = Literal["GBP", "USD"]
HolderTypeName = Literal["NATURAL_PERSON", "ENTITY"]
_SECONDS_PER_DAY = 86_400
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
    #: The issuer's treasury wallet: registered as a business investor of the issuer's jurisdiction
    #: (an eligible counterparty in GB, a QIB in the US) so it may hold cash; it funds the coupons and
    #: dividends of the issuer's securities. Cash holdings name it by the issuer's key.
    treasury_account: AccountIndex | None = None


class InvestorSpec(_Strict):
    key: Key
    name: str
    jurisdiction: JurisdictionCode
    category: CategoryName
    account: AccountIndex
    #: Further wallets of the same investor (one identity, several addresses), named ``key/1``, … .
    extra_accounts: Annotated[list[AccountIndex], Field(max_length=9)] = []
    kyc_valid_days: Annotated[int, Field(ge=1, le=36_500)] = 365
    api_key: ApiKey | None = None
    #: The attributes the rules read; each one left out is derived as the registry derives it for an
    #: investor registered without attributes (`InvestorAttributes.default_for`): a natural person when
    #: UK_RETAIL or US_NON_ACCREDITED; a US person when of the US; a QIB when US_QIB; accredited (US_ACCREDITED,
    #: US_QIB) for as long as its KYC.
    holder_type: HolderTypeName | None = None
    us_person: bool | None = Field(None, description="A US person under Regulation S (Rule 902(k)).")
    qib: bool | None = Field(None, description="A qualified institutional buyer (Rule 144A), of any jurisdiction.")
    accreditation_valid_days: Annotated[int, Field(ge=0, le=36_500)] | None = Field(
        None, description="Days the accredited-investor verification runs from loading; 0: not accredited."
    )

    @property
    def all_accounts(self) -> list[int]:
        return [self.account, *self.extra_accounts]

    @property
    def gives_attributes(self) -> bool:
        """Whether the scenario states any attribute (else the registry derives them all)."""
        return any(v is not None for v in (self.holder_type, self.us_person, self.qib, self.accreditation_valid_days))

    def attributes(self, now: int) -> InvestorAttributes:
        """The investor's attributes when loaded at `now`: those stated, the rest derived."""
        kyc_valid_until = now + self.kyc_valid_days * _SECONDS_PER_DAY
        derived = InvestorAttributes.default_for(
            Jurisdiction[self.jurisdiction], InvestorCategory[self.category], kyc_valid_until
        )
        days = self.accreditation_valid_days
        return derived.overridden(
            holder_type=None if self.holder_type is None else HolderType[self.holder_type],
            us_person=self.us_person,
            qib=self.qib,
            accredited_until=None if days is None else (now + days * _SECONDS_PER_DAY if days else 0),
        )

    @model_validator(mode="after")
    def _category_fits_jurisdiction(self) -> Self:
        if InvestorCategory[self.category] not in CATEGORIES_BY_JURISDICTION[Jurisdiction[self.jurisdiction]]:
            raise ValueError(f"investor {self.key}: category {self.category} is not a {self.jurisdiction} category")
        refusal = self.attributes(0).refusal
        if refusal is not None:
            raise ValueError(f"investor {self.key}: {refusal}")
        return self


#: Rule parameters a security's terms no longer have, and why: Rule 144 and Regulation S follow each
#: lot's offering (`OfferingSpec`), in calendar months from the acquisition and per tranche.
RETIRED_RULES: dict[str, str] = {
    "holding_period_days": "a Rule 144 holding period counted in days, from the token's terms; issue in an "
    "offering: the lots of a REG_D_506B, REG_D_506C or RULE_144A offering unlock 6 or 12 calendar months after "
    "their acquisition, by the issuer's reporting status (reporting_since)",
    "reg_s_days": "one Regulation S period for the whole security, with no tranches, started when the terms "
    "were written; issue in an offering: the lots of a REG_S_CATEGORY_1, _2 or _3 offering carry its "
    "distribution compliance period, from the later of its first_offer and closing (a tap is an offering of "
    "its own)",
    "lock_all_acquisitions": "a new lock-up on every acquisition; issue in an offering: restricted status "
    "follows the units in their lot (Rule 144(d)(3) tacking), to the holder's own wallets and in forced "
    "transfers alike",
}


class RulesSpec(_Strict):
    """A security's rule parameters (the rulebook's `Terms`), in a scenario's words. Periods are in days;
    0 or absent switches a rule off. Rule 144 and Regulation S are not among them: they follow each
    lot's offering (`SecuritySpec.offerings`); naming a retired parameter (`RETIRED_RULES`) fails
    validation and says what to use instead."""

    us_min_category: CategoryName | None = Field(None, description="Lowest admitted US category (e.g. US_ACCREDITED).")
    uk_min_category: CategoryName | None = Field(None, description="Lowest admitted UK category.")
    cross_border_threshold: Annotated[int, Field(ge=0, lt=2**96)] = 0
    approval_window_days: Annotated[int, Field(ge=1, le=365)] = 7
    cross_border_window_days: Annotated[int, Field(ge=0, le=365)] = Field(
        30,
        description="Days over which an investor's cross-border volume counts against the threshold (0: each "
        "transfer on its own).",
    )
    max_investor_balance: Annotated[int, Field(ge=0, lt=2**80)] = 0
    max_holders: Annotated[int, Field(ge=0, lt=2**32)] = 0
    max_uk_holders: Annotated[int, Field(ge=0, lt=2**32)] = 0
    max_us_holders: Annotated[int, Field(ge=0, lt=2**32)] = 0
    max_us_non_accredited: Annotated[int, Field(ge=0, lt=2**32)] = Field(
        0,
        description="Cap on holders of record who are not accredited investors, of any residence (Exchange Act "
        "12(g)(1)(A): 500; the name predates counting UK holders); 0: off.",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_retired_rules(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, instead in RETIRED_RULES.items():
                if name in data:
                    raise ValueError(f"{name} is no longer a rule parameter: it was {instead}")
        return data


DayCountName = Literal["30/360", "30E/360", "ACT/365", "30/360 US", "ACT/ACT ICMA"]
#: The time zone a security's record dates close in, by payment currency, unless it states one.
DEFAULT_TIME_ZONES: dict[str, str] = {"GBP": "Europe/London", "USD": "America/New_York"}
Isin = Annotated[str, Field(pattern=r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")]


class BondSpec(_Strict):
    """A bond's terms, fixed at issuance and held by its paying agent: coupons in `currency` (minor
    units), `face_value` per unit, `coupon_bps` a year, `frequency` coupons a year, one on each of
    `coupon_dates` (the last is the maturity), accruing from `issue_date` to these unadjusted dates by
    `day_count` ("30/360": US bond basis, ISDA 4.16(f); "30E/360"; "ACT/365" Fixed; "30/360 US":
    SIFMA's, with the end-of-February rule; "ACT/ACT ICMA": a regular period is exactly 1/frequency of
    a year, as gilts pay). Each coupon is paid on its date rolled to the following business day of
    `calendar` (default: the currency's: GBP bank holidays of England and Wales, USD SIFMA closes); its
    record date is `record_lag_days` calendar days before the coupon date, and the holders of record
    are those on the register at `close_of_business` (wall-clock time) in `time_zone` (IANA; default
    Europe/London for GBP, America/New_York for USD) on that date. Dates are in the scenario's
    calendar."""

    isin: Isin
    currency: Currency
    face_value: Annotated[int, Field(gt=0, lt=2**96)]
    coupon_bps: Annotated[int, Field(ge=0, le=10_000)]
    day_count: DayCountName
    issue_date: date
    coupon_dates: Annotated[list[date], Field(min_length=1, max_length=400)]
    maturity: date
    record_lag_days: Annotated[int, Field(ge=1, le=60)] = 7
    frequency: Literal[1, 2, 4, 12] = 2
    close_of_business: time = time(17, 0)
    time_zone: str | None = Field(None, description="IANA time zone of close of business, e.g. Europe/London.")
    calendar: Currency | None = Field(None, description="Business-day calendar of payment dates (GBP or USD).")

    @property
    def zone(self) -> str:
        """The time zone record dates close in."""
        return self.time_zone or DEFAULT_TIME_ZONES[self.currency]

    @property
    def payment_calendar(self) -> PaymentCalendar:
        return PaymentCalendar(self.calendar or self.currency)

    def payment_dates(self) -> list[date]:
        """Each coupon date rolled to the following business day of the payment calendar."""
        return [following_business_day(self.payment_calendar, d) for d in self.coupon_dates]

    def record_instants(self) -> list[datetime]:
        """Each payment's record instant (UTC): close of business on its record date."""
        return [
            close_of_business(d - timedelta(days=self.record_lag_days), self.close_of_business, self.zone)
            for d in self.coupon_dates
        ]

    @model_validator(mode="after")
    def _schedule_is_ordered(self) -> Self:
        previous = self.issue_date
        for coupon in self.coupon_dates:
            if coupon <= previous:
                raise ValueError(f"bond {self.isin}: coupon date {coupon} is not after {previous}")
            previous = coupon
        if self.maturity != self.coupon_dates[-1]:
            raise ValueError(f"bond {self.isin}: the maturity {self.maturity} must be the last coupon date")
        if (self.coupon_dates[0] - self.issue_date).days < self.record_lag_days:
            raise ValueError(f"bond {self.isin}: the first record date falls before the issue date")
        try:
            self.record_instants()
        except SandboxError as exc:
            raise ValueError(f"bond {self.isin}: {exc}") from None
        return self


class EquitySpec(_Strict):
    """A share class: its name, par value per share (minor units of `currency`), and the currency its
    dividends are paid in."""

    share_class: Annotated[str, Field(min_length=1, max_length=64)]
    currency: Currency
    par_value: Annotated[int, Field(ge=0, lt=2**96)] = 0


ExemptionName = Literal[
    "REG_D_506B",
    "REG_D_506C",
    "REG_S_CATEGORY_1",
    "REG_S_CATEGORY_2",
    "REG_S_CATEGORY_3",
    "RULE_144A",
    "UK_PUBLIC_OFFER",
    "UK_PROFESSIONAL_PLACEMENT",
]


class OfferingSpec(_Strict):
    """An offering of a security (`OfferingRegistry`): the exemption its sales rely on, when the
    securities are first offered and when it closes (moments of the scenario's calendar), and what the
    issuer sells in it when the scenario loads (`holdings`; later sales are history ``issue`` steps
    naming the offering). Offerings get ids 1, 2, ... in the order listed. A later tranche (a tap) is
    an offering of its own, with its own Regulation S period."""

    key: Key
    exemption: ExemptionName
    first_offer: datetime
    closing: datetime
    #: Reg S Category 3: equity (1 year / 6 months) or debt (40 days).
    equity: bool = True
    holdings: dict[WalletRef, Annotated[int, Field(gt=0, lt=2**96)]] = {}

    @model_validator(mode="after")
    def _dates_are_ordered(self) -> Self:
        if self.first_offer > self.closing:
            raise ValueError(f"offering {self.key}: the first offer comes after the closing")
        return self


class SecuritySpec(_Strict):
    symbol: Symbol
    name: str
    issuer: Key
    home: JurisdictionCode
    admitted: Annotated[list[JurisdictionCode], Field(min_length=1)]
    decimals: Annotated[int, Field(ge=0, le=18)] = 0
    rules: RulesSpec = RulesSpec()
    record_dates: bool = Field(
        False,
        description="Keep record-date balances (for coupons, dividends, redemptions); set before issuance. "
        "Bonds and equities get them from their paying agent anyway.",
    )
    holdings: dict[WalletRef, Annotated[int, Field(gt=0, lt=2**96)]] = {}
    #: A bond's terms (a `BondPayingAgent` pays its coupons), or a share class (an
    #: `EquityPayingAgent` pays its dividends and runs its splits); neither for a plain security.
    bond: BondSpec | None = None
    equity: EquitySpec | None = None
    #: The security's offerings: when listed, every unit is issued in one of them (an
    #: `OfferingRegistry` keeps the offerings and the lots carrying restricted / Reg S status), and the
    #: security's own `holdings` must be empty. Bonds and share classes issue in offerings too, once
    #: their paying agent is wired (record dates need a zero supply).
    offerings: list[OfferingSpec] = []
    #: When the issuer became an SEC reporting company (Rule 144(d)(1): 6-month holding period once it
    #: has reported for 90 days, else 1 year); absent: non-reporting.
    reporting_since: date | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if self.bond is not None and self.equity is not None:
            raise ValueError(f"security {self.symbol} cannot be both a bond and an equity")
        if self.offerings:
            if self.holdings:
                raise ValueError(f"security {self.symbol}: with offerings, units are issued in an offering's holdings")
            keys = [o.key for o in self.offerings]
            if len(set(keys)) != len(keys):
                raise ValueError(f"security {self.symbol}: offering keys must be unique")
        return self

    @property
    def initial_holdings(self) -> dict[str, int]:
        """What loading issues, wallet by wallet: the security's own `holdings`, or, with offerings, the
        sum of what each offering issues to each wallet (in the order first listed)."""
        issued = dict(self.holdings)
        for offering in self.offerings:
            for wallet, amount in offering.holdings.items():
                issued[wallet] = issued.get(wallet, 0) + amount
        return issued

    def offering_id(self, key: str) -> int:
        """The on-chain id of offering `key` (1, 2, ... in the order listed)."""
        for number, offering in enumerate(self.offerings, 1):
            if offering.key == key:
                return number
        raise ValueError(f"security {self.symbol}: unknown offering {key!r}")


class CashTokenSpec(_Strict):
    """A settlement token (stablecoin / tokenized deposit). GBP carries the Bank of England's proposed
    holding limits; USD none by default. Amounts are in minor units (pence, cents)."""

    currency: Literal["GBP", "USD"]
    issuer: Key
    reserves: Annotated[int, Field(ge=0, lt=2**128)] | None = Field(
        None, description="Attested reserves in minor units; defaults to what the holdings need."
    )
    holdings: dict[WalletRef, Annotated[int, Field(gt=0, lt=2**128)]] = {}


class OperatorSpec(_Strict):
    account: AccountIndex = 0
    api_key: ApiKey


# --------------------------------------------------------------------------------------- history
#: Units of a security, or minor units (pence, cents) of a cash token.
Amount = Annotated[int, Field(gt=0, lt=2**96)]
#: A price per unit of a security in pounds or dollars (exact: a trade's consideration must come
#: out in whole pence or cents).
Price = Annotated[Decimal, Field(gt=0, lt=10**12, max_digits=20, decimal_places=6)]


class _Action(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    #: Free text shown while loading and kept in the market's history log.
    note: str = ""


class AdvanceTime(_Action):
    """Moves the chain's clock forward to a moment of the scenario's calendar (UTC)."""

    kind: Literal["advance_time"]
    to: datetime


class Transfer(_Action):
    """A plain transfer of a security (units) or of a cash token (``asset: GBP``, minor units),
    signed by the sender. With ``expect_refusal`` the transfer must be refused by that rule (the
    rulebook at work); loading stops if it is not."""

    kind: Literal["transfer"]
    asset: Symbol
    sender: WalletRef = Field(alias="from")
    receiver: WalletRef = Field(alias="to")
    amount: Amount
    expect_refusal: str | None = None


class Issue(_Action):
    """A further issuance (a tap) of a security by its issuer, within the regulator's approval; for a
    security with offerings, in the offering named (whose rules then apply). With ``expect_refusal``
    the issuance must be refused by that rule."""

    kind: Literal["issue"]
    security: Symbol
    receiver: WalletRef = Field(alias="to")
    amount: Amount
    offering: Key | None = None
    expect_refusal: str | None = None


class TradeTerms(_Strict):
    """A delivery-versus-payment trade: ``quantity`` units of ``security`` against quantity times price in
    ``currency``. One party proposes, the other affirms, then it is settled."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    security: Symbol
    seller: WalletRef
    buyer: WalletRef
    quantity: Amount
    currency: Currency
    price: Price
    proposer: Literal["seller", "buyer"] = "seller"
    #: Days until the trade's deadline (T+2 by default).
    deadline_days: Annotated[int, Field(ge=1, le=30)] = 2
    #: The rule (security or cash rulebook name) that must make settlement fail, nothing moving.
    expect_failure: str | None = None

    @property
    def cash_amount(self) -> int:
        """The consideration in minor units (exact; checked by the validator)."""
        return int(self.price * self.quantity * 100)

    @model_validator(mode="after")
    def _consideration_is_exact(self) -> Self:
        value = self.price * self.quantity * 100
        if value != value.to_integral_value():
            raise ValueError(
                f"trade of {self.quantity} {self.security} at {self.price}: the consideration is not a whole "
                "number of pence/cents"
            )
        if self.seller.split("/")[0] == self.buyer.split("/")[0]:
            raise ValueError(f"trade of {self.security}: seller and buyer are the same investor")
        return self


class DvPTrade(TradeTerms):
    kind: Literal["dvp_trade"]
    note: str = ""


class DvPBatch(_Action):
    """Several trades agreed one by one and settled together in one batch transaction; each trade is
    atomic on its own."""

    kind: Literal["dvp_batch"]
    trades: Annotated[list[TradeTerms], Field(min_length=1, max_length=50)]


class CrossBorderTransfer(_Action):
    """A transfer between jurisdictions at or above the security's threshold: the sender requests it,
    the regulator of each side approves, and the second approval settles it."""

    kind: Literal["cross_border_transfer"]
    security: Symbol
    sender: WalletRef = Field(alias="from")
    receiver: WalletRef = Field(alias="to")
    amount: Amount


class Freeze(_Action):
    """A regulator (or the asset's issuer) freezes a wallet on a security or cash token."""

    kind: Literal["freeze"]
    by: Key
    asset: Symbol
    wallet: WalletRef
    #: Free text recorded with the action.
    reason: str = ""


class Unfreeze(_Action):
    kind: Literal["unfreeze"]
    by: Key
    asset: Symbol
    wallet: WalletRef


class Designate(_Action):
    """A regulator puts a party on its regime's sanctions list (OFSI: a GB regulator; OFAC: a US one):
    ``party: key`` is the investor (all its wallets), ``key/N`` one wallet. The party can then neither
    send nor receive."""

    kind: Literal["designate"]
    by: Key
    regime: Literal["OFSI", "OFAC"]
    party: WalletRef


class RemoveDesignation(_Action):
    kind: Literal["remove_designation"]
    by: Key
    regime: Literal["OFSI", "OFAC"]
    party: WalletRef


class ExemptFromHoldingLimits(_Action):
    """A regulator of the cash token's home exempts an investor from its holding limits (the Bank of
    England may exempt businesses that need larger balances), or withdraws the exemption."""

    kind: Literal["exempt_from_holding_limits"]
    by: Key
    currency: Currency
    investor: Key
    exempt: bool = True


class DeclareCoupon(_Action):
    """The issuer declares coupon `period` (1 = the first coupon date) of a bond: its record date is
    scheduled on the token, so this must come before that record date."""

    kind: Literal["declare_coupon"]
    security: Symbol
    period: Annotated[int, Field(ge=1, le=400)]


class PayCoupon(_Action):
    """After the payment date: the issuer's treasury funds the coupon and the issuer pays every wallet
    that held the bond at the record date, in batches; a wallet frozen on the bond is held, not paid."""

    kind: Literal["pay_coupon"]
    security: Symbol
    period: Annotated[int, Field(ge=1, le=400)]


class DeclareDividend(_Action):
    """The issuer declares a dividend of `amount_per_share` (minor units of the share class's
    currency) to holders at `record_date`, payable from `payment_date`."""

    kind: Literal["declare_dividend"]
    security: Symbol
    amount_per_share: Annotated[int, Field(gt=0, lt=2**96)]
    record_date: datetime
    payment_date: datetime


class PayDividend(_Action):
    """After its payment date: the security's latest declared dividend is funded and paid."""

    kind: Literal["pay_dividend"]
    security: Symbol


class Split(_Action):
    """An N-for-1 share split, run by the issuer through the paying agent over every wallet."""

    kind: Literal["split"]
    security: Symbol
    ratio: Annotated[int, Field(ge=2, le=100)]


Action = Annotated[
    AdvanceTime
    | Transfer
    | Issue
    | DvPTrade
    | DvPBatch
    | CrossBorderTransfer
    | Freeze
    | Unfreeze
    | Designate
    | RemoveDesignation
    | ExemptFromHoldingLimits
    | DeclareCoupon
    | PayCoupon
    | DeclareDividend
    | PayDividend
    | Split,
    Field(discriminator="kind"),
]


class Scenario(_Strict):
    """A whole sandbox set-up, and optionally what happened in it afterwards (``history``)."""

    name: str
    description: str = ""
    #: Day 0 of the scenario's calendar (needed when the history moves time).
    calendar_start: date | None = None
    operator: OperatorSpec
    regulators: list[RegulatorSpec]
    issuers: list[IssuerSpec]
    investors: list[InvestorSpec]
    securities: list[SecuritySpec]
    cash_tokens: list[CashTokenSpec] = []
    history: list[Action] = []

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
        accounts += [a for i in self.investors for a in i.extra_accounts]
        if len(set(accounts)) != len(accounts):
            raise ValueError("each participant and wallet needs an account of its own")
        api_keys = [self.operator.api_key, *(p.api_key for p in people if p.api_key)]
        if len(set(api_keys)) != len(api_keys):
            raise ValueError("API keys must be unique")
        issuers = {i.key for i in self.issuers}
        treasuries = {i.key for i in self.issuers if i.treasury_account is not None}
        accounts += [i.treasury_account for i in self.issuers if i.treasury_account is not None]
        if len(set(accounts)) != len(accounts):
            raise ValueError("each participant and wallet needs an account of its own")
        symbols = [s.symbol for s in self.securities]
        if len(set(symbols)) != len(symbols):
            raise ValueError("security symbols must be unique")
        if {"GBP", "USD"} & set(symbols):
            raise ValueError("GBP and USD name the cash tokens; a security cannot take them as its symbol")
        for security in self.securities:
            if security.issuer not in issuers:
                raise ValueError(f"security {security.symbol}: unknown issuer {security.issuer!r}")
            paying = security.bond.currency if security.bond else security.equity.currency if security.equity else None
            if paying is not None:
                if paying not in {c.currency for c in self.cash_tokens}:
                    raise ValueError(
                        f"security {security.symbol}: pays in {paying}, but the scenario has no {paying} cash token"
                    )
                if security.issuer not in treasuries:
                    raise ValueError(
                        f"security {security.symbol}: its issuer {security.issuer} needs a treasury_account "
                        "to fund payments"
                    )
            holders = [(h, f"security {security.symbol}") for h in security.holdings] + [
                (h, f"security {security.symbol}, offering {o.key}") for o in security.offerings for h in o.holdings
            ]
            for holder, where in holders:
                investor = self._investor_of(holder, where)
                if investor.jurisdiction not in security.admitted:
                    raise ValueError(
                        f"security {security.symbol}: {holder} is in {investor.jurisdiction}, "
                        "which the security does not admit"
                    )
        currencies = [c.currency for c in self.cash_tokens]
        if len(set(currencies)) != len(currencies):
            raise ValueError("one cash token per currency")
        for cash in self.cash_tokens:
            if cash.issuer not in issuers:
                raise ValueError(f"{cash.currency} cash token: unknown issuer {cash.issuer!r}")
            for holder in cash.holdings:
                if holder in treasuries:
                    continue
                self._investor_of(holder, f"{cash.currency} cash token")
            if cash.reserves is not None and cash.reserves < sum(cash.holdings.values()):
                raise ValueError(f"{cash.currency} cash token: reserves below the holdings to issue")
        self._history_resolves()
        return self

    def _investor_of(self, wallet: str, where: str) -> InvestorSpec:
        """The investor a wallet reference names; ValueError saying `where` otherwise."""
        key, _, index = wallet.partition("/")
        investor = next((i for i in self.investors if i.key == key), None)
        if investor is None:
            raise ValueError(f"{where}: unknown investor {key!r}")
        if index and int(index) > len(investor.extra_accounts):
            raise ValueError(
                f"{where}: investor {key} has {len(investor.extra_accounts)} further wallet(s), so {wallet!r} "
                "names none"
            )
        return investor

    def _history_resolves(self) -> None:
        securities = {s.symbol for s in self.securities}
        currencies = {c.currency for c in self.cash_tokens}
        regulators = {r.key for r in self.regulators}
        issuers = {i.key for i in self.issuers}
        last: datetime | None = None
        if self.calendar_start is not None:
            last = datetime.combine(self.calendar_start, datetime.min.time(), UTC)
        bonds = {s.symbol: s.bond for s in self.securities if s.bond is not None}
        equities = {s.symbol for s in self.securities if s.equity is not None}
        declared_coupons: set[tuple[str, int]] = set()
        declared_dividends: set[str] = set()
        for number, action in enumerate(self.history, 1):
            where = f"history step {number} ({action.kind})"

            def security(symbol: str, where: str = where) -> None:
                if symbol not in securities:
                    raise ValueError(f"{where}: unknown security {symbol!r}")

            def asset(symbol: str, where: str = where) -> None:
                if symbol in ("GBP", "USD"):
                    if symbol not in currencies:
                        raise ValueError(f"{where}: the scenario has no {symbol} cash token")
                elif symbol not in securities:
                    raise ValueError(f"{where}: unknown security or cash token {symbol!r}")

            def refusal(rule: str | None, cash: bool, where: str = where) -> None:
                if rule is None:
                    return
                known = _CASH_RULE_NAMES if cash else set(RULES_BY_NAME)
                if rule not in known:
                    raise ValueError(
                        f"{where}: {rule!r} is not a rule of the {'cash' if cash else 'security'} rulebook"
                    )

            match action:
                case AdvanceTime(to=moment):
                    if self.calendar_start is None:
                        raise ValueError(f"{where}: moving time needs the scenario's calendar_start")
                    if moment.tzinfo is None:
                        raise ValueError(f"{where}: {moment} needs a time zone (e.g. 2026-01-05T09:00:00Z)")
                    if last is not None and moment <= last:
                        raise ValueError(f"{where}: {moment.isoformat()} is not after {last.isoformat()}")
                    last = moment
                case Transfer():
                    asset(action.asset)
                    self._investor_of(action.sender, where)
                    self._investor_of(action.receiver, where)
                    refusal(action.expect_refusal, action.asset in ("GBP", "USD"))
                case Issue():
                    security(action.security)
                    self._investor_of(action.receiver, where)
                    spec = next(s for s in self.securities if s.symbol == action.security)
                    if spec.offerings and action.offering is None:
                        raise ValueError(f"{where}: {action.security} is issued in an offering; name it")
                    if action.offering is not None:
                        spec.offering_id(action.offering)
                    refusal(action.expect_refusal, False)
                case DvPTrade() | DvPBatch():
                    trades = action.trades if isinstance(action, DvPBatch) else [action]
                    for trade in trades:
                        security(trade.security)
                        if trade.currency not in currencies:
                            raise ValueError(f"{where}: the scenario has no {trade.currency} cash token")
                        self._investor_of(trade.seller, where)
                        self._investor_of(trade.buyer, where)
                        if trade.expect_failure is not None and trade.expect_failure not in (
                            set(RULES_BY_NAME) | _CASH_RULE_NAMES | _DVP_CODE_NAMES
                        ):
                            raise ValueError(
                                f"{where}: {trade.expect_failure!r} is neither a rule of either rulebook nor a "
                                "settlement code"
                            )
                case CrossBorderTransfer():
                    security(action.security)
                    sender = self._investor_of(action.sender, where)
                    receiver = self._investor_of(action.receiver, where)
                    if sender.jurisdiction == receiver.jurisdiction:
                        raise ValueError(
                            f"{where}: {action.sender} and {action.receiver} are both in {sender.jurisdiction}"
                        )
                case DeclareCoupon() | PayCoupon():
                    bond = bonds.get(action.security)
                    if bond is None:
                        raise ValueError(f"{where}: {action.security!r} is not a bond of the scenario")
                    if action.period > len(bond.coupon_dates):
                        raise ValueError(f"{where}: bond {action.security} has {len(bond.coupon_dates)} coupon dates")
                    if isinstance(action, DeclareCoupon):
                        declared_coupons.add((action.security, action.period))
                    elif (action.security, action.period) not in declared_coupons:
                        raise ValueError(
                            f"{where}: coupon {action.period} of {action.security} is paid before it is declared"
                        )
                case DeclareDividend() | PayDividend() | Split():
                    if action.security not in equities:
                        raise ValueError(f"{where}: {action.security!r} is not an equity of the scenario")
                    if isinstance(action, DeclareDividend):
                        for moment in (action.record_date, action.payment_date):
                            if moment.tzinfo is None:
                                raise ValueError(f"{where}: {moment} needs a time zone")
                        if not action.record_date < action.payment_date:
                            raise ValueError(f"{where}: the record date must come before the payment date")
                        declared_dividends.add(action.security)
                    elif isinstance(action, PayDividend) and action.security not in declared_dividends:
                        raise ValueError(f"{where}: no dividend of {action.security} was declared before")
                case Freeze() | Unfreeze():
                    asset(action.asset)
                    self._investor_of(action.wallet, where)
                    if action.by not in regulators | issuers:
                        raise ValueError(f"{where}: {action.by!r} is neither a regulator nor an issuer")
                case Designate() | RemoveDesignation():
                    self._investor_of(action.party, where)
                    keeper = "GB" if action.regime == "OFSI" else "US"
                    if action.by not in {r.key for r in self.regulators if r.jurisdiction == keeper}:
                        raise ValueError(f"{where}: the {action.regime} list is kept by a {keeper} regulator only")
                case ExemptFromHoldingLimits():
                    self._investor_of(action.investor, where)
                    home = "GB" if action.currency == "GBP" else "US"
                    if action.by not in {r.key for r in self.regulators if r.jurisdiction == home}:
                        raise ValueError(f"{where}: only a {home} regulator exempts from {action.currency} limits")

    @property
    def history_days(self) -> int:
        """Whole days from the calendar's day 0 to the end of the last day the history moves time to
        (0 when it does not move time)."""
        moments = [a.to for a in self.history if isinstance(a, AdvanceTime)]
        if not moments or self.calendar_start is None:
            return 0
        return (moments[-1].astimezone(UTC).date() - self.calendar_start).days + 1

    @property
    def accounts_needed(self) -> int:
        accounts = [r.account for r in self.regulators] + [i.account for i in self.issuers]
        accounts += [i.treasury_account for i in self.issuers if i.treasury_account is not None]
        accounts += [a for i in self.investors for a in i.all_accounts]
        return 1 + max([self.operator.account, *accounts])

    @classmethod
    def from_file(cls, path: str | Path) -> Scenario:
        return cls.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


#: The cash rulebook's names and the DvP contract's own failure codes (from the one rules table).
_CASH_RULE_NAMES = frozenset(r.name for r in rules_of(Family.CASH))
_DVP_CODE_NAMES = frozenset(r.name for r in rules_of(Family.SETTLEMENT))
