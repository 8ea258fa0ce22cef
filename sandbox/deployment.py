"""A market that survives its process: the embedded chain and the deployment in a data directory.

`open_market(data_dir, scenario)` is what ``sandbox serve --data-dir`` runs. The directory holds:

- ``chain/`` — the embedded chain's snapshots and fsynced journal (`sandbox.chain.persistence`): every
  transaction acknowledged to a caller is there after SIGKILL.
- ``chain-keys.json`` — the mnemonic the chain's accounts derive from: a fresh random one made when
  the directory is created (`sandbox.chain.keys.random_mnemonic`), so nobody outside holds the
  keys the sandbox signs with for its participants; the well-known development mnemonic only when the
  caller asks for it (a reproducible chain, ``sandbox serve --reproducible``). Reused on every restart
  (the chain's genesis, hence its journal's block hashes, depend on it).
- ``deployment.json`` — everything the `Market` object knows that the chain does not say by itself:
  the scenario as loaded (principals, and the SHA-256 digests of their API keys — never the keys),
  which participant is which account, and where the registry, the securities, the cash tokens and the
  settlement contract are. Written atomically (temporary file, fsync, rename, fsync of the directory)
  after the scenario is loaded and again whenever the market changes (a security created through the
  gateway), before the change is acknowledged.
- ``readmodel.sqlite`` — the read model (`sandbox.readmodel`), rebuilt or caught up from the chain.

Every file written here is created with mode 0600 (owner only), and a directory created here 0700:
the key file signs for every participant, and the deployment lets anyone holding a key's digest
check guesses at it offline.

On a fresh directory the keys are chosen and written first, then the scenario is loaded, the chain is
checkpointed (a snapshot: restarts replay nothing of the loading) and the deployment written; the
sandbox is served only after that. On restart the chain replays its journal and the market is rebuilt
from ``deployment.json`` against it: nothing is deployed or seeded again. A process killed while
loading the scenario leaves a ``SEEDING`` marker and no deployment: nothing was ever served from that
chain, so the next start discards it and loads the scenario again. A chain without either file is not
the sandbox's: it is refused. A directory made before sandboxes had keys of their own (a deployment
but no key file: its chain uses the development mnemonic, whose keys are public) is served only when
the development mnemonic is asked for explicitly.

API keys in a restored market. The gateway authenticates by digest only (`sandbox_gateway.principals`), so the
restored scenario holds each key *sealed*: ``sha256:<hex digest>`` (`seal_api_key`); a scenario file
may also give a key sealed that way, so that the file does not hold the key either.

The deployment is encoded generically from the `Market` dataclass's fields (contract facades by class
and address, dataclasses and pydantic models by class, containers recursively), so fields added to
`Market` later are persisted too; a value of a kind the encoder does not know is refused when
writing, loudly, rather than lost on restart. Fields with ``metadata={"transient": True}`` (listeners)
are not persisted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sandbox.abi import interface_fingerprint
from sandbox.chain.factory import InProcessChain, in_process_chain
from sandbox.chain.keys import DEFAULT_MNEMONIC, Clock, random_mnemonic
from sandbox.chain.persistence import PersistenceError
from sandbox.contracts.base import ContractFacade
from sandbox.errors import SandboxError
from sandbox.market import Market, Progress, load_scenario, wall_clock_loading_start
from sandbox.scenario import Scenario

DEPLOYMENT_FILE = "deployment.json"
KEYS_FILE = "chain-keys.json"
SEEDING_MARKER = "SEEDING"
CHAIN_DIR = "chain"
READ_MODEL_FILE = "readmodel.sqlite"
#: Version of ``deployment.json``'s layout.
FORMAT_VERSION = 1
#: Version of ``chain-keys.json``'s layout.
KEYS_FORMAT_VERSION = 1
#: Only classes of these packages are named in a deployment file (and so imported when reading one).
_TRUSTED_PACKAGES = ("sandbox.",)
#: Mode of every file written into a data directory, and of a data directory created here.
FILE_MODE = 0o600
DIR_MODE = 0o700
SEALED_KEY_PREFIX = "sha256:"
_SEALED_KEY = re.compile(r"^sha256:[0-9a-f]{64}$")


class DeploymentError(SandboxError):
    """The data directory cannot be served: its deployment is missing, damaged or of another chain."""


# ---------------------------------------------------------------------- API keys


def is_sealed(api_key: str) -> bool:
    """True for a key given as its SHA-256 digest, ``sha256:<64 lowercase hex digits>``."""
    return _SEALED_KEY.match(api_key) is not None


def seal_api_key(api_key: str) -> str:
    """The key as a data directory keeps it: ``sha256:<hex digest of its UTF-8 bytes>`` (a sealed key
    is returned as it is)."""
    if is_sealed(api_key):
        return api_key
    return SEALED_KEY_PREFIX + hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def api_key_digest(api_key: str) -> bytes:
    """The SHA-256 digest a key (or a sealed key) stands for."""
    return bytes.fromhex(seal_api_key(api_key)[len(SEALED_KEY_PREFIX) :])


def _sealed(value: Any) -> Any:
    """`value` (JSON) with every string under an ``api_key`` name sealed."""
    if isinstance(value, list):
        return [_sealed(v) for v in value]
    if isinstance(value, dict):
        return {k: seal_api_key(v) if k == "api_key" and isinstance(v, str) else _sealed(v) for k, v in value.items()}
    return value


def seal_scenario(scenario: Scenario) -> Scenario:
    """`scenario` with every API key sealed: what a market restored from a data directory holds."""
    return Scenario.model_validate(_sealed(scenario.model_dump(mode="json", by_alias=True)))


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


def decode_value(data: Any, chain: InProcessChain) -> Any:
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
    """The deployment document of `market` (everything but the chain itself; API keys sealed)."""
    return {
        "format": FORMAT_VERSION,
        "chain_id": market.chain.chain_id,
        "contracts_interface": interface_fingerprint(),
        "num_accounts": num_accounts,
        "market": _sealed({f.name: encode_value(getattr(market, f.name), f.name) for f in _persisted_fields(market)}),
    }


def decode_market(document: dict[str, Any], chain: InProcessChain) -> Market:
    """The `Market` a deployment document describes, on `chain` (which must hold its contracts)."""
    if document.get("format") != FORMAT_VERSION:
        raise DeploymentError(f"deployment format {document.get('format')!r}; this sandbox reads {FORMAT_VERSION}")
    if document.get("chain_id") != chain.chain_id:
        raise DeploymentError(f"the deployment is of chain {document.get('chain_id')}, not of chain {chain.chain_id}")
    if document.get("contracts_interface") != interface_fingerprint():
        raise DeploymentError(
            "its contracts were deployed by another version of the sandbox, whose contract interfaces differ "
            "from this one's (deployed code never changes: e.g. the security token's terms lost their "
            "token-wide holding period and Reg S end when offerings took over), so this version cannot drive "
            "them. Serve it with the version that created it, or start a new --data-dir"
        )
    fields = {name: decode_value(value, chain) for name, value in document["market"].items()}
    known = {f.name for f in dataclasses.fields(Market)}
    unknown = set(fields) - known
    if unknown:
        raise DeploymentError(f"the deployment holds fields this sandbox's Market lacks: {sorted(unknown)}")
    market = Market(chain=chain, **fields)
    if not chain.code(market.registry.address):
        raise DeploymentError(f"the chain holds no contract at the registry's address {market.registry.address}")
    return market


# ---------------------------------------------------------------------- files


def write_atomically(path: Path, text: str) -> None:
    """Replaces `path` with `text` so that a crash leaves either the old or the new file, complete.

    The file is created with mode 0600 (owner only) from its first byte: the temporary file is made
    with that mode (never a readable file then narrowed), whatever the umask."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)  # left by a crash; O_EXCL below must create the file afresh
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
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


def _read_json(path: Path) -> Any:
    """The JSON document in `path`, None if there is no such file; `DeploymentError` if it is not JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise DeploymentError(f"{path} is not valid JSON: {exc}") from None


def read_deployment(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / DEPLOYMENT_FILE
    document = _read_json(path)
    if document is not None and not isinstance(document, dict):
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


# ---------------------------------------------------------------------- chain keys


def read_mnemonic(data_dir: Path) -> str | None:
    """The mnemonic kept in `data_dir`'s key file, or None if it has none."""
    path = data_dir / KEYS_FILE
    document = _read_json(path)
    if document is None:
        return None
    if not isinstance(document, dict) or document.get("format") != KEYS_FORMAT_VERSION:
        raise DeploymentError(f"{path} does not hold chain keys of format {KEYS_FORMAT_VERSION}")
    mnemonic = document.get("mnemonic")
    if not isinstance(mnemonic, str) or len(mnemonic.split()) not in (12, 15, 18, 21, 24):
        raise DeploymentError(f"{path} holds no valid mnemonic")
    return mnemonic


def write_mnemonic(data_dir: Path, mnemonic: str) -> None:
    """Keeps `mnemonic` in `data_dir`'s key file (mode 0600, written atomically)."""
    document = {"format": KEYS_FORMAT_VERSION, "mnemonic": mnemonic}
    write_atomically(data_dir / KEYS_FILE, json.dumps(document, indent=1) + "\n")


# ---------------------------------------------------------------------- opening a data directory


@dataclass
class OpenedMarket:
    market: Market
    chain: InProcessChain
    data_dir: Path
    #: True when the scenario was loaded by this call; False when the market was restored.
    seeded: bool
    #: True when an interrupted loading of the scenario was discarded first.
    discarded_interrupted_seeding: bool = False
    #: True when the chain's accounts derive from the well-known development mnemonic (their keys are
    #: public: anyone can sign as any participant).
    reproducible: bool = False

    @property
    def read_model_path(self) -> Path:
        return self.data_dir / READ_MODEL_FILE

    @property
    def keys_path(self) -> Path:
        return self.data_dir / KEYS_FILE


def open_market(
    data_dir: Path | str,
    scenario: Scenario | Callable[[], Scenario],
    *,
    accounts: int = 20,
    clock: Clock = "wall",
    progress: Progress | None = None,
    snapshot_every: int | None = None,
    mnemonic: str | None = None,
    engine: str | None = None,
) -> OpenedMarket:
    """Opens (or creates) a persistent sandbox in `data_dir`: restores its market, or loads `scenario`
    on a fresh directory (a callable is called only then). `accounts` applies to a fresh directory; a
    restored one keeps the accounts it was created with.

    Keys: a fresh directory gets the accounts of `mnemonic`, by default a new random one; either way
    it is kept in ``chain-keys.json`` and a restored directory uses the one it keeps. Asking a restored
    directory for another mnemonic is refused (its chain cannot change keys)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    document = read_deployment(data_dir)
    stored = read_mnemonic(data_dir)
    extra: dict[str, Any] = {} if snapshot_every is None else {"snapshot_every": snapshot_every}
    if engine is not None:
        extra["engine"] = engine  # a directory must be reopened on the engine that created it
    if document is not None:
        keys = _restored_keys(data_dir, stored, mnemonic)
        num_accounts = int(document.get("num_accounts", 0))
        chain = _open_chain(data_dir, num_accounts, clock, keys, extra)
        try:
            market = decode_market(document, chain)
            if stored is None:
                write_mnemonic(data_dir, keys)
            writer = DeploymentWriter(market, data_dir, num_accounts=num_accounts)
            writer.write()  # a deployment of an older sandbox may hold plain keys, or be readable by all
        except BaseException:
            chain.close()
            raise
        (data_dir / SEEDING_MARKER).unlink(missing_ok=True)
        market.listeners.append(writer.write)
        return OpenedMarket(market, chain, data_dir, seeded=False, reproducible=keys == DEFAULT_MNEMONIC)

    spec = scenario if isinstance(scenario, Scenario) else scenario()
    num_accounts = max(accounts, spec.accounts_needed)
    chain_dir = data_dir / CHAIN_DIR
    discarded = False
    if (data_dir / SEEDING_MARKER).exists():
        # Killed while loading the scenario: nothing was served from this chain; load it again.
        if chain_dir.exists():
            shutil.rmtree(chain_dir)
            discarded = True
    elif chain_dir.exists() and any(chain_dir.iterdir()):
        raise DeploymentError(
            f"{chain_dir} holds a chain but {data_dir} has no {DEPLOYMENT_FILE}: it was not created by "
            "`sandbox serve`, or its deployment was deleted. Use another --data-dir."
        )
    keys = mnemonic or stored or random_mnemonic()
    if keys != stored:
        write_mnemonic(data_dir, keys)  # before the chain: its genesis derives from these keys
    write_atomically(data_dir / SEEDING_MARKER, f"loading scenario {spec.name}\n")
    chain = _open_chain(data_dir, num_accounts, clock, keys, extra)
    try:
        if clock == "wall":
            # The chain's genesis is part of its identity (fixed): the loading moves to where a wall-clock
            # loading starts, runs on the fixed clock, a second per block, and so ends before the wall.
            start = wall_clock_loading_start(spec)
            if start > chain.timestamp():
                chain.set_clock("fixed")
                chain.time_travel(start)
        market = load_scenario(chain, spec, progress)
        chain.set_clock(clock)
        chain.checkpoint()  # a restart replays nothing of the loading
        writer = DeploymentWriter(market, data_dir, num_accounts=num_accounts)
        writer.write()
    except BaseException:
        chain.close()
        raise
    (data_dir / SEEDING_MARKER).unlink()
    _fsync_dir(data_dir)
    market.listeners.append(writer.write)
    return OpenedMarket(
        market,
        chain,
        data_dir,
        seeded=True,
        discarded_interrupted_seeding=discarded,
        reproducible=keys == DEFAULT_MNEMONIC,
    )


def _restored_keys(data_dir: Path, stored: str | None, asked: str | None) -> str:
    """The mnemonic of a directory that holds a deployment."""
    if stored is None:
        # Made before sandboxes had keys of their own: its chain uses the development mnemonic.
        if asked != DEFAULT_MNEMONIC:
            raise DeploymentError(
                f"{data_dir} was created by an older sandbox whose chain uses the well-known development "
                "mnemonic: anyone can sign as any of its participants. Serve it only on a machine nobody "
                "else reaches, with --reproducible (SANDBOX_REPRODUCIBLE=1), or start afresh in another --data-dir."
            )
        return DEFAULT_MNEMONIC
    if asked is not None and asked != stored:
        kind = "the development mnemonic" if asked == DEFAULT_MNEMONIC else "other keys"
        raise DeploymentError(
            f"{data_dir}'s chain has keys of its own ({data_dir / KEYS_FILE}); it cannot be served with {kind}. "
            "--reproducible applies to a fresh data directory only."
        )
    return stored


def _open_chain(
    data_dir: Path, num_accounts: int, clock: Clock, mnemonic: str, extra: dict[str, Any]
) -> InProcessChain:
    """The data directory's chain, on the engine `extra` names (``engine=``; default ``SANDBOX_ENGINE``)."""
    options = dict(extra)
    engine = options.pop("engine", None)
    try:
        return in_process_chain(
            engine, num_accounts=num_accounts, clock=clock, mnemonic=mnemonic, data_dir=data_dir / CHAIN_DIR, **options
        )
    except PersistenceError as exc:
        raise DeploymentError(f"cannot open the chain in {data_dir / CHAIN_DIR}: {exc}") from None
