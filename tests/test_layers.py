"""The house's one direction of imports, read from the source (every import, TYPE_CHECKING ones too).

    sandbox (the library, no HTTP)                         sandbox_gateway (api/: HTTP and above)
    foundation: errors, abi, rules, calendars              gateway: app, routers, principals, ...
      -> chain -> contracts -> market/scenario               -> rpc_server, client
      -> readmodel -> pytest_plugin                          -> cli

A module may import its own layer and the layers below it, never above. The library imports nothing of
the gateway and no HTTP framework or client. No two modules import each other, directly or through
others (a cycle, even through TYPE_CHECKING imports, means two modules are one in disguise).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Layers from the bottom up; a module belongs to the first prefix that matches.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("sandbox.errors", "sandbox.abi", "sandbox.rules", "sandbox.calendars")),
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
        if (module.startswith("sandbox.") or module == "sandbox") and target.split(".")[0] in HTTP_PACKAGES:
            upward.append(f"{path.relative_to(ROOT)}:{line} the library imports {target}")
    assert upward == []


def _is_module(name: str) -> bool:
    """True when `name` is a module or package of ours (not an attribute imported by name)."""
    top, _, rest = name.partition(".")
    base = ROOT / "api" if top == "sandbox_gateway" else ROOT
    path = base / top / Path(*rest.split(".")) if rest else base / top
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _import_graph() -> dict[str, set[str]]:
    """Each of our modules → the modules of ours it imports (a package's ``__init__`` counts only when
    it is named itself)."""
    ours = {module for module, _ in MODULES}
    graph: dict[str, set[str]] = {}
    for module, path in MODULES:
        graph[module] = {t for t, _ in _imports(module, path) if t in ours and t != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_through_others() -> None:
    graph = _import_graph()
    assert sum(len(targets) for targets in graph.values()) > 50  # the graph was read
    assert _cycles(graph) == []
