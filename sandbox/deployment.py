"""A market that survives its process: the embedded chain and the deployment in a data directory.

`open_market(data_dir, scenario)` is what ``sandbox serve --data-dir`` runs. The directory holds:

- ``chain/`` — the embedded chain's snapshots and fsynced journal (`sandbox.chain.persistence`): every
  transaction acknowledged to a caller is there after SIGKILL.
- ``deployment.json`` — everything the `Market` object knows that the chain does not say by itself:
  the scenario as loaded (principals, API keys), which participant is which account, and where the
  registry, the securities, the cash tokens and the settlement contract are. Written atomically
  (temporary file, fsync, rename, fsync of the directory) after the scenario is loaded and again
  whenever the market changes (a security created through the gateway), before the change is
  acknowledged.
- ``readmodel.sqlite`` — the read model (`sandbox.readmodel`), rebuilt or caught up from the chain.

On a fresh directory the scenario is loaded, then the chain is checkpointed (a snapshot: restarts
replay nothing of the loading) and the deployment written; the sandbox is served only after that. On
restart the chain replays its journal and the market is rebuilt from ``deployment.json`` against it:
nothing is deployed or seeded again. A process killed while loading the scenario leaves a ``SEEDING``
marker and no deployment: nothing was ever served from that chain, so the next start discards it and
loads the scenario again. A chain with blocks but neither file is not the sandbox's: it is refused.

The deployment is encoded generically from the `Market` dataclass's fields (contract facades by class
and address, dataclasses and pydantic models by class, containers recursively), so fields added to
`Market` later are persisted too; a value of a kind the encoder does not know is refused when
writing, loudly, rather than lost on restart. Fields with ``metadata={"transient": True}`` (listeners)
are not persisted.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sandbox.chain.embedded import Clock, EmbeddedChain
from sandbox.chain.persistence import PersistenceError
from sandbox.contracts.base import ContractFacade
from sandbox.errors import SandboxError
from sandbox.market import Market, Progress, load_scenario
from sandbox.scenario import Scenario

DEPLOYMENT_FILE = "deployment.json"
SEEDING_MARKER = "SEEDING"
CHAIN_DIR = "chain"
READ_MODEL_FILE = "readmodel.sqlite"
#: Version of ``deployment.json``'s layout.
FORMAT_VERSION = 1
#: Only classes of these packages are named in a deployment file (and so imported when reading one).
_TRUSTED_PACKAGES = ("sandbox.",)


class DeploymentError(SandboxError):
    """The data directory cannot be served: its deployment is missing, damaged or of another chain."""


# ---------------------------------------------------------------------- encoding


def _class_name(value: object) -> str:
    cls = type(value)
    return f"{cls.__module__}:{cls.__qualname__}"


def _class_of(name: str) -> type[Any]:
    module, _, qualname = name.partition(":")
    if not module.startswith(_TRUSTED_PACKAGES) or not qualname:
        raise DeploymentError(f"the deployment names a class outside the sandbox: {name!r}")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise DeploymentError(f"the deployment names an unknown class {name!r}")
    if not isinstance(found, type):
        raise DeploymentError(f"{name!r} is not a class")
    return found


def encode_value(value: Any, where: str) -> Any:
    """A JSON-able form of `value` that `decode_value` turns back into an equal value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, ContractFacade):
        return {"$contract": _class_name(value), "address": value.address, "block": value.deployed_in_block}
    if isinstance(value, BaseModel):
        return {"$model": _class_name(value), "data": value.model_dump(mode="json", by_alias=True)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode_value(getattr(value, f.name), f"{where}.{f.name}") for f in dataclasses.fields(value)}
        return {"$dataclass": _class_name(value), "fields": fields}
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [encode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise DeploymentError(f"{where}: only dictionaries with string keys can be persisted")
        return {"$dict": {k: encode_value(v, f"{where}[{k!r}]") for k, v in value.items()}}
    raise DeploymentError(f"{where}: cannot persist a {type(value).__name__} (teach sandbox.deployment about it)")


def decode_value(data: Any, chain: EmbeddedChain) -> Any:
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode_value(v, chain) for v in data]
    if not isinstance(data, dict) or len(data) > 3:
        raise DeploymentError(f"unexpected value in the deployment: {data!r:.80}")
    if "$contract" in data:
        facade = _class_of(data["$contract"])(chain, data["address"])
        if not isinstance(facade, ContractFacade):
            raise DeploymentError(f"{data['$contract']} is not a contract facade")
        facade.deployed_in_block = data.get("block")
        return facade
    if "$model" in data:
        return _class_of(data["$model"]).model_validate(data["data"])
    if "$dataclass" in data:
        fields = {k: decode_value(v, chain) for k, v in data["fields"].items()}
        return _class_of(data["$dataclass"])(**fields)
    if "$tuple" in data:
        return tuple(decode_value(v, chain) for v in data["$tuple"])
    if "$dict" in data:
        return {k: decode_value(v, chain) for k, v in data["$dict"].items()}
    raise DeploymentError(f"unexpected value in the deployment: {data!r:.80}")


def _persisted_fields(market: Market) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(market) if f.name != "chain" and not f.metadata.get("transient")]


def encode_market(market: Market, *, num_accounts: int) -> dict[str, Any]:
    """The deployment document of `market` (everything but the chain itself)."""
    return {
        "format": FORMAT_VERSION,
        "chain_id": market.chain.chain_id,
        "num_accounts": num_accounts,
        "market": {f.name: encode_value(getattr(market, f.name), f.name) for f in _persisted_fields(market)},
    }


def decode_market(document: dict[str, Any], chain: EmbeddedChain) -> Market:
    """The `Market` a deployment document describes, on `chain` (which must hold its contracts)."""
    if document.get("format") != FORMAT_VERSION:
        raise DeploymentError(f"deployment format {document.get('format')!r}; this sandbox reads {FORMAT_VERSION}")
    if document.get("chain_id") != chain.chain_id:
        raise DeploymentError(f"the deployment is of chain {document.get('chain_id')}, not of chain {chain.chain_id}")
    fields = {name: decode_value(value, chain) for name, value in document["market"].items()}
    known = {f.name for f in dataclasses.fields(Market)}
    unknown = set(fields) - known
    if unknown:
        raise DeploymentError(f"the deployment holds fields this sandbox's Market lacks: {sorted(unknown)}")
    market = Market(chain=chain, **fields)
    if not chain.w3.eth.get_code(market.registry.address):
        raise DeploymentError(f"the chain holds no contract at the registry's address {market.registry.address}")
    return market


# ---------------------------------------------------------------------- files


def write_atomically(path: Path, text: str) -> None:
    """Replaces `path` with `text` so that a crash leaves either the old or the new file, complete."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_deployment(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / DEPLOYMENT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise DeploymentError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise DeploymentError(f"{path} does not hold a deployment")
    return document


class DeploymentWriter:
    """Writes a market's deployment file now and again whenever the market changes."""

    def __init__(self, market: Market, data_dir: Path, *, num_accounts: int) -> None:
        self.market = market
        self.path = data_dir / DEPLOYMENT_FILE
        self.num_accounts = num_accounts
        self._lock = threading.Lock()

    def write(self, _market: Market | None = None) -> None:
        with self._lock:
            document = encode_market(self.market, num_accounts=self.num_accounts)
            write_atomically(self.path, json.dumps(document, indent=1) + "\n")


# ---------------------------------------------------------------------- opening a data directory


@dataclass
class OpenedMarket:
    market: Market
    chain: EmbeddedChain
    data_dir: Path
    #: True when the scenario was loaded by this call; False when the market was restored.
    seeded: bool
    #: True when an interrupted loading of the scenario was discarded first.
    discarded_interrupted_seeding: bool = False

    @property
    def read_model_path(self) -> Path:
        return self.data_dir / READ_MODEL_FILE


def open_market(
    data_dir: Path | str,
    scenario: Scenario | Callable[[], Scenario],
    *,
    accounts: int = 20,
    clock: Clock = "wall",
    progress: Progress | None = None,
    snapshot_every: int | None = None,
) -> OpenedMarket:
    """Opens (or creates) a persistent sandbox in `data_dir`: restores its market, or loads `scenario`
    on a fresh directory (a callable is called only then). `accounts` applies to a fresh directory; a
    restored one keeps the accounts it was created with."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    document = read_deployment(data_dir)
    extra: dict[str, Any] = {} if snapshot_every is None else {"snapshot_every": snapshot_every}
    if document is not None:
        num_accounts = int(document.get("num_accounts", 0))
        chain = _open_chain(data_dir, num_accounts, clock, extra)
        try:
            market = decode_market(document, chain)
        except BaseException:
            chain.close()
            raise
        (data_dir / SEEDING_MARKER).unlink(missing_ok=True)
        _keep_writing(market, data_dir, num_accounts)
        return OpenedMarket(market, chain, data_dir, seeded=False)

    spec = scenario if isinstance(scenario, Scenario) else scenario()
    num_accounts = max(accounts, spec.accounts_needed)
    chain = _open_chain(data_dir, num_accounts, clock, extra)
    discarded = False
    if chain.block_number() > 0:
        if not (data_dir / SEEDING_MARKER).exists():
            blocks = chain.block_number()
            chain.close()
            raise DeploymentError(
                f"{data_dir / CHAIN_DIR} holds a chain of {blocks} blocks but {data_dir} has no {DEPLOYMENT_FILE}: "
                "it was not created by `sandbox serve`, or its deployment was deleted. Use another --data-dir."
            )
        # Killed while loading the scenario: nothing was served from this chain; load it again.
        chain.close()
        shutil.rmtree(data_dir / CHAIN_DIR)
        chain = _open_chain(data_dir, num_accounts, clock, extra)
        discarded = True
    write_atomically(data_dir / SEEDING_MARKER, f"loading scenario {spec.name}\n")
    try:
        market = load_scenario(chain, spec, progress)
        chain.checkpoint()  # a restart replays nothing of the loading
        DeploymentWriter(market, data_dir, num_accounts=num_accounts).write()
    except BaseException:
        chain.close()
        raise
    (data_dir / SEEDING_MARKER).unlink()
    _fsync_dir(data_dir)
    _keep_writing(market, data_dir, num_accounts)
    return OpenedMarket(market, chain, data_dir, seeded=True, discarded_interrupted_seeding=discarded)


def _open_chain(data_dir: Path, num_accounts: int, clock: Clock, extra: dict[str, Any]) -> EmbeddedChain:
    try:
        return EmbeddedChain(num_accounts=num_accounts, clock=clock, data_dir=data_dir / CHAIN_DIR, **extra)
    except PersistenceError as exc:
        raise DeploymentError(f"cannot open the chain in {data_dir / CHAIN_DIR}: {exc}") from None


def _keep_writing(market: Market, data_dir: Path, num_accounts: int) -> None:
    writer = DeploymentWriter(market, data_dir, num_accounts=num_accounts)
    market.listeners.append(writer.write)
