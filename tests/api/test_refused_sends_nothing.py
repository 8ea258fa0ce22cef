"""A request the chain refuses sends nothing: no block, no nonce, no fee. The gateway dry-runs each
transaction on the pending block; the refusal is still the contracts' (its custom error and rule)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sandbox.chain.groupcommit import refusals_send_nothing
from sandbox.errors import ContractReverted
from sandbox.market import Market
from tests.api.conftest import bearer

SYMBOL = "THAMES28"


def _chain_state(market: Market, sender: str) -> tuple[int, int, int]:
    chain: Any = market.chain
    return chain.block_number(), chain.get_transaction_count(sender), chain.balance(sender)


def test_a_transfer_the_rules_refuse_leaves_no_block_nonce_or_fee(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    alice = market.accounts["alice"]
    stranger = "0x000000000000000000000000000000000000dEaD"  # registered nowhere
    before = _chain_state(market, alice)
    response = client.post(
        f"/securities/{SYMBOL}/transfers", json={"to": stranger, "amount": 1}, headers=bearer(keys["alice"])
    )
    assert response.status_code in (403, 409), response.text
    body = response.json()
    assert body["error"], body  # the contracts' custom error, from the dry run
    assert body.get("tx_hash") is None, body
    assert _chain_state(market, alice) == before


def test_a_regulator_out_of_scope_is_refused_without_a_transaction(
    client: TestClient, market: Market, keys: dict[str, str]
) -> None:
    sec = market.accounts["sec"]
    before = _chain_state(market, sec)
    response = client.post(
        f"/securities/{SYMBOL}/frozen-wallets", json={"wallet": market.accounts["alice"]}, headers=bearer(keys["sec"])
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "RegulatorOutOfScope"
    assert response.json().get("tx_hash") is None
    assert _chain_state(market, sec) == before


def test_an_accepted_request_is_still_mined(client: TestClient, market: Market, keys: dict[str, str]) -> None:
    alice, bob = market.accounts["alice"], market.accounts["bob"]
    height = market.chain.block_number()
    response = client.post(
        f"/securities/{SYMBOL}/transfers", json={"to": bob, "amount": 1}, headers=bearer(keys["alice"])
    )
    assert response.status_code == 201, response.text
    assert market.chain.block_number() == height + 1
    assert market.security(SYMBOL).balance_of(alice) >= 0


def test_outside_the_gateway_a_reverting_transaction_is_mined_as_on_any_chain(market: Market) -> None:
    """The library's own `transact` keeps a chain's behaviour (a reverted transaction is mined and its
    refusal names it); `refusals_send_nothing` is what the gateway opts into."""
    token = market.security(SYMBOL)
    alice = market.accounts["alice"]
    stranger = "0x000000000000000000000000000000000000dEaD"
    height = market.chain.block_number()
    with pytest.raises(ContractReverted) as mined:
        token.transfer(stranger, 1, sender=alice)
    assert mined.value.tx_hash is not None
    assert market.chain.block_number() == height + 1
    with refusals_send_nothing(), pytest.raises(ContractReverted) as refused:
        token.transfer(stranger, 1, sender=alice)
    assert refused.value.tx_hash is None
    assert (refused.value.error_name, refused.value.rule_code) == (mined.value.error_name, mined.value.rule_code)
    assert market.chain.block_number() == height + 1
