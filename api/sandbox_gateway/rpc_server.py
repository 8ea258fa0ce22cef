"""The embedded chain as a JSON-RPC 2.0 endpoint, so participants can use their own tools on it.

`JsonRpcApp(chain, authenticate=...)` is a plain ASGI app (POST a JSON-RPC request or a batch to any
path), so it can be mounted anywhere (``mount_rpc(app, chain, "/rpc", authenticate=...)``, as
``sandbox serve`` does with the gateway's API keys) or served on its own port (``python -m
sandbox_gateway.rpc_server``, bound to 127.0.0.1, with an API key of its own).

Who may call what. Every request needs ``Authorization: Bearer <key>`` with a key `authenticate`
knows (the gateway's keys under ``sandbox serve``); without one the answer is HTTP 401 with a JSON-RPC
error (code -32001, ``data.code`` ``AUTHENTICATION_REQUIRED`` or ``INVALID_API_KEY``) and the body is
not even read. Past that, every role (investor, issuer, regulator, operator) may call the same methods:

==========================================  ===========================================================
reads: ``eth_chainId``, ``eth_blockNumber``, any valid key. The chain's state is one shared ledger:
``eth_getBalance``, ``eth_getBlockBy*``,     whoever holds a key sees all of it, as on a permissioned
``eth_getTransaction*``, ``eth_getLogs``,    chain (the gateway's routes scope what they *answer*; the
``eth_call``, ``eth_estimateGas``, …         ledger itself is not confidential among participants).
``eth_sendRawTransaction``                   any valid key: the signature, not the API key, says who
                                             acts, and the contracts decide what that account may do.
                                             Only transactions signed for this chain's id are taken
                                             (`Web3Chain.send_raw_transaction`): another chain id, or a
                                             legacy one without a chain id (pre-EIP-155), is refused
                                             (-32000), as geth refuses them over RPC.
``eth_accounts``                             ``[]``: the endpoint holds no key for anybody.
``eth_sendTransaction``, ``eth_sign*``,      refused for everyone (-32601 with a sentence): the
``eth_signTransaction``, ``personal_*``      sandbox never signs for a participant over JSON-RPC. Sign
                                             locally and send with ``eth_sendRawTransaction``.
dev methods (``evm_*``, ``anvil_*``, …)     absent (-32601): one client must not rewind everybody's
                                             history (nor what persistence journaled).
==========================================  ===========================================================

What it answers, in the wire format geth and anvil use:
- reads through the chain's web3 handle; reverts of ``eth_call`` and ``eth_estimateGas`` as error
  code 3 with the revert bytes in ``data``, so clients (ethers, viem, web3.py) decode custom errors;
- ``eth_getLogs`` (and log filters) from a log index kept in memory (`sandbox_gateway.log_index`), never
  by scanning blocks under the chain's lock: the index reads each block once, in chunks of
  `LOG_CHUNK_BLOCKS` blocks that each take and release the lock, so transfers interleave with its
  catch-up; at most `MAX_LOG_RESULTS` logs per answer (else -32005 "limit exceeded", as hosted nodes
  answer: ask again with a narrower range or a filter);
- ``eth_sendRawTransaction`` through ``chain.send_raw_transaction`` — the chain's single ordered write
  path (the one persistence journals); a transaction that reverts is mined, so its hash is returned,
  as on a real node.
- block parameters as tags, numbers or EIP-1898 objects (``{"blockHash", "requireCanonical"}``,
  ``{"blockNumber"}``; an unknown hash is -32001 "Resource not found", as anvil answers);
  ``eth_feeHistory`` computed from the blocks; ``eth_call``'s state and block overrides refused (-32602),
  never ignored;
- filters (``eth_newFilter`` & co.) that belong to the API key that installed them, expire after
  `FILTER_TIMEOUT_SECONDS` without a poll and number at most `MAX_FILTERS_PER_KEY` per key.
- ``debug_traceTransaction`` with ``{"tracer": "callTracer"}``: geth's call tree (on the embedded chain
  re-executed with py-evm, `sandbox.chain.trace`; on a node, the node's own tracer), every reverted
  frame's custom error decoded in ``revertError`` (name, args, and the rule with the token's sentence);
- over a WebSocket on the same path (``ws://…/rpc``, the bearer key on the upgrade request, refused
  with HTTP 401 before the connection is accepted): every method above, plus ``eth_subscribe`` /
  ``eth_unsubscribe`` for ``newHeads`` and ``logs`` (``address``/``topics`` filters), at most
  `MAX_SUBSCRIPTIONS_PER_CONNECTION` per connection; the connection looks for new blocks every
  `SUBSCRIPTION_POLL_SECONDS` while it has subscriptions, and logs come from the log index.

The README's JSON-RPC table lists every method and how it differs from anvil.

On the embedded chain each request runs under the chain's own lock (py-evm is not thread-safe), so
JSON-RPC clients, the API and Python callers can share one chain. Unknown methods get ``-32601``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import errno
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import uvicorn
from eth_abi import decode as abi_decode
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from web3.exceptions import BlockNotFound, TransactionNotFound

from sandbox.chain.base import NodeChain
from sandbox.errors import ChainError, ContractReverted, DevFeatureUnavailable
from sandbox.rules import CASH_RULES_BY_ERROR, RULES_BY_ERROR
from sandbox_gateway.log_index import LogIndex

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
#: The request carried no valid API key (sent with HTTP 401).
UNAUTHORIZED = -32001
#: EIP-1474's "resource not found": what anvil answers (and EIP-1898 recommends) for a block hash that
#: names no block. The same number as `UNAUTHORIZED`, which is only ever sent with HTTP 401.
RESOURCE_NOT_FOUND = -32001
#: EIP-1474's "limit exceeded" (hosted nodes answer an over-wide eth_getLogs with it).
LIMIT_EXCEEDED = -32005
#: geth's and anvil's code for "execution reverted" with revert data.
EXECUTION_REVERTED = 3
#: eth_getLogs: blocks the log index reads per hold of the chain's lock while it catches up (each block
#: is read once per process; 256 a hold kept a transfer waiting 1.4 s on a busy machine), the widest
#: block range one call may ask for (None: any, as anvil; the index makes a whole-chain query cheap),
#: and the most logs one answer may hold.
LOG_CHUNK_BLOCKS = 32
MAX_LOG_BLOCK_RANGE: int | None = None
MAX_LOG_RESULTS = 10_000
#: Methods that would make the endpoint sign for an account: refused, whoever asks.
SIGNING_METHODS = frozenset(
    {
        "eth_sendTransaction",
        "eth_signTransaction",
        "eth_sign",
        "eth_signTypedData",
        "eth_signTypedData_v1",
        "eth_signTypedData_v3",
        "eth_signTypedData_v4",
    }
)
#: Receipts of transactions sent here, kept so clients polling for them do not make the chain look
#: a hash up (eth-tester walks back from the newest block for that).
RECEIPT_CACHE_SIZE = 4096
MAX_BATCH = 1000
#: eth_feeHistory: the most blocks one call covers (geth's cap; more is silently cut, as geth does).
MAX_FEE_HISTORY_BLOCKS = 1024
#: Filters (eth_newFilter & co.): removed after this many seconds without a poll (geth's 5 minutes),
#: and at most this many alive per API key (a key that wants more uninstalls some first).
FILTER_TIMEOUT_SECONDS = 300.0
MAX_FILTERS_PER_KEY = 64
#: eth_subscribe over WebSocket: the most subscriptions one connection may hold at once, and how often
#: a connection with subscriptions looks for new blocks (seconds).
MAX_SUBSCRIPTIONS_PER_CONNECTION = 32
SUBSCRIPTION_POLL_SECONDS = 0.2

_QUANTITY_FIELDS = ("gas", "gasPrice", "value", "nonce", "maxFeePerGas", "maxPriorityFeePerGas", "chainId")
_TAGS = ("latest", "earliest", "pending", "safe", "finalized")

#: Who a bearer API key is: anything but None for a key the endpoint accepts (under ``sandbox serve``,
#: the gateway's `PrincipalDirectory.authenticate`).
Authenticator = Callable[[str], object | None]

#: Who is asking, for the request being handled: a digest of its API key ("" when called in process).
#: Filters belong to it; another key's filter id is "filter not found".
_OWNER: contextvars.ContextVar[str] = contextvars.ContextVar("rpc_owner", default="")


@dataclass
class _Filter:
    """A filter installed by eth_new*Filter: what it matches and the last block it reported."""

    kind: str  # "logs", "blocks" or "pending"
    owner: str
    cursor: int
    touched: float
    spec: dict[str, Any] = field(default_factory=dict)


def single_key(api_key: str) -> Authenticator:
    """An authenticator accepting exactly `api_key` (compared by digest, in constant time)."""
    wanted = hashlib.sha256(api_key.encode("utf-8")).digest()

    def authenticate(presented: str) -> object | None:
        given = hashlib.sha256(presented.encode("utf-8")).digest()
        return "api-key" if hmac.compare_digest(given, wanted) else None

    return authenticate


class RpcError(Exception):
    """A JSON-RPC error to send back (``code``, ``message``, optional ``data``)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def to_wire(value: Any) -> Any:
    """web3.py's formatted values back into JSON-RPC wire format (quantities and data as 0x-hex)."""
    if isinstance(value, bool | str | float) or value is None:
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        # web3.py leaves a few of eth-tester's snake_case keys (y_parity, state_root, and every key of
        # the full transactions inside a block); JSON-RPC spells them all in camelCase.
        return {_camel(str(k)): to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    raise TypeError(f"cannot put {type(value).__name__} on the wire")


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _wire_log(log: dict[str, Any]) -> dict[str, Any]:
    if log.get("type") == "mined":  # eth-tester's marker, not part of a JSON-RPC log
        del log["type"]
    log.setdefault("removed", False)
    return log


def _wire_receipt(receipt: Any) -> dict[str, Any]:
    wire = cast(dict[str, Any], to_wire(receipt))
    wire["logs"] = [_wire_log(log) for log in wire.get("logs", [])]
    wire.pop("stateRoot", None)  # eth-tester's post-state root; receipts carry status instead
    if not wire.get("to"):  # eth-tester says "" for a contract creation; JSON-RPC says null
        wire["to"] = None
    if "logsBloom" not in wire:  # eth-tester leaves it out; clients filter receipts by it
        wire["logsBloom"] = _logs_bloom(wire["logs"])
    return wire


def _logs_bloom(logs: list[dict[str, Any]]) -> str:
    """The 2048-bit bloom of the yellow paper (eq. 26): 3 bits per log address and topic."""
    bloom = 0
    for log in logs:
        for item in (log["address"], *log["topics"]):
            digest = keccak(bytes.fromhex(item[2:]))
            for i in (0, 2, 4):
                bloom |= 1 << (int.from_bytes(digest[i : i + 2], "big") & 2047)
    return "0x" + bloom.to_bytes(256, "big").hex()


def _wire_transaction(tx: Any) -> Any:
    wire = to_wire(tx)
    if isinstance(wire, dict) and "input" not in wire and "data" in wire:
        wire["input"] = wire.pop("data")
    if isinstance(wire, dict) and "to" in wire and not wire["to"]:  # eth-tester's "" for a creation
        wire["to"] = None
    return wire


class RpcHandler:
    """Transport-free JSON-RPC dispatch over a chain (the ASGI app wraps it)."""

    def __init__(
        self,
        chain: NodeChain,
        *,
        client_version: str = "uk-us-dss-sandbox/0.1.0",
        clock: Callable[[], float] = time.monotonic,
        log_chunk_blocks: int = LOG_CHUNK_BLOCKS,
        max_log_blocks: int | None = MAX_LOG_BLOCK_RANGE,
        max_log_results: int = MAX_LOG_RESULTS,
    ) -> None:
        self._chain = chain
        self._log_chunk_blocks = log_chunk_blocks
        self._max_log_blocks = max_log_blocks
        self._max_log_results = max_log_results
        #: Every log of the chain, read once per block (`LogIndex`): eth_getLogs, log filters and
        #: log subscriptions answer from it.
        self.log_index = LogIndex(chain, self._block_summary, chunk_blocks=log_chunk_blocks)
        self._client_version = client_version
        self._clock = clock
        self._filter_lock = threading.Lock()
        self._filters: dict[str, _Filter] = {}
        # py-evm is not thread-safe: on the embedded chain (``serialize_reads``) a request holds the
        # chain's own (reentrant) write lock, so it never runs beside a write from the API or a
        # facade; writes inside it take the same lock again. A node serves requests concurrently.
        self._guard = chain.exclusive
        # The receipt cache is ours: its own lock, for backends that do not serialize.
        self._cache_lock = threading.Lock()
        self._receipts: OrderedDict[str, tuple[dict[str, Any], dict[str, Any] | None]] = OrderedDict()
        self._methods: dict[str, Callable[[list[Any]], Any]] = {
            "web3_clientVersion": lambda p: self._client_version,
            "web3_sha3": lambda p: "0x" + keccak(_data(_param(p, 0))).hex(),
            "net_version": lambda p: str(self._chain.chain_id),
            "net_listening": lambda p: True,
            "net_peerCount": lambda p: "0x0",
            "eth_chainId": lambda p: hex(self._chain.chain_id),
            "eth_syncing": lambda p: False,
            "eth_mining": lambda p: False,
            "eth_accounts": lambda p: [],  # the endpoint signs for nobody
            "eth_blockNumber": lambda p: hex(self._chain.block_number()),
            "eth_gasPrice": lambda p: hex(self._chain.gas_price()),
            "eth_maxPriorityFeePerGas": lambda p: hex(self._chain.max_priority_fee()),
            "eth_feeHistory": self._fee_history,
            "eth_getBalance": lambda p: hex(
                self._chain.get_balance(_address(_param(p, 0)), block=self._state_at(p, 1))
            ),
            "eth_getTransactionCount": lambda p: hex(
                self._chain.get_transaction_count(_address(_param(p, 0)), block=self._state_at(p, 1))
            ),
            "eth_getCode": lambda p: to_wire(self._chain.get_code(_address(_param(p, 0)), block=self._state_at(p, 1))),
            "eth_getStorageAt": self._storage_at,
            "eth_getBlockByNumber": lambda p: self._block_or_none(_block_id(_param(p, 0)), bool(_param(p, 1, False))),
            "eth_getBlockByHash": lambda p: self._block_or_none(
                HexBytes(_data(_param(p, 0))), bool(_param(p, 1, False))
            ),
            "eth_getTransactionByHash": self._transaction,
            "eth_getTransactionReceipt": self._receipt,
            "eth_getLogs": self._logs,
            "eth_call": self._call,
            "eth_estimateGas": self._estimate_gas,
            "eth_sendRawTransaction": self._send_raw,
            "eth_newFilter": self._new_log_filter,
            "eth_newBlockFilter": lambda p: self._install("blocks", {}),
            "eth_newPendingTransactionFilter": lambda p: self._install("pending", {}),
            "eth_getFilterChanges": self._filter_changes,
            "eth_getFilterLogs": self._filter_logs,
            "eth_uninstallFilter": self._uninstall,
            "eth_getBlockReceipts": self._block_receipts,
            "eth_getBlockTransactionCountByHash": lambda p: self._count(self._block_by_hash(p, 0)),
            "eth_getBlockTransactionCountByNumber": lambda p: self._count(self._block_by_number(p, 0)),
            "eth_getTransactionByBlockHashAndIndex": lambda p: self._tx_at(self._block_by_hash(p, 0), p),
            "eth_getTransactionByBlockNumberAndIndex": lambda p: self._tx_at(self._block_by_number(p, 0), p),
            "eth_getUncleCountByBlockHash": lambda p: None if self._block_by_hash(p, 0) is None else "0x0",
            "eth_getUncleCountByBlockNumber": lambda p: None if self._block_by_number(p, 0) is None else "0x0",
            "eth_getUncleByBlockHashAndIndex": lambda p: None,
            "eth_getUncleByBlockNumberAndIndex": lambda p: None,
            "debug_traceTransaction": self._trace_transaction,
        }
        #: Methods that take the chain's lock themselves, in steps (a long read must not hold it).
        self._unguarded = frozenset({"eth_getLogs", "eth_getFilterChanges", "eth_getFilterLogs"})

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(sorted(self._methods))

    # ------------------------------------------------------------------ dispatch

    def handle_payload(self, payload: Any, *, owner: str = "") -> Any:
        """A request object or a batch (list) in; the response object, list, or None (notifications).
        `owner` names the caller (a digest of its API key): the filters it installs are its own."""
        token = _OWNER.set(owner)
        try:
            return self._handle_payload(payload)
        finally:
            _OWNER.reset(token)

    def _handle_payload(self, payload: Any) -> Any:
        if isinstance(payload, list):
            if not payload:
                return _error_response(None, RpcError(INVALID_REQUEST, "empty batch"))
            if len(payload) > MAX_BATCH:
                return _error_response(None, RpcError(INVALID_REQUEST, f"batch larger than {MAX_BATCH}"))
            responses = [r for r in (self.handle_one(item) for item in payload) if r is not None]
            return responses or None
        return self.handle_one(payload)

    def handle_one(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or "method" not in request:
            return _error_response(None, RpcError(INVALID_REQUEST, "not a JSON-RPC 2.0 request"))
        is_notification = "id" not in request
        request_id = request.get("id")
        method = request["method"]
        params = request.get("params", [])
        try:
            if not isinstance(method, str):
                raise RpcError(INVALID_REQUEST, "method must be a string")
            if method in SIGNING_METHODS or method.startswith("personal_"):
                raise RpcError(
                    METHOD_NOT_FOUND,
                    f"{method} is not available: this sandbox signs for no account over JSON-RPC. Sign the "
                    "transaction locally with your own key and send it with eth_sendRawTransaction.",
                )
            if method in ("eth_subscribe", "eth_unsubscribe"):
                raise RpcError(
                    METHOD_NOT_FOUND,
                    f"{method} needs a WebSocket connection: open ws://<host>/rpc (the same path and bearer "
                    "key) and send it there",
                )
            handler = self._methods.get(method)
            if handler is None:
                raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
            if not isinstance(params, list):
                raise RpcError(INVALID_PARAMS, "params must be an array")
            if method in self._unguarded:
                result = handler(params)
            else:
                with self._guard():
                    result = handler(params)
        except RpcError as exc:
            return None if is_notification else _error_response(request_id, exc)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            error = RpcError(INVALID_PARAMS, f"invalid params for {method}: {exc}")
            return None if is_notification else _error_response(request_id, error)
        except Exception as exc:
            error = RpcError(SERVER_ERROR, f"{type(exc).__name__}: {exc}")
            return None if is_notification else _error_response(request_id, error)
        if is_notification:
            return None
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    # ------------------------------------------------------------------ reads

    def _state_at(self, params: list[Any], index: int) -> int | str:
        """A block parameter as web3 takes it: a tag, a number, or EIP-1898's ``{"blockNumber": …}`` /
        ``{"blockHash": …, "requireCanonical"?: bool}`` resolved to the number of that block. A hash
        naming no block of the canonical chain is -32001 "Resource not found", as anvil answers (and
        EIP-1898 recommends): the embedded chain keeps no state for blocks a revert left behind, so
        ``requireCanonical: false`` cannot reach them either."""
        value = _param(params, index, "latest")
        if isinstance(value, dict):
            if "blockHash" in value:
                if "blockNumber" in value:
                    raise RpcError(INVALID_PARAMS, "a block parameter names a blockHash or a blockNumber, not both")
                require = value.get("requireCanonical", False)
                if not isinstance(require, bool):
                    raise RpcError(INVALID_PARAMS, "requireCanonical must be a boolean")
                return self._canonical_number(_hash(value["blockHash"]))
            if "blockNumber" not in value:
                raise RpcError(INVALID_PARAMS, "a block parameter object needs blockHash or blockNumber")
            return _block_id(value["blockNumber"])
        return _block_id(value)

    def _storage_at(self, p: list[Any]) -> Any:
        address, slot, block = _address(_param(p, 0)), _quantity(_param(p, 1)), self._state_at(p, 2)
        return to_wire(self._chain.get_storage_at(address, slot, block=block))

    def _canonical_number(self, block_hash: str) -> int:
        """The number of the canonical block `block_hash`, or -32001 "Resource not found"."""
        try:
            number = int(self._chain.get_block(HexBytes(block_hash))["number"])
            canonical = to_wire(self._chain.get_block(number)["hash"])
        except BlockNotFound:
            canonical = None
        if canonical != block_hash:  # unknown, or left behind by a revert
            raise RpcError(RESOURCE_NOT_FOUND, "Resource not found", {"blockHash": block_hash})
        return number

    def _block_or_none(self, block: int | str | bytes, full: bool) -> Any:
        try:
            wire = to_wire(self._chain.get_block(block, full_transactions=full))
        except BlockNotFound:
            return None
        # eth-tester keeps the bloom as an integer, so web3.py drops its leading zero bytes.
        wire["logsBloom"] = "0x" + wire["logsBloom"][2:].rjust(512, "0")
        if full:
            wire["transactions"] = [_wire_transaction(tx) for tx in wire["transactions"]]
        return wire

    def _fee_history(self, p: list[Any]) -> Any:
        """eth_feeHistory as geth computes it: the `blockCount` blocks ending at the newest one asked
        for (fewer near genesis), their base fees plus the next block's (EIP-1559's rule from the
        newest), the share of each block's gas limit used, and per block and requested percentile the
        effective priority fee paid at that percentile of the block's gas (transactions sorted by that
        fee, weighted by the gas each used); an empty block's rewards are zeros."""
        count = _quantity(_param(p, 0))
        count = min(count, MAX_FEE_HISTORY_BLOCKS)  # geth caps silently too
        newest_id = self._state_at(p, 1)
        raw_percentiles = _param(p, 2, None) or []
        if not isinstance(raw_percentiles, list):
            raise RpcError(INVALID_PARAMS, "rewardPercentiles must be an array")
        percentiles: list[float] = []
        for value in raw_percentiles:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
                raise RpcError(INVALID_PARAMS, f"invalid reward percentile: {value!r}")
            if percentiles and value < percentiles[-1]:
                raise RpcError(INVALID_PARAMS, f"invalid reward percentile: #{len(percentiles)}:{value} < previous")
            percentiles.append(float(value))
        try:
            newest = int(self._chain.get_block(newest_id)["number"])
        except BlockNotFound:
            raise RpcError(INVALID_PARAMS, f"block {newest_id!r} not found") from None
        if count == 0:
            return {"oldestBlock": "0x0", "baseFeePerGas": [], "gasUsedRatio": [], "reward": []}
        oldest = max(0, newest - count + 1)
        base_fees: list[int] = []
        ratios: list[float] = []
        rewards: list[list[str]] = []
        block: Any = None
        for number in range(oldest, newest + 1):
            block = self._chain.get_block(number, full_transactions=True)
            base_fee = int(block.get("baseFeePerGas", 0))
            base_fees.append(base_fee)
            ratios.append(int(block["gasUsed"]) / int(block["gasLimit"]) if int(block["gasLimit"]) else 0.0)
            if percentiles:
                rewards.append([hex(r) for r in self._block_rewards(block, base_fee, percentiles)])
        base_fees.append(_next_base_fee(block))
        return {
            "oldestBlock": hex(oldest),
            "baseFeePerGas": [hex(b) for b in base_fees],
            "gasUsedRatio": ratios,
            "reward": rewards,
        }

    def _block_rewards(self, block: Any, base_fee: int, percentiles: list[float]) -> list[int]:
        """geth's `processPercentiles`: effective tips sorted ascending, each weighted by its gas used."""
        transactions = list(block["transactions"])
        if not transactions:
            return [0 for _ in percentiles]
        tipped: list[tuple[int, int]] = []
        previous_cumulative = 0
        for tx in transactions:
            receipt = self._chain.get_transaction_receipt(to_wire(tx["hash"]))
            cumulative = int(receipt["cumulativeGasUsed"])
            gas_used, previous_cumulative = cumulative - previous_cumulative, cumulative
            wire = cast(dict[str, Any], to_wire(tx))  # eth-tester's keys in camelCase, quantities as hex
            if wire.get("maxFeePerGas") is not None:
                tip = min(int(wire["maxPriorityFeePerGas"], 16), int(wire["maxFeePerGas"], 16) - base_fee)
            else:
                tip = int(wire["gasPrice"], 16) - base_fee
            tipped.append((max(tip, 0), gas_used))
        tipped.sort()
        total = int(block["gasUsed"])
        out: list[int] = []
        index, sum_gas = 0, tipped[0][1]
        for percentile in percentiles:
            threshold = total * percentile / 100
            while sum_gas < threshold and index < len(tipped) - 1:
                index += 1
                sum_gas += tipped[index][1]
            out.append(tipped[index][0])
        return out

    def _logs(self, p: list[Any]) -> Any:
        """eth_getLogs, read in chunks of `log_chunk_blocks` blocks, each under the chain's lock on its
        own; a range wider than `max_log_blocks` or an answer longer than `max_log_results` is refused
        with `LIMIT_EXCEEDED`."""
        spec = _param(p, 0)
        if not isinstance(spec, dict):
            raise RpcError(INVALID_PARAMS, "eth_getLogs takes a filter object")
        addresses, topics = _log_criteria(spec)
        with self._guard():
            head = self._chain.block_number()
            if spec.get("blockHash") is not None:
                if spec.get("fromBlock") is not None or spec.get("toBlock") is not None:
                    raise RpcError(
                        INVALID_PARAMS, "cannot specify both blockHash and fromBlock/toBlock, choose one or the other"
                    )
                try:
                    start = stop = self._canonical_number(_hash(spec["blockHash"]))
                except RpcError:
                    raise RpcError(SERVER_ERROR, "unknown block") from None  # geth's and anvil's answer
            else:
                start = _log_bound(spec.get("fromBlock", "latest"), head)
                stop = _log_bound(spec.get("toBlock", "latest"), head)
        if start > stop:
            raise RpcError(INVALID_PARAMS, "invalid block range params: fromBlock is after toBlock")
        return self._collect_logs(start, min(stop, head), addresses, topics)  # unmined blocks hold no logs

    def _collect_logs(
        self, start: int, stop: int, addresses: list[str] | None, topics: list[set[bytes] | None]
    ) -> list[dict[str, Any]]:
        """The matching logs of blocks `start`..`stop`, from the log index (brought up to `stop`
        first: only blocks it has not read yet are read, in chunks, each under the chain's lock)."""
        if self._max_log_blocks is not None and stop - start + 1 > self._max_log_blocks:
            raise RpcError(
                LIMIT_EXCEEDED,
                f"eth_getLogs spans {stop - start + 1} blocks; at most {self._max_log_blocks} per call: "
                "ask for narrower block ranges",
                {"maxBlockRange": hex(self._max_log_blocks)},
            )
        self.log_index.sync(stop)
        wanted = [frozenset(allowed) if allowed is not None else None for allowed in topics]
        found = self.log_index.logs(start, stop, addresses, wanted)
        if len(found) > self._max_log_results:
            raise RpcError(
                LIMIT_EXCEEDED,
                f"eth_getLogs matches more than {self._max_log_results} logs: ask for a narrower block "
                "range, or filter by address or topics",
                {"maxResults": hex(self._max_log_results)},
            )
        return [log.to_wire() for log in found]

    def _block_summary(self, number: int) -> tuple[str, list[str]] | None:
        """Block `number`'s hash and its transactions' hashes (for the log index), or None."""
        try:
            with self._guard():
                block = self._chain.get_block(number)
        except BlockNotFound:
            return None
        return "0x" + bytes(block["hash"]).hex(), [cast(str, to_wire(h)) for h in block["transactions"]]

    # ------------------------------------------------------------------ tracing

    def _trace_transaction(self, p: list[Any]) -> Any:
        """debug_traceTransaction with geth's ``callTracer`` (``tracerConfig.onlyTopCall`` too): the
        call tree, and on every frame that reverted with data the error decoded in ``revertError``
        (name, arguments and, for a rule of the rulebook, its code, name and the contract's own
        sentence), besides geth's ``revertReason`` for ``Error(string)``."""
        tx_hash = _hash(_param(p, 0))
        options = _param(p, 1, None) or {}
        if not isinstance(options, dict):
            raise RpcError(INVALID_PARAMS, "the tracer options are an object")
        if options.get("tracer") != "callTracer":
            raise RpcError(
                INVALID_PARAMS,
                f"tracer {options.get('tracer')!r} is not supported: this endpoint traces with "
                '{"tracer": "callTracer"} only (no struct logs)',
            )
        config = options.get("tracerConfig") or {}
        if not isinstance(config, dict) or config.get("withLog"):
            raise RpcError(INVALID_PARAMS, "tracerConfig.withLog is not supported")
        try:
            trace = self._chain.trace_transaction(tx_hash)
        except DevFeatureUnavailable as exc:  # an engine that cannot trace
            raise RpcError(METHOD_NOT_FOUND, str(exc)) from None
        if trace is None:
            raise RpcError(SERVER_ERROR, "transaction not found")  # geth's words
        if config.get("onlyTopCall"):
            trace.pop("calls", None)
        self._explain_frames(trace)
        return trace

    def _explain_frames(self, frame: dict[str, Any]) -> None:
        for child in frame.get("calls", []):
            self._explain_frames(child)
        data = _data(frame.get("output", "0x")) if frame.get("error") else b""
        if len(data) < 4:
            return
        name, args = self._chain.decoder.decode(data)
        if name == "Error":
            frame["revertReason"] = args["reason"]
            return
        if name is None or name == "Panic":
            return
        decoded: dict[str, Any] = {"name": name, "args": _plain_json(args)}
        rule = RULES_BY_ERROR.get(name) or CASH_RULES_BY_ERROR.get(name)
        if rule is not None:
            decoded["rule"] = {
                "code": rule.code,
                "name": rule.name,
                "message": self._rule_sentence(frame["to"], rule.code),
            }
        frame["revertError"] = decoded

    def _rule_sentence(self, token: str, code: int) -> str | None:
        """The token's own sentence for a rule code (ERC-1404 ``messageForTransferRestriction``)."""
        try:
            out = self._chain.call(token, _MESSAGE_FOR_RESTRICTION + code.to_bytes(32, "big"))
            (message,) = abi_decode(["string"], out)
        except Exception:  # not a token of the sandbox's (the frame is some other contract)
            return None
        return str(message)

    # ------------------------------------------------------------------ subscriptions (WebSocket)

    def head(self) -> int:
        """The newest block's number."""
        return self._chain.block_number()

    def headers(self, start: int, stop: int) -> list[dict[str, Any]]:
        """eth_subscribe("newHeads") notifications: the headers of blocks `start`..`stop`, as geth
        sends them (the block without its transactions, uncles and size)."""
        out: list[dict[str, Any]] = []
        for number in range(start, stop + 1):
            with self._guard():
                block = self._block_or_none(number, False)
            if block is None:
                break
            for key in ("transactions", "uncles", "size", "totalDifficulty", "withdrawals"):
                block.pop(key, None)
            out.append(block)
        return out

    def subscription_logs(self, start: int, stop: int, criteria: Mapping[str, Any]) -> list[dict[str, Any]]:
        """eth_subscribe("logs", criteria) notifications for blocks `start`..`stop`, from the log index."""
        addresses, topics = _log_criteria(criteria)
        self.log_index.sync(stop)
        wanted = [frozenset(allowed) if allowed is not None else None for allowed in topics]
        return [log.to_wire() for log in self.log_index.logs(start, stop, addresses, wanted)]

    # ------------------------------------------------------------------ filters

    def _install(self, kind: str, spec: dict[str, Any]) -> str:
        """A new filter of the caller's, reporting from the next block on; its id is random (16 bytes)."""
        owner = _OWNER.get()
        head = self._chain.block_number()
        now = self._clock()
        with self._filter_lock:
            self._expire(now)
            if sum(1 for f in self._filters.values() if f.owner == owner) >= MAX_FILTERS_PER_KEY:
                raise RpcError(
                    LIMIT_EXCEEDED,
                    f"this API key has {MAX_FILTERS_PER_KEY} filters installed, the most it may: uninstall "
                    "some (eth_uninstallFilter) or let them expire (5 minutes without a poll)",
                )
            filter_id = "0x" + secrets.token_hex(16)
            self._filters[filter_id] = _Filter(kind, owner, head, now, spec)
        return filter_id

    def _new_log_filter(self, p: list[Any]) -> str:
        spec = _param(p, 0)
        if not isinstance(spec, dict):
            raise RpcError(INVALID_PARAMS, "eth_newFilter takes a filter object")
        if spec.get("blockHash") is not None:
            raise RpcError(INVALID_PARAMS, "eth_newFilter takes fromBlock/toBlock, not blockHash: use eth_getLogs")
        _log_criteria(spec)  # refuse a bad address or topic now, not at the first poll
        for bound in ("fromBlock", "toBlock"):
            if spec.get(bound) is not None:
                _block_id(spec[bound])
        return self._install("logs", spec)

    def _expire(self, now: float) -> None:
        for filter_id in [k for k, f in self._filters.items() if now - f.touched > FILTER_TIMEOUT_SECONDS]:
            del self._filters[filter_id]

    def _owned(self, p: list[Any]) -> tuple[str, _Filter]:
        filter_id = _param(p, 0)
        if not isinstance(filter_id, str):
            raise RpcError(INVALID_PARAMS, "a filter id is a hex string")
        now = self._clock()
        with self._filter_lock:
            self._expire(now)
            found = self._filters.get(filter_id.lower())
            if found is None or found.owner != _OWNER.get():
                raise RpcError(SERVER_ERROR, "filter not found")  # geth's and anvil's words
            found.touched = now
        return filter_id.lower(), found

    def _uninstall(self, p: list[Any]) -> bool:
        try:
            filter_id, _ = self._owned(p)
        except RpcError as exc:
            if exc.message == "filter not found":
                return False
            raise
        with self._filter_lock:
            return self._filters.pop(filter_id, None) is not None

    def _filter_changes(self, p: list[Any]) -> list[Any]:
        """What happened since the last poll: new blocks' hashes, or the logs of new blocks that match
        (within fromBlock/toBlock); nothing for a pending-transaction filter (every transaction is mined
        as it arrives, so none is ever pending)."""
        _, found = self._owned(p)
        if found.kind == "pending":
            return []
        with self._guard():
            head = self._chain.block_number()
            with self._filter_lock:  # two polls at once: each block is reported to one of them
                start = min(found.cursor, head) + 1  # a revert may have rewound the chain since
                found.cursor = head
            if found.kind == "blocks":
                return [to_wire(self._chain.get_block(n)["hash"]) for n in range(start, head + 1)]
        addresses, topics = _log_criteria(found.spec)
        low = max(start, _log_bound(found.spec.get("fromBlock", "earliest"), head))
        high = min(head, _log_bound(found.spec.get("toBlock", "latest"), head))
        return self._collect_logs(low, high, addresses, topics) if low <= high else []

    def _filter_logs(self, p: list[Any]) -> list[Any]:
        """Every log the filter matches, as eth_getLogs with its criteria would answer."""
        _, found = self._owned(p)
        if found.kind != "logs":
            raise RpcError(SERVER_ERROR, "filter not found")  # geth: only log filters have logs
        spec = {k: v for k, v in found.spec.items() if k in ("address", "topics", "fromBlock", "toBlock")}
        return cast(list[Any], self._logs([spec]))

    # ------------------------------------------------------------------ blocks by index

    def _block_by_hash(self, p: list[Any], index: int) -> Any:
        try:
            return self._chain.get_block(HexBytes(_hash(_param(p, index))), full_transactions=True)
        except BlockNotFound:
            return None

    def _block_by_number(self, p: list[Any], index: int) -> Any:
        try:
            return self._chain.get_block(_block_id(_param(p, index)), full_transactions=True)
        except BlockNotFound:
            return None

    @staticmethod
    def _count(block: Any) -> str | None:
        return None if block is None else hex(len(block["transactions"]))

    @staticmethod
    def _tx_at(block: Any, p: list[Any]) -> Any:
        index = _quantity(_param(p, 1))
        if block is None or index >= len(block["transactions"]):
            return None
        return _wire_transaction(block["transactions"][index])

    def _block_receipts(self, p: list[Any]) -> Any:
        """eth_getBlockReceipts: a block number, tag, hash, or EIP-1898 object; null for no such block."""
        value = _param(p, 0)
        if isinstance(value, dict):
            try:
                block_id = self._state_at(p, 0)
            except RpcError as exc:
                if exc.code == RESOURCE_NOT_FOUND:
                    return None
                raise
            block = self._block_by_number([block_id], 0)
        elif isinstance(value, str) and len(value) == 66:
            block = self._block_by_hash(p, 0)
        else:
            block = self._block_by_number(p, 0)
        if block is None:
            return None
        return [self._receipt([to_wire(tx["hash"])]) for tx in block["transactions"]]

    def _transaction(self, p: list[Any]) -> Any:
        tx_hash = _hash(_param(p, 0))
        cached = self._cached(tx_hash)
        if cached is not None and cached[1] is not None:
            return cached[1]
        try:
            return _wire_transaction(self._chain.get_transaction(tx_hash))
        except TransactionNotFound:
            return None

    def _receipt(self, p: list[Any]) -> Any:
        tx_hash = _hash(_param(p, 0))
        cached = self._cached(tx_hash)
        if cached is not None:
            return cached[0]
        try:
            return _wire_receipt(self._chain.get_transaction_receipt(tx_hash))
        except TransactionNotFound:
            return None

    def _cached(self, tx_hash: str) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        with self._cache_lock:
            entry = self._receipts.get(tx_hash)
        if entry is None:
            return None
        receipt = entry[0]
        # The chain may have been reverted to a snapshot since: trust the entry only if its block is
        # still the canonical one at that height.
        try:
            block = self._chain.get_block(int(receipt["blockNumber"], 16))
        except BlockNotFound:
            block = None
        if block is None or to_wire(block["hash"]) != receipt["blockHash"]:
            with self._cache_lock:
                self._receipts.pop(tx_hash, None)
            return None
        return entry

    def _call(self, p: list[Any]) -> Any:
        tx = _tx_params(_param(p, 0))
        for index, what in ((2, "state override"), (3, "block override")):
            # py-evm through eth-tester cannot run a call against changed state or a changed block
            # header: refused, never silently ignored (a client would trust an answer it did not ask).
            if _param(p, index, None):
                raise RpcError(
                    INVALID_PARAMS,
                    f"{what} is not supported: this sandbox's embedded chain cannot apply it (parameter {index})",
                )
        block = self._state_at(p, 1)
        to = tx.get("to")
        if to is not None and not tx.get("value"):
            # The chain's own call path decodes reverts on every backend.
            try:
                out = self._chain.call(
                    str(to),
                    _data(tx.get("data", "0x")),
                    sender=cast(str | None, tx.get("from")),
                    block=block,
                )
            except ContractReverted as exc:
                raise _reverted(exc) from None
            return "0x" + out.hex()
        try:
            return to_wire(self._chain.call_transaction(tx, block=block))
        except Exception as exc:
            raise self._explain(tx, exc) from None

    def _estimate_gas(self, p: list[Any]) -> Any:
        tx = _tx_params(_param(p, 0))
        tx.pop("gas", None)
        if _param(p, 2, None):
            raise RpcError(
                INVALID_PARAMS, "state override is not supported: this sandbox's embedded chain cannot apply it"
            )
        block = self._state_at(p, 1) if len(p) > 1 else None
        try:
            return hex(self._chain.estimate_transaction_gas(tx, block=block))
        except Exception as exc:
            raise self._explain(tx, exc) from None

    def _explain(self, tx: dict[str, Any], exc: Exception) -> RpcError:
        """The revert behind a failed call or estimate, replayed through the chain's call path."""
        to = tx.get("to")
        if to is not None and not tx.get("value"):
            try:
                self._chain.call(str(to), _data(tx.get("data", "0x")), sender=cast(str | None, tx.get("from")))
            except ContractReverted as reverted:
                return _reverted(reverted)
            except Exception:
                pass
        return RpcError(SERVER_ERROR, f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ writes

    def _send_raw(self, p: list[Any]) -> Any:
        raw = _data(_param(p, 0))
        tx_hash = "0x" + keccak(raw).hex()
        try:
            self._chain.send_raw_transaction(raw)
        except ContractReverted:
            pass  # mined and failed: a node returns the hash; the receipt says status 0
        except ChainError as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from None
        except Exception as exc:
            raise RpcError(SERVER_ERROR, f"transaction refused: {exc}") from None
        self._remember(tx_hash)
        return tx_hash

    def _remember(self, tx_hash: str) -> None:
        # Fetched right after mining, the transaction is at the head, so the lookup is short.
        try:
            receipt = _wire_receipt(self._chain.get_transaction_receipt(tx_hash))
            transaction = _wire_transaction(self._chain.get_transaction(tx_hash))
        except TransactionNotFound:
            return
        with self._cache_lock:
            self._receipts[tx_hash] = (receipt, transaction)
            while len(self._receipts) > RECEIPT_CACHE_SIZE:
                self._receipts.popitem(last=False)


class JsonRpcApp:
    """ASGI app answering JSON-RPC over HTTP POST on any path under where it is mounted, to callers
    with a bearer API key `authenticate` accepts."""

    def __init__(self, chain: NodeChain, *, authenticate: Authenticator, max_body: int = 5 * 1024 * 1024) -> None:
        self.handler = RpcHandler(chain)
        self._authenticate = authenticate
        self._max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "websocket":
            await self._serve_websocket(WebSocket(scope, receive, send))
            return
        if scope["type"] != "http":
            return
        response = await self._respond(Request(scope, receive))
        await response(scope, receive, send)

    async def _serve_websocket(self, websocket: WebSocket) -> None:
        """JSON-RPC over a WebSocket: every method of the HTTP endpoint, plus ``eth_subscribe`` /
        ``eth_unsubscribe`` (``newHeads`` and ``logs``). The upgrade request carries the bearer key;
        without a valid one it is refused before the connection is accepted (HTTP 401 with the same
        JSON-RPC error as over HTTP, where the server supports denial responses; else close 1008)."""
        caller = self._caller(websocket)
        if isinstance(caller, Response):
            if "websocket.http.response" in websocket.scope.get("extensions", {}):
                await websocket.send_denial_response(caller)
            else:
                await websocket.close(code=1008, reason="unauthorized")
            return
        owner = hashlib.sha256(websocket.headers["authorization"].partition(" ")[2].strip().encode()).hexdigest()
        await websocket.accept()
        session = _WebSocketSession(self.handler, websocket, owner, max_body=self._max_body)
        await session.run()

    def _caller(self, request: HTTPConnection) -> object | Response:
        """Who sent the request, or the 401 for a request without exactly one valid bearer key."""
        values = request.headers.getlist("authorization")
        if len(values) > 1:
            return _unauthorized("AUTHENTICATION_REQUIRED", "send exactly one Authorization header")
        scheme, _, key = (values[0] if values else "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return _unauthorized("AUTHENTICATION_REQUIRED", "send an API key as `Authorization: Bearer <key>`")
        caller = self._authenticate(key)
        if caller is None:
            return _unauthorized("INVALID_API_KEY", "the API key is not known to this sandbox")
        return caller

    async def _respond(self, request: Request) -> Response:
        caller = self._caller(request)  # before reading a byte of the body
        if isinstance(caller, Response):
            return caller
        request.state.principal = caller  # as the gateway's routes do: its request audit names the caller
        if request.method != "POST":
            return JSONResponse(
                {"error": "POST a JSON-RPC 2.0 request (or a batch) here"},
                status_code=405,
                headers={"Allow": "POST"},
            )
        body = await request.body()
        if len(body) > self._max_body:
            return JSONResponse(_error_response(None, RpcError(INVALID_REQUEST, "request too large")))
        try:
            payload = json.loads(body)
        except ValueError:
            return JSONResponse(_error_response(None, RpcError(PARSE_ERROR, "parse error")))
        owner = hashlib.sha256(request.headers["authorization"].partition(" ")[2].strip().encode()).hexdigest()
        result = await run_in_threadpool(self.handler.handle_payload, payload, owner=owner)
        if result is None:
            return Response(status_code=204)
        return JSONResponse(result)


@dataclass
class _Subscription:
    kind: str  # "newHeads" or "logs"
    criteria: dict[str, Any]


class _WebSocketSession:
    """One WebSocket connection: its requests, its subscriptions (at most
    `MAX_SUBSCRIPTIONS_PER_CONNECTION`) and the task that pushes their notifications."""

    def __init__(self, handler: RpcHandler, websocket: WebSocket, owner: str, *, max_body: int) -> None:
        self._handler = handler
        self._websocket = websocket
        self._owner = owner
        self._max_body = max_body
        self._subscriptions: dict[str, _Subscription] = {}
        self._send_lock = asyncio.Lock()
        self._changed = asyncio.Event()  # a subscription was added: start watching now
        self._cursor = -1  # the newest block already notified

    async def run(self) -> None:
        pump = asyncio.create_task(self._pump())
        try:
            while True:
                text = await self._websocket.receive_text()
                reply = await self._answer(text)
                if reply is not None:
                    await self._send(reply)
        except WebSocketDisconnect:
            pass
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await pump

    async def _send(self, message: Any) -> None:
        async with self._send_lock:
            await self._websocket.send_text(json.dumps(message))

    async def _answer(self, text: str) -> Any:
        if len(text) > self._max_body:
            return _error_response(None, RpcError(INVALID_REQUEST, "request too large"))
        try:
            payload = json.loads(text)
        except ValueError:
            return _error_response(None, RpcError(PARSE_ERROR, "parse error"))
        if isinstance(payload, list):
            if not payload:
                return _error_response(None, RpcError(INVALID_REQUEST, "empty batch"))
            if len(payload) > MAX_BATCH:
                return _error_response(None, RpcError(INVALID_REQUEST, f"batch larger than {MAX_BATCH}"))
            replies = [r for r in [await self._answer_one(item) for item in payload] if r is not None]
            return replies or None
        return await self._answer_one(payload)

    async def _answer_one(self, request: Any) -> Any:
        if isinstance(request, dict) and request.get("method") in ("eth_subscribe", "eth_unsubscribe"):
            if request.get("jsonrpc") != "2.0":
                return _error_response(None, RpcError(INVALID_REQUEST, "not a JSON-RPC 2.0 request"))
            if "id" not in request:
                return None  # a notification: nothing is subscribed that the client could not name
            try:
                params = request.get("params", [])
                if not isinstance(params, list):
                    raise RpcError(INVALID_PARAMS, "params must be an array")
                if request["method"] == "eth_subscribe":
                    result: Any = await self._subscribe(params)
                else:
                    result = self._subscriptions.pop(str(_param(params, 0)).lower(), None) is not None
            except RpcError as exc:
                return _error_response(request["id"], exc)
            return {"jsonrpc": "2.0", "id": request["id"], "result": result}
        return await run_in_threadpool(self._handler.handle_payload, request, owner=self._owner)

    async def _subscribe(self, params: list[Any]) -> str:
        kind = _param(params, 0)
        if kind == "newHeads":
            criteria: dict[str, Any] = {}
        elif kind == "logs":
            criteria = _param(params, 1, None) or {}
            if not isinstance(criteria, dict):
                raise RpcError(INVALID_PARAMS, 'eth_subscribe("logs") takes a filter object')
            criteria = {k: v for k, v in criteria.items() if k in ("address", "topics")}
            _log_criteria(criteria)  # a bad address or topic is refused now
        else:
            raise RpcError(INVALID_PARAMS, f"unsupported subscription {kind!r}: this endpoint offers newHeads and logs")
        if len(self._subscriptions) >= MAX_SUBSCRIPTIONS_PER_CONNECTION:
            raise RpcError(
                LIMIT_EXCEEDED,
                f"this connection holds {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions, the most it may: "
                "eth_unsubscribe some first",
            )
        if not self._subscriptions:
            # Notifications start with the block after the one the subscription was made at.
            self._cursor = await run_in_threadpool(self._handler.head)
        subscription_id = "0x" + secrets.token_hex(16)
        self._subscriptions[subscription_id] = _Subscription(kind, criteria)
        self._changed.set()
        return subscription_id

    async def _pump(self) -> None:
        """Watches the chain while there are subscriptions, and sends each subscriber what is new."""
        while True:
            if not self._subscriptions:
                self._changed.clear()
                await self._changed.wait()
            head = await run_in_threadpool(self._handler.head)
            self._cursor = min(self._cursor, head)
            if head > self._cursor:
                start, self._cursor = self._cursor + 1, head
                await self._notify(start, head)
            await asyncio.sleep(SUBSCRIPTION_POLL_SECONDS)

    async def _notify(self, start: int, stop: int) -> None:
        headers: list[dict[str, Any]] | None = None
        for subscription_id, subscription in list(self._subscriptions.items()):
            if subscription.kind == "newHeads":
                if headers is None:
                    headers = await run_in_threadpool(self._handler.headers, start, stop)
                results: list[dict[str, Any]] = headers
            else:
                results = await run_in_threadpool(self._handler.subscription_logs, start, stop, subscription.criteria)
            for result in results:
                if subscription_id not in self._subscriptions:
                    break  # unsubscribed meanwhile
                await self._send(
                    {
                        "jsonrpc": "2.0",
                        "method": "eth_subscription",
                        "params": {"subscription": subscription_id, "result": result},
                    }
                )


def _unauthorized(code: str, message: str) -> Response:
    error = RpcError(UNAUTHORIZED, f"unauthorized: {message}", {"code": code})
    return JSONResponse(_error_response(None, error), status_code=401, headers={"WWW-Authenticate": "Bearer"})


def create_rpc_app(chain: NodeChain, *, authenticate: Authenticator) -> JsonRpcApp:
    """The JSON-RPC endpoint over `chain` (to mount, e.g. at ``/rpc``, or to serve alone), for
    callers with a bearer API key `authenticate` accepts."""
    return JsonRpcApp(chain, authenticate=authenticate)


def mount_rpc(app: Starlette, chain: NodeChain, path: str = "/rpc", *, authenticate: Authenticator) -> JsonRpcApp:
    """Serves the endpoint at exactly `path` and ``path/`` of a Starlette or FastAPI app.

    Unlike ``app.mount(path, …)``, which answers ``POST /rpc`` with a redirect to ``/rpc/``, both
    spellings answer directly (JSON-RPC clients are given the URL as typed).
    """
    rpc = create_rpc_app(chain, authenticate=authenticate)
    path = "/" + path.strip("/")
    for route_path in (path, path + "/"):
        app.router.routes.append(Route(route_path, endpoint=rpc, include_in_schema=False))
        app.router.routes.append(WebSocketRoute(route_path, endpoint=rpc))
    return rpc


# ---------------------------------------------------------------------- param parsing


#: ERC-1404's ``messageForTransferRestriction(uint8)``.
_MESSAGE_FOR_RESTRICTION = keccak(text="messageForTransferRestriction(uint8)")[:4]


def _plain_json(value: Any) -> Any:
    """Decoded error arguments as JSON: tuples as arrays, at any depth."""
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(v) for v in value]
    return value


def _error_response(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def _reverted(exc: ContractReverted) -> RpcError:
    return RpcError(EXECUTION_REVERTED, f"execution reverted: {exc}", "0x" + exc.data.hex())


def _param(params: list[Any], index: int, default: Any = ...) -> Any:
    if index < len(params):
        return params[index]
    if default is ...:
        raise RpcError(INVALID_PARAMS, f"missing parameter {index}")
    return default


def _quantity(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.startswith("0x"):
        return int(value, 16)
    raise RpcError(INVALID_PARAMS, f"not a quantity: {value!r}")


def _data(value: Any) -> bytes:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise RpcError(INVALID_PARAMS, f"not 0x-prefixed hex data: {value!r}")


def _hash(value: Any) -> str:
    data = _data(value)
    if len(data) != 32:
        raise RpcError(INVALID_PARAMS, f"not a 32-byte hash: {value!r}")
    return "0x" + data.hex()


def _address(value: Any) -> ChecksumAddress:
    if not isinstance(value, str) or len(_data(value)) != 20:
        raise RpcError(INVALID_PARAMS, f"not an address: {value!r}")
    return to_checksum_address(value)


def _block_id(value: Any) -> int | str:
    """A block number or tag ("latest", "pending", …)."""
    if value in _TAGS:
        return cast(str, value)
    return _quantity(value)


def _log_criteria(spec: Mapping[str, Any]) -> tuple[list[str] | None, list[set[bytes] | None]]:
    """The addresses (None: any) and topics a log filter object asks for."""
    address = spec.get("address")
    addresses: list[str] | None = None
    if address is not None:
        addresses = [_address(a) for a in address] if isinstance(address, list) else [_address(address)]
    return addresses, _topic_filter(spec.get("topics"))


def _log_bound(value: Any, head: int) -> int:
    """A fromBlock/toBlock of eth_getLogs as a block number (tags name the head; nothing is pending)."""
    bound = _block_id(value)
    if bound == "earliest":
        return 0
    return head if isinstance(bound, str) else int(bound)


def _topic_filter(value: Any) -> list[set[bytes] | None]:
    """eth_getLogs topics: per position, None (anything) or the set of topics that match there."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 4:
        raise RpcError(INVALID_PARAMS, "topics must be an array of at most 4 entries")
    out: list[set[bytes] | None] = []
    for entry in value:
        if entry is None:
            out.append(None)
        elif isinstance(entry, list):
            out.append({bytes.fromhex(_hash(t)[2:]) for t in entry} or None)
        else:
            out.append({bytes.fromhex(_hash(entry)[2:])})
    return out


def _next_base_fee(block: Any) -> int:
    """EIP-1559: the base fee of the block after `block` (elasticity 2, change denominator 8)."""
    base_fee = int(block.get("baseFeePerGas", 0))
    target = int(block["gasLimit"]) // 2
    used = int(block["gasUsed"])
    if target in (used, 0):
        return base_fee
    if used > target:
        return base_fee + max(1, base_fee * (used - target) // target // 8)
    return base_fee - base_fee * (target - used) // target // 8


def _tx_params(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RpcError(INVALID_PARAMS, "expected a transaction object")
    tx: dict[str, Any] = {}
    for key in ("from", "to"):
        if value.get(key) is not None:
            tx[key] = _address(value[key])
    payload = value.get("input", value.get("data"))
    if payload is not None:
        tx["data"] = "0x" + _data(payload).hex()
    for key in _QUANTITY_FIELDS:
        if value.get(key) is not None:
            tx[key] = _quantity(value[key])
    tx.pop("chainId", None)
    if "gasPrice" in tx and "maxFeePerGas" in tx:
        del tx["gasPrice"]
    return tx


# ---------------------------------------------------------------------- serving


#: How long a `ServerThread` may take to start or stop: generous, for a busy machine (2 cores, load 20) where a
#: thread may wait seconds for the GIL and a CPU.
START_SECONDS = 120.0


class ServerThread:
    """Serves an ASGI app with uvicorn in a background thread on 127.0.0.1 (port 0: any free port).

    ``with ServerThread(create_rpc_app(chain, authenticate=single_key(key))) as server: server.url`` — for
    tests and benchmarks.
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="rpc-server", daemon=True)
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ChainError("the JSON-RPC server did not start")
            time.sleep(0.01)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=START_SECONDS)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------- standalone


def is_loopback(host: str) -> bool:
    """True when binding `host` makes a server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


class CannotListenError(OSError):
    """The address a server was asked to listen on cannot be bound (taken, or not an interface here)."""


def bind_listening_socket(host: str, port: int) -> socket.socket:
    """Bind and listen on ``host:port`` now, as uvicorn would (SO_REUSEADDR; IPv6 when the host has a
    colon), so a server fails before its slow start-up when the port is taken, and holds the port while
    it loads. Hand the socket to uvicorn with ``uvicorn.Server(config).run(sockets=[sock])``; port 0
    picks a free port (``sock.getsockname()[1]``). Raises `CannotListenError` with a sentence."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)  # connections made while the sandbox loads wait in the backlog
    except OSError as exc:
        sock.close()
        why = (
            "the port is already in use (another server is listening there)"
            if exc.errno == errno.EADDRINUSE
            else (exc.strerror or str(exc))
        )
        raise CannotListenError(exc.errno, f"cannot listen on {host}:{port}: {why}") from exc
    sock.set_inheritable(True)
    return sock


def serve_on_socket(app: Any, sock: socket.socket, **config: Any) -> None:
    """Run `app` with uvicorn on a socket `bind_listening_socket` already bound."""
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **config))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def main(argv: list[str] | None = None) -> None:
    """``python -m sandbox_gateway.rpc_server [--port 8545] [--scenario seeds/demo.yaml] [--api-key KEY]``."""
    import os  # noqa: PLC0415

    from sandbox.chain.embedded import DEFAULT_MNEMONIC, EmbeddedChain, random_mnemonic  # noqa: PLC0415
    from sandbox.market import load_embedded  # noqa: PLC0415
    from sandbox.scenario import Scenario  # noqa: PLC0415
    from sandbox_gateway.limits import RequestLimits  # noqa: PLC0415  (bounds bodies before json.loads: see sandbox_gateway.limits)

    parser = argparse.ArgumentParser(
        description="Serve an embedded sandbox chain over JSON-RPC. Every request needs "
        "`Authorization: Bearer <API key>`; the chain's accounts have random keys nobody else holds."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--scenario", help="a scenario file to deploy first (e.g. seeds/demo.yaml)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("SANDBOX_RPC_API_KEY"),
        help="the bearer key callers must send (default: $SANDBOX_RPC_API_KEY, else a random one, printed)",
    )
    parser.add_argument(
        "--reproducible",
        action="store_true",
        help="derive the accounts from the well-known development mnemonic (test ... junk) instead of "
        "random keys: anyone can then sign as any account. UNSAFE beyond your own machine.",
    )
    args = parser.parse_args(argv)
    if args.api_key is not None and len(args.api_key) < 16:
        parser.error("--api-key must be at least 16 characters")
    api_key: str = args.api_key or secrets.token_urlsafe(32)
    # The port first: a taken port fails at once, not after the chain is built and the scenario loaded.
    try:
        sock = bind_listening_socket(args.host, args.port)
    except CannotListenError as exc:
        print(f"error: {exc.strerror}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    port = sock.getsockname()[1]
    mnemonic = DEFAULT_MNEMONIC if args.reproducible else random_mnemonic()
    chain: NodeChain
    if args.scenario:
        market = load_embedded(
            Scenario.from_file(args.scenario), clock="wall", accounts=args.accounts, mnemonic=mnemonic
        )
        assert isinstance(market.chain, NodeChain)
        chain = market.chain
        addresses = {symbol: token.address for symbol, token in market.securities.items()}
        print(json.dumps({"registry": market.registry.address, "securities": addresses}), flush=True)
    else:
        chain = EmbeddedChain(num_accounts=args.accounts, clock="wall", mnemonic=mnemonic)
    print(f"JSON-RPC on http://{args.host}:{port} (chain id {chain.chain_id})", flush=True)
    if args.api_key is None:
        print(f"API key (send as `Authorization: Bearer <key>`): {api_key}", flush=True)
    if args.reproducible:
        print(
            "WARNING: accounts derive from the well-known development mnemonic: anyone who reaches this "
            "endpoint can sign as any of them.",
            flush=True,
        )
        if not is_loopback(args.host):
            print(f"WARNING: and {args.host} is not a loopback address: do not expose this chain.", flush=True)
    else:
        print("Accounts have random keys held by nobody: sign with your own keys (eth_sendRawTransaction).")
    serve_on_socket(RequestLimits(create_rpc_app(chain, authenticate=single_key(api_key))), sock, log_level="warning")


if __name__ == "__main__":
    main()
