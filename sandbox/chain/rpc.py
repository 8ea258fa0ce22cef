"""A chain behind any JSON-RPC node (anvil, geth, Besu, Hardhat, or the sandbox's own endpoint).

The sandbox signs locally for its accounts, derived from the development mnemonic shared with
anvil and Hardhat (account *i* is at ``m/44'/60'/0'/0/i``, so the addresses match the embedded chain),
and never asks the node to hold keys.

Nonces: a per-sender counter kept under the write lock. A transaction is signed *and handed to the
node* under the lock, so the node sees nonces in order and there is never a gap; the wait for the
receipt happens outside the lock, so on a node with real block times several transactions share a
block. A node that answers "nonce too low" (another process or wallet used the account) makes the
counter re-read from the node and the transaction re-signed, up to a few times.

Reading events: with ``confirmations=N`` `get_logs` never returns logs from blocks newer than
``head - N`` (see `confirmed_block_number`), so a reorg on a real network cannot take back what an
indexer has read.

Dev powers (`DevChain`) map to the test-node methods ``evm_snapshot``, ``evm_revert``,
``evm_setNextBlockTimestamp`` (or ``evm_increaseTime``) and ``evm_mine``; a node without them makes
the call raise `DevFeatureUnavailable`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.exceptions import TimeExhausted, TransactionNotFound, Web3RPCError
from web3.types import RPCEndpoint

from sandbox.chain.base import ChainAccount, Log, Receipt
from sandbox.chain.revert import RevertDecoder
from sandbox.chain.web3chain import Web3Chain, check_signed_for
from sandbox.errors import ChainError, ContractReverted, DevFeatureUnavailable

#: The well-known development mnemonic (anvil, Hardhat, and the embedded chain).
DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"
DEFAULT_HD_PATH = "m/44'/60'/0'/0"
#: How often a resend is tried after the node said "nonce too low", and the backoff step (seconds).
NONCE_RETRIES = 20
NONCE_BACKOFF = 0.002

#: What nodes answer when the nonce was taken by someone else (geth, anvil, Besu wordings). "Already
#: known/imported" means a byte-identical transaction is in the pool: this class never resends the same
#: bytes, so another client signed the same transfer with the same key and nonce, and ours needs the
#: next nonce to happen at all.
_NONCE_ERRORS = (
    "nonce too low",
    "nonce is too low",
    "replacement transaction underpriced",
    "already known",
    "already imported",
)


def derive_accounts(count: int, mnemonic: str = DEFAULT_MNEMONIC, hd_path: str = DEFAULT_HD_PATH) -> list[ChainAccount]:
    """Accounts ``hd_path/0 … hd_path/(count-1)`` of `mnemonic` (BIP-39 seed, BIP-32 derivation)."""
    if count < 0:
        raise ChainError(f"cannot derive {count} accounts")
    seed = seed_from_mnemonic(mnemonic, "")
    out = []
    for index in range(count):
        key = key_from_seed(seed, f"{hd_path}/{index}")
        out.append(ChainAccount(to_checksum_address(Account.from_key(key).address), bytes(key)))
    return out


class RpcChain(Web3Chain):
    """A `Chain` (and, when the node allows, a `DevChain`) over an HTTP JSON-RPC endpoint."""

    def __init__(
        self,
        url: str,
        *,
        num_accounts: int = 10,
        mnemonic: str = DEFAULT_MNEMONIC,
        hd_path: str = DEFAULT_HD_PATH,
        confirmations: int = 0,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.02,
        request_timeout: float = 30.0,
        decoder: RevertDecoder | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """`headers` go with every request, e.g. ``{"Authorization": "Bearer <key>"}`` for the
        sandbox's own endpoint (``sandbox serve``'s ``/rpc``). `poll_interval` is the longest pause
        between two receipt lookups (the first is immediate, the next ones 1 ms, 2 ms, 4 ms, …)."""
        if not url.startswith(("http://", "https://")):
            raise ChainError(f"RpcChain needs an http(s):// JSON-RPC URL, not {url!r}")
        if confirmations < 0:
            raise ChainError(f"confirmations must be ≥ 0, not {confirmations}")
        self._url = url
        self._confirmations = confirmations
        self._receipt_timeout = receipt_timeout
        self._poll_interval = poll_interval
        request_kwargs: dict[str, Any] = {"timeout": request_timeout}
        if headers:
            request_kwargs["headers"] = dict(headers)
        w3 = Web3(HTTPProvider(url, request_kwargs=request_kwargs))
        try:
            w3.eth.chain_id  # noqa: B018  (fail here, with the URL, if nothing answers)
        except Exception as exc:
            raise ChainError(f"no JSON-RPC node answers at {url}: {exc}") from exc
        super().__init__(w3, derive_accounts(num_accounts, mnemonic, hd_path), decoder)

    @property
    def url(self) -> str:
        return self._url

    @property
    def confirmations(self) -> int:
        """How many blocks behind the head `get_logs` stops."""
        return self._confirmations

    def confirmed_block_number(self) -> int:
        """The newest block `get_logs` will read from (``head - confirmations``, at least -1)."""
        return max(self.block_number() - self._confirmations, -1)

    def resync_nonces(self) -> None:
        """Forgets the nonces counted here, so the next transaction of each sender asks the node.

        Needed only when something else rewound the node (another client's ``evm_revert``): a nonce
        counted past the node's would leave the next transaction queued, never mined. (This chain's
        own `revert` resyncs by itself; nonces used by other clients are recovered automatically.)
        """
        with self._write_lock:
            self._nonces.clear()

    # ------------------------------------------------------------------ writes

    def transact(self, sender: str, to: str | None, data: bytes, *, value: int = 0, gas: int | None = None) -> Receipt:
        sender = to_checksum_address(sender)
        signer, tx = self._unsigned(sender, to, data, value=value, gas=gas)
        with self._write_lock:
            for attempt in range(NONCE_RETRIES + 1):
                nonce = self._nonces.get(sender)
                if nonce is None:
                    nonce = int(self._w3.eth.get_transaction_count(sender, "pending"))
                tx["nonce"] = nonce
                raw = bytes(signer.sign_transaction(tx).raw_transaction)
                try:
                    tx_hash = self._w3.eth.send_raw_transaction(raw)
                except Web3RPCError as exc:
                    self._nonces.pop(sender, None)  # re-read from the node next time
                    if attempt < NONCE_RETRIES and _is_nonce_error(exc):
                        # Another client took the nonce. It may be sending as fast as it can (its
                        # counter needs no round trip, our re-read does), so back off a random while.
                        time.sleep(random.uniform(0, NONCE_BACKOFF * (attempt + 1)))
                        continue
                    raise ChainError(f"the node refused a transaction from {sender}: {exc}") from exc
                except Exception as exc:  # transport failure: whether the node got it is unknown
                    self._nonces.pop(sender, None)
                    raise ChainError(f"could not send a transaction to {self._url}: {exc}") from exc
                self._nonces[sender] = nonce + 1
                break
        return self._finish(bytes(tx_hash), tx)

    def send_raw_transaction(self, raw: bytes) -> Receipt:
        check_signed_for(self.chain_id, raw)  # the node may be laxer (anvil takes pre-EIP-155 ones)
        try:
            signer = to_checksum_address(Account.recover_transaction(raw))
        except Exception as exc:
            raise ChainError(f"not a signed transaction: {exc}") from exc
        with self._write_lock:
            self._nonces.pop(signer, None)  # the signer may be one of ours: re-read its nonce
            try:
                tx_hash = self._w3.eth.send_raw_transaction(raw)
            except Web3RPCError as exc:
                raise ChainError(f"the node refused the transaction: {exc}") from exc
        return self._finish(bytes(tx_hash), None)

    def _finish(self, tx_hash: bytes, tx: dict[str, Any] | None) -> Receipt:
        try:
            raw_receipt = self._wait_for_receipt(tx_hash)
        except TimeExhausted as exc:
            with self._write_lock:
                self._nonces.clear()
            raise ChainError(f"transaction 0x{tx_hash.hex()} was not mined within {self._receipt_timeout} s") from exc
        receipt = self._to_receipt(raw_receipt)
        if int(raw_receipt["status"]) != 1:
            raise self._explain_failure(tx, raw_receipt, receipt.transaction_hash)
        return receipt

    def _wait_for_receipt(self, tx_hash: bytes) -> Any:
        """Asks at once (a node mining on arrival, like anvil, has the receipt already), then polls
        at growing intervals (`receipt_poll_delays`) up to `poll_interval`: no fixed sleep between a
        transaction mined in a millisecond and its receipt."""
        deadline = time.monotonic() + self._receipt_timeout
        delays = receipt_poll_delays(self._poll_interval)
        while True:
            try:
                return self._w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeExhausted(f"transaction 0x{tx_hash.hex()} not mined within {self._receipt_timeout} s")
            time.sleep(min(next(delays), left))

    def _explain_failure(self, tx: dict[str, Any] | None, raw: Any, tx_hash: str) -> ContractReverted:
        """Asks the node for the failed transaction's own output (``debug_traceTransaction`` with the
        call tracer: exact, whatever else ran in its block); nodes without the debug API get the
        generic replay as a call on the parent block."""
        try:
            trace = self._w3.provider.make_request(
                RPCEndpoint("debug_traceTransaction"), [tx_hash, {"tracer": "callTracer"}]
            )
        except Exception:
            trace = {}
        result = trace.get("result") if isinstance(trace, dict) else None
        output = result.get("output") if isinstance(result, dict) else None
        if isinstance(output, str) and output.startswith("0x") and len(output) >= 10:
            try:
                return self._decoder.to_exception(bytes.fromhex(output[2:]), tx_hash=tx_hash)
            except ValueError:
                pass
        return super()._explain_failure(tx, raw, tx_hash)

    # ------------------------------------------------------------------ reads

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str] | None = None) -> list[Log]:
        """Logs of blocks ``from_block … min(to_block, confirmed_block_number())``."""
        to_block = min(to_block, self.confirmed_block_number())
        if from_block > to_block:
            return []
        return super().get_logs(from_block, to_block, addresses)

    # ------------------------------------------------------------------ dev powers

    def _dev(self, method: str, params: list[Any]) -> Any:
        try:
            response = self._w3.provider.make_request(RPCEndpoint(method), params)
        except Exception as exc:
            raise DevFeatureUnavailable(self._unavailable(method, str(exc))) from exc
        error = response.get("error")
        if error is not None:
            message = error.get("message", error) if isinstance(error, dict) else error
            raise DevFeatureUnavailable(self._unavailable(method, str(message)))
        return response.get("result")

    def _unavailable(self, method: str, reason: str) -> str:
        return (
            f"the node at {self._url} does not support {method} ({reason}); snapshots, time travel "
            f"and mining on demand need a development node such as anvil or Hardhat"
        )

    def snapshot(self) -> Any:
        return self._dev("evm_snapshot", [])

    def revert(self, snapshot_id: Any) -> None:
        with self._write_lock:
            ok = self._dev("evm_revert", [snapshot_id])
            self._nonces.clear()
        if ok is False:
            raise ChainError(f"the node at {self._url} has no snapshot {snapshot_id!r} (or it was used)")

    def time_travel(self, timestamp: int) -> None:
        now = self.timestamp()
        if timestamp <= now:
            raise ChainError(f"cannot travel to {timestamp}: the newest block is already at {now}")
        with self._write_lock:
            try:
                self._dev("evm_setNextBlockTimestamp", [timestamp])
            except DevFeatureUnavailable:
                self._dev("evm_increaseTime", [timestamp - now])
            self._dev("evm_mine", [])

    def mine(self, blocks: int = 1) -> None:
        if blocks < 0:
            raise ChainError(f"cannot mine {blocks} blocks")
        with self._write_lock:
            for _ in range(blocks):
                self._dev("evm_mine", [])


def receipt_poll_delays(cap: float, first: float = 0.001) -> Iterator[float]:
    """Pauses between two receipt lookups: `first`, then doubling, never more than `cap`."""
    delay = min(first, cap)
    while True:
        yield delay
        delay = min(delay * 2, cap)


def _is_nonce_error(exc: Web3RPCError) -> bool:
    text = str(exc).lower()
    response = cast(dict[str, Any], exc.rpc_response or {})
    error = response.get("error")
    if isinstance(error, dict):
        text += " " + str(error.get("message", "")).lower()
    return any(marker in text for marker in _NONCE_ERRORS)
