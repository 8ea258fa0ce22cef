"""The embedded chain as a JSON-RPC 2.0 endpoint, so participants can use their own tools on it.

`JsonRpcApp(chain)` is a plain ASGI app (POST a JSON-RPC request or a batch to any path), so it can be
mounted anywhere (``mount_rpc(app, chain, "/rpc")``) or served on its own port
(``python -m sandbox.rpc_server --port 8545``, bound to 127.0.0.1).

What it answers, in the wire format geth and anvil use:
- reads (``eth_chainId``, ``eth_blockNumber``, ``eth_getBalance``, ``eth_getBlockByNumber``,
  ``eth_getLogs``, ``eth_call``, ``eth_estimateGas``, …) through the chain's web3 handle;
- ``eth_sendRawTransaction`` through ``chain.send_raw_transaction`` — the chain's single ordered
  write path (the one persistence journals); a transaction that reverts is mined, so its hash is
  returned, as on a real node;
- ``eth_sendTransaction`` for the sandbox's own accounts (signed by the sandbox, as anvil does for
  its unlocked accounts);
- reverts of ``eth_call`` and ``eth_estimateGas`` as error code 3 with the revert bytes in ``data``,
  so clients (ethers, viem, web3.py) decode custom errors.

On the embedded chain each request runs under the chain's own lock (py-evm is not thread-safe), so
JSON-RPC clients, the API and Python callers can share one chain.

Dev methods (``evm_snapshot``, ``evm_revert``, ``evm_mine``, time travel) are deliberately absent: a
shared sandbox must not let one client rewind everybody's history (nor what persistence journaled).
Unknown methods get ``-32601``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, cast

import uvicorn
from eth_typing import ChecksumAddress, HexStr
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from web3.exceptions import BlockNotFound, TransactionNotFound
from web3.types import BlockIdentifier, FilterParams, TxParams

from sandbox.chain.web3chain import DEFAULT_GAS, Web3Chain
from sandbox.errors import ChainError, ContractReverted

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
#: geth's and anvil's code for "execution reverted" with revert data.
EXECUTION_REVERTED = 3
#: Receipts of transactions sent here, kept so clients polling for them do not make the chain look
#: a hash up (eth-tester walks back from the newest block for that).
RECEIPT_CACHE_SIZE = 4096
MAX_BATCH = 1000

_QUANTITY_FIELDS = ("gas", "gasPrice", "value", "nonce", "maxFeePerGas", "maxPriorityFeePerGas", "chainId")
_TAGS = ("latest", "earliest", "pending", "safe", "finalized")


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
    return wire


class RpcHandler:
    """Transport-free JSON-RPC dispatch over a chain (the ASGI app wraps it)."""

    def __init__(self, chain: Web3Chain, *, client_version: str = "uk-us-dss-sandbox/0.1.0") -> None:
        self._chain = chain
        self._w3 = chain.w3
        self._client_version = client_version
        # py-evm is not thread-safe: on the embedded chain (``serialize_reads``) a request holds the
        # chain's own (reentrant) write lock, so it never runs beside a write from the API or a
        # facade; writes inside it take the same lock again. A node serves requests concurrently.
        self._guard = chain._read_guard
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
            "eth_accounts": lambda p: [a.address for a in self._chain.accounts],
            "eth_blockNumber": lambda p: hex(self._chain.block_number()),
            "eth_gasPrice": lambda p: hex(self._w3.eth.gas_price),
            "eth_maxPriorityFeePerGas": lambda p: hex(self._w3.eth.max_priority_fee),
            "eth_feeHistory": self._fee_history,
            "eth_getBalance": lambda p: hex(self._w3.eth.get_balance(_address(_param(p, 0)), _block(p, 1))),
            "eth_getTransactionCount": lambda p: hex(
                self._w3.eth.get_transaction_count(_address(_param(p, 0)), _block(p, 1))
            ),
            "eth_getCode": lambda p: to_wire(self._w3.eth.get_code(_address(_param(p, 0)), _block(p, 1))),
            "eth_getStorageAt": lambda p: to_wire(
                self._w3.eth.get_storage_at(_address(_param(p, 0)), _quantity(_param(p, 1)), _block(p, 2))
            ),
            "eth_getBlockByNumber": lambda p: self._block_or_none(_block(p, 0), bool(_param(p, 1, False))),
            "eth_getBlockByHash": lambda p: self._block_or_none(
                HexBytes(_data(_param(p, 0))), bool(_param(p, 1, False))
            ),
            "eth_getTransactionByHash": self._transaction,
            "eth_getTransactionReceipt": self._receipt,
            "eth_getLogs": self._logs,
            "eth_call": self._call,
            "eth_estimateGas": self._estimate_gas,
            "eth_sendRawTransaction": self._send_raw,
            "eth_sendTransaction": self._send_transaction,
        }

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(sorted(self._methods))

    # ------------------------------------------------------------------ dispatch

    def handle_payload(self, payload: Any) -> Any:
        """A request object or a batch (list) in; the response object, list, or None (notifications)."""
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
            handler = self._methods.get(method)
            if handler is None:
                raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
            if not isinstance(params, list):
                raise RpcError(INVALID_PARAMS, "params must be an array")
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

    def _block_or_none(self, block: BlockIdentifier, full: bool) -> Any:
        try:
            wire = to_wire(self._w3.eth.get_block(block, full))
        except BlockNotFound:
            return None
        # eth-tester keeps the bloom as an integer, so web3.py drops its leading zero bytes.
        wire["logsBloom"] = "0x" + wire["logsBloom"][2:].rjust(512, "0")
        if full:
            wire["transactions"] = [_wire_transaction(tx) for tx in wire["transactions"]]
        return wire

    def _fee_history(self, p: list[Any]) -> Any:
        percentiles = [float(x) for x in _param(p, 2, [])]
        return to_wire(self._w3.eth.fee_history(_quantity(_param(p, 0)), _block(p, 1), percentiles))

    def _logs(self, p: list[Any]) -> Any:
        spec = _param(p, 0)
        if not isinstance(spec, dict):
            raise RpcError(INVALID_PARAMS, "eth_getLogs takes a filter object")
        params: dict[str, Any] = {}
        if "blockHash" in spec:
            params["blockHash"] = HexBytes(_data(spec["blockHash"]))
        else:
            params["fromBlock"] = _block_id(spec.get("fromBlock", "latest"))
            params["toBlock"] = _block_id(spec.get("toBlock", "latest"))
        if spec.get("address") is not None:
            address = spec["address"]
            params["address"] = [_address(a) for a in address] if isinstance(address, list) else _address(address)
        if spec.get("topics") is not None:
            params["topics"] = spec["topics"]
        return [_wire_log(log) for log in to_wire(self._w3.eth.get_logs(cast(FilterParams, params)))]

    def _transaction(self, p: list[Any]) -> Any:
        tx_hash = _hash(_param(p, 0))
        cached = self._cached(tx_hash)
        if cached is not None and cached[1] is not None:
            return cached[1]
        try:
            return _wire_transaction(self._w3.eth.get_transaction(HexStr(tx_hash)))
        except TransactionNotFound:
            return None

    def _receipt(self, p: list[Any]) -> Any:
        tx_hash = _hash(_param(p, 0))
        cached = self._cached(tx_hash)
        if cached is not None:
            return cached[0]
        try:
            return _wire_receipt(self._w3.eth.get_transaction_receipt(HexStr(tx_hash)))
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
            block = self._w3.eth.get_block(int(receipt["blockNumber"], 16))
        except BlockNotFound:
            block = None
        if block is None or to_wire(block["hash"]) != receipt["blockHash"]:
            with self._cache_lock:
                self._receipts.pop(tx_hash, None)
            return None
        return entry

    def _call(self, p: list[Any]) -> Any:
        tx = _tx_params(_param(p, 0))
        block = _block(p, 1)
        to = tx.get("to")
        if to is not None and not tx.get("value"):
            # The chain's own call path decodes reverts on every backend.
            try:
                out = self._chain.call(
                    str(to), _data(tx.get("data", "0x")), sender=cast(str | None, tx.get("from")), block=block
                )
            except ContractReverted as exc:
                raise _reverted(exc) from None
            return "0x" + out.hex()
        try:
            return to_wire(self._w3.eth.call(cast(TxParams, tx), block))
        except Exception as exc:
            raise self._explain(tx, exc) from None

    def _estimate_gas(self, p: list[Any]) -> Any:
        tx = _tx_params(_param(p, 0))
        tx.pop("gas", None)
        block = _block(p, 1) if len(p) > 1 else None
        try:
            return hex(self._w3.eth.estimate_gas(cast(TxParams, tx), block))
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

    def _send_transaction(self, p: list[Any]) -> Any:
        tx = _tx_params(_param(p, 0))
        sender = tx.get("from")
        if sender is None:
            raise RpcError(INVALID_PARAMS, "eth_sendTransaction needs from")
        if sender not in {a.address for a in self._chain.accounts}:
            raise RpcError(SERVER_ERROR, f"no key for {sender}: sign the transaction and use eth_sendRawTransaction")
        to = tx.get("to")
        try:
            receipt = self._chain.transact(
                str(sender),
                None if to is None else str(to),
                _data(tx.get("data", tx.get("input", "0x"))),
                value=int(tx.get("value", 0)),
                gas=int(tx["gas"]) if tx.get("gas") else DEFAULT_GAS,
            )
            tx_hash = receipt.transaction_hash
        except ContractReverted as exc:
            if exc.tx_hash is None:
                raise _reverted(exc) from None
            tx_hash = exc.tx_hash
        except ChainError as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from None
        self._remember(tx_hash)
        return tx_hash

    def _remember(self, tx_hash: str) -> None:
        # Fetched right after mining, the transaction is at the head, so the lookup is short.
        try:
            receipt = _wire_receipt(self._w3.eth.get_transaction_receipt(HexStr(tx_hash)))
            transaction = _wire_transaction(self._w3.eth.get_transaction(HexStr(tx_hash)))
        except TransactionNotFound:
            return
        with self._cache_lock:
            self._receipts[tx_hash] = (receipt, transaction)
            while len(self._receipts) > RECEIPT_CACHE_SIZE:
                self._receipts.popitem(last=False)


class JsonRpcApp:
    """ASGI app answering JSON-RPC over HTTP POST on any path under where it is mounted."""

    def __init__(self, chain: Web3Chain, *, max_body: int = 5 * 1024 * 1024) -> None:
        self.handler = RpcHandler(chain)
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
        if scope["type"] != "http":
            return
        response = await self._respond(Request(scope, receive))
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
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
        result = await run_in_threadpool(self.handler.handle_payload, payload)
        if result is None:
            return Response(status_code=204)
        return JSONResponse(result)


def create_rpc_app(chain: Web3Chain) -> JsonRpcApp:
    """The JSON-RPC endpoint over `chain` (to mount, e.g. at ``/rpc``, or to serve alone)."""
    return JsonRpcApp(chain)


def mount_rpc(app: Starlette, chain: Web3Chain, path: str = "/rpc") -> JsonRpcApp:
    """Serves the endpoint at exactly `path` and ``path/`` of a Starlette or FastAPI app.

    Unlike ``app.mount(path, …)``, which answers ``POST /rpc`` with a redirect to ``/rpc/``, both
    spellings answer directly (JSON-RPC clients are given the URL as typed).
    """
    rpc = create_rpc_app(chain)
    path = "/" + path.strip("/")
    for route_path in (path, path + "/"):
        app.router.routes.append(Route(route_path, endpoint=rpc, include_in_schema=False))
    return rpc


# ---------------------------------------------------------------------- param parsing


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


def _block_id(value: Any) -> BlockIdentifier:
    if value in _TAGS:
        return cast(BlockIdentifier, value)
    return _quantity(value)


def _block(params: list[Any], index: int) -> Any:
    """A block parameter: a tag, a number, or an EIP-1898 object (``{"blockNumber"}``/``{"blockHash"}``)."""
    value = _param(params, index, "latest")
    if isinstance(value, dict):
        if "blockHash" in value:
            return HexBytes(_data(value["blockHash"]))
        return _block_id(value.get("blockNumber", "latest"))
    return _block_id(value)


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


class ServerThread:
    """Serves an ASGI app with uvicorn in a background thread on 127.0.0.1 (port 0: any free port).

    ``with ServerThread(create_rpc_app(chain)) as server: server.url`` — for tests and benchmarks.
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", ws="none", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="rpc-server", daemon=True)
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ChainError("the JSON-RPC server did not start")
            time.sleep(0.01)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------- standalone


def main(argv: list[str] | None = None) -> None:
    """``python -m sandbox.rpc_server [--port 8545] [--scenario seeds/demo.yaml]``."""
    from api.limits import RequestLimits  # noqa: PLC0415  (bounds bodies before json.loads: see api.limits)
    from sandbox.chain.embedded import EmbeddedChain  # noqa: PLC0415
    from sandbox.market import load_embedded  # noqa: PLC0415
    from sandbox.scenario import Scenario  # noqa: PLC0415

    parser = argparse.ArgumentParser(description="Serve an embedded sandbox chain over JSON-RPC.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--scenario", help="a scenario file to deploy first (e.g. seeds/demo.yaml)")
    args = parser.parse_args(argv)
    chain: Web3Chain
    if args.scenario:
        market = load_embedded(Scenario.from_file(args.scenario), clock="wall", accounts=args.accounts)
        assert isinstance(market.chain, Web3Chain)
        chain = market.chain
        addresses = {symbol: token.address for symbol, token in market.securities.items()}
        print(json.dumps({"registry": market.registry.address, "securities": addresses}), flush=True)
    else:
        chain = EmbeddedChain(num_accounts=args.accounts, clock="wall")
    print(f"JSON-RPC on http://{args.host}:{args.port} (chain id {chain.chain_id})", flush=True)
    uvicorn.run(RequestLimits(create_rpc_app(chain)), host=args.host, port=args.port, log_level="warning", ws="none")


if __name__ == "__main__":
    main()
