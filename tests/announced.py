"""The port a server started with `--port 0` announces in its log.

A test that probes a free port and passes it to a server started later races every other process on the
machine for it (the ephemeral ports a client's connections use, another test worker's server): the server
then fails to bind, or, worse, the test talks to someone else's server. `sandbox serve --port 0` and
`python -m sandbox_gateway.rpc_server --port 0` bind a free port themselves and print it; a test reads it
from their log with `announced_port`.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

#: `sandbox serve`'s welcome line and the standalone JSON-RPC endpoint's.
SERVE_READY = r"Sandbox ready on http://127\.0\.0\.1:(\d+)"
RPC_READY = r"JSON-RPC on http://127\.0\.0\.1:(\d+)"


def announced_port(
    log: Path, proc: subprocess.Popen[bytes], pattern: str = SERVE_READY, *, timeout: float = 300.0, since: int = 0
) -> int:
    """Waits until `log` (from character `since` on) has a line matching `pattern` and returns its first group
    that matched as a port; fails the test, with the log, when `proc` exits first or `timeout` s pass (a
    generous deadline for a busy machine, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        found = re.search(pattern, log.read_text()[since:])
        if found is not None:
            return int(next(group for group in found.groups() if group is not None))
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode} before announcing its port:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"the server did not announce its port within {timeout:.0f} s:\n{log.read_text()}")
        time.sleep(0.1)  # polling a starting process's log: not a synchronisation of the test's own steps
