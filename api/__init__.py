"""The FastAPI gateway of the sandbox."""

from api.app import create_app
from api.settings import Settings

__all__ = ["Settings", "create_app"]
