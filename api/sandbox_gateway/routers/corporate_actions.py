"""Corporate actions of bonds and share classes, run by each security's paying agent on chain: the issuer
schedules coupons and the redemption, declares dividends, funds a distribution from its treasury and
pays holders in bounded batches; holders claim. Who is owed what is decided on chain from record-date
balances; a payment the chain refuses (a frozen wallet, a holding limit) is held, never lost."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path

from sandbox.contracts.corporate_actions import (
    BondPayingAgent,
    DayCount,
    Distribution,
    DistributionKind,
    EquityPayingAgent,
    PayingAgent,
    PaymentStatus,
    payment_code_name,
)
from sandbox.market import Market
from sandbox.rules import Jurisdiction
from sandbox_gateway.deps import AnyPrincipal, InvestorPrincipal, IssuerPrincipal, MarketDep, security_or_404
from sandbox_gateway.pagination import Paging, page_of
from sandbox_gateway.principals import Principal
from sandbox_gateway.problems import Problem, problem_doc
from sandbox_gateway.routing import GatewayRoute
from sandbox_gateway.schemas import (
    MAX_BATCH,
    ClaimRequest,
    ClaimResult,
    CouponPeriodView,
    CouponSchedule,
    CouponScheduleView,
    DistributionChange,
    DistributionPage,
    DistributionView,
    DividendDeclaration,
    HeldPaymentView,
    PaymentRun,
    PaymentRunResult,
    PaymentView,
    SymbolPath,
    WalletPath,
)
from sandbox_gateway.scope import forbidden, home_of, issues, not_found, own_wallets, sees_position
from sandbox_gateway.txresult import tx_fields

router = APIRouter(route_class=GatewayRoute, prefix="/securities", tags=["corporate-actions"])

#: The day counts by the names the scenarios use.
DAY_COUNT_NAMES = {
    DayCount.THIRTY_360_BOND_BASIS: "30/360",
    DayCount.THIRTY_E_360: "30E/360",
    DayCount.ACTUAL_365_FIXED: "ACT/365",
    DayCount.THIRTY_360_US: "30/360 US",
    DayCount.ACTUAL_ACTUAL_ICMA: "ACT/ACT ICMA",
}
DistributionIdPath = Annotated[int, Path(ge=1, lt=2**63, description="Distribution id (per paying agent).")]


def _agent(market: Market, symbol: str) -> PayingAgent:
    security_or_404(market, symbol)
    agent = market.paying_agents.get(symbol)
    if agent is None:
        raise Problem(
            404,
            "PAYING_AGENT_NOT_FOUND",
            "Paying agent not found",
            f"{symbol} has no paying agent: it is neither a bond nor a share class with corporate actions.",
        )
    return agent


def _bond(market: Market, symbol: str) -> BondPayingAgent:
    agent = _agent(market, symbol)
    if not isinstance(agent, BondPayingAgent):
        raise Problem(409, "NOT_A_BOND", "Not a bond", f"{symbol} is not a bond: it has no coupons or redemption.")
    return agent


def _equity(market: Market, symbol: str) -> EquityPayingAgent:
    agent = _agent(market, symbol)
    if not isinstance(agent, EquityPayingAgent):
        raise Problem(409, "NOT_AN_EQUITY", "Not a share class", f"{symbol} is not a share class: no dividends.")
    return agent


def _issuer_only(principal: Principal, market: Market, symbol: str) -> None:
    if not issues(principal, market, symbol):
        raise forbidden(f"Only the issuer of {symbol} may run its corporate actions.")


def _zone_of(agent: PayingAgent) -> ZoneInfo:
    """A bond's close-of-business zone (from its terms, "17:00 Europe/London"); UTC otherwise."""
    if isinstance(agent, BondPayingAgent):
        _, _, zone = agent.terms().close_of_business.partition(" ")
        try:
            return ZoneInfo(zone)
        except (ValueError, KeyError):
            pass
    return ZoneInfo("UTC")


def _iso_instant(market: Market, timestamp: int, zone: ZoneInfo) -> str:
    """Chain time as an ISO 8601 instant of the scenario's calendar (the chain runs `calendar_offset`
    seconds, whole days, ahead of it when a history was loaded to end today)."""
    return datetime.fromtimestamp(timestamp - market.calendar_offset, zone).isoformat()


def _iso_day(market: Market, timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp - market.calendar_offset, UTC).date().isoformat()


def _view(market: Market, symbol: str, d: Distribution, zone: ZoneInfo | None = None) -> DistributionView:
    if zone is None:
        zone = _zone_of(market.paying_agent(symbol))
    return DistributionView(
        security=symbol,
        distribution_id=d.distribution_id,
        kind=d.kind.name,
        state=d.state.name,
        cash=market.symbol_of(d.cash) or d.cash,
        record_date=d.record_date,
        record_instant=_iso_instant(market, d.record_date + 1, zone),
        payment_date=d.payment_date,
        payment_day=_iso_day(market, d.payment_date),
        period=d.period + 1 if d.kind is DistributionKind.COUPON else 0,
        amount_per_unit=str(d.amount_per_unit),
        funded=d.funded,
        paid=d.paid,
        held=d.held,
        returned=d.returned,
    )


def _existing(agent: PayingAgent, symbol: str, distribution_id: int) -> Distribution:
    if distribution_id > agent.distribution_count():
        raise not_found("distribution", f"{symbol}/{distribution_id}")
    return agent.distribution(distribution_id)


def _payment(agent: PayingAgent, symbol: str, distribution_id: int, wallet: str) -> PaymentView:
    payment = agent.payment(distribution_id, wallet)
    return PaymentView(
        security=symbol,
        distribution_id=distribution_id,
        wallet=wallet,
        entitlement=agent.entitlement(distribution_id, wallet),
        status=payment.status.name,
        amount=payment.amount,
        code=payment.code,
        code_name=payment_code_name(payment.code) if payment.status is PaymentStatus.HELD else "SUCCESS",
    )


@router.get(
    "/{symbol}/distributions",
    operation_id="corporate-actions-list",
    summary="Coupons, redemption and dividends of a security",
    description="Terms of a security's distributions are public to every participant. A security without a "
    "paying agent (neither a bond nor a share class) is 404.",
)
def list_distributions(
    symbol: SymbolPath, market: MarketDep, principal: AnyPrincipal, paging: Paging
) -> DistributionPage:
    agent = _agent(market, symbol)
    ids, page = page_of(list(range(1, agent.distribution_count() + 1)), paging)
    zone = _zone_of(agent)
    return DistributionPage(items=[_view(market, symbol, agent.distribution(i), zone) for i in ids], page=page)


@router.get(
    "/{symbol}/coupons",
    operation_id="corporate-actions-coupon-schedule",
    summary="A bond's coupon schedule: accrual, rolled payment dates, record instants",
    description="Public to every participant. Each period's unadjusted coupon date, its payment date rolled to "
    "the following business day of the currency's calendar, the record instant (close of business on the "
    "record date in the bond's time zone) and the amount per unit, all as the bond's paying agent holds them "
    "on chain. A security that is not a bond is 409 NOT_A_BOND.",
)
def coupon_schedule(symbol: SymbolPath, market: MarketDep, principal: AnyPrincipal) -> CouponScheduleView:
    agent = _bond(market, symbol)
    terms = agent.terms()
    zone = _zone_of(agent)
    items = []
    for k, (end, paid, record) in enumerate(
        zip(terms.coupon_dates, terms.payment_dates, terms.record_dates, strict=True)
    ):
        start = terms.issue_date if k == 0 else terms.coupon_dates[k - 1]
        numerator, denominator = agent.coupon_per_unit(k)
        dc_numerator, dc_denominator = agent.day_count_fraction(k)
        items.append(
            CouponPeriodView(
                period=k + 1,
                accrual_start=_iso_day(market, start),
                accrual_end=_iso_day(market, end),
                payment_day=_iso_day(market, paid),
                rolled=paid != end,
                record_instant=_iso_instant(market, record + 1, zone),
                record_date=record,
                day_count_fraction=f"{dc_numerator}/{dc_denominator}",
                amount_per_unit=str(Fraction(numerator, denominator)),
                distribution_id=agent.coupon_distribution(k),
            )
        )
    return CouponScheduleView(
        security=symbol,
        day_count=DAY_COUNT_NAMES[terms.day_count],
        close_of_business=terms.close_of_business,
        items=items,
    )


@router.get(
    "/{symbol}/distributions/{distribution_id}",
    operation_id="corporate-actions-get",
    description="Any participant with a key: one distribution's terms and how much was funded, paid and held.",
    summary="One distribution: terms and how much was funded, paid, held",
)
def get_distribution(
    symbol: SymbolPath, distribution_id: DistributionIdPath, market: MarketDep, principal: AnyPrincipal
) -> DistributionView:
    agent = _agent(market, symbol)
    return _view(market, symbol, _existing(agent, symbol, distribution_id))


@router.post(
    "/{symbol}/coupons",
    operation_id="corporate-actions-schedule-coupon",
    status_code=201,
    summary="Schedule a coupon payment (issuer of a bond)",
    description="Declares coupon number `period` (1 = the first) of the bond's fixed schedule; its record "
    "instant (close of business on the record date, see GET /securities/{symbol}/coupons) must still be "
    "ahead. The amount per unit is computed on chain from the bond's terms "
    "(face value times rate times day-count fraction).",
)
def schedule_coupon(
    symbol: SymbolPath, body: CouponSchedule, market: MarketDep, principal: IssuerPrincipal
) -> DistributionChange:
    _issuer_only(principal, market, symbol)
    agent = _bond(market, symbol)
    declared = agent.schedule_coupon(body.period - 1, sender=principal.account)
    distribution = agent.distribution(declared.distribution_id)
    return DistributionChange(distribution=_view(market, symbol, distribution), **tx_fields(declared.receipt))


@router.post(
    "/{symbol}/redemption",
    operation_id="corporate-actions-schedule-redemption",
    status_code=201,
    summary="Schedule the redemption at maturity (issuer of a bond)",
    description="Holders at the record date are paid the face value per unit and their units are burned.",
)
def schedule_redemption(symbol: SymbolPath, market: MarketDep, principal: IssuerPrincipal) -> DistributionChange:
    _issuer_only(principal, market, symbol)
    agent = _bond(market, symbol)
    declared = agent.schedule_redemption(sender=principal.account)
    distribution = agent.distribution(declared.distribution_id)
    return DistributionChange(distribution=_view(market, symbol, distribution), **tx_fields(declared.receipt))


@router.post(
    "/{symbol}/dividends",
    operation_id="corporate-actions-declare-dividend",
    description=(
        "The issuer of a share class declares a dividend per share with its record and payment dates; holders at "
        "the record date are paid when it is funded."
    ),
    status_code=201,
    summary="Declare a dividend per share (issuer of a share class)",
)
def declare_dividend(
    symbol: SymbolPath, body: DividendDeclaration, market: MarketDep, principal: IssuerPrincipal
) -> DistributionChange:
    _issuer_only(principal, market, symbol)
    agent = _equity(market, symbol)
    most = agent.max_amount_per_unit()
    if body.amount_per_share > most:
        raise Problem(
            422,
            "AMOUNT_TOO_LARGE",
            "Amount too large",
            f"A dividend pays at most {most} cash units per share: its total over every share the token "
            "can hold must be fundable.",
        )
    declared = agent.declare_dividend(
        body.amount_per_share, body.record_date, body.payment_date, sender=principal.account
    )
    distribution = agent.distribution(declared.distribution_id)
    return DistributionChange(distribution=_view(market, symbol, distribution), **tx_fields(declared.receipt))


@router.post(
    "/{symbol}/distributions/{distribution_id}/funding",
    operation_id="corporate-actions-fund",
    summary="Fund a distribution from the issuer's treasury (issuer)",
    description="After the record date: the paying agent pulls what every holder of record is owed from the "
    "issuer's treasury wallet (which approves exactly that, and only once the funding would succeed). Refused "
    "on chain before the record date or short of cash; a refused funding changes nothing.",
)
def fund(
    symbol: SymbolPath, distribution_id: DistributionIdPath, market: MarketDep, principal: IssuerPrincipal
) -> DistributionChange:
    _issuer_only(principal, market, symbol)
    agent = _agent(market, symbol)
    _existing(agent, symbol, distribution_id)
    payer = market.treasuries.get(principal.key, principal.account)
    receipt = market.fund_distribution(symbol, distribution_id, payer=payer)
    return DistributionChange(
        distribution=_view(market, symbol, agent.distribution(distribution_id)), **tx_fields(receipt)
    )


@router.post(
    "/{symbol}/distributions/{distribution_id}/payments",
    operation_id="corporate-actions-pay",
    summary="Pay a funded distribution to a batch of holders (issuer)",
    description=f"At most {MAX_BATCH} wallets a run. Wallets already paid are skipped; a payment the chain "
    "refuses (a frozen wallet, a holding limit) is held and reported, and the holder may claim it later.",
)
def pay(
    symbol: SymbolPath,
    distribution_id: DistributionIdPath,
    body: PaymentRun,
    market: MarketDep,
    principal: IssuerPrincipal,
) -> PaymentRunResult:
    _issuer_only(principal, market, symbol)
    agent = _agent(market, symbol)
    _existing(agent, symbol, distribution_id)
    payer = market.treasuries.get(principal.key, principal.account)
    batch = agent.pay_batch(distribution_id, body.holders, sender=payer)
    return PaymentRunResult(
        distribution=_view(market, symbol, agent.distribution(distribution_id)),
        paid=batch.paid,
        held=[
            HeldPaymentView(holder=h.holder, amount=h.amount, code=h.code, code_name=h.code_name) for h in batch.held
        ],
        redeemed_units=batch.redeemed_units,
        **tx_fields(batch.receipt),
    )


@router.post(
    "/{symbol}/distributions/{distribution_id}/claims",
    operation_id="corporate-actions-claim",
    summary="Claim your payment, or a payment held for you (investor)",
    description="Pays your wallet what its record-date balance earns, or releases a held payment once its "
    "cause is gone; refused on chain (409, with the reason's code) while it still applies.",
)
def claim(
    symbol: SymbolPath,
    distribution_id: DistributionIdPath,
    body: ClaimRequest,
    market: MarketDep,
    principal: InvestorPrincipal,
) -> ClaimResult:
    agent = _agent(market, symbol)
    if body.wallet not in own_wallets(principal, market):
        raise forbidden("You may claim only for your own wallets.")
    _existing(agent, symbol, distribution_id)
    receipt = agent.claim(distribution_id, sender=body.wallet)
    return ClaimResult(payment=_payment(agent, symbol, distribution_id, body.wallet), **tx_fields(receipt))


@router.get(
    "/{symbol}/distributions/{distribution_id}/payments/{wallet}",
    operation_id="corporate-actions-payment",
    summary="What a wallet is owed and whether it was paid or held",
    responses={
        409: problem_doc(
            "The record date has not passed yet, so nothing is owed yet (PAYING_AGENT_RECORD_DATE_NOT_PASSED)."
        )
    },
    description="Investors see their own wallets, regulators those of their jurisdiction's investors and every "
    "wallet of their jurisdiction's securities, the issuer its securities' holders.",
)
def payment(
    symbol: SymbolPath,
    distribution_id: DistributionIdPath,
    wallet: WalletPath,
    market: MarketDep,
    principal: AnyPrincipal,
) -> PaymentView:
    agent = _agent(market, symbol)
    token = market.securities[symbol]
    record = market.registry.wallet_record(wallet)
    holder = Jurisdiction(record.jurisdiction).name if record.identity is not None else None
    if not sees_position(principal, market, symbol, home_of(token), holder, wallet):
        raise not_found("wallet", wallet)
    _existing(agent, symbol, distribution_id)
    return _payment(agent, symbol, distribution_id, wallet)
