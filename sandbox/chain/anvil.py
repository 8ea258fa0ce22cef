"""A local anvil node for tests and benchmarks, from the npm-pinned binary in ``tools/node``.

`ensure_node_tools` runs ``npm ci`` in ``tools/node`` when the binary is missing (the package-lock
pins anvil 1.7.1 and ethers.js); `AnvilNode` starts anvil on 127.0.0.1 on a port the kernel picks and stops it by
its own PID. Nothing is downloaded at run time except by npm from its registry.
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from sandbox.errors import ChainError

#: ``tools/node`` of a source checkout (package.json + package-lock.json).
NODE_TOOLS_DIR = Path(__file__).resolve().parents[2] / "tools" / "node"
ANVIL_RELATIVE_PATH = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
ETHERS_RELATIVE_PATH = Path("node_modules/ethers/package.json")


def anvil_binary(tools_dir: Path = NODE_TOOLS_DIR) -> Path:
    return tools_dir / ANVIL_RELATIVE_PATH


def ensure_node_tools(tools_dir: Path = NODE_TOOLS_DIR) -> Path:
    """The anvil binary, after ``npm ci`` in `tools_dir` if it (or ethers.js) is not installed yet.

    Raises `ChainError` with npm's output when the install fails: callers (tests) must fail, not skip.
    """
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise ChainError(
            f"tools/node pins the linux-x64 anvil binary; this machine is {platform.system()} {platform.machine()}"
        )
    binary = anvil_binary(tools_dir)
    if binary.is_file() and (tools_dir / ETHERS_RELATIVE_PATH).is_file():
        return binary
    if not (tools_dir / "package-lock.json").is_file():
        raise ChainError(f"no package-lock.json in {tools_dir}")
    try:
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=tools_dir,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ChainError(f"could not run `npm ci` in {tools_dir}: {exc}") from exc
    if done.returncode != 0 or not binary.is_file():
        raise ChainError(
            f"`npm ci` in {tools_dir} failed (exit {done.returncode}); the anvil binary is "
            f"{'present' if binary.is_file() else 'missing'}:\n{done.stdout}\n{done.stderr}"
        )
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    return binary


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_rpc(url: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None) -> None:
    """Polls `url` with ``eth_chainId`` until it answers; raises `ChainError` after `timeout` s or when
    `process` exits first."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise ChainError(f"the node process exited with code {process.returncode} before answering")
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if "result" in json.loads(response.read()):
                    return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise ChainError(f"no JSON-RPC answer at {url} within {timeout} s")
        time.sleep(0.05)


_LISTENING = re.compile(rb"Listening on 127\.0\.0\.1:(\d+)")


def _listening_port(log: IO[bytes], process: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """The port anvil announces in its output ("Listening on 127.0.0.1:N")."""
    deadline = time.monotonic() + timeout
    while True:
        # pread: the child writes through the same open file, so moving its offset would make anvil
        # write over what it printed before
        found = _LISTENING.search(os.pread(log.fileno(), 1 << 20, 0))
        if found is not None:
            return int(found.group(1))
        if process.poll() is not None:
            raise ChainError(f"anvil exited with code {process.returncode} before listening")
        if time.monotonic() > deadline:
            raise ChainError(f"anvil did not say where it listens within {timeout} s")
        time.sleep(0.02)


class AnvilNode:
    """``with AnvilNode() as node: RpcChain(node.url)`` — anvil on 127.0.0.1 (a port the kernel picks), auto-mining."""

    def __init__(
        self,
        *,
        accounts: int = 20,
        chain_id: int | None = None,
        tools_dir: Path = NODE_TOOLS_DIR,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self._binary = ensure_node_tools(tools_dir)
        self._accounts = accounts
        self._chain_id = chain_id
        self._extra_args = extra_args
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> Self:
        """Starts anvil on a port the kernel picks (``--port 0``) and reads the port from the line anvil
        prints when it listens, so two nodes started at once (parallel test workers) can never end up
        on one port, or a caller talking to another's node."""
        if self._process is not None:
            raise ChainError("this anvil node is already running")
        args = [
            str(self._binary),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--accounts",
            str(self._accounts),
            *(["--chain-id", str(self._chain_id)] if self._chain_id is not None else []),
            *self._extra_args,
        ]
        # stdout and stderr to a file, not a pipe: nobody drains a pipe while the node runs (without
        # --silent anvil logs a line per request; --silent would hide the "Listening on" line too).
        log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            self.port = _listening_port(log, process)
            wait_for_rpc(self.url, process=process)
        except ChainError as exc:
            self._terminate(process)
            log.seek(0)
            printed = log.read().decode(errors="replace")[-2000:]
            log.close()
            raise ChainError(f"anvil did not start: {exc}: {printed}") from exc
        self._log = log
        self._process = process
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._terminate(self._process)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    @staticmethod
    def _terminate(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()  # signals this PID only
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
