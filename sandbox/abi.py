"""Compiled contract artifacts, shipped inside the package (written by `contracts/build.js`), and ABI
helpers shared by the chain seam and the facades."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sandbox.errors import ArtifactError

ABI = list[dict[str, Any]]


@dataclass(frozen=True)
class Artifact:
    """One contract as compiled: ABI, bytecode and how it was built."""

    name: str
    abi: ABI
    bytecode: str
    deployed_bytecode: str
    compiler_version: str
    sources_hash: str

    @property
    def deployable(self) -> bool:
        return self.bytecode not in ("", "0x")


@cache
def load_artifact(name: str) -> Artifact:
    """The artifact of contract `name` (e.g. ``"SecurityToken"``)."""
    path = resources.files("sandbox.artifacts").joinpath(f"{name}.json")
    if not path.is_file():
        raise ArtifactError(f"no compiled artifact for contract {name!r}; run `make contracts`")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Artifact(
        name=raw["contractName"],
        abi=raw["abi"],
        bytecode=raw["bytecode"],
        deployed_bytecode=raw["deployedBytecode"],
        compiler_version=raw["compiler"]["version"],
        sources_hash=raw["sourcesHash"],
    )


@cache
def artifact_names() -> tuple[str, ...]:
    """Names of every compiled contract, interfaces included."""
    folder = resources.files("sandbox.artifacts")
    return tuple(sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json")))


@cache
def interface_fingerprint() -> str:
    """A hash of every compiled contract's ABI (functions, events, errors and the structs they take): the
    interface the library's facades drive. A deployment records it; contracts deployed with another
    interface (e.g. a struct that lost fields) cannot be driven by this library."""
    digest = hashlib.sha256()
    for name in artifact_names():
        digest.update(name.encode())
        digest.update(json.dumps(load_artifact(name).abi, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()


@cache
def all_error_abis() -> tuple[dict[str, Any], ...]:
    """Every custom error declared by any compiled contract (deduplicated by signature)."""
    seen: dict[str, dict[str, Any]] = {}
    for name in artifact_names():
        for item in load_artifact(name).abi:
            if item.get("type") == "error":
                signature = f"{item['name']}({','.join(canonical_type(i) for i in item['inputs'])})"
                seen.setdefault(signature, item)
    return tuple(seen.values())


def canonical_type(param: dict[str, Any]) -> str:
    """The canonical ABI type of a parameter (tuples spelled out)."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def canonical_signature(item: dict[str, Any]) -> str:
    """``name(type,type)`` of an ABI function, event or error."""
    return f"{item['name']}({','.join(canonical_type(i) for i in item['inputs'])})"
