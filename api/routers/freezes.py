"""Regulator freezes of wallets in a security. The chain decides scope (`RegulatorOutOfScope`) and who
may lift a freeze (`FreezeImposedByRegulator`); the gateway authenticates and explains."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import MarketDep, RegulatorPrincipal, security_or_404
from api.schemas import FreezeRequest, FreezeState, SymbolPath, WalletPath
from sandbox.chain.base import Receipt
from sandbox.contracts.security_token import SecurityToken
from sandbox.rules import Jurisdiction

router = APIRouter(prefix="/securities", tags=["freezes"])

_AGENT = 65535


def _state(symbol: str, token: SecurityToken, wallet: str, receipt: Receipt) -> FreezeState:
    by = token.frozen_by(wallet)
    return FreezeState(
        security=symbol,
        wallet=wallet,
        frozen=by != 0,
        frozen_by_jurisdiction=None if by == 0 else ("issuer" if by == _AGENT else Jurisdiction(by).name),
        tx_hash=receipt.transaction_hash,
        block_number=receipt.block_number,
    )


@router.post(
    "/{symbol}/frozen-wallets",
    operation_id="freezes-create",
    status_code=201,
    summary="Freeze a wallet's holding of a security",
    description=(
        "A regulator may freeze wallets of investors of its own jurisdiction, and any wallet in a security whose "
        "home jurisdiction is its own. Enforced on chain."
    ),
)
def freeze_wallet(
    symbol: SymbolPath, body: FreezeRequest, market: MarketDep, principal: RegulatorPrincipal
) -> FreezeState:
    token = security_or_404(market, symbol)
    receipt = token.set_address_frozen(body.wallet, True, sender=principal.account)
    return _state(symbol, token, body.wallet, receipt)


@router.delete(
    "/{symbol}/frozen-wallets/{wallet}",
    operation_id="freezes-delete",
    summary="Lift a freeze",
    description="A regulator's freeze can only be lifted by a regulator of the same jurisdiction. Enforced on chain.",
)
def unfreeze_wallet(
    symbol: SymbolPath,
    wallet: WalletPath,
    market: MarketDep,
    principal: RegulatorPrincipal,
) -> FreezeState:
    token = security_or_404(market, symbol)
    receipt = token.set_address_frozen(wallet, False, sender=principal.account)
    return _state(symbol, token, wallet, receipt)
