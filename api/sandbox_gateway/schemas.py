"""Request and response bodies, and the validated types of path and query parameters."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any, Literal

from eth_utils import to_checksum_address
from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt
from pydantic_core import PydanticCustomError

from sandbox.scenario import ExemptionName, RulesSpec
from sandbox_gateway.pagination import PageInfo

ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
SYMBOL_PATTERN = r"^[A-Z][A-Z0-9]{1,11}$"
UINT256_MAX = 2**256 - 1
#: Units of a security: balances, frozen amounts, lots and cross-border requests are uint96 on chain
#: (`SecurityTokenBase.Wallet`, `CrossBorder`).
UNITS_MAX = 2**96 - 1
#: Minor units of a cash token: an investor's holding is a uint248 (`CashToken`).
CASH_MAX = 2**248 - 1
#: Cash minor units per unit a distribution may pay: `PayingAgent.MAX_AMOUNT_PER_UNIT` (2**32), so that its
#: total over the most units a security can have (2**96 - 1) fits the distribution's uint128 totals.
PER_UNIT_MAX = 2**32
#: Dates the contracts keep are uint40 seconds (`Trade.deadline`, `Distribution.recordDate`, KYC expiry).
TIME_LIMIT = 2**40


@lru_cache(maxsize=65_536)
def _checksum(value: str) -> str:
    # Cached: EIP-55 costs a keccak per address, and the same wallets come back request after request.
    return str(to_checksum_address(value))


def eip55(value: str) -> str:
    """A 20-byte hex address in its EIP-55 checksum form. Mixed case is a checksum and must be the right
    one (a typo in a checksummed address is caught, not silently turned into another address); all lower
    or all upper case carries no checksum and is accepted, as web3 does."""
    checksummed = _checksum(value)
    digits = value[2:]
    if value != checksummed and digits != digits.lower() and digits != digits.upper():
        raise ValueError(
            f"{value} is in mixed case but is not the EIP-55 checksum of that address ({checksummed}); "
            "send the checksummed form, or the address in lower case"
        )
    return checksummed


def _eip55_or_none(value: str | None) -> str | None:
    return None if value is None else eip55(value)


#: The validation error type of a number past what its contract field holds (answered AMOUNT_TOO_LARGE).
AMOUNT_TOO_LARGE = "amount_too_large"


def _within(lowest: int, highest: int, what: str, *, amount: bool = True) -> Callable[[int], int]:
    def check(value: int) -> int:
        if value < lowest:
            raise ValueError(f"{what} must be at least {lowest}")
        if value > highest and not amount:
            raise ValueError(f"{what} must be at most {highest}: the contracts cannot hold more")
        if value > highest:
            raise PydanticCustomError(
                AMOUNT_TOO_LARGE,
                "{what} must be at most {highest}: the contracts cannot hold more",
                {"what": what, "highest": highest},
            )
        return value

    return check


def _bounds(lowest: int, highest: int, example: int) -> Any:
    return Field(json_schema_extra={"minimum": lowest, "maximum": highest}, examples=[example])


#: A 20-byte hex address; returned in EIP-55 checksum form (a mixed-case address must be a valid checksum).
Address = Annotated[
    str,
    Field(pattern=ADDRESS_PATTERN, examples=["0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"]),
    AfterValidator(eip55),
]
#: An optional address in a query string, as `Address`.
AddressQuery = AfterValidator(_eip55_or_none)

# Numbers in bodies are JSON integers, strictly: not true, "7", "1_0", " 10 " or 7.0 (pydantic's lax mode
# takes all of those), and never more than the contract field they end up in holds.

#: Units of a security, more than zero (a uint96 on chain).
Units = Annotated[StrictInt, _bounds(1, UNITS_MAX, 100), AfterValidator(_within(1, UNITS_MAX, "An amount of units"))]
#: Units of a security, zero allowed (a pre-check of nothing).
UnitsOrZero = Annotated[
    StrictInt, _bounds(0, UNITS_MAX, 100), AfterValidator(_within(0, UNITS_MAX, "An amount of units"))
]
#: Minor units of a cash token, more than zero (a holding is a uint248 on chain).
CashAmount = Annotated[
    StrictInt, _bounds(1, CASH_MAX, 10_000), AfterValidator(_within(1, CASH_MAX, "An amount of cash"))
]
#: Cash minor units per unit of a security, more than zero and at most the paying agents' bound (2**32).
PerUnitAmount = Annotated[
    StrictInt, _bounds(1, PER_UNIT_MAX, 25), AfterValidator(_within(1, PER_UNIT_MAX, "An amount per unit"))
]
#: A uint256 quantity, zero allowed.
Uint256 = Annotated[StrictInt, _bounds(0, UINT256_MAX, 100), AfterValidator(_within(0, UINT256_MAX, "A quantity"))]
#: Unix time in seconds, as the contracts keep it (uint40).
UnixTime = Annotated[
    StrictInt,
    _bounds(0, TIME_LIMIT - 1, 1_830_297_600),
    AfterValidator(_within(0, TIME_LIMIT - 1, "A time", amount=False)),
]
SymbolPath = Annotated[str, Path(pattern=SYMBOL_PATTERN, description="Ticker of the security.", examples=["THAMES28"])]
WalletPath = Annotated[
    str,
    Path(
        pattern=ADDRESS_PATTERN,
        description="A wallet address.",
        examples=["0x976EA74026E726554dB657fA54763abd0C3a0aa9"],
    ),
    AfterValidator(eip55),
]
IdentityPath = Annotated[
    str,
    Path(
        pattern=ADDRESS_PATTERN,
        description="An investor's identity address (the ERC-3643 ONCHAINID stand-in).",
        examples=["0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"],
    ),
    AfterValidator(eip55),
]
JurisdictionCode = Literal["GB", "US"]
CategoryName = Literal[
    "US_NON_ACCREDITED", "US_ACCREDITED", "US_QIB", "UK_RETAIL", "UK_PROFESSIONAL", "UK_ELIGIBLE_COUNTERPARTY"
]
HolderTypeName = Literal["NATURAL_PERSON", "ENTITY"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SecurityRules(RulesSpec):
    """A new security's rule parameters: `RulesSpec`, with numbers and flags taken strictly (JSON integers
    and booleans only)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Health(BaseModel):
    status: str
    chain_id: int
    block_number: int
    block_timestamp: int
    securities: int


class TxResult(BaseModel):
    tx_hash: str
    block_number: int
    block_timestamp: int
    gas_used: int


# ---------------------------------------------------------------- securities


class SecuritySummary(BaseModel):
    symbol: str
    name: str
    issuer: str
    home_jurisdiction: JurisdictionCode
    address: str


class SecurityDetail(SecuritySummary):
    decimals: int
    total_supply: int
    paused: bool
    admitted_jurisdictions: list[JurisdictionCode]
    issuance_approved: bool = Field(description="Whether the home regulator approved issuance (DSS notary gate).")
    issuance_limit: int
    rules: dict[str, int | bool] = Field(description="Live rule parameters (the rulebook's Terms), as on chain.")
    holders: dict[str, int] = Field(
        description="Holders counted per investor: total, GB, US, and NON_ACCREDITED (not accredited investors "
        "when they became holders, of any residence: Exchange Act 12(g)(1)(A))."
    )


class SecurityPage(BaseModel):
    items: list[SecuritySummary]
    page: PageInfo


class MintRequest(_Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"to": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "amount": 100}]}
    )
    to: Address
    amount: Units


class MintResult(TxResult):
    security: str
    to: str
    amount: int


# ---------------------------------------------------------------- offerings

#: A unix time (seconds, UTC) from 2001 to 2100.
OfferingTime = Annotated[StrictInt, Field(ge=1_000_000_000, lt=4_102_444_800)]


class OfferingCreate(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "exemption": "REG_S_CATEGORY_2",
                    "first_offer_at": 1788220800,
                    "closing_at": 1788566400,
                    "equity": False,
                }
            ]
        }
    )
    exemption: ExemptionName
    first_offer_at: OfferingTime
    closing_at: OfferingTime
    equity: bool = True


class OfferingDetail(BaseModel):
    security: str
    offering_id: int
    exemption: str
    equity: bool
    restricted: bool = Field(description="Units sold in it are restricted securities (Rule 144(a)(3)).")
    first_offer_at: int
    closing_at: int
    period_ends_at: int = Field(description="End of its Regulation S distribution compliance period (0: none).")
    purchasers: int
    non_accredited_purchasers: int
    non_accredited_purchasers_counted: int = Field(
        description="Counted against its 35 (Rule 506(b)), with 506(b) offerings within 90 days (Rule 152(b)(1))."
    )
    issued: int


class OfferingList(BaseModel):
    security: str
    offering_registry: str | None
    reporting_since: int
    items: list[OfferingDetail]


class OfferingIssueResult(MintResult):
    offering_id: int


# ---------------------------------------------------------------- investors


class InvestorCreate(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "wallet": "0xBcd4042DE499D14e55001CcbB24a551F3b954096",
                    "jurisdiction": "GB",
                    "category": "UK_PROFESSIONAL",
                    "kyc_valid_until": 1830297600,
                }
            ]
        }
    )
    wallet: Address
    identity: Address | None = Field(None, description="Defaults to the wallet.")
    jurisdiction: JurisdictionCode
    category: CategoryName
    kyc_valid_until: Annotated[UnixTime, Field(description="Unix time the KYC is valid until.")]
    holder_type: HolderTypeName | None = Field(
        None, description="Natural person or entity; derived from the category when absent (retail: natural person)."
    )
    us_person: bool | None = Field(
        None, description="A US person under Regulation S (Rule 902(k)); defaults to jurisdiction == US."
    )
    qib: bool | None = Field(
        None, description="A qualified institutional buyer (Rule 144A), of any jurisdiction; an entity only."
    )
    accredited_until: UnixTime | None = Field(
        None,
        description="Unix time the accredited-investor verification runs to (0: not accredited); defaults to "
        "the KYC expiry for US_ACCREDITED and US_QIB, else 0.",
    )

    @property
    def gives_attributes(self) -> bool:
        return any(v is not None for v in (self.holder_type, self.us_person, self.qib, self.accredited_until))


class InvestorUpdate(_Body):
    category: CategoryName | None = None
    kyc_valid_until: UnixTime | None = None
    holder_type: HolderTypeName | None = None
    us_person: bool | None = None
    qib: bool | None = Field(None, description="QIB status (Rule 144A); the chain refuses a natural person as QIB.")
    accredited_until: UnixTime | None = Field(None, description="End of the accreditation verification (0: none).")


class WalletLink(_Body):
    wallet: Address


class Investor(BaseModel):
    identity: str
    jurisdiction: JurisdictionCode
    category: CategoryName
    status: Literal["ACTIVE", "SUSPENDED"]
    kyc_valid_until: int
    wallets: list[str]
    holder_type: HolderTypeName
    us_person: bool = Field(description="A US person under Regulation S (Rule 902(k)), whatever the jurisdiction.")
    qib: bool = Field(description="A qualified institutional buyer (Rule 144A), whatever the jurisdiction.")
    accredited_until: int = Field(description="End of the accredited-investor verification; 0 when not accredited.")


class InvestorPage(BaseModel):
    items: list[Investor]
    page: PageInfo


class InvestorChange(TxResult):
    investor: Investor


# ---------------------------------------------------------------- transfers


class TransferRequest(_Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"to": "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "amount": 10}]}
    )
    to: Address
    amount: Units
    from_: Address | None = Field(None, alias="from", description="One of your wallets; defaults to your first wallet.")


class PrecheckRequest(_Body):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
                    "to": "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
                    "amount": 10,
                }
            ]
        },
    )
    from_: Address = Field(alias="from")
    to: Address
    amount: UnitsOrZero


class Precheck(BaseModel):
    allowed: bool
    code: int = Field(description="ERC-1404 restriction code; 0 when allowed.")
    rule: str = Field(description="The rule's machine name, SUCCESS when allowed.")
    message: str = Field(description="The rule's sentence, from the contract.")


class TransferResult(TxResult):
    security: str
    from_: str = Field(alias="from")
    to: str
    amount: int

    model_config = ConfigDict(populate_by_name=True)


# ---------------------------------------------------------------- positions


class Position(BaseModel):
    security: str
    wallet: str
    investor: str | None = Field(description="The investor identity the wallet belongs to.")
    jurisdiction: JurisdictionCode | None = Field(description="From the investor registry.")
    category: CategoryName | None
    balance: int
    frozen: bool


class Positions(BaseModel):
    security: str
    block_number: int
    block_timestamp: int
    total_supply: int
    items: list[Position]
    page: PageInfo


class InvestorPositions(BaseModel):
    investor: str
    block_number: int
    block_timestamp: int
    items: list[Position]
    page: PageInfo


class CapTableBucket(BaseModel):
    jurisdiction: JurisdictionCode | None
    category: CategoryName | None
    holders: int = Field(description="Investors (not wallets) holding a non-zero balance.")
    balance: int


class CapTable(BaseModel):
    security: str
    block_number: int
    block_timestamp: int
    total_supply: int
    holders: int
    by_jurisdiction: dict[str, int] = Field(description="Balance held per jurisdiction.")
    by_category: dict[str, int] = Field(description="Balance held per investor category.")
    buckets: list[CapTableBucket]


# ---------------------------------------------------------------- freezes


class FreezeRequest(_Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"wallet": "0x976EA74026E726554dB657fA54763abd0C3a0aa9"}]}
    )

    wallet: Address


class Freeze(BaseModel):
    security: str
    wallet: str
    frozen: bool
    frozen_by: Literal["GB", "US", "issuer"] | None = Field(
        description="GB or US when a regulator of that jurisdiction imposed the freeze, 'issuer' for the "
        "issuer's agent, null when not frozen."
    )


class FreezeChange(Freeze, TxResult):
    pass


class FreezePage(BaseModel):
    items: list[Freeze]
    page: PageInfo


# ---------------------------------------------------------------- audit


class GatewayRequest(BaseModel):
    sequence: int
    at: float
    principal: str | None
    role: str | None
    method: str
    path: str
    status: int
    tx_hash: str | None


class GatewayRequestPage(BaseModel):
    items: list[GatewayRequest]
    page: PageInfo


class ChainAction(BaseModel):
    """A regulatory or agent action recorded on chain: an event of the registry or a security that is not
    a plain transfer or approval (mints and burns are actions)."""

    event: str = Field(description="The event's name in the contract's ABI.", examples=["AddressFrozen"])
    contract: str
    security: str | None = Field(description="The security's symbol; None for the investor registry.")
    actor: str = Field(description="Who sent the transaction.")
    target: str | None = Field(description="Whom or what the action was about (a wallet, an investor).")
    tx_hash: str
    block_number: int
    log_index: int
    timestamp: int
    arguments: dict[str, Any] = Field(description="The event's arguments (integers beyond 2**53 as strings).")


class ChainActionPage(BaseModel):
    items: list[ChainAction]
    page: PageInfo


# ------------------------------------------------------------------ cash (routers/cash.py)


class CashTokenInfo(BaseModel):
    symbol: str
    name: str
    currency: str
    issuer: str
    address: str
    decimals: int
    total_supply: int
    reserves: int
    individual_limit: int | None = Field(description="Per-investor limit for individuals (minor units), if any.")
    business_limit: int | None = Field(description="Per-investor limit for businesses (minor units), if any.")


class HoldingLimitExemption(TxResult):
    symbol: str
    investor: str
    exempt: bool = Field(description="Whether the investor is now outside the holding limits.")
    holder_type: HolderTypeName = Field(description="The investor's holder type, as the registry keeps it.")
    limit: int | None = Field(description="The limit that now applies to the investor (minor units); None: none.")


class CashPage(BaseModel):
    items: list[CashTokenInfo]
    page: PageInfo


class CashBalance(BaseModel):
    symbol: str
    wallet: str
    balance: int
    frozen: bool


class CashIssue(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"to": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "amount": 10000}]},
    )
    to: Address
    amount: CashAmount


class CashRedeem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holder: Address = Field(alias="from")
    amount: CashAmount


class ReserveAttestation(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reserves": 100000000}]})
    reserves: Uint256


class CashChange(TxResult):
    symbol: str
    total_supply: int
    reserves: int


# ------------------------------------------------------------------ operator (routers/operator.py)


class TimeTravel(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"seconds": 86400}]})
    seconds: Annotated[StrictInt, Field(gt=0, le=100 * 365 * 86_400, description="How far to move the clock forward.")]


class ChainClock(BaseModel):
    block_number: int
    block_timestamp: int


# ------------------------------------------------------------------ settlements (routers/settlements.py)


ClearanceStatusName = Literal["PENDING", "CLEARED", "SETTLED", "REJECTED", "EXPIRED", "WITHDRAWN"]


class TradeProposal(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "side": "sell",
                    "counterparty": "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
                    "security": "THAMES28",
                    "quantity": 10,
                    "cash": "GBPS",
                    "cash_amount": 100000,
                }
            ]
        },
    )
    side: Literal["sell", "buy"] = Field(description="Whether you sell or buy the security.")
    counterparty: Address = Field(description="The other party's wallet.")
    security: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,11}$")]
    quantity: Units
    cash: Annotated[str, Field(pattern=r"^[A-Z]{3,8}$")]
    cash_amount: CashAmount = Field(description="The whole consideration, in the cash token's minor units.")
    deadline: Annotated[UnixTime | None, Field(description="Unix time; default: in 2 days.")] = None


class TradeView(BaseModel):
    trade_id: int
    seller: str
    buyer: str
    security: str
    quantity: int
    cash: str
    cash_amount: int
    deadline: int
    status: str
    failed_leg: str
    failure_code: int
    failure_rule: str | None
    clearance_id: int | None = Field(
        description="The security's cross-border request clearing this trade with both regulators (null if none); "
        "it is listed in GET /cross-border-transfers with this trade's id."
    )
    clearance_status: ClearanceStatusName | None = Field(
        description="PENDING: awaiting the regulators; CLEARED: both approved, the trade may settle."
    )
    awaiting_clearance: bool = Field(
        description="Whether the trade is held until the regulators of both parties approve its clearance."
    )


class TradeChange(TxResult):
    trade: TradeView


class SettlementOutcome(BaseModel):
    trade_id: int
    settled: bool
    failed_leg: str
    code: int = Field(description="0 when settled; else the failing token's rule code or a DvP code.")
    rule: str | None
    message: str | None


class SettlementResponse(TxResult):
    outcome: SettlementOutcome
    trade: TradeView


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trade_ids: Annotated[list[Annotated[StrictInt, Field(ge=0, lt=2**63)]], Field(min_length=1, max_length=200)]


class BatchResponse(TxResult):
    outcomes: list[SettlementOutcome]


# ------------------------------------------------------------------ freezes (routers/freezes.py)


class PartialFreeze(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"wallet": "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "amount": 100}]},
    )
    wallet: Address
    amount: Units


class FrozenAmount(TxResult):
    security: str
    wallet: str
    frozen_amount: int


# ------------------------------------------------------------------ securities (routers/securities.py)


class SecurityCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "symbol": "HUDB27",
                    "name": "Hudson Robotics 5% 2027 (Reg S)",
                    "home": "US",
                    "admitted": ["GB", "US"],
                    "rules": {"cross_border_threshold": 100, "us_min_category": "US_ACCREDITED"},
                }
            ]
        },
    )
    symbol: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,11}$")]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    home: JurisdictionCode
    admitted: Annotated[list[JurisdictionCode], Field(min_length=1, max_length=2)]
    decimals: Annotated[StrictInt, Field(ge=0, le=18)] = 0
    rules: SecurityRules = SecurityRules()


class IssuanceApproval(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"limit": 1_000_000}]})
    limit: Annotated[StrictInt, Field(gt=0, lt=2**96, description="Most units that may ever be issued.")]


# ---------------------------------------------------------------- sanctions

SanctionsRegimeName = Literal["OFSI", "OFAC"]


class Designation(BaseModel):
    party: str = Field(description="The designated investor identity or wallet.")
    investor: str | None = Field(description="The investor the party is or belongs to; None for an unknown wallet.")


class SanctionsList(BaseModel):
    regime: SanctionsRegimeName
    kept_by: JurisdictionCode = Field(description="The jurisdiction whose regulators keep the list on chain.")
    items: list[Designation]
    page: PageInfo


class DesignationRequest(_Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"party": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"}]}
    )
    party: Address


class DesignationChange(TxResult):
    regime: SanctionsRegimeName
    party: str
    designated: bool = Field(description="Whether the party is on the list after the change.")


# ------------------------------------------------------------------ crossborder (routers/crossborder.py)


class CrossBorderRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"to": "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "amount": 600}]},
    )
    to: Address
    amount: Units


class CrossBorderTransfer(BaseModel):
    security: str
    transfer_id: int
    sender: str
    receiver: str
    amount: int
    from_jurisdiction: Literal["GB", "US"]
    to_jurisdiction: Literal["GB", "US"]
    status: str = Field(
        description="PENDING awaits the regulators; a settlement's clearance is CLEARED once both approve (it "
        "settles with its trade) and WITHDRAWN if the trade was cancelled or expired."
    )
    deadline: int
    sender_regulator_approved: bool
    receiver_regulator_approved: bool
    settlement_contract: str | None = Field(
        None, description="The settlement contract that requested this transfer as a trade's clearance."
    )
    settlement_trade_id: int | None = Field(None, description="That contract's trade (GET /settlements/{id}).")
    window_seconds: int = Field(
        0, description="The window over which the sender's cross-border volume counts (0: each transfer alone)."
    )
    sender_window_volume: int = Field(
        0, description="What the sender's investor sent to other jurisdictions in this security within the window, now."
    )
    window_total: int | None = Field(
        None,
        description="For an open request: the window's volume with this request's units, what the threshold is "
        "held against.",
    )


class CrossBorderPage(BaseModel):
    items: list[CrossBorderTransfer]
    page: PageInfo


class CrossBorderChange(TxResult):
    transfer: CrossBorderTransfer


# ------------------------------------------------------------------ corporate_actions (routers/corporate_actions.py)

#: Most wallets one payment run may name.
MAX_BATCH = 200


class DistributionView(BaseModel):
    security: str
    distribution_id: int
    kind: Literal["COUPON", "REDEMPTION", "DIVIDEND"]
    state: Literal["DECLARED", "FUNDED", "CLOSED"]
    cash: str = Field(description="The cash token's symbol.")
    record_date: int = Field(description="Unix time: holders at the end of this second are paid.")
    record_instant: str = Field(
        description="ISO 8601 (the scenario's calendar): the instant the register of record is taken (close of "
        "business on the record date, in the security's time zone for a bond; record_date + 1 second)."
    )
    payment_date: int = Field(description="Unix time (a bond's coupon date rolled to a business day).")
    payment_day: str = Field(description="ISO 8601 date of payment_date (UTC).")
    period: int = Field(description="The coupon number (1 = the first coupon date); 0 for other kinds.")
    amount_per_unit: str = Field(description="Cash minor units per unit of the security, exactly (a fraction).")
    funded: int
    paid: int
    held: int
    returned: int


class DistributionPage(BaseModel):
    items: list[DistributionView]
    page: PageInfo


class DistributionChange(TxResult):
    distribution: DistributionView


class CouponPeriodView(BaseModel):
    period: int = Field(description="The coupon number (1 = the first coupon date).")
    accrual_start: str = Field(description="ISO 8601 date interest accrues from.")
    accrual_end: str = Field(description="ISO 8601 date: the unadjusted coupon date interest accrues to.")
    payment_day: str = Field(description="ISO 8601 date it is paid: the coupon date rolled to a business day.")
    rolled: bool = Field(description="Whether the payment date was rolled past a weekend or holiday.")
    record_instant: str = Field(
        description="ISO 8601 in the security's time zone: close of business on the record date."
    )
    record_date: int = Field(description="Unix time: the token's record key (record_instant - 1 second).")
    day_count_fraction: str = Field(description="The period's fraction of a year under the bond's day count.")
    amount_per_unit: str = Field(description="Cash minor units per unit of the security, exactly (a fraction).")
    distribution_id: int = Field(description="The coupon's distribution id once scheduled, else 0.")


class CouponScheduleView(BaseModel):
    security: str
    day_count: str
    close_of_business: str = Field(description='How record instants are set, e.g. "17:00 Europe/London".')
    items: list[CouponPeriodView]


class CouponSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"period": 2}]})
    period: Annotated[StrictInt, Field(ge=1, le=400, description="Coupon number: 1 = the first coupon date.")]


class DividendDeclaration(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"amount_per_share": 25, "record_date": 1800000000, "payment_date": 1800604800}]
        },
    )
    amount_per_share: PerUnitAmount = Field(description="Cash minor units per share.")
    record_date: Annotated[UnixTime, Field(description="Unix time; must be in the future.")]
    payment_date: Annotated[UnixTime, Field(description="Unix time; not before the record date.")]


class PaymentRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holders: Annotated[list[Address], Field(min_length=1, max_length=MAX_BATCH)]


class HeldPaymentView(BaseModel):
    holder: str
    amount: int
    code: int
    code_name: str


class PaymentRunResult(TxResult):
    distribution: DistributionView
    paid: dict[str, int] = Field(description="Wallet → amount paid by this run.")
    held: list[HeldPaymentView] = Field(description="Payments refused on chain and held for a later claim.")
    redeemed_units: dict[str, int] = Field(description="Wallet → units burned (a redemption).")


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    wallet: Address = Field(description="Your wallet that held units at the record date.")


class PaymentView(BaseModel):
    security: str
    distribution_id: int
    wallet: str
    entitlement: int = Field(description="What the wallet's record-date balance earns (rounded down).")
    status: Literal["UNPAID", "PAID", "HELD"]
    amount: int = Field(description="Paid, or held; 0 while unpaid.")
    code: int = Field(description="Why a payment is held (0 otherwise).")
    code_name: str


class ClaimResult(TxResult):
    payment: PaymentView


# ------------------------------------------------------------------ me (routers/me.py)


class Me(BaseModel):
    key: str = Field(description="The participant's key in the scenario (`operator` for the operator).")
    name: str
    role: str = Field(description="operator, regulator, issuer or investor.")
    jurisdiction: str | None = Field(description="GB or US; null for the operator.")
    account: str = Field(description="The chain account the gateway signs with for this principal.")
