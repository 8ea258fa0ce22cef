"""`connect`: a chain from a URL or an engine name, or the default engine when there is none."""

from __future__ import annotations

import json
import os
from pathlib import Path
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


#: The engine when ``SANDBOX_ENGINE`` names none: revm, by measurement (README, "Engines").
DEFAULT_ENGINE = REVM


def default_engine() -> str:
    """The in-process engine named by ``SANDBOX_ENGINE`` (`DEFAULT_ENGINE`, revm, when unset)."""
    engine = os.environ.get(ENGINE_VARIABLE, "").strip() or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise ChainError(f"{ENGINE_VARIABLE}={engine!r}: the engines are {', '.join(ENGINES)}")
    return engine


def in_process_chain(engine: str | None = None, **options: Any) -> InProcessChain:
    """A fresh in-process chain of `engine` (default: `default_engine()`): py-evm's `EmbeddedChain`
    or revm's `RevmChain`; both take the same options (num_accounts=, clock=, mnemonic=, data_dir=, ...).
    A data directory is reopened on the engine that created it when no engine is named (one made by
    py-evm, from before revm was the default, stays on py-evm)."""
    engine = engine or _engine_of(options.get("data_dir")) or default_engine()
    if engine == REVM:
        from sandbox.chain.revm_engine import RevmChain  # noqa: PLC0415 (pyrevm only when asked)

        return RevmChain(**options)
    if engine == EMBEDDED:
        from sandbox.chain.embedded import EmbeddedChain  # noqa: PLC0415 (eth-tester only when asked)

        return EmbeddedChain(**options)
    raise ChainError(f"unknown engine {engine!r}: the engines are {', '.join(ENGINES)}")


def _engine_of(data_dir: Path | str | None) -> str | None:
    """The engine whose chain a data directory holds (None for none yet): ``chain.json`` names revm's;
    py-evm's names no engine."""
    if data_dir is None:
        return None
    try:
        identity = json.loads((Path(data_dir) / "chain.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return REVM if isinstance(identity, dict) and identity.get("engine") == REVM else EMBEDDED


def connect(url: str | None = None, **options: Any) -> Chain:
    """The chain at `url`: ``None`` gives a fresh in-process chain of the default engine
    (``SANDBOX_ENGINE``, else revm's `RevmChain`), ``"embedded"`` or ``"revm"`` that engine,
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
