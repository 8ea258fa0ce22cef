"""The FastAPI gateway of the sandbox."""

from sandbox_gateway.app import create_app
from sandbox_gateway.settings import Settings

__all__ = ["Settings", "create_app"]
