"""Wall time and CPU time of the test suite, as `make test` / `make test-fast` run it.

    .venv/bin/python -m bench.test_suite            # make test's pytest command (everything)
    .venv/bin/python -m bench.test_suite --fast     # make test-fast's selection
    .venv/bin/python -m bench.test_suite -- tests/markets -m "not slow"   # any pytest arguments

Prints a block ready to paste: the command, the date, the machine (nproc, CPU model), the load average
before and after (from /proc/loadavg), pytest's summary line, the wall time and the CPU time of pytest and
everything it waited for (its workers, the servers they started). On a machine shared with other work, the
CPU time is the steadier figure: the wall time follows the load. Not run by `python -m bench` (a whole
suite is not a micro-benchmark): it has no `main()`.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

from bench._machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]
XDIST = ["-n", os.environ.get("PYTEST_WORKERS", "auto"), "--dist", "loadfile", "--no-loadscope-reorder"]
FAST = ["-m", "not slow and not postgres and not node and not browser"]


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def run(argv: list[str]) -> int:
    fast = "--fast" in argv
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    command = [str(ROOT / ".venv" / "bin" / "pytest"), "-q", "-p", "no:cacheprovider", *XDIST]
    command += FAST if fast else []
    command += extra
    load_before = _loadavg()
    started = time.perf_counter()
    # as `make test` runs it: pytest may cache its assertion rewrites (see the Makefile's PYTEST)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = done.stdout.splitlines() + done.stderr.splitlines()
    summary = next((line for line in reversed(lines) if " in " in line or "rror" in line), "(no summary)")
    print("```")
    print(f"$ {shlex.join(command).replace(str(ROOT) + '/', '')}")
    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; nproc {os.cpu_count()}; {cpu_model()}")
    print(f"load average before: {load_before}; after: {_loadavg()}")
    print(f"pytest: {summary.strip('= ')}")
    print(f"wall {wall:.0f} s; CPU {usage.ru_utime + usage.ru_stime:.0f} s (user {usage.ru_utime:.0f} s, "
          f"system {usage.ru_stime:.0f} s)")  # fmt: skip
    print("```")
    return done.returncode


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
