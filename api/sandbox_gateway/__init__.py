"""The FastAPI gateway of the sandbox.

`create_app` and `Settings` are imported on first use (PEP 562), so the `sandbox` command, which lives
in this package, does not pay for FastAPI, the chain and the read model to print its help."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox_gateway.app import create_app
    from sandbox_gateway.settings import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from sandbox_gateway.app import create_app  # noqa: PLC0415

        return create_app
    if name == "Settings":
        from sandbox_gateway.settings import Settings  # noqa: PLC0415

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
