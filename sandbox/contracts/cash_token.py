"""Facade over `CashToken`: the GBP and USD settlement tokens (fully reserved, issuer-minted, held
only by registered investors and registered settlement contracts, with per-investor holding limits).

Amounts are minor units (pence / cents, 2 decimals): `minor_units("19999.99") == 1_999_999`. The
limits apply per investor identity across all its wallets, by the holder type the registry keeps
(natural person: the individual limit; entity: the business limit), not by client category. Registered
settlement contracts (`set_settlement_contract`, e.g. the DvP contract) need no registry record, and
the transfers they execute (wholesale settlement in the DSS) are outside the limits; a regulator of the
currency's home may exempt an investor (`set_holding_limit_exemption`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Self

from sandbox.chain.base import Chain, Receipt
from sandbox.contracts.restricted_token import RestrictedToken
from sandbox.errors import SandboxError
from sandbox.rules import CASH_RULES_BY_ERROR, HolderType, Jurisdiction  # the cash rulebook lives in sandbox.rules

#: The contract's "no limit" value (type(uint256).max); the facade shows it as None.
NO_LIMIT = 2**256 - 1
#: Amounts have 2 decimals (pence / cents).
CASH_DECIMALS = 2
#: Bank of England consultation on systemic sterling stablecoins (10 Nov 2025), in pence.
GBP_INDIVIDUAL_LIMIT = 20_000_00
GBP_BUSINESS_LIMIT = 10_000_000_00


@dataclass(frozen=True)
class HoldingLimits:
    """The token's holding limits per investor identity, in minor units; None means no limit."""

    individual: int | None
    business: int | None


@dataclass(frozen=True)
class HoldingLimit:
    """The limit that applies to one wallet's investor (None: none, e.g. exempt), and the holder type
    (the registry's) it was chosen by."""

    holder_type: HolderType
    limit: int | None


def minor_units(amount: Decimal | str | int) -> int:
    """Pounds or dollars as an exact count of pence or cents: ``minor_units("19999.99") == 1999999``.

    Raises `SandboxError` for amounts with more than two decimals or that are not numbers.
    """
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise SandboxError(f"not an amount: {amount!r}") from None
    scaled = value.scaleb(CASH_DECIMALS)
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise SandboxError(f"{amount!r} has more than {CASH_DECIMALS} decimals")
    return int(scaled)


def _limit_out(value: int) -> int | None:
    return None if value == NO_LIMIT else value


def _limit_in(value: int | None) -> int:
    if value is not None and value < 0:
        raise SandboxError(f"a holding limit cannot be negative: {value}")
    return NO_LIMIT if value is None else value


class CashToken(RestrictedToken):
    artifact_name = "CashToken"
    rules_by_error = CASH_RULES_BY_ERROR

    # deployment
    @classmethod
    def deploy(
        cls,
        chain: Chain,
        *,
        name: str,
        symbol: str,
        registry: str,
        home_jurisdiction: Jurisdiction | int,
        individual_limit: int | None,
        business_limit: int | None,
        admin: str,
        sender: str,
    ) -> Self:
        """Deploys a cash token; limits are in minor units, None for no limit."""
        return cls.deploy_contract(
            chain,
            [
                name,
                symbol,
                registry,
                int(home_jurisdiction),
                _limit_in(individual_limit),
                _limit_in(business_limit),
                admin,
            ],
            sender=sender,
        )

    @classmethod
    def deploy_gbp(cls, chain: Chain, *, registry: str, admin: str, sender: str) -> Self:
        """The sterling token with the Bank of England's proposed limits (20,000 / 10 million pounds)."""
        return cls.deploy(
            chain,
            name="Sandbox Sterling",
            symbol="GBPS",
            registry=registry,
            home_jurisdiction=Jurisdiction.GB,
            individual_limit=GBP_INDIVIDUAL_LIMIT,
            business_limit=GBP_BUSINESS_LIMIT,
            admin=admin,
            sender=sender,
        )

    @classmethod
    def deploy_usd(
        cls,
        chain: Chain,
        *,
        registry: str,
        admin: str,
        sender: str,
        individual_limit: int | None = None,
        business_limit: int | None = None,
    ) -> Self:
        """The dollar token; no holding limits unless given."""
        return cls.deploy(
            chain,
            name="Sandbox Dollar",
            symbol="USDS",
            registry=registry,
            home_jurisdiction=Jurisdiction.US,
            individual_limit=individual_limit,
            business_limit=business_limit,
            admin=admin,
            sender=sender,
        )

    # views
    def reserves(self) -> int:
        return int(self._read("reserves"))

    def mintable_amount(self) -> int:
        return int(self._read("mintableAmount"))

    def holding_limits(self) -> HoldingLimits:
        """The individual and business limits in minor units; None means no limit."""
        individual, business = self._read("holdingLimits")
        return HoldingLimits(_limit_out(int(individual)), _limit_out(int(business)))

    def identity_balance(self, identity: str) -> int:
        return int(self._read("identityBalance", identity))

    def is_holding_limit_exempt(self, identity: str) -> bool:
        return bool(self._read("isHoldingLimitExempt", identity))

    def holding_limit_of(self, wallet: str) -> HoldingLimit:
        holder_type, limit = self._read("holdingLimitOf", wallet)
        return HoldingLimit(HolderType(holder_type), _limit_out(int(limit)))

    def is_settlement_contract(self, account: str) -> bool:
        return bool(self._read("isSettlementContract", account))

    def is_frozen(self, wallet: str) -> bool:
        return bool(self._read("isFrozen", wallet))

    def frozen_by(self, wallet: str) -> int:
        return int(self._read("frozenBy", wallet))

    def paused(self) -> bool:
        return bool(self._read("paused"))

    # issuer, attestor, admin and regulator operations
    def attest_reserves(
        self, reserves: int, attestation_ref: bytes = b"\0" * 32, *, sender: str | None = None
    ) -> Receipt:
        if len(attestation_ref) != 32:
            raise SandboxError("attestation_ref must be 32 bytes (e.g. the report's hash)")
        return self._send("attestReserves", reserves, attestation_ref, sender=sender)

    def mint(self, to: str, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("mint", to, amount, sender=sender)

    def redeem(self, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("redeem", amount, sender=sender)

    def burn(self, from_: str, amount: int, *, sender: str | None = None) -> Receipt:
        return self._send("burn", from_, amount, sender=sender)

    def set_holding_limits(
        self, individual_limit: int | None, business_limit: int | None, *, sender: str | None = None
    ) -> Receipt:
        return self._send("setHoldingLimits", _limit_in(individual_limit), _limit_in(business_limit), sender=sender)

    def set_holding_limit_exemption(self, identity: str, exempt: bool, *, sender: str | None = None) -> Receipt:
        """A regulator of the currency's home exempts investor `identity` from the limits (or withdraws it)."""
        return self._send("setHoldingLimitExemption", identity, exempt, sender=sender)

    def set_settlement_contract(self, account: str, registered: bool, *, sender: str | None = None) -> Receipt:
        return self._send("setSettlementContract", account, registered, sender=sender)

    def pause(self, *, sender: str | None = None) -> Receipt:
        return self._send("pause", sender=sender)

    def unpause(self, *, sender: str | None = None) -> Receipt:
        return self._send("unpause", sender=sender)

    def set_address_frozen(self, wallet: str, freeze: bool, *, sender: str | None = None) -> Receipt:
        return self._send("setAddressFrozen", wallet, freeze, sender=sender)
