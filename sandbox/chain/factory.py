"""`connect`: a chain from a URL or an engine name, or the default engine when there is none."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypeAlias

from sandbox.chain.base import Chain
from sandbox.errors import ChainError

if TYPE_CHECKING:
    from sandbox.chain.embedded import EmbeddedChain
    from sandbox.chain.revm_engine import RevmChain

#: A chain running in this process, on either engine (the same options and dev powers).
InProcessChain: TypeAlias = "EmbeddedChain | RevmChain"

EMBEDDED = "embedded"
REVM = "revm"
ENGINES = (EMBEDDED, REVM)
#: Environment variable naming the in-process engine `connect()` gives when no URL is named.
ENGINE_VARIABLE = "SANDBOX_ENGINE"


def default_engine() -> str:
    """The in-process engine named by ``SANDBOX_ENGINE`` (``embedded`` when unset)."""
    engine = os.environ.get(ENGINE_VARIABLE, "").strip() or EMBEDDED
    if engine not in ENGINES:
        raise ChainError(f"{ENGINE_VARIABLE}={engine!r}: the engines are {', '.join(ENGINES)}")
    return engine


def in_process_chain(engine: str | None = None, **options: Any) -> InProcessChain:
    """A fresh in-process chain of `engine` (default: `default_engine()`): py-evm's `EmbeddedChain`
    or revm's `RevmChain`; both take the same options (num_accounts=, clock=, mnemonic=, data_dir=, ...)."""
    engine = engine or default_engine()
    if engine == REVM:
        from sandbox.chain.revm_engine import RevmChain  # noqa: PLC0415 (pyrevm only when asked)

        return RevmChain(**options)
    if engine == EMBEDDED:
        from sandbox.chain.embedded import EmbeddedChain  # noqa: PLC0415 (eth-tester only when asked)

        return EmbeddedChain(**options)
    raise ChainError(f"unknown engine {engine!r}: the engines are {', '.join(ENGINES)}")


def connect(url: str | None = None, **options: Any) -> Chain:
    """The chain at `url`: ``None`` gives a fresh in-process chain of the default engine
    (``SANDBOX_ENGINE``, else py-evm's `EmbeddedChain`), ``"embedded"`` or ``"revm"`` that engine,
    ``http(s)://…`` an `RpcChain` over that JSON-RPC node. `options` go to the backend's constructor
    (e.g. ``num_accounts=``, ``confirmations=`` for a node, ``clock=`` for an in-process chain)."""
    if url is None or url in ENGINES:
        chain: Chain = in_process_chain(url, **options)
        return chain
    if url.startswith(("http://", "https://")):
        from sandbox.chain.rpc import RpcChain  # noqa: PLC0415

        return RpcChain(url, **options)
    raise ChainError(
        f"cannot connect to {url!r}: give an http(s):// JSON-RPC URL, or nothing, {EMBEDDED!r} (py-evm) or "
        f"{REVM!r} for an in-process chain"
    )
