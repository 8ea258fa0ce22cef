"""`connect`: a chain from a URL, or the embedded chain when there is none."""

from __future__ import annotations

from typing import Any

from sandbox.chain.base import Chain
from sandbox.errors import ChainError

EMBEDDED = "embedded"


def connect(url: str | None = None, **options: Any) -> Chain:
    """The chain at `url`: ``None`` or ``"embedded"`` gives a fresh in-process `EmbeddedChain`,
    ``http(s)://…`` an `RpcChain` over that JSON-RPC node. `options` go to the backend's constructor
    (e.g. ``num_accounts=``, ``confirmations=`` for a node, ``clock=`` for the embedded chain)."""
    if url is None or url == EMBEDDED:
        from sandbox.chain.embedded import EmbeddedChain  # noqa: PLC0415 (eth-tester only when asked)

        return EmbeddedChain(**options)
    if url.startswith(("http://", "https://")):
        from sandbox.chain.rpc import RpcChain  # noqa: PLC0415

        return RpcChain(url, **options)
    raise ChainError(
        f"cannot connect to {url!r}: give an http(s):// JSON-RPC URL, or nothing (or {EMBEDDED!r}) "
        "for the embedded chain"
    )
