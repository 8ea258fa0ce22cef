"""Gateway settings, read from the environment with the ``SANDBOX_`` prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandbox.scenario import DEMO_SCENARIO
from sandbox_gateway.limits import DEFAULT_MAX_BODY, DEFAULT_MAX_DEPTH


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SANDBOX_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    #: The scenario loaded at start.
    scenario: Path = DEMO_SCENARIO
    #: Block timestamps: "wall" follows the clock (a sandbox that runs for weeks), "fixed" advances one
    #: second per block (reproducible runs).
    clock: Literal["fixed", "wall"] = "wall"
    #: The in-process EVM: "revm" (pyrevm, the default; see `sandbox.chain.revm_engine`) or "embedded"
    #: (py-evm, the reference). Unset: a data directory is reopened on the engine that created it, a new
    #: chain gets the default (`sandbox.chain.factory.DEFAULT_ENGINE`).
    engine: Literal["embedded", "revm"] | None = None
    #: Funded accounts on the embedded chain (at least what the scenario needs).
    accounts: int = 20
    #: Derive the embedded chain's accounts from the well-known development mnemonic ("test … junk", as
    #: anvil and Hardhat do) instead of a fresh random one: the same addresses on every run, but their
    #: keys are public, so anyone who reaches the sandbox can sign as any participant (the FCA
    #: included). UNSAFE beyond your own machine. With a data directory it applies when the directory
    #: is created; the directory keeps its keys afterwards.
    reproducible: bool = False
    #: JSON-RPC URL of an external node (anvil, geth, Besu); empty for the embedded chain.
    chain_url: str | None = None
    #: Where `sandbox serve` keeps the chain, the deployment and the read model across restarts (a
    #: directory, created if missing); empty for a sandbox in memory that forgets everything when it stops.
    #: The gateway keeps its Idempotency-Key records there too (`sandbox_gateway.idempotency`).
    data_dir: Path | None = None
    #: SQLAlchemy URL of the read model's database (e.g. ``postgresql+psycopg://user@host/db``); empty for
    #: a SQLite file in the data directory (or in a temporary directory without one).
    database_url: str | None = None
    #: Whose acknowledged writes a read reflects: "gateway" (every write this gateway acknowledged before
    #: the read began, to anyone: what an integration test or a regulator expects) or "caller" (only the
    #: caller's own: reads never wait for the indexing of others' writes, the fastest under many writers).
    #: Either way ``X-Sandbox-Min-Block`` names a block a read must reflect (a write made elsewhere).
    read_after: Literal["gateway", "caller"] = "gateway"
    #: Longest a write's acknowledgement waits for the read model to hold the write's block (so that no read
    #: after the acknowledgement has anything to wait for): the route's thread indexes it when nobody else is
    #: indexing, or waits for whoever is. Past it the write is acknowledged anyway, and the reads that must
    #: reflect it wait for it instead. 0: acknowledge at once.
    acknowledge_indexed_seconds: float = Field(2.0, ge=0.0, le=60.0)
    title: str = "UK-US digital-securities sandbox"
    #: How long a request whose Idempotency-Key is in use by a running request waits for it before a 409.
    idempotency_wait_seconds: float = 10.0
    #: How long Idempotency-Key records are kept.
    idempotency_retention_seconds: float = 24 * 3600.0

    # ---- request limits (sandbox_gateway.limits): checked before anything reads or parses a body, on every route and
    # on /rpc. The REST routes' largest body, a payment run for 200 holders, is under 10 kB; see sandbox_gateway.limits
    # for JSON-RPC's.
    #: Largest request body, in bytes: a larger one is answered 413 without being read.
    max_body_bytes: int = Field(DEFAULT_MAX_BODY, ge=1024)
    #: Deepest nesting of JSON arrays and objects in a body: a deeper one is answered 400 without being parsed.
    max_json_depth: int = Field(DEFAULT_MAX_DEPTH, ge=8, le=1000)

    # ---- browsers on other origins (CORS), for the API and /rpc
    #: Origins a browser app may call from, comma-separated (``https://app.example,http://localhost:5173``;
    #: ``*`` for any). Empty (the default): no CORS headers, so browsers refuse cross-origin calls. A
    #: preflight (OPTIONS) is answered without a key; the request itself still needs its bearer key.
    cors_origins: str = ""

    # ---- the console (sandbox_gateway.console)
    #: Mark the console's session cookie `Secure` (sent over https only). It is also marked so on any request
    #: that reached the gateway over https (the request's scheme, or `X-Forwarded-Proto: https` from a proxy
    #: uvicorn trusts); set this when a TLS-terminating proxy does not say so.
    cookie_secure: bool = False

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]
