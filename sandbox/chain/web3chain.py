"""A `Chain` over any web3.py provider: local signing, ordered nonces, explicit gas, decoded reverts."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, ClassVar, cast

import rlp  # type: ignore[import-untyped]  # eth-account's own dependency; untyped
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError
from web3.types import FilterParams, RPCEndpoint, TxParams

from sandbox.chain.base import Block, BlockTransaction, ChainAccount, Log, Receipt
from sandbox.chain.groupcommit import GroupCommit, PendingWrite
from sandbox.chain.revert import RevertDecoder
from sandbox.errors import ChainError, ContractReverted

#: Gas given to a transaction when the caller names none. Gas is always explicit: leaving it out makes
#: web3 estimate it by executing the transaction once more (about 3x slower on the embedded chain).
DEFAULT_GAS = 6_000_000
#: Fee cap; the sender pays the block's base fee, never more than this.
MAX_FEE_PER_GAS = 100 * 10**9
_ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class Web3Chain(GroupCommit):
    """The part of every backend that only needs a web3.py provider.

    All writes go through one lock and one queue (`GroupCommit`): concurrent callers get
    consecutive nonces in the order they arrived, and writes that arrive while a block is being made
    share the next block. Reads (`call`, `get_logs`, ...) do not take the lock on a node, which serves
    reads concurrently; a backend whose engine is not thread-safe sets `serialize_reads` for reads
    through web3 (the embedded chain answers the protocol's reads off the lock by itself).
    """

    #: True when reads must not run beside a write (py-evm in this process is not thread-safe).
    serialize_reads: ClassVar[bool] = False

    def __init__(self, w3: Web3, accounts: Sequence[ChainAccount], decoder: RevertDecoder | None = None) -> None:
        self._w3 = w3
        self._accounts = list(accounts)
        self._signers: dict[str, LocalAccount] = {}
        for account in self._accounts:
            self._signers[account.address] = Account.from_key(account.private_key)
        self._decoder = decoder or RevertDecoder()
        self._write_lock = threading.RLock()
        GroupCommit.__init__(self, self._write_lock)
        self._nonces: dict[str, int] = {}
        self._chain_id = int(w3.eth.chain_id)
        # Sender of read-only calls made on nobody's behalf (funded: eth-tester checks the gas budget).
        self._call_sender = self._accounts[0].address if self._accounts else _ZERO_ADDRESS
        self._local = threading.local()

    # ------------------------------------------------------------------ identity

    @property
    def w3(self) -> Web3:
        """This engine's web3.py handle: for the JSON-RPC endpoint and tests, not part of the `Chain`
        seam (hold `exclusive()` around reads through it)."""
        return self._w3

    @property
    def chain_id(self) -> int:
        return self._chain_id

    @property
    def accounts(self) -> Sequence[ChainAccount]:
        return tuple(self._accounts)

    @property
    def decoder(self) -> RevertDecoder:
        return self._decoder

    def add_account(self, private_key: bytes) -> ChainAccount:
        signer: LocalAccount = Account.from_key(private_key)
        account = ChainAccount(to_checksum_address(signer.address), bytes(private_key))
        if account.address not in self._signers:
            self._signers[account.address] = signer
            self._accounts.append(account)
        return account

    @property
    def default_sender(self) -> str | None:
        return cast(str | None, getattr(self._local, "sender", None))

    @contextmanager
    def acting_as(self, sender: str) -> Iterator[str]:
        previous = self.default_sender
        self._local.sender = to_checksum_address(sender)
        try:
            yield self._local.sender
        finally:
            self._local.sender = previous

    # ------------------------------------------------------------------ writes

    def transact(self, sender: str, to: str | None, data: bytes, *, value: int = 0, gas: int | None = None) -> Receipt:
        sender = to_checksum_address(sender)
        signer, tx = self._unsigned(sender, to, data, value=value, gas=gas)
        return self._commit(PendingWrite(signer=signer, tx=tx))

    def _sign(self, write: PendingWrite) -> bytes:
        """The write's signed bytes; a write of ours gets its sender's next nonce here, in block order."""
        if write.raw is not None:
            self._nonces.clear()  # the signer may be one of ours: re-read nonces from the chain
            return write.raw
        assert write.signer is not None and write.tx is not None
        sender = write.tx["from"]
        nonce = self._nonces.get(sender)
        if nonce is None:
            nonce = int(self._w3.eth.get_transaction_count(sender, "pending"))
        write.tx["nonce"] = nonce
        return bytes(write.signer.sign_transaction(write.tx).raw_transaction)

    def _spend_nonce(self, write: PendingWrite) -> None:
        if write.tx is not None:  # sent: mined next, whether it succeeds or reverts
            self._nonces[write.tx["from"]] = int(write.tx["nonce"]) + 1

    def _forget_nonces(self) -> None:
        self._nonces.clear()

    def _release_nonce(self, write: PendingWrite) -> None:
        if write.tx is not None:
            self._nonces.pop(write.tx["from"], None)  # re-read from the chain next time

    # The block-making primitive of `GroupCommit` (sandbox/chain/groupcommit.py), over web3.py: a node
    # mining by itself takes the transaction in `_send_pending`, and `_receipt_for` waits for it.

    def _begin_block(self) -> None:
        """Prepares the next block (the embedded chain stamps its time here)."""

    def _send_pending(self, raw: bytes) -> bytes:
        """Adds a signed transaction to the block being made; returns its hash."""
        return bytes(self._w3.eth.send_raw_transaction(raw))

    def _seal_block(self) -> None:
        """Mines the block holding everything `_send_pending` took."""

    def _receipt_for(self, tx_hash: bytes, tx: dict[str, Any] | None) -> Receipt:
        """The receipt of a sent transaction; `ContractReverted` when it failed."""
        raw_receipt = self._wait_for_receipt(tx_hash)
        receipt = self._to_receipt(raw_receipt)
        if int(raw_receipt["status"]) != 1:
            raise self._explain_failure(tx, raw_receipt, receipt.transaction_hash)
        return receipt

    def _dry_run(self, tx: dict[str, Any]) -> None:
        if tx["value"]:
            return  # `call` carries no value; a payment is sent as it is
        self.call(tx["to"], tx["data"], sender=tx["from"], block="pending")  # raises `ContractReverted`

    def _unsigned(
        self, sender: str, to: str | None, data: bytes, *, value: int, gas: int | None
    ) -> tuple[LocalAccount, dict[str, Any]]:
        """The signer of `sender` (checksummed) and its transaction, nonce not yet set."""
        signer = self._signers.get(sender)
        if signer is None:
            raise ChainError(f"the sandbox holds no key for {sender}")
        tx: dict[str, Any] = {
            "chainId": self._chain_id,
            "from": sender,
            "data": data,
            "value": value,
            "gas": gas or DEFAULT_GAS,
            "maxFeePerGas": MAX_FEE_PER_GAS,
            "maxPriorityFeePerGas": 0,
            "type": 2,
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        return signer, tx

    def send_raw_transaction(self, raw: bytes) -> Receipt:
        """Submits a transaction signed elsewhere (e.g. by a participant's own wallet) through the same
        ordered write path, and returns its receipt; raises `ContractReverted` if it reverted.

        Only transactions signed for this chain are taken (`check_signed_for`): one signed for another
        chain id, or a legacy one without a chain id (pre-EIP-155, replayable on every chain), is
        refused with `ChainError` before anything is sent, as geth refuses them over RPC."""
        check_signed_for(self._chain_id, raw)
        return self._commit(PendingWrite(raw=raw))

    def _wait_for_receipt(self, tx_hash: bytes) -> Any:
        return self._w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=120, poll_latency=0.01)

    def _to_receipt(self, raw: Any) -> Receipt:
        block_number = int(raw["blockNumber"])
        tx_hash = "0x" + bytes(raw["transactionHash"]).hex()
        logs = tuple(
            Log(
                address=to_checksum_address(entry["address"]),
                topics=tuple(bytes(t) for t in entry["topics"]),
                data=bytes(entry["data"]),
                block_number=block_number,
                transaction_hash=tx_hash,
                log_index=int(entry["logIndex"]),
                block_hash="0x" + bytes(raw["blockHash"]).hex(),
                transaction_index=int(raw["transactionIndex"]),
            )
            for entry in raw["logs"]
        )
        contract = raw.get("contractAddress")
        return Receipt(
            transaction_hash=tx_hash,
            block_number=block_number,
            block_timestamp=self._block_timestamp(block_number),
            gas_used=int(raw["gasUsed"]),
            contract_address=to_checksum_address(contract) if contract else None,
            logs=logs,
        )

    def _block_timestamp(self, block_number: int) -> int:
        return int(self._w3.eth.get_block(block_number)["timestamp"])

    def _explain_failure(self, tx: dict[str, Any] | None, raw: Any, tx_hash: str) -> ContractReverted:
        """A mined transaction failed: replay it as a call on the state it ran on to get the reason."""
        if tx is None:
            found = self._w3.eth.get_transaction(raw["transactionHash"])
            tx = {
                "from": found["from"],
                "to": found.get("to"),
                "data": found["input"],
                "value": found["value"],
                "gas": found["gas"],
            }
        replay: TxParams = cast(TxParams, {k: tx[k] for k in ("from", "to", "data", "value", "gas") if tx.get(k)})
        block = int(raw["blockNumber"]) - 1
        try:
            self._w3.eth.call(replay, block)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            return self._revert_from_exception(exc, tx_hash=tx_hash)
        except Exception as exc:
            data = _revert_data_from(exc)
            if data is not None:
                return self._decoder.to_exception(data, tx_hash=tx_hash)
        return ContractReverted(None, {}, b"", tx_hash=tx_hash)

    # ------------------------------------------------------------------ reads

    def call(self, to: str, data: bytes, *, sender: str | None = None, block: int | str = "latest") -> bytes:
        # Always name a sender: without one, web3.py asks the node for its accounts on every call.
        params: dict[str, Any] = {
            "to": to_checksum_address(to),
            "data": data,
            "gas": DEFAULT_GAS,
            "from": to_checksum_address(sender) if sender is not None else self._call_sender,
        }
        try:
            with self._read_guard():
                return bytes(self._w3.eth.call(cast(TxParams, params), cast(Any, block)))
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise self._revert_from_exception(exc) from None

    def _read_guard(self) -> AbstractContextManager[Any]:
        return self._write_lock if self.serialize_reads else nullcontext()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._read_guard():  # the write lock where the engine is not thread-safe, else nothing
            yield

    def block(self, number: int) -> Block:
        with self._read_guard():
            found = self._w3.eth.get_block(number, full_transactions=True)
        transactions = []
        for entry in found["transactions"]:
            if isinstance(entry, bytes):  # a node that ignored full_transactions
                raise ChainError(f"the node returned block {number} without its transactions")
            tx = cast(Any, entry)
            transactions.append(BlockTransaction("0x" + bytes(tx["hash"]).hex(), to_checksum_address(tx["from"])))
        return Block(
            number=int(found["number"]),
            hash="0x" + bytes(found["hash"]).hex(),
            timestamp=int(found["timestamp"]),
            transactions=tuple(transactions),
        )

    def code(self, address: str, *, block: int | str = "latest") -> bytes:
        with self._read_guard():
            return bytes(self._w3.eth.get_code(to_checksum_address(address), cast(Any, block)))

    def balance(self, address: str, *, block: int | str = "latest") -> int:
        with self._read_guard():
            return int(self._w3.eth.get_balance(to_checksum_address(address), cast(Any, block)))

    def gas_price(self) -> int:
        with self._read_guard():
            return int(self._w3.eth.gas_price)

    # ------------------------------------------------------------------ node reads (`NodeChain`)

    def max_priority_fee(self) -> int:
        with self._read_guard():
            return int(self._w3.eth.max_priority_fee)

    def get_balance(self, address: str, *, block: int | str = "latest") -> int:
        with self._read_guard():
            return int(self._w3.eth.get_balance(to_checksum_address(address), cast(Any, block)))

    def get_code(self, address: str, *, block: int | str = "latest") -> bytes:
        with self._read_guard():
            return bytes(self._w3.eth.get_code(to_checksum_address(address), cast(Any, block)))

    def get_transaction_count(self, address: str, *, block: int | str = "latest") -> int:
        with self._read_guard():
            return int(self._w3.eth.get_transaction_count(to_checksum_address(address), cast(Any, block)))

    def get_storage_at(self, address: str, slot: int, *, block: int | str = "latest") -> bytes:
        with self._read_guard():
            return bytes(self._w3.eth.get_storage_at(to_checksum_address(address), slot, cast(Any, block)))

    def get_block(self, block: int | str | bytes, *, full_transactions: bool = False) -> Any:
        with self._read_guard():
            named = HexBytes(block) if isinstance(block, bytes) else block
            return self._w3.eth.get_block(cast(Any, named), full_transactions)

    def get_transaction(self, tx_hash: str) -> Any:
        with self._read_guard():
            return self._w3.eth.get_transaction(cast(Any, tx_hash))

    def get_transaction_receipt(self, tx_hash: str) -> Any:
        with self._read_guard():
            return self._w3.eth.get_transaction_receipt(cast(Any, tx_hash))

    def call_transaction(self, transaction: Any, *, block: int | str = "latest") -> bytes:
        with self._read_guard():
            return bytes(self._w3.eth.call(cast(TxParams, transaction), cast(Any, block)))

    def estimate_transaction_gas(self, transaction: Any, *, block: int | str | None = None) -> int:
        with self._read_guard():
            return int(self._w3.eth.estimate_gas(cast(TxParams, transaction), cast(Any, block)))

    def block_number(self) -> int:
        with self._read_guard():
            return int(self._w3.eth.block_number)

    def timestamp(self) -> int:
        with self._read_guard():
            return int(self._w3.eth.get_block("latest")["timestamp"])

    def block_timestamp(self, number: int) -> int:
        with self._read_guard():
            return int(self._w3.eth.get_block(number)["timestamp"])

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str] | None = None) -> list[Log]:
        params: FilterParams = {"fromBlock": from_block, "toBlock": to_block}
        if addresses:
            params["address"] = [to_checksum_address(a) for a in addresses]
        out: list[Log] = []
        with self._read_guard():
            entries = self._w3.eth.get_logs(params)
        for entry in entries:
            out.append(
                Log(
                    address=to_checksum_address(entry["address"]),
                    topics=tuple(bytes(t) for t in entry["topics"]),
                    data=bytes(entry["data"]),
                    block_number=int(entry["blockNumber"]),
                    transaction_hash="0x" + bytes(entry["transactionHash"]).hex(),
                    log_index=int(entry["logIndex"]),
                    block_hash="0x" + bytes(entry["blockHash"]).hex(),
                    transaction_index=int(entry["transactionIndex"]),
                )
            )
        return out

    def trace_transaction(self, tx_hash: str) -> dict[str, Any] | None:
        """geth's ``callTracer`` tree of a mined transaction, from the node's own
        ``debug_traceTransaction`` (anvil, geth and Besu have it); None for an unknown hash."""
        response = self._w3.provider.make_request(
            RPCEndpoint("debug_traceTransaction"), [tx_hash, {"tracer": "callTracer"}]
        )
        if "error" in response:
            error = response["error"]
            message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
            if "not found" in message.lower():
                return None
            raise ChainError(f"the node cannot trace {tx_hash}: {message}")
        result = response.get("result")
        return dict(result) if result is not None else None

    # ------------------------------------------------------------------ revert decoding

    def _revert_from_exception(self, exc: Exception, *, tx_hash: str | None = None) -> ContractReverted:
        data = _revert_data_from(exc)
        if data is None:
            return ContractReverted("Error", {"reason": str(exc)}, b"", tx_hash=tx_hash)
        return self._decoder.to_exception(data, tx_hash=tx_hash)


def signed_chain_id(raw: bytes) -> int | None:
    """The chain id a signed transaction commits to; None for a legacy transaction without one
    (pre-EIP-155, ``v`` of 27 or 28). Raises `ChainError` if `raw` is not a signed transaction."""
    try:
        if raw and raw[0] >= 0xC0:  # legacy: RLP [nonce, gasPrice, gas, to, value, data, v, r, s]
            fields = rlp.decode(raw)
            if not isinstance(fields, list) or len(fields) != 9 or not isinstance(fields[6], bytes):
                raise ValueError("not a legacy transaction")
            v = int.from_bytes(fields[6], "big")
            if v in (27, 28):
                return None
            if v < 35:
                raise ValueError(f"invalid signature v {v}")
            return (v - 35) // 2
        if raw and raw[0] <= 0x7F:  # EIP-2718 typed: type byte, then an RLP list starting with chainId
            body = rlp.decode(raw[1:])
            if raw[0] == 3 and isinstance(body, list) and body and isinstance(body[0], list):
                body = body[0]  # an EIP-4844 transaction in its network form (with blobs)
            if not isinstance(body, list) or not body or not isinstance(body[0], bytes):
                raise ValueError("not a typed transaction")
            return int.from_bytes(body[0], "big")
    except (rlp.exceptions.DecodingError, ValueError) as exc:
        raise ChainError(f"not a signed transaction: {exc}") from None
    raise ChainError("not a signed transaction")


def check_signed_for(chain_id: int, raw: bytes) -> None:
    """Refuses (`ChainError`) a raw transaction that is not signed for chain `chain_id`."""
    signed_for = signed_chain_id(raw)
    if signed_for is None:
        raise ChainError(
            "only replay-protected (EIP-155) transactions are accepted: "
            f"sign the transaction with this chain's id, {chain_id}"
        )
    if signed_for != chain_id:
        raise ChainError(f"invalid chain id: the transaction is signed for chain {signed_for}, not {chain_id}")


def _revert_data_from(exc: Exception) -> bytes | None:
    """The raw revert bytes web3.py attached to a revert exception, if any.

    Nodes put them in different places: a hex string (geth, anvil: the JSON-RPC error's ``data``), a
    dict holding it under ``data`` (possibly nested, as Hardhat and Ganache do), or a string prefixed
    with ``Reverted `` (older clients, kept so by web3.py).
    """
    data = getattr(exc, "data", None)
    for _ in range(3):
        if not isinstance(data, dict):
            break
        data = data.get("data")
    if isinstance(data, bytes):
        return data
    if isinstance(data, str) and data.startswith("Reverted 0x"):
        data = data[len("Reverted ") :]
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None
