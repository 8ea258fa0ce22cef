"""What a request may be before anything reads it: the outermost layer of the gateway and of the JSON-RPC
server.

`RequestLimits` is a plain ASGI middleware (wrap any ASGI app with it) that, for every HTTP request:

- refuses a request with more than one ``Authorization`` header (400): with two keys, one layer could act
  as one principal and another remember the request under the other;
- refuses a declared ``Content-Length`` over the cap (413) without reading a byte of the body, and stops
  reading a body sent without one (chunked) as soon as it passes the cap (413);
- runs nothing for a body the client did not finish sending (it disconnected): a truncated body is never
  handled as if it were the request;
- refuses a body that is not UTF-8 (RFC 8259 §8.1), and one whose arrays and objects nest deeper than
  the limit (400), by counting brackets outside strings in one linear pass: Python's JSON parser recurses
  once per level on the C stack, and py-evm and py_ecc raise the interpreter's recursion limit far above
  what that stack holds (100,000 levels), so a deep enough body would crash the process before the
  parser's own guard trips;
- hands the inner app the body it read, unchanged.

Refusals are ``application/problem+json`` with a stable code, like every other error of the gateway.

The interpreter's recursion limit is left as the libraries set it: py-evm needs 12,288 frames for the
EVM's 1,024 call depth, and py_ecc (imported with py-evm's precompiles) raises it to 100,000 for its own
arithmetic. A parser guard that depends on that number is no guard; this scan is, whatever it is.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox_gateway.problems import PROBLEM_JSON, problem_document

#: Defaults (the gateway takes its own from `sandbox_gateway.settings.Settings`): the largest legitimate bodies are a
#: JSON-RPC batch of 1,000 calls (a few hundred kB) and a contract deployment by eth_sendRawTransaction
#: (under 100 kB); the deepest nesting any route or JSON-RPC call uses is under 8.
DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_MAX_DEPTH = 32
ONE_AUTHORIZATION = "Send exactly one Authorization header; nothing was done."

# A JSON string: from a quote to the next unescaped quote, or to the end of the body when it never
# closes (and a trailing lone backslash). Every quote therefore starts a match, so `sub` scans the body
# once; possessive quantifiers keep the regex engine from backtracking.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.|\\\Z)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = tuple(1 if b in b"[{" else -1 if b in b"]}" else 0 for b in range(256))


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a UTF-8 JSON document nest (0 for a scalar), without parsing it.

    Brackets inside strings do not count. Linear in the body's length, whatever the body holds (it need
    not be valid JSON: the parser decides that later, once the depth is known to be safe)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


class RequestLimits:
    """ASGI middleware bounding each request's body (`max_body` bytes) and JSON nesting (`max_depth`)
    before the wrapped app, or anything in it, reads the body."""

    def __init__(self, app: ASGIApp, *, max_body: int = DEFAULT_MAX_BODY, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        if max_body < 0 or max_depth < 1:
            raise ValueError("max_body must be >= 0 and max_depth >= 1")
        self.app = app
        self.max_body = max_body
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._check_headers(scope)
        if refusal is not None:
            await _refuse(scope, send, *refusal)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before it finished sending: there is no request to answer
            body += message.get("body", b"")
            if len(body) > self.max_body:
                await _refuse(scope, send, *self._too_large())
                return
            if not message.get("more_body", False):
                break
        if body:
            refusal = self._check_json(bytes(body))
            if refusal is not None:
                await _refuse(scope, send, *refusal)
                return
        await self.app(scope, _replay(bytes(body), receive), send)

    def _check_headers(self, scope: Scope) -> tuple[int, str, str, str] | None:
        seen: dict[bytes, int] = {}
        lengths: list[bytes] = []
        for raw_name, value in scope["headers"]:
            name = raw_name.lower()
            seen[name] = seen.get(name, 0) + 1
            if name == b"content-length":
                lengths.append(value.strip())
        if seen.get(b"authorization", 0) > 1:
            # Which key would count is a parser's accident (HTTPBearer reads the first, another layer might
            # read the last): refuse both. The same answer as the idempotency layer and `get_principal` give.
            return 400, "AMBIGUOUS_CREDENTIALS", "Ambiguous credentials", ONE_AUTHORIZATION
        if lengths:
            if len(set(lengths)) > 1 or not lengths[0].isdigit():
                return 400, "INVALID_CONTENT_LENGTH", "Invalid Content-Length", "Content-Length is not one number."
            if int(lengths[0]) > self.max_body:
                return self._too_large()
        return None

    def _too_large(self) -> tuple[int, str, str, str]:
        return (
            413,
            "BODY_TOO_LARGE",
            "Request body too large",
            f"A request body may be at most {self.max_body} bytes.",
        )

    def _check_json(self, body: bytes) -> tuple[int, str, str, str] | None:
        if json.detect_encoding(body) not in ("utf-8", "utf-8-sig"):
            return 400, "BODY_NOT_UTF8", "Body not UTF-8", "A request body must be JSON encoded as UTF-8."
        if body.count(b"[") + body.count(b"{") <= self.max_depth:
            return None  # cannot nest deeper than it has brackets: most bodies stop here
        depth = json_depth(body)
        if depth > self.max_depth:
            return (
                400,
                "BODY_TOO_DEEP",
                "Request body nested too deeply",
                f"The body's arrays and objects nest {depth} levels deep; at most {self.max_depth} are accepted.",
            )
        return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body, once, as a single message; then whatever the client sends next (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(scope: Scope, send: Send, status: int, code: str, title: str, detail: str) -> None:
    document: dict[str, Any] = problem_document(status, code, title, detail, instance=scope.get("path", ""))
    payload = json.dumps(document).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(payload)).encode()),
                # The rest of an unread body is still on the wire: this connection cannot carry another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
