"""Routers are thin: request and response models live in `sandbox_gateway.schemas`, not in the routers."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from pydantic import BaseModel

import sandbox_gateway.routers


def test_no_router_defines_a_model() -> None:
    defined = []
    for info in pkgutil.iter_modules(sandbox_gateway.routers.__path__):
        module = importlib.import_module(f"sandbox_gateway.routers.{info.name}")
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, BaseModel) and value.__module__ == module.__name__:
                defined.append(f"{info.name}.{name}")
    assert defined == []
