"""Runs every benchmark module in this folder that defines `main()`, one after the other."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def run_all(names: list[str]) -> None:
    folder = Path(__file__).resolve().parent
    available = sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if not m.name.startswith("_"))
    for name in names or available:
        module = importlib.import_module(f"bench.{name}")
        entry = getattr(module, "main", None)
        if entry is None:
            continue
        print(f"\n=== bench.{name} ===", flush=True)
        entry()


if __name__ == "__main__":
    run_all(sys.argv[1:])
