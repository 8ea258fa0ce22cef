"""py-evm backend details kept out of `embedded.py`: eth-tester stamps each block's `mix_hash`
(prevrandao) with `os.urandom`, so two runs of the same transactions give different block hashes. The
sandbox derives it from the parent hash instead, so a run (and a journal replay) is reproducible."""

from __future__ import annotations

from typing import Any

from eth.vm.forks import ParisVM, PragueVM
from eth.vm.forks.cancun import get_total_blob_gas
from eth_tester import PyEVMBackend
from eth_utils import keccak

ZERO_ADDRESS = b"\x00" * 20


class DeterministicPyEVMBackend(PyEVMBackend):  # type: ignore[misc]
    """`PyEVMBackend` whose blocks depend only on their contents and timestamps."""

    def mine_blocks(self, num_blocks: int = 1, coinbase: Any = ZERO_ADDRESS) -> tuple[bytes, ...]:
        hashes = []
        for _ in range(num_blocks):
            mine_kwargs: dict[str, Any] = {"coinbase": coinbase}
            vm = self.chain.get_vm()
            if isinstance(vm, ParisVM):
                mine_kwargs["mix_hash"] = keccak(b"sandbox-prevrandao" + self.chain.header.parent_hash)
            if isinstance(vm, PragueVM):
                transactions = self.chain.get_block().transactions
                mine_kwargs["blob_gas_used"] = sum(get_total_blob_gas(tx) for tx in transactions)
            hashes.append(self.chain.mine_block(**mine_kwargs).hash)
        return tuple(hashes)
