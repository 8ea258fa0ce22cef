"""Facades over the paying agents (`contracts/src/corporate/`): bond coupons and redemption, equity
dividends and splits, paid in a cash token to whoever held the security at the record date.

The rules (stated once, on chain, in `PayingAgent.sol`):

- A distribution pays ``numerator / denominator`` cash units per unit of the security; a wallet is owed
  ``floor(balance_at_record_date * numerator / denominator)`` (exact, rounded down per holder).
- After the record date the issuer funds it (`fund`): the agent sets aside
  ``floor(total_supply_at_record_date * numerator / denominator)``, using cash it already holds beyond
  what it owes first, then pulling the shortfall from the issuer with ``transferFrom``.
- From the payment date a holder claims (`claim`) or the issuer pays in batches (`pay_batch`, at most
  `max_batch()` wallets). Each wallet is paid exactly once.
- In a batch, a payment to a wallet frozen on the security token, or refused by the cash token (frozen,
  over the GBP holding limit, ...) is *held* (event ``PaymentHeld`` with the reason code) and the holder
  claims it later; a refused `claim` reverts and changes nothing.
- After ``payment_date + claim_period`` the issuer may take the remainder (rounding dust and unclaimed
  amounts, never held payments) back with `return_remainder`, which closes the distribution.

Bond coupon of period k per unit: ``face * rate_bps * day_count_numerator / (10_000 *
day_count_denominator)``; day counts 30/360 US bond basis (ISDA 4.16(f)), 30E/360 (4.16(g)), ACT/365
Fixed, 30/360 US with SIFMA's end-of-February rule, ACT/ACT ICMA (a regular period is 1/frequency).
Each period's payment date (rolled to a business day) and record instant (close of business in the
security's time zone) are fixed in the terms (`sandbox.calendars` computes them).
Redemption pays the face value per record-date unit and burns the wallet's units.

Deployment wires the roles: AGENT_ROLE on the security token (record dates, burns at redemption, the
split), settlement-contract status on the cash token (so the agent holds cash outside holding limits)
and record dates switched on on the token (possible only while its supply is zero)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from fractions import Fraction
from typing import Any, Self

from eth_utils import to_checksum_address

from sandbox.chain.base import Chain, Receipt
from sandbox.contracts.base import ContractFacade
from sandbox.contracts.cash_token import CashToken
from sandbox.contracts.security_token import SecurityToken
from sandbox.errors import ContractReverted, SandboxError
from sandbox.rules import code_name

#: A year of seconds; the default claim period of the deploy helpers.
YEAR = 365 * 86_400


class DistributionKind(IntEnum):
    """Mirrors `IPayingAgent.DistributionKind`."""

    COUPON = 0
    REDEMPTION = 1
    DIVIDEND = 2


class DistributionState(IntEnum):
    """Mirrors `IPayingAgent.DistributionState`."""

    DECLARED = 0
    FUNDED = 1
    CLOSED = 2


class PaymentStatus(IntEnum):
    """Mirrors `IPayingAgent.PaymentStatus`."""

    UNPAID = 0
    PAID = 1
    HELD = 2


class DayCount(IntEnum):
    """Mirrors `IBondPayingAgent.DayCount`."""

    THIRTY_360_BOND_BASIS = 0
    THIRTY_E_360 = 1
    ACTUAL_365_FIXED = 2
    #: 30/360 as SIFMA states it for US corporates, with the end-of-February rule.
    THIRTY_360_US = 3
    #: ACT/ACT ICMA: a regular period is exactly 1/frequency of a year (gilts' fixed half-years).
    ACTUAL_ACTUAL_ICMA = 4


class PaymentCode(IntEnum):
    """The paying agents' own hold reasons (`PaymentCodes.sol`, 0xB0-0xBF); a payment refused by the
    cash token is held with the cash token's code (0x80-0x9F) instead."""

    SUCCESS = 0
    SECURITY_WALLET_FROZEN = 0xB1
    UNITS_NOT_BURNABLE = 0xB2
    CASH_TRANSFER_FAILED = 0xBF


def payment_code_name(code: int) -> str:
    """The machine name of a hold code: a `PaymentCode` (``PAYMENT_...``) or a cash rule (``CASH_...``)."""
    return code_name(code)


@dataclass(frozen=True)
class Distribution:
    """A distribution as stored (`IPayingAgent.Distribution`); amounts in the cash token's units."""

    distribution_id: int
    cash: str
    kind: DistributionKind
    state: DistributionState
    record_date: int
    payment_date: int
    period: int
    numerator: int
    denominator: int
    funded: int
    returned: int
    paid: int
    held: int

    @property
    def amount_per_unit(self) -> Fraction:
        """Cash units per unit of the security, exactly."""
        return Fraction(self.numerator, self.denominator)

    def amount_for(self, units: int) -> int:
        """What a wallet holding `units` at the record date is owed (rounded down)."""
        return units * self.numerator // self.denominator


@dataclass(frozen=True)
class Payment:
    """One wallet's payment of one distribution: `code` is the hold reason (0 unless held); `amount`
    what was paid or is held (0 while unpaid)."""

    status: PaymentStatus
    code: int
    amount: int


@dataclass(frozen=True)
class Declared:
    """A declared distribution's id and the transaction that declared it."""

    distribution_id: int
    receipt: Receipt


@dataclass(frozen=True)
class HeldPayment:
    holder: str
    amount: int
    code: int

    @property
    def code_name(self) -> str:
        return payment_code_name(self.code)


@dataclass(frozen=True)
class PaymentBatch:
    """What one `pay_batch` did: wallets paid (holder → amount), payments newly held, units burned at a
    redemption (holder → units)."""

    receipt: Receipt
    paid: dict[str, int]
    held: tuple[HeldPayment, ...]
    redeemed_units: dict[str, int]


@dataclass(frozen=True)
class BondTerms:
    """A bond's terms (`IBondPayingAgent.BondTerms`): `face_value` per unit in cash units,
    `coupon_rate_bps` per year, Unix times for `issue_date`, `coupon_dates` (strictly increasing, the
    last = `maturity`; interest accrues to these unadjusted dates), `payment_dates` (each coupon date
    rolled to a business day, at most 14 days later) and `record_dates` (each payment's record instant:
    the last second of the register of record, see `sandbox.calendars.record_instant`), `frequency`
    coupons a year (ACT/ACT ICMA needs it) and `close_of_business` ("17:00 Europe/London"), a note for
    people of how the record instants were set.

    Tests and benches may give `record_lag` (seconds) instead of the two schedules: payment dates are
    then the coupon dates, and each record instant is `record_lag` seconds before its payment."""

    isin: str
    cash: str
    face_value: int
    coupon_rate_bps: int
    day_count: DayCount
    issue_date: int
    coupon_dates: tuple[int, ...]
    maturity: int
    issuance_limit: int
    record_lag: int = 0
    payment_dates: tuple[int, ...] = ()
    record_dates: tuple[int, ...] = ()
    frequency: int = 2
    close_of_business: str = ""

    def __post_init__(self) -> None:
        if not self.payment_dates:
            object.__setattr__(self, "payment_dates", tuple(self.coupon_dates))
        if not self.record_dates:
            object.__setattr__(self, "record_dates", tuple(d - self.record_lag for d in self.payment_dates))

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.isin,
            self.cash,
            self.face_value,
            self.coupon_rate_bps,
            int(self.day_count),
            self.issue_date,
            list(self.coupon_dates),
            self.maturity,
            self.issuance_limit,
            list(self.payment_dates),
            list(self.record_dates),
            self.frequency,
            self.close_of_business,
        )

    @classmethod
    def from_tuple(cls, value: Sequence[Any]) -> BondTerms:
        isin, cash, face, rate, day_count, issue, dates, maturity, limit, payments, records, freq, cob = value
        return cls(
            isin=str(isin),
            cash=to_checksum_address(cash),
            face_value=int(face),
            coupon_rate_bps=int(rate),
            day_count=DayCount(day_count),
            issue_date=int(issue),
            coupon_dates=tuple(int(d) for d in dates),
            maturity=int(maturity),
            issuance_limit=int(limit),
            payment_dates=tuple(int(d) for d in payments),
            record_dates=tuple(int(d) for d in records),
            frequency=int(freq),
            close_of_business=str(cob),
        )


def wire_paying_agent(chain: Chain, agent: str, *, security: str, cash: str, token_admin: str, cash_admin: str) -> None:
    """Gives paying agent `agent` what it needs: AGENT_ROLE on `security`, settlement-contract status on
    `cash`, and record dates switched on on `security` (if they are not yet; only at zero supply).

    Raises `SandboxError` if the token has units outstanding and no record dates: they cannot be
    switched on any more, so no distribution could be declared."""
    token = SecurityToken(chain, security)
    if not token.record_dates_enabled():
        supply = token.total_supply()
        if supply != 0:
            raise SandboxError(
                f"security {security} has {supply} units outstanding and record dates switched off; "
                "they can only be enabled at zero supply (deploy the paying agent before issuing)"
            )
        token.enable_record_dates(sender=token_admin)
    if not token.has_role("AGENT_ROLE", agent):
        token.grant_role("AGENT_ROLE", agent, sender=token_admin)
    cash_token = CashToken(chain, cash)
    if not cash_token.is_settlement_contract(agent):
        cash_token.set_settlement_contract(agent, True, sender=cash_admin)


class PayingAgent(ContractFacade):
    """What the bond and equity paying agents share (`PayingAgent.sol`)."""

    artifact_name = "PayingAgent"

    def _explain(self, exc: ContractReverted) -> None:
        # A refused claim carries the reason code: name it like a rule (cash codes by the cash rulebook).
        if exc.error_name == "PayingAgentPaymentRefused":
            code = int(exc.args_by_name["code"])
            exc.rule_code = code
            exc.rule_name = payment_code_name(code)

    # views
    def security(self) -> str:
        return to_checksum_address(self._read("security"))

    def claim_period(self) -> int:
        return int(self._read("claimPeriod"))

    def max_batch(self) -> int:
        return int(self._read("MAX_BATCH"))

    def max_amount_per_unit(self) -> int:
        """The most cash units a distribution may pay per unit of the security (a constant of the
        contract: the total over the most units a token can hold must fit what the agent records)."""
        return int(self._read("MAX_AMOUNT_PER_UNIT"))

    def distribution_count(self) -> int:
        return int(self._read("distributionCount"))

    def distribution(self, distribution_id: int) -> Distribution:
        (cash, kind, state, record_date, payment_date, period, num, den, funded, returned, paid, held) = self._read(
            "distribution", distribution_id
        )
        return Distribution(
            distribution_id=distribution_id,
            cash=to_checksum_address(cash),
            kind=DistributionKind(kind),
            state=DistributionState(state),
            record_date=int(record_date),
            payment_date=int(payment_date),
            period=int(period),
            numerator=int(num),
            denominator=int(den),
            funded=int(funded),
            returned=int(returned),
            paid=int(paid),
            held=int(held),
        )

    def entitlement(self, distribution_id: int, holder: str) -> int:
        """What `holder` is owed by the distribution (from its record-date balance), paid or not."""
        return int(self._read("entitlement", distribution_id, holder))

    def required_funding(self, distribution_id: int) -> int:
        return int(self._read("requiredFunding", distribution_id))

    def payment(self, distribution_id: int, holder: str) -> Payment:
        status, code, amount = self._read("payment", distribution_id, holder)
        return Payment(PaymentStatus(status), int(code), int(amount))

    def held_amount(self, distribution_id: int, holder: str) -> int:
        return int(self._read("heldAmount", distribution_id, holder))

    def is_paid(self, distribution_id: int, holder: str) -> bool:
        return bool(self._read("isPaid", distribution_id, holder))

    def remainder(self, distribution_id: int) -> int:
        return int(self._read("remainder", distribution_id))

    def claim_deadline(self, distribution_id: int) -> int:
        return int(self._read("claimDeadline", distribution_id))

    def liabilities(self, cash: str) -> int:
        """Cash in `cash` the agent owes over all distributions (held payments included)."""
        return int(self._read("liabilities", cash))

    def message_for_payment_code(self, code: int) -> str:
        return str(self._read("messageForPaymentCode", code))

    # operations
    def fund(self, distribution_id: int, *, sender: str | None = None) -> Receipt:
        """Sets the distribution's cash aside (issuer; after the record date). The issuer approves the
        agent on the cash token for the shortfall first (see `required_funding`)."""
        return self._send("fund", distribution_id, sender=sender)

    def preview_fund(self, distribution_id: int, *, sender: str) -> None:
        """Dry run of `fund` by `sender` (an eth_call, nothing is sent): returns if it would succeed now;
        raises `ContractReverted` with the error `fund` would revert with (``PayingAgentFundingFailed``,
        carrying the `shortfall`, when the pull from `sender` would fail: allowance, balance or a cash
        rule)."""
        try:
            self.chain.call(self.address, self._abi.encode_call("fund", (distribution_id,)), sender=sender)
        except ContractReverted as exc:
            self._explain(exc)
            raise

    def claim(self, distribution_id: int, *, sender: str | None = None) -> Receipt:
        """Pays the sender its amount, or its held payment; a refusal raises `ContractReverted`
        (``PayingAgentPaymentRefused`` with `rule_code` / `rule_name` set to the reason)."""
        return self._send("claim", distribution_id, sender=sender)

    def pay_batch(
        self, distribution_id: int, holders: Sequence[str], *, sender: str | None = None, gas: int | None = None
    ) -> PaymentBatch:
        """Pays the distribution to `holders` (issuer; at most `max_batch()`): paid wallets are skipped,
        refused payments held."""
        receipt = self._send("payBatch", distribution_id, list(holders), sender=sender, gas=gas)
        paid: dict[str, int] = {}
        held: list[HeldPayment] = []
        burned: dict[str, int] = {}
        for event in self.events(receipt):
            args = event.args
            if event.name == "PaymentMade":
                paid[str(args["holder"])] = int(args["amount"])
            elif event.name == "PaymentHeld":
                held.append(HeldPayment(str(args["holder"]), int(args["amount"]), int(args["code"])))
            elif event.name == "UnitsRedeemed":
                burned[str(args["holder"])] = int(args["units"])
        return PaymentBatch(receipt, paid, tuple(held), burned)

    def return_remainder(self, distribution_id: int, to: str, *, sender: str | None = None) -> Receipt:
        """After the claim deadline: sends the remainder to `to` and closes the distribution (issuer)."""
        return self._send("returnRemainder", distribution_id, to, sender=sender)

    def _declared(self, receipt: Receipt) -> Declared:
        (event,) = self.events(receipt, "DistributionDeclared")
        return Declared(int(event.args["id"]), receipt)


class BondPayingAgent(PayingAgent):
    """The paying agent of a bond (`BondPayingAgent.sol`): terms fixed at deployment, coupons per
    period and the redemption at maturity."""

    artifact_name = "BondPayingAgent"

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        *,
        terms: BondTerms,
        security: str,
        issuer: str,
        sender: str,
        claim_period: int = YEAR,
        token_admin: str | None = None,
        cash_admin: str | None = None,
        wire: bool = True,
    ) -> Self:
        """Deploys the agent of `security` with `terms` (the token must have issuance approved at or
        above `terms.issuance_limit`) and, with `wire`, wires it (`wire_paying_agent`; the token's and
        the cash token's admins default to `sender`)."""
        agent = cls.deploy_contract(chain, [terms.as_tuple(), security, claim_period, issuer], sender=sender)
        if wire:
            wire_paying_agent(
                chain,
                agent.address,
                security=security,
                cash=terms.cash,
                token_admin=token_admin or sender,
                cash_admin=cash_admin or sender,
            )
        return agent

    # views
    def terms(self) -> BondTerms:
        return BondTerms.from_tuple(self._read("terms"))

    def isin(self) -> str:
        return str(self._read("isin"))

    def coupon_count(self) -> int:
        return int(self._read("couponCount"))

    def coupon_period(self, period: int) -> tuple[int, int, int]:
        """(accrual start, payment date, record instant) of coupon period `period` (0-based)."""
        start, payment_date, record_date = self._read("couponPeriod", period)
        return int(start), int(payment_date), int(record_date)

    def coupon_schedule(self, period: int) -> tuple[int, int, int, int]:
        """(accrual start, accrual end = unadjusted coupon date, payment date, record instant) of coupon
        period `period` (0-based)."""
        start, end, payment_date, record_date = self._read("couponSchedule", period)
        return int(start), int(end), int(payment_date), int(record_date)

    def day_count_fraction(self, period: int) -> tuple[int, int]:
        """(numerator, denominator) of the period's year fraction, e.g. (180, 360) or (181, 365)."""
        numerator, denominator = self._read("dayCountFraction", period)
        return int(numerator), int(denominator)

    def coupon_per_unit(self, period: int) -> tuple[int, int]:
        """(numerator, denominator): the period's coupon per unit in cash units, exactly."""
        numerator, denominator = self._read("couponPerUnit", period)
        return int(numerator), int(denominator)

    def coupon_distribution(self, period: int) -> int:
        """The distribution id of coupon `period` (0 until scheduled)."""
        return int(self._read("couponDistribution", period))

    def redemption_distribution(self) -> int:
        """The distribution id of the redemption (0 until scheduled)."""
        return int(self._read("redemptionDistribution"))

    # operations
    def schedule_coupon(self, period: int, *, sender: str | None = None) -> Declared:
        """Declares coupon `period` and schedules its record date on the token (issuer)."""
        return self._declared(self._send("scheduleCoupon", period, sender=sender))

    def schedule_redemption(self, *, sender: str | None = None) -> Declared:
        """Declares the redemption at maturity and schedules its record date on the token (issuer)."""
        return self._declared(self._send("scheduleRedemption", sender=sender))


class EquityPayingAgent(PayingAgent):
    """The paying agent of a share class (`EquityPayingAgent.sol`): dividends per share, and the
    issuer's N-for-1 split run through it (`start_split`, then `split_batch` until the token's split is
    no longer in progress)."""

    artifact_name = "EquityPayingAgent"

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        *,
        share_class: str,
        security: str,
        cash: str,
        par_value: int,
        issuer: str,
        sender: str,
        claim_period: int = YEAR,
        token_admin: str | None = None,
        cash_admin: str | None = None,
        wire: bool = True,
    ) -> Self:
        """Deploys the agent of `security` paying dividends in `cash` (`par_value` in cash units per
        share) and, with `wire`, wires it (`wire_paying_agent`)."""
        agent = cls.deploy_contract(
            chain, [share_class, security, cash, par_value, claim_period, issuer], sender=sender
        )
        if wire:
            wire_paying_agent(
                chain,
                agent.address,
                security=security,
                cash=cash,
                token_admin=token_admin or sender,
                cash_admin=cash_admin or sender,
            )
        return agent

    # views
    def share_class(self) -> str:
        return str(self._read("shareClass"))

    def cash(self) -> str:
        return to_checksum_address(self._read("cash"))

    def par_value(self) -> tuple[int, int]:
        """(amount, divisor): par value per share is amount / divisor cash units."""
        amount, divisor = self._read("parValue")
        return int(amount), int(divisor)

    # operations
    def declare_dividend(
        self, amount_per_share: int, record_date: int, payment_date: int, *, sender: str | None = None
    ) -> Declared:
        """Declares a dividend of `amount_per_share` cash units per share held at `record_date`, payable
        from `payment_date` (issuer)."""
        return self._declared(self._send("declareDividend", amount_per_share, record_date, payment_date, sender=sender))

    def start_split(self, ratio: int, *, sender: str | None = None) -> Receipt:
        """Starts an N-for-1 split on the token (issuer); then `split_batch` over the holders."""
        return self._send("startSplit", ratio, sender=sender)

    def split_batch(self, wallets: Sequence[str], *, sender: str | None = None) -> Receipt:
        """Applies the split in progress to `wallets` on the token (issuer)."""
        return self._send("splitBatch", list(wallets), sender=sender)
