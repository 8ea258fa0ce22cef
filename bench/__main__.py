"""Runs the benchmark modules in this folder that define `main()`.

python -m bench                      # every module, one after the other
python -m bench engines gas          # these modules, with their default options
python -m bench trace seeds/demo.yaml  # one module with its own arguments
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path


def run_all(args: list[str]) -> None:
    folder = Path(__file__).resolve().parent
    available = sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if not m.name.startswith("_"))
    if args and all(arg in available for arg in args):
        names, rest = args, []
    elif args and args[0] in available:
        names, rest = args[:1], args[1:]
    elif args:
        raise SystemExit(f"no benchmark module {args[0]!r}; the modules are: {', '.join(available)}")
    else:
        names, rest = available, []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        entry = getattr(module, "main", None)
        if entry is None:
            continue
        print(f"\n=== bench.{name} ===", flush=True)
        if inspect.signature(entry).parameters:
            entry(rest)
        else:  # a module that reads its arguments from sys.argv
            sys.argv = [f"bench.{name}", *rest]
            entry()


if __name__ == "__main__":
    run_all(sys.argv[1:])
