"""Gas of the markets contracts (issue 4), on the embedded chain (py-evm, Prague rules).

    python -m bench.gas_markets

Prints gas per DvP settlement (single trade; existing and first-time holders), per trade in a batch
of 10, for proposing and affirming a trade, and of a cash-token transfer against a plain OpenZeppelin
ERC-20; then, last, a cross-border DvP trade above the security's threshold: requesting its clearance,
the two regulators' approvals, a settle attempt while it awaits them, and the settlement of the cleared
trade (for comparison with the plain "DvP settle, one trade" between the same pair). Gas is
deterministic: the figures are exact for this build of the contracts.
"""

from __future__ import annotations

from dataclasses import replace

from eth_utils import to_checksum_address

from sandbox.chain.embedded import DEFAULT_GENESIS_TIMESTAMP, EmbeddedChain
from sandbox.contracts import ContractFacade, DvPSettlement
from sandbox.contracts.cash_token import NO_LIMIT
from sandbox.rules import InvestorCategory, Jurisdiction
from sandbox.testing import TestWorld, made_up_identity

KYC_UNTIL = DEFAULT_GENESIS_TIMESTAMP + 10 * 365 * 24 * 3600
BATCH = 10


class PlainERC20(ContractFacade):
    artifact_name = "PlainERC20"

    def transfer(self, to: str, value: int, *, sender: str) -> int:
        return self._send("transfer", to, value, sender=sender).gas_used


def measure() -> list[tuple[str, int]]:
    """The rows this bench prints: (operation, gas used)."""
    world = TestWorld(EmbeddedChain(num_accounts=14))
    chain, a = world.chain, world.accounts
    regulator = a[11]
    registry = world.registry(regulators={Jurisdiction.GB: regulator})
    admin = world.admin
    # Businesses (UK professional, US accredited): the GBP limits allow the amounts used here.
    for n in range(1, 11):
        uk = n % 2 == 1
        world.investor(
            f"investor{n}",
            Jurisdiction.GB if uk else Jurisdiction.US,
            InvestorCategory.UK_PROFESSIONAL if uk else InvestorCategory.US_ACCREDITED,
            identity=made_up_identity(n),
            kyc_until=KYC_UNTIL,
        )
    # the home regulator's notary gate approves issuance
    security = world.security("GLT", name="Gilt", admin=admin, shared_extension=False)
    gbp = world.cash("GBP", reserves=0)
    dvp = world.settlement()  # registered with the GBP token
    gbp.attest_reserves(10**15, sender=admin)

    seller, buyer = a[1], a[6]
    sellers, buyers = a[1:6], a[6:11]
    for who in sellers:
        security.mint(who, 1_000_000, sender=admin)
    for who in buyers:
        gbp.mint(who, 500_000_000, sender=admin)
        security.mint(who, 1, sender=admin)  # every buyer already holds units: "existing holders"
    for who in sellers:
        gbp.mint(who, 1, sender=admin)  # ... and every seller already holds cash
    for who in a[1:11]:
        security.approve(dvp.address, NO_LIMIT, sender=who)
        gbp.approve(dvp.address, NO_LIMIT, sender=who)

    def agree(s: str, b: str) -> tuple[int, int]:
        deadline = chain.timestamp() + 3600
        proposed = dvp.propose(
            seller=s, buyer=b, security=security.address, quantity=10, cash=gbp.address,
            cash_amount=1_000_00, deadline=deadline, sender=s,
        )  # fmt: skip
        affirm = dvp.affirm(proposed.trade_id, sender=b)
        return proposed.trade_id, proposed.receipt.gas_used + affirm.gas_used

    rows: list[tuple[str, int]] = []
    first, agree_gas = agree(seller, buyer)
    rows.append(("DvP propose + affirm (one trade)", agree_gas))
    rows.append(("DvP settle, one trade", _settle(dvp, first)))
    failing, _ = agree(seller, a[11])  # unregistered buyer: the security leg fails, nothing moves
    rows.append(("DvP settle that fails (security leg, reason recorded)", _settle(dvp, failing, expect=False)))
    # Ten distinct seller/buyer pairs, so each trade touches balances no earlier trade warmed.
    pairs = [(sellers[k % 5], buyers[(k + k // 5) % 5]) for k in range(BATCH)]
    assert len(set(pairs)) == BATCH
    ids = [agree(s, b)[0] for s, b in pairs]
    batch = dvp.settle_batch(ids, sender=admin)
    assert len(batch.settled) == BATCH
    rows.append((f"DvP settleBatch of {BATCH} distinct pairs, per trade", batch.receipt.gas_used // BATCH))
    rows.append((f"DvP settleBatch of {BATCH} distinct pairs, whole transaction", batch.receipt.gas_used))
    ids = [agree(seller, buyer)[0] for _ in range(BATCH)]
    batch = dvp.settle_batch(ids, sender=admin)
    assert len(batch.settled) == BATCH
    rows.append((f"DvP settleBatch of {BATCH} between one pair, per trade", batch.receipt.gas_used // BATCH))

    # Cash token vs plain ERC-20: existing holders, then a first-time receiver.
    plain = PlainERC20.deploy_contract(chain, [10**12], sender=admin)
    plain.transfer(a[1], 1_000_000, sender=admin)
    plain.transfer(a[2], 1, sender=admin)
    rows.append(("plain ERC-20 transfer, existing holders", plain.transfer(a[2], 100, sender=a[1])))
    rows.append(("plain ERC-20 transfer, new holder", plain.transfer(a[3], 100, sender=a[1])))
    rows.append(("GBP cash transfer, existing holders", gbp.transfer(a[7], 100, sender=a[6]).gas_used))
    # a[13]: a wallet nobody uses above (a[11], the unregistered buyer above, is the UK regulator, and
    # the registry refuses a regulator's account as an investor's wallet)
    registry.register_investor(to_checksum_address(f"0x{99:040x}"), a[13], Jurisdiction.GB,
                               InvestorCategory.UK_PROFESSIONAL, KYC_UNTIL, sender=admin)  # fmt: skip
    first_cash = gbp.transfer(a[13], 100, sender=a[6]).gas_used
    rows.append(("GBP cash transfer, new holder (first balance of its investor)", first_cash))
    rows.append(("GBP cash mint, existing holder", gbp.mint(a[7], 100, sender=admin).gas_used))
    rows.append(("security token transfer, existing holders (reference)",
                 security.transfer(a[2], 1, sender=a[1]).gas_used))  # fmt: skip

    # Cross-border clearance (last, so that nothing above changes): the same pair as "DvP settle, one
    # trade" (a[1] in the UK sells 10 units to a[6] in the US), now above the threshold.
    us_regulator = a[12]
    registry.set_regulator(us_regulator, Jurisdiction.US, sender=admin)
    security.set_terms(replace(security.terms(), cross_border_threshold=10), sender=admin)
    cleared, _ = agree(seller, buyer)
    rows.append(("DvP requestClearance (cross-border trade, units escrowed)",
                 dvp.request_clearance(cleared, sender=buyer).receipt.gas_used))  # fmt: skip
    rows.append(
        ("DvP settle while the clearance awaits the regulators (recorded)", _settle(dvp, cleared, expect=False))
    )
    clearance_id = dvp.trade(cleared).clearance_id
    rows.append(("regulator approves the clearance (first of two)",
                 security.approve_cross_border_transfer(clearance_id, sender=regulator).gas_used))  # fmt: skip
    rows.append(("regulator approves the clearance (second: Cleared)",
                 security.approve_cross_border_transfer(clearance_id, sender=us_regulator).gas_used))  # fmt: skip
    rows.append(("DvP settle, cleared cross-border trade (consumes the clearance)", _settle(dvp, cleared)))

    return rows


def main() -> None:
    rows = measure()
    width = max(len(label) for label, _ in rows)
    for label, gas in rows:
        print(f"{label:<{width}}  {gas:>9,}")


def _settle(dvp: DvPSettlement, trade_id: int, *, expect: bool = True) -> int:
    outcome = dvp.settle(trade_id, sender=dvp.chain.accounts[0].address)
    assert outcome.result.settled == expect, outcome.result
    return outcome.receipt.gas_used


if __name__ == "__main__":
    main()
