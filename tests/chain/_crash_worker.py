"""Run by `test_persistence` as ``python -m tests.chain._crash_worker DATA_DIR SNAPSHOT_EVERY ENGINE``:
opens the persistent in-process chain of ENGINE (``embedded`` or ``revm``) in DATA_DIR, deploys a token on
first use, and streams transfers until it is killed. Each transfer is a pure function of its index
(`planned_transfer`), so the test can compute the balances the chain must hold after any number of
them. Lines on stdout, flushed one by one:

    OPENING                                                (imports done; recovery starts)
    READY <transfers already on chain>
    ACK <index> <tx hash> <block number> <block hash>     (printed only after the receipt came back)
"""

from __future__ import annotations

import sys
from pathlib import Path

from web3.utils.address import get_create_address

from sandbox.chain.factory import InProcessChain, in_process_chain
from sandbox.contracts.base import ContractFacade

SUPPLY = 10**24
ACCOUNTS = 10
#: Every so many transfers the worker first travels this far in time, so the journal holds empty
#: blocks with chosen timestamps as well.
TRAVEL_EVERY = 13
TRAVEL_SECONDS = 3_600


class Plain(ContractFacade):
    artifact_name = "PlainERC20"


def planned_transfer(index: int) -> tuple[int, int]:
    """(recipient account index, amount) of transfer number `index`."""
    return 1 + index % (ACCOUNTS - 1), index + 1


def token_address(chain: InProcessChain) -> str:
    """The token is the first contract account 0 deploys."""
    return str(get_create_address(chain.accounts[0].address, 0))


def main(data_dir: Path, snapshot_every: int, engine: str) -> None:
    print("OPENING", flush=True)
    chain = in_process_chain(engine, num_accounts=ACCOUNTS, data_dir=data_dir, snapshot_every=snapshot_every)
    owner = chain.accounts[0].address
    nonce = chain.w3.eth.get_transaction_count(owner)
    if nonce == 0:
        token = Plain.deploy_contract(chain, [SUPPLY], sender=owner)
        nonce = 1
    else:
        token = Plain(chain, token_address(chain))
    index = nonce - 1  # every transaction after the deployment is one planned transfer
    print(f"READY {index}", flush=True)
    while True:
        if index % TRAVEL_EVERY == TRAVEL_EVERY - 1:
            chain.time_travel(chain.timestamp() + TRAVEL_SECONDS)
        recipient, amount = planned_transfer(index)
        receipt = token._send("transfer", chain.accounts[recipient].address, amount, sender=owner)
        block_hash = bytes(chain.w3.eth.get_block(receipt.block_number)["hash"]).hex()
        print(f"ACK {index} {receipt.transaction_hash} {receipt.block_number} {block_hash}", flush=True)
        index += 1


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "embedded")
