"""The chain seam: one protocol every backend implements, and a dev sub-protocol for test chains.

Nothing above `sandbox.chain` knows which backend it runs on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sandbox.chain.revert import RevertDecoder


@dataclass(frozen=True)
class ChainAccount:
    """An account the sandbox can sign for."""

    address: str
    private_key: bytes = field(repr=False)


@dataclass(frozen=True)
class Log:
    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    transaction_hash: str
    log_index: int
    #: The block's hash and the transaction's position in it, when the backend read them with the log
    #: (`Chain.get_logs` does; logs built elsewhere may leave them None).
    block_hash: str | None = None
    transaction_index: int | None = None


@dataclass(frozen=True)
class Receipt:
    """A mined, successful transaction (failed ones raise `ContractReverted`)."""

    transaction_hash: str
    block_number: int
    block_timestamp: int
    gas_used: int
    contract_address: str | None
    logs: tuple[Log, ...]


@dataclass(frozen=True)
class BlockTransaction:
    """A transaction as its block lists it."""

    hash: str
    sender: str


@dataclass(frozen=True)
class Block:
    """A mined block: what the read model records of it, and its transactions in block order."""

    number: int
    hash: str
    timestamp: int
    transactions: tuple[BlockTransaction, ...]


@runtime_checkable
class Chain(Protocol):
    """What the sandbox needs of any EVM chain. Everything above `sandbox.chain` goes through these
    methods; an engine's own handle (`Web3Chain.w3`) is not part of the seam."""

    @property
    def chain_id(self) -> int: ...

    @property
    def accounts(self) -> Sequence[ChainAccount]:
        """Funded accounts the sandbox signs for, in a fixed order."""

    def add_account(self, private_key: bytes) -> ChainAccount:
        """Lets the sandbox sign for another key (it is not funded by this call)."""

    def transact(self, sender: str, to: str | None, data: bytes, *, value: int = 0, gas: int | None = None) -> Receipt:
        """Signs and sends a transaction as `sender`, waits for its receipt and returns it.

        Raises `ContractReverted`, with the custom error decoded, when it reverts.
        """

    def send_raw_transaction(self, raw: bytes) -> Receipt:
        """Submits a transaction signed elsewhere through the same ordered write path."""

    def call(self, to: str, data: bytes, *, sender: str | None = None, block: int | str = "latest") -> bytes:
        """Executes a read-only call; raises `ContractReverted` when it reverts."""

    def block_number(self) -> int: ...

    def timestamp(self) -> int:
        """Timestamp of the newest block."""

    def block_timestamp(self, number: int) -> int:
        """Timestamp of block `number`."""

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str] | None = None) -> list[Log]: ...

    def block(self, number: int) -> Block:
        """Mined block `number` with its transactions' hashes and senders; web3's `BlockNotFound` if
        it is not mined."""

    def code(self, address: str, *, block: int | str = "latest") -> bytes:
        """The runtime bytecode at `address` (empty when no contract is there)."""

    def balance(self, address: str, *, block: int | str = "latest") -> int:
        """Ether balance of `address`, in wei."""

    def gas_price(self) -> int:
        """What the chain suggests paying per unit of gas, in wei."""

    def exclusive(self) -> AbstractContextManager[None]:
        """Around reads through the engine's own handle (the JSON-RPC endpoint's web3 reads): on an
        engine that is not thread-safe (py-evm in this process) it holds off writes; on a node it does
        nothing. Nothing is needed around the methods of this protocol."""

    def acting_as(self, sender: str) -> AbstractContextManager[str]:
        """``with chain.acting_as(addr):`` makes `addr` the default sender of facades used inside."""

    @property
    def default_sender(self) -> str | None: ...


@runtime_checkable
class DevChain(Chain, Protocol):
    """Dev-only powers, as on a test node. Backends that lack them raise `DevFeatureUnavailable`."""

    def snapshot(self) -> Any:
        """Marks the current state; `revert` returns to it."""

    def revert(self, snapshot_id: Any) -> None: ...

    def time_travel(self, timestamp: int) -> None:
        """Mines a block at `timestamp` (must be later than the newest block)."""

    def mine(self, blocks: int = 1) -> None: ...


@runtime_checkable
class NodeChain(Chain, Protocol):
    """What a JSON-RPC endpoint needs to serve the chain as a node would: reads in the node's own terms
    (web3's answers: blocks, transactions and receipts as mappings), so that the endpoint never reaches
    for an engine's handle. Block identifiers are a number or a tag ("latest", "pending", …); a block
    may also be named by its hash (bytes). Nothing is needed around these methods: each takes the
    engine's guard itself."""

    @property
    def decoder(self) -> RevertDecoder:
        """Decodes revert data into the contracts' custom errors."""

    def trace_transaction(self, tx_hash: str) -> dict[str, Any] | None:
        """geth's ``callTracer`` tree of a mined transaction; None for an unknown hash."""

    def max_priority_fee(self) -> int:
        """The priority fee per gas the chain suggests, in wei."""

    def get_balance(self, address: str, *, block: int | str = "latest") -> int:
        """Ether balance of `address` as of any block identifier the node takes, in wei."""

    def get_code(self, address: str, *, block: int | str = "latest") -> bytes:
        """The runtime bytecode at `address` as of any block identifier the node takes."""

    def get_transaction_count(self, address: str, *, block: int | str = "latest") -> int:
        """The nonce of `address` (transactions it sent) as of `block`."""

    def get_storage_at(self, address: str, slot: int, *, block: int | str = "latest") -> bytes:
        """The 32-byte word in storage `slot` of `address` as of `block`."""

    def get_block(self, block: int | str | bytes, *, full_transactions: bool = False) -> Any:
        """The node's block object (a mapping); web3's `BlockNotFound` if there is none."""

    def get_transaction(self, tx_hash: str) -> Any:
        """The node's transaction object (a mapping); web3's `TransactionNotFound` if unknown."""

    def get_transaction_receipt(self, tx_hash: str) -> Any:
        """The node's receipt object (a mapping); web3's `TransactionNotFound` if unknown or pending."""

    def call_transaction(self, transaction: Any, *, block: int | str = "latest") -> bytes:
        """`eth_call` of a whole transaction object (from, to, gas, value, data, …); web3's contract
        errors as web3 raises them when it reverts."""

    def estimate_transaction_gas(self, transaction: Any, *, block: int | str | None = None) -> int:
        """`eth_estimateGas` of a whole transaction object (`block` None: the node's default)."""


def iter_chunks(start: int, stop: int, size: int) -> Iterator[tuple[int, int]]:
    """Inclusive block ranges of at most `size` blocks covering [start, stop]."""
    while start <= stop:
        end = min(stop, start + size - 1)
        yield start, end
        start = end + 1
