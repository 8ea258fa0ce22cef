"""The house's one direction of imports, read from the source (every import, TYPE_CHECKING ones too).

    sandbox (the library, no HTTP)                         sandbox_gateway (api/: HTTP and above)
    foundation: errors, abi, rules                         gateway: app, routers, principals, ...
      -> chain -> contracts -> market/scenario               -> rpc_server, client
      -> readmodel -> pytest_plugin                          -> cli

A module may import its own layer and the layers below it, never above. The library imports nothing of
the gateway and no HTTP framework or client.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Layers from the bottom up; a module belongs to the first prefix that matches.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("sandbox.errors", "sandbox.abi", "sandbox.rules")),
    ("chain", ("sandbox.chain",)),
    ("contracts", ("sandbox.contracts", "sandbox.codegen")),
    ("market", ("sandbox.scenario", "sandbox.history", "sandbox.replay", "sandbox.market", "sandbox.deployment")),
    ("readmodel", ("sandbox.readmodel",)),
    ("library-top", ("sandbox.pytest_plugin", "sandbox")),
    ("gateway", ("sandbox_gateway.rpc_server", "sandbox_gateway.client", "sandbox_gateway")),
    ("cli", ("sandbox_gateway.cli",)),
]
HTTP_PACKAGES = ("fastapi", "starlette", "httpx", "uvicorn", "typer", "sandbox_gateway", "jinja2")


def _layer(module: str) -> int | None:
    # the most specific prefix wins (e.g. sandbox_gateway.cli over sandbox_gateway)
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return None if best is None else best[0]


def _modules() -> list[tuple[str, Path]]:
    found = []
    for base, package in ((ROOT, "sandbox"), (ROOT / "api", "sandbox_gateway")):
        for path in sorted((base / package).rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found.append((".".join(parts), path))
    return found


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), str(path))
    names: list[tuple[str, int]] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names.append((target, node.lineno))
            # `from sandbox import cli` names a submodule: judge the submodule
            names += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return names


MODULES = _modules()


def test_the_layers_cover_every_module() -> None:
    assert len(MODULES) > 40
    assert [m for m, _ in MODULES if _layer(m) is None] == []


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_imports_point_down(module: str, path: Path) -> None:
    own = _layer(module)
    assert own is not None
    upward = []
    for target, line in _imports(module, path):
        layer = _layer(target)
        if layer is not None and layer > own and _is_module(target):
            upward.append(f"{path.relative_to(ROOT)}:{line} {module} ({LAYERS[own][0]}) imports {target}")
        if module.startswith("sandbox.") or module == "sandbox":
            if target.split(".")[0] in HTTP_PACKAGES:
                upward.append(f"{path.relative_to(ROOT)}:{line} the library imports {target}")
    assert upward == []


def _is_module(name: str) -> bool:
    """True when `name` is a module or package of ours (not an attribute imported by name)."""
    top, _, rest = name.partition(".")
    base = ROOT / "api" if top == "sandbox_gateway" else ROOT
    path = base / top / Path(*rest.split(".")) if rest else base / top
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()
