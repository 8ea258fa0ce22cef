"""The in-process chain: eth-tester + py-evm behind web3.py's `EthereumTesterProvider`.

Deterministic: accounts come from a mnemonic (the same one anvil and Hardhat use, so account *i* has
the same address on both backends) and the genesis timestamp is fixed. With ``clock="fixed"`` (the
default) each block is one second after its parent unless time is travelled, so a run replays
identically; ``clock="wall"`` follows the wall clock after genesis, as a long-running sandbox should.
This is the only module that imports eth_tester.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any, Literal

from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, Web3

from sandbox.chain._pyevm import DeterministicPyEVMBackend
from sandbox.chain.base import ChainAccount, Log
from sandbox.chain.revert import RevertDecoder
from sandbox.chain.web3chain import Web3Chain
from sandbox.errors import ChainError, ContractReverted

#: The well-known development mnemonic (anvil, Hardhat): account 0 is 0xf39F…2266.
DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"
DEFAULT_HD_PATH = "m/44'/60'/0'/0"
#: 2026-01-01T00:00:00Z.
DEFAULT_GENESIS_TIMESTAMP = 1_767_225_600
DEFAULT_ACCOUNT_BALANCE = 1_000_000 * 10**18
GENESIS_GAS_LIMIT = 60_000_000

Clock = Literal["fixed", "wall"]


class EmbeddedChain(Web3Chain):
    """An in-memory chain in this process, with the dev powers of the `DevChain` protocol."""

    serialize_reads = True

    def __init__(
        self,
        *,
        num_accounts: int = 10,
        mnemonic: str = DEFAULT_MNEMONIC,
        genesis_timestamp: int = DEFAULT_GENESIS_TIMESTAMP,
        clock: Clock = "fixed",
        decoder: RevertDecoder | None = None,
    ) -> None:
        genesis = PyEVMBackend.generate_genesis_params(
            overrides={"timestamp": genesis_timestamp, "gas_limit": GENESIS_GAS_LIMIT}
        )
        backend = DeterministicPyEVMBackend.from_mnemonic(
            mnemonic,
            num_accounts=num_accounts,
            genesis_parameters=genesis,
            genesis_state_overrides={"balance": DEFAULT_ACCOUNT_BALANCE},
            hd_path=DEFAULT_HD_PATH,
        )
        self._backend = backend
        self._tester = EthereumTester(backend)
        self._clock: Clock = clock
        accounts = [
            ChainAccount(to_checksum_address(key.public_key.to_checksum_address()), key.to_bytes())
            for key in backend.account_keys
        ]
        super().__init__(Web3(EthereumTesterProvider(self._tester)), accounts, decoder)

    @property
    def clock(self) -> Clock:
        return self._clock

    def _before_send(self) -> None:
        if self._clock == "fixed":
            chain = self._backend.chain
            parent = chain.get_canonical_head()
            chain.header = chain.header.copy(timestamp=parent.timestamp + 1)

    def _wait_for_receipt(self, tx_hash: bytes) -> Any:
        # Auto-mining has already mined the transaction; the receipt is at the head, so the lookup
        # (which walks back from the newest block) stops at once.
        return self._w3.eth.get_transaction_receipt(HexBytes(tx_hash))

    def call(self, to: str, data: bytes, *, sender: str | None = None, block: int | str = "latest") -> bytes:
        try:
            return super().call(to, data, sender=sender, block=block)
        except TransactionFailed as exc:
            raise self._decoder.to_exception(_revert_bytes(exc)) from None

    def _explain_failure(self, tx: dict[str, Any] | None, raw: Any, tx_hash: str) -> ContractReverted:
        """Re-executes the failed transaction on its parent state *with its own block header* (same
        timestamp), so time-dependent rules give the same answer as when it ran."""
        chain = self._backend.chain
        block = chain.get_canonical_block_by_number(int(raw["blockNumber"]))
        parent = chain.get_block_header_by_hash(block.header.parent_hash)
        for transaction in block.transactions:
            if transaction.hash == bytes(raw["transactionHash"]):
                header = block.header.copy(state_root=parent.state_root, gas_used=0)
                vm = chain.get_vm(header)
                computation = vm.state.apply_transaction(transaction)
                if computation.is_error:
                    error = computation.error
                    data = error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
                    return self._decoder.to_exception(data, tx_hash=tx_hash)
        return ContractReverted(None, {}, b"", tx_hash=tx_hash)

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str] | None = None) -> list[Log]:
        """Reads the logs straight from py-evm's blocks and receipts, block by block.

        eth-tester's own `get_logs` looks each transaction's receipt up by hash, walking back from the
        newest block, so its cost grows with the whole history (26 s for 313 blocks after 300
        transfers). Same results: log indices are per receipt, as in eth-tester's receipts.
        """
        wanted = {to_checksum_address(a) for a in addresses} if addresses else None
        out: list[Log] = []
        with self._read_guard():  # py-evm is not thread-safe: no reading beside a write
            chain = self._backend.chain
            head = self.block_number()
            for number in range(max(0, from_block), min(to_block, head) + 1):
                block = chain.get_canonical_block_by_number(number)
                if not block.transactions:
                    continue
                receipts = block.get_receipts(chain.chaindb)
                for transaction, receipt in zip(block.transactions, receipts, strict=True):
                    tx_hash = "0x" + bytes(transaction.hash).hex()
                    for log_index, entry in enumerate(receipt.logs):
                        address = to_checksum_address(entry.address)
                        if wanted is not None and address not in wanted:
                            continue
                        out.append(
                            Log(
                                address=address,
                                topics=tuple(int(t).to_bytes(32, "big") for t in entry.topics),
                                data=bytes(entry.data),
                                block_number=number,
                                transaction_hash=tx_hash,
                                log_index=log_index,
                            )
                        )
        return out

    # ------------------------------------------------------------------ dev powers

    def snapshot(self) -> Any:
        with self._write_lock:
            return self._tester.take_snapshot()

    def revert(self, snapshot_id: Any) -> None:
        with self._write_lock:
            self._tester.revert_to_snapshot(snapshot_id)
            self._nonces.clear()

    def time_travel(self, timestamp: int) -> None:
        with self._write_lock:
            now = self.timestamp()
            if timestamp <= now:
                raise ChainError(f"cannot travel to {timestamp}: the newest block is already at {now}")
            # Stamp the pending block ourselves: the tester compares with its pending block, which py-evm
            # stamps with the wall clock, and its backend's time_travel lands one second early.
            chain = self._backend.chain
            chain.header = chain.header.copy(timestamp=timestamp)
            self._tester.mine_blocks(1)

    def mine(self, blocks: int = 1) -> None:
        with self._write_lock:
            if self._clock == "fixed":
                for _ in range(blocks):
                    self._before_send()
                    self._tester.mine_blocks(1)
            else:
                self._tester.mine_blocks(blocks)


def _revert_bytes(exc: TransactionFailed) -> bytes:
    """eth-tester reports a call's revert as ``str(error)``; recover the raw bytes from it."""
    text = str(exc.args[0]) if exc.args else ""
    marker = "execution reverted: "
    if text.startswith(marker):
        try:
            value = ast.literal_eval(text[len(marker) :])
        except (ValueError, SyntaxError):
            return b""
        return value if isinstance(value, bytes) else b""
    if text.startswith("0x"):
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            return b""
    return b""
